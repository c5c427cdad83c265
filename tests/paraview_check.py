"""Open a hemotree XDMF in both of ParaView's XDMF readers and compare with the HDF5.

Run under pvpython (headless: xvfb-run -a pvpython tests/paraview_check.py OUT.xdmf).
For the legacy "XDMF Reader" and Xdmf3ReaderT: the number of cells, the number of time
steps and their values equal /time; every field of /fields is present; and the pressure
(and the ECMO fraction when written) at the first, a middle and the last output time equal
the HDF5 rows. Xdmf3ReaderT is given an absolute path (with a bare relative name ParaView
5.11 resolves the HDF5 file wrongly). Exit status 0 when both readers pass.
"""
import os
import sys

import h5py
import numpy as np
from paraview import servermanager as sm
from paraview import simple
from vtk.numpy_interface import dataset_adapter as dsa


def check(reader_name, xdmf, h5):
    ok = True
    with h5py.File(h5, "r") as f:
        times = f["/time"][:]
        fields = list(f["/fields"].keys())
        ncell = f["/mesh/segments"].shape[0]
        if reader_name == "legacy":
            r = simple.XDMFReader(FileNames=[xdmf])
        else:
            r = simple.Xdmf3ReaderT(FileName=[os.path.abspath(xdmf)])
        ts = list(r.TimestepValues) if r.TimestepValues is not None else []
        if len(ts) != len(times) or not np.allclose(ts, times, rtol=0, atol=1e-12):
            print("%s: %d time steps, HDF5 has %d" % (reader_name, len(ts), len(times)))
            ok = False
        for k in sorted({0, len(times) // 2, len(times) - 1}):
            r.UpdatePipeline(times[k])
            data = dsa.WrapDataObject(sm.Fetch(r))
            if data.GetNumberOfCells() != ncell:
                print("%s: %d cells, HDF5 has %d" % (reader_name, data.GetNumberOfCells(), ncell))
                ok = False
            for name in fields:
                arr = data.CellData[name]
                if arr is None or isinstance(arr, dsa.VTKNoneArray):
                    print("%s: field %s missing at t = %g" % (reader_name, name, times[k]))
                    ok = False
                    continue
                ref = f["/fields/" + name][k, :]
                if not np.allclose(np.asarray(arr).ravel(), ref, rtol=1e-12, atol=0):
                    print("%s: field %s differs from the HDF5 at t = %g" % (reader_name, name, times[k]))
                    ok = False
        print("%s reader: %d cells, %d time steps, fields %s: %s" % (
            reader_name, ncell, len(ts), ", ".join(fields), "ok" if ok else "FAILED"))
        simple.Delete(r)
    return ok


def main():
    xdmf = sys.argv[1]
    h5 = os.path.splitext(xdmf)[0] + ".h5"
    good = check("legacy", xdmf, h5) & check("xdmf3", xdmf, h5)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
