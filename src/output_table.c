/* Standalone table files and reading single values back (output.h, second part). */
#include "output.h"
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* each helper returns 0 or -1 and closes what it opened */
static int str_attr(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (t >= 0 && s >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        (a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(a, t, &value) >= 0)
        rc = 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return rc;
}

static int num_attr(hid_t obj, const char *name, double value)
{
    hid_t s = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (s >= 0 && (a = H5Acreate2(obj, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Awrite(a, H5T_NATIVE_DOUBLE, &value) >= 0)
        rc = 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    return rc;
}

static int column(hid_t g, const ht_column *c, hsize_t n)
{
    hid_t s = H5Screate_simple(1, &n, NULL), t = -1, d = -1;
    int rc = -1;
    if (s < 0) return -1;
    if (c->kind == 'd') t = H5Tcopy(H5T_IEEE_F64LE);
    else if (c->kind == 'i') t = H5Tcopy(H5T_STD_I32LE);
    else if (c->kind == 's' && (t = H5Tcopy(H5T_C_S1)) >= 0 &&
             (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        t = -1;
    }
    hid_t mem = c->kind == 'd' ? H5T_NATIVE_DOUBLE : c->kind == 'i' ? H5T_NATIVE_INT : t;
    if (t >= 0 && (d = H5Dcreate2(g, c->name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        (n == 0 || H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->data) >= 0) &&
        str_attr(d, "units", c->units ? c->units : "1") == 0 && (!c->key || str_attr(d, "key", c->key) == 0))
        rc = 0;
    if (d >= 0) H5Dclose(d);
    if (t >= 0) H5Tclose(t);
    H5Sclose(s);
    return rc;
}

int ht_table_file_write(const char *path, const ht_attr *attrs, int n_attrs, const char *group,
                        const ht_column *cols, int n_cols, size_t n_rows, char *err, size_t errlen)
{
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our message, not HDF5's stack */
    int rc = -1;
    const char *what = "create the file";
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), g = -1;
    const char **names = malloc(sizeof(char *) * (size_t)(n_cols > 0 ? n_cols : 1));
    if (f < 0 || !names) goto done;
    what = "write a root attribute";
    for (int k = 0; k < n_attrs; ++k)
        if (attrs[k].text ? str_attr(f, attrs[k].name, attrs[k].text) : num_attr(f, attrs[k].name, attrs[k].number))
            goto done;
    what = "create the group";
    if ((g = H5Gcreate2(f, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto done;
    for (int k = 0; k < n_cols; ++k) {
        what = cols[k].name;
        if (column(g, &cols[k], (hsize_t)n_rows)) goto done;
        names[k] = cols[k].name;
    }
    what = "write the columns attribute";
    {
        hsize_t n = (hsize_t)n_cols;
        hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate_simple(1, &n, NULL), a = -1;
        if (t >= 0 && s >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
            (a = H5Acreate2(g, "columns", t, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(a, t, names) >= 0)
            rc = 0;
        if (a >= 0) H5Aclose(a);
        if (s >= 0) H5Sclose(s);
        if (t >= 0) H5Tclose(t);
    }
done:
    if (g >= 0 && H5Gclose(g) < 0) rc = -1;
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    free(names);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    if (rc && err && errlen) snprintf(err, errlen, "%s: could not %s%s", path, strchr(what, ' ') ? "" : "write column ", what);
    return rc;
}

double ht_output_read_last(const char *path, const char *dataset)
{
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* absent is an answer (NaN), not an error */
    double v = NAN;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) {
        /* H5Oexists_by_name needs every intermediate link to exist: walk them */
        int ok = 1;
        char part[512];
        for (const char *q = strchr(dataset + 1, '/'); ok && q; q = strchr(q + 1, '/')) {
            size_t len = (size_t)(q - dataset);
            if (len >= sizeof part) { ok = 0; break; }
            memcpy(part, dataset, len);
            part[len] = 0;
            ok = H5Lexists(f, part, H5P_DEFAULT) > 0;
        }
        hid_t d = ok && H5Lexists(f, dataset, H5P_DEFAULT) > 0 ? H5Dopen2(f, dataset, H5P_DEFAULT) : -1;
        hid_t s = d >= 0 ? H5Dget_space(d) : -1;
        hsize_t n = 0;
        if (s >= 0 && H5Sget_simple_extent_ndims(s) == 1 && H5Sget_simple_extent_dims(s, &n, NULL) == 1 && n > 0) {
            hsize_t off = n - 1, one = 1;
            hid_t m = H5Screate_simple(1, &one, NULL);
            double x;
            if (m >= 0 && H5Sselect_hyperslab(s, H5S_SELECT_SET, &off, NULL, &one, NULL) >= 0 &&
                H5Dread(d, H5T_NATIVE_DOUBLE, m, s, H5P_DEFAULT, &x) >= 0)
                v = x;
            if (m >= 0) H5Sclose(m);
        }
        if (s >= 0) H5Sclose(s);
        if (d >= 0) H5Dclose(d);
        H5Fclose(f);
    }
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return v;
}
