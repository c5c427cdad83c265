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

/* a string attribute of obj, malloc'd; NULL when absent or not a string */
static char *read_str_attr(hid_t obj, const char *name)
{
    char *out = NULL;
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            /* read with the attribute's own type: HDF5 does not convert ASCII <-> UTF-8 */
            char *v = NULL;
            if (H5Aread(a, t, &v) >= 0 && v) {
                out = strdup(v);
                H5free_memory(v);
            }
        } else {
            size_t n = H5Tget_size(t);
            out = calloc(n + 1, 1);
            if (out && H5Aread(a, t, out) < 0) {
                free(out);
                out = NULL;
            }
        }
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return out;
}

void ht_table_row_free(ht_table_row *r)
{
    for (int k = 0; k < r->n; ++k) {
        free(r->names[k]);
        free(r->units[k]);
    }
    free(r->names);
    free(r->units);
    free(r->v);
    memset(r, 0, sizeof *r);
}

int ht_output_read_row(const char *path, const char *group, ht_table_row *row)
{
    memset(row, 0, sizeof *row);
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* absent is an answer (no columns), not an error */
    int rc = 0;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), g = -1, a = -1, s = -1, t = -1;
    char **cols = NULL;
    hssize_t nc = 0;
    if (f < 0 || H5Lexists(f, "/metrics", H5P_DEFAULT) <= 0 || H5Lexists(f, group, H5P_DEFAULT) <= 0 ||
        (g = H5Gopen2(f, group, H5P_DEFAULT)) < 0 || H5Aexists(g, "columns") <= 0)
        goto done;
    /* the table's own column order (its "columns" attribute) */
    if ((a = H5Aopen(g, "columns", H5P_DEFAULT)) < 0 || (s = H5Aget_space(a)) < 0 ||
        (nc = H5Sget_simple_extent_npoints(s)) <= 0 || (t = H5Aget_type(a)) < 0 || H5Tis_variable_str(t) <= 0)
        goto done;
    if (!(cols = calloc((size_t)nc, sizeof *cols)) || H5Aread(a, t, cols) < 0) goto done;
    row->names = calloc((size_t)nc, sizeof *row->names);
    row->units = calloc((size_t)nc, sizeof *row->units);
    row->v = calloc((size_t)nc, sizeof *row->v);
    if (!row->names || !row->units || !row->v) {
        rc = -1;
        goto done;
    }
    size_t glen = strlen(group);
    for (hssize_t k = 0; k < nc; ++k) {
        if (!cols[k]) continue;
        size_t len = glen + strlen(cols[k]) + 2;
        char *dp = malloc(len);
        if (!dp) {
            rc = -1;
            goto done;
        }
        snprintf(dp, len, "%s/%s", group, cols[k]);
        hid_t d = H5Lexists(f, dp, H5P_DEFAULT) > 0 ? H5Dopen2(f, dp, H5P_DEFAULT) : -1;
        char *units = d >= 0 ? read_str_attr(d, "units") : NULL;
        if (d >= 0) H5Dclose(d);
        double v = ht_output_read_last(path, dp);
        free(dp);
        row->names[row->n] = strdup(cols[k]);
        row->units[row->n] = units ? units : strdup("1");
        if (!row->names[row->n] || !row->units[row->n]) {
            free(row->names[row->n]);
            free(row->units[row->n]);
            rc = -1;
            goto done;
        }
        row->v[row->n++] = v;
    }
done:
    if (cols) {
        if (t >= 0 && s >= 0) H5Dvlen_reclaim(t, s, H5P_DEFAULT, cols);
        free(cols);
    }
    if (t >= 0) H5Tclose(t);
    if (s >= 0) H5Sclose(s);
    if (a >= 0) H5Aclose(a);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    if (rc) ht_table_row_free(row);
    return rc;
}
