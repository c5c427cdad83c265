"""Render a hemotree output as tubes coloured by a field, one PNG and an animation.

Run with ParaView's Python (headless: xvfb-run -a pvpython):

    pvpython postprocess/paraview/render_tree.py OUT.xdmf --field pressure --png tree.png
             [--movie tree.ogv] [--frames 60] [--time 1.5] [--size 1280x960]

--field: pressure (shown in mmHg), ecmo_fraction (1), flow (mL/s), velocity (m/s) or area
(cm^2). The tube radius is the vessel's radius at each time (from the area field) times
--radius-scale; --constant-radius draws every vessel with one radius instead (for outputs
without an area field or networks whose small vessels vanish at true scale). The colour range
is the field's range over all output times (read from OUT.h5 with h5py when pvpython has it),
so frames of the animation are comparable. --movie: .ogv (Theora) or .avi (FFMPEG) when this
ParaView has the writer, otherwise a .png series (name.0000.png ...), which is said. Exit
status: 0 written, 2 bad input (missing file or field).
"""
import argparse
import os
import sys

from paraview import simple

PA_PER_MMHG = 133.322387415

# field -> (Calculator expression that converts SI to the shown unit, label with unit)
FIELDS = {
    "pressure": ("pressure/%.9f" % PA_PER_MMHG, "pressure [mmHg]"),
    "ecmo_fraction": ("ecmo_fraction", "ECMO fraction [1]"),
    "flow": ("flow*1e6", "flow [mL/s]"),
    "velocity": ("velocity", "velocity [m/s]"),
    "area": ("area*1e4", "area [cm^2]"),
}
SCALE = {"pressure": 1.0 / PA_PER_MMHG, "ecmo_fraction": 1.0, "flow": 1e6, "velocity": 1.0, "area": 1e4}


def fail(msg):
    print("render_tree: " + msg, file=sys.stderr)
    sys.exit(2)


def h5_info(xdmf, field):
    """Case name and the field's range over all times from the HDF5 beside the XDMF, if h5py
    is importable here (Debian's pvpython uses the system Python, which has it)."""
    h5 = os.path.splitext(xdmf)[0] + ".h5"
    try:
        import h5py
        import numpy as np
    except ImportError:
        return None, None
    if not os.path.exists(h5):
        return None, None
    with h5py.File(h5, "r") as f:
        name = f["config"].attrs.get("case_name") if "config" in f else None
        if isinstance(name, bytes):
            name = name.decode()
        rng = None
        if "fields/" + field in f:
            d = np.asarray(f["fields/" + field][()], float) * SCALE[field]
            d = d[np.isfinite(d)]
            if d.size:
                rng = (float(d.min()), float(d.max()))
        return name, rng


def open_reader(xdmf):
    # Xdmf3ReaderT is the fast one; it resolves the HDF5 path correctly only from an
    # absolute XDMF path. The legacy reader is the fallback for older ParaViews.
    try:
        r = simple.Xdmf3ReaderT(FileName=[os.path.abspath(xdmf)])
    except Exception:  # noqa: BLE001 - any failure of the proxy: try the other reader
        r = simple.XDMFReader(FileNames=[os.path.abspath(xdmf)])
    return r


def view_axes(bounds):
    """Camera direction and up vector: look along the axis in which the tree is thinnest;
    keep z (cranial in the project's meshes) up when it is one of the two wide axes."""
    ext = [bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4]]
    thin = min(range(3), key=lambda k: ext[k])
    normal = [0.0, 0.0, 0.0]
    # The meshes use x = patient's left, y = anterior, z = cranial (a left-handed frame), so
    # a camera behind the tree (-y) draws it as a frontal view is read: the patient's left
    # on the viewer's right.
    normal[thin] = -1.0 if thin == 1 else 1.0
    up = [0.0, 0.0, 1.0] if thin != 2 else [0.0, 1.0, 0.0]
    return normal, up, max(ext)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("xdmf")
    ap.add_argument("--field", default="pressure", choices=sorted(FIELDS))
    ap.add_argument("--png", help="still image (default: <OUT>_<field>.png)")
    ap.add_argument("--time", type=float, help="time of the still image, s: the nearest output time is shown "
                                               "(default: the last)")
    ap.add_argument("--movie", help="animation file: .ogv, .avi, or .png for a numbered series")
    ap.add_argument("--frames", type=int, default=0,
                    help="frames of the animation, spread over all output times (default: one per output time)")
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--size", default="1280x960", help="image size WxH in pixels")
    ap.add_argument("--radius-scale", type=float, default=1.0)
    ap.add_argument("--constant-radius", action="store_true")
    ap.add_argument("--title", help="title (default: the case name)")
    a = ap.parse_args(argv)

    if not os.path.exists(a.xdmf):
        fail("%s: no such file" % a.xdmf)
    try:
        w, h = (int(v) for v in a.size.lower().split("x"))
    except ValueError:
        fail("--size: expected WxH, e.g. 1280x960, got '%s'" % a.size)
    case_name, rng = h5_info(a.xdmf, a.field)
    title = a.title or case_name or os.path.splitext(os.path.basename(a.xdmf))[0]
    expr, label = FIELDS[a.field]

    reader = open_reader(a.xdmf)
    times = list(reader.TimestepValues or [0.0])
    # the still shows an output time: the nearest to --time (a time between outputs would
    # be labelled with a time the data do not have)
    t_still = times[-1] if a.time is None else min(times, key=lambda t: abs(t - a.time))
    reader.UpdatePipeline(t_still)
    arrays = reader.CellData.keys()
    if a.field not in arrays:
        fail("%s: no cell field '%s' (fields: %s)" % (a.xdmf, a.field, ", ".join(arrays) or "none"))
    if not a.constant_radius and "area" not in arrays:
        fail("%s: no area field for the tube radius (use --constant-radius)" % a.xdmf)

    # cells -> points so that the tube radius and colour vary smoothly along each vessel
    surf = simple.ExtractSurface(Input=reader)
    shown = simple.Calculator(Input=surf, AttributeType="Cell Data", ResultArrayName="shown", Function=expr)
    pts = simple.CellDatatoPointData(Input=shown)
    bounds = reader.GetDataInformation().GetBounds()
    normal, up, size = view_axes(bounds)
    if a.constant_radius:
        tube = simple.Tube(Input=pts, Radius=0.004 * size * a.radius_scale, NumberofSides=20)
    else:
        rad = simple.Calculator(Input=pts, AttributeType="Point Data", ResultArrayName="radius",
                                Function="sqrt(area/%.12f)*%g" % (3.141592653589793, a.radius_scale))
        tube = simple.Tube(Input=rad, NumberofSides=20, VaryRadius="By Absolute Scalar")
        tube.Scalars = ["POINTS", "radius"]
        tube.Radius = 1.0  # with "By Absolute Scalar" the radius is the scalar itself
    tube.Capping = 1

    view = simple.CreateView("RenderView")
    view.ViewSize = [w, h]
    view.OrientationAxesVisibility = 0
    view.Background = [1.0, 1.0, 1.0]
    try:  # ParaView >= 5.10 takes the background from the colour palette unless told
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass
    disp = simple.Show(tube, view)
    simple.ColorBy(disp, ("POINTS", "shown"))
    lut = simple.GetColorTransferFunction("shown")
    lut.ApplyPreset("Cool to Warm" if a.field != "ecmo_fraction" else "Viridis (matplotlib)", True)
    if a.field == "ecmo_fraction":
        rng = (0.0, 1.0)
    if rng is None:
        shown.UpdatePipeline(t_still)
        rng = shown.CellData["shown"].GetRange()
    if rng[1] <= rng[0]:
        rng = (rng[0], rng[0] + 1.0)
    lut.RescaleTransferFunction(rng[0], rng[1])
    lut.AutomaticRescaleRangeMode = "Never"
    bar = simple.GetScalarBar(lut, view)
    bar.Title = label
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0.0, 0.0, 0.0]
    bar.RangeLabelFormat = "%.4g"
    bar.Visibility = 1
    disp.SetScalarBarVisibility(view, True)

    text = simple.Text(Text="%s: %s" % (title, label))
    tdisp = simple.Show(text, view)
    tdisp.WindowLocation = "Upper Center"
    tdisp.FontSize = 28
    tdisp.Color = [0.0, 0.0, 0.0]
    clock = simple.AnnotateTime(Format="t = {time:.3f} s")
    cdisp = simple.Show(clock, view)
    cdisp.WindowLocation = "Upper Left Corner"
    cdisp.FontSize = 24
    cdisp.Color = [0.0, 0.0, 0.0]

    cx, cy, cz = [(bounds[2 * k] + bounds[2 * k + 1]) / 2 for k in range(3)]
    view.CameraFocalPoint = [cx, cy, cz]
    view.CameraPosition = [cx + normal[0] * 3 * size, cy + normal[1] * 3 * size, cz + normal[2] * 3 * size]
    view.CameraViewUp = up
    view.ResetCamera()

    scene = simple.GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    view.ViewTime = t_still
    png = a.png or "%s_%s.png" % (os.path.splitext(a.xdmf)[0], a.field)
    simple.SaveScreenshot(png, view, ImageResolution=[w, h])
    print("render_tree: %s at t = %.4f s -> %s" % (a.field, t_still, png))

    if a.movie:
        if a.frames > 0 and len(times) > 1:
            scene.PlayMode = "Sequence"
            scene.StartTime, scene.EndTime = times[0], times[-1]
            scene.NumberOfFrames = a.frames
        movie = a.movie
        try:
            simple.SaveAnimation(movie, view, ImageResolution=[w, h], FrameRate=a.fps)
        except Exception as e:  # noqa: BLE001 - a writer this build lacks: fall back to PNGs
            movie = os.path.splitext(a.movie)[0] + ".png"
            print("render_tree: could not write %s (%s); writing a PNG series instead" % (a.movie, e))
            simple.SaveAnimation(movie, view, ImageResolution=[w, h])
        n = a.frames if a.frames > 0 else len(times)
        print("render_tree: animation of %d frames -> %s" % (n, movie))
    simple.Delete(view)  # release the GL context before Xvfb goes away
    return 0


if __name__ == "__main__":
    sys.exit(main())
