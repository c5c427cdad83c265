/* HDF5 + XDMF writer of one run; layout documented in output.h. */
#include "output.h"

#include <hdf5.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define N_FIELDS_MAX 6
#define DEFLATE_LEVEL 1            /* level 1 gives most of the gain of 9 on float data */
/* Field chunks: [rows, all cells]. Every flush recompresses the chunk being filled, so a
 * chunk holds as few output times as still compress well (CHUNK_BYTES_MIN, at most
 * CHUNK_ROWS_MAX rows); a row longer than CHUNK_BYTES_MAX is split so that a chunk fits
 * HDF5's default 1 MiB chunk cache. Reading one time or one cell's history costs the same
 * either way, since a chunk spans every cell. */
#define CHUNK_BYTES_MIN (16u * 1024u)
#define CHUNK_BYTES_MAX (512u * 1024u)
#define CHUNK_ROWS_MAX 8
#define TIME_CHUNK 512
#define PROBE_CHUNK 1024
#define XDMF_EVERY 64              /* see maybe_write_xdmf */
#define XDMF_MIN_WALL_S 10.0

static const char *const field_name[N_FIELDS_MAX] = {"pressure", "flow", "area", "velocity",
                                                     "ecmo_fraction", "saturation"};
static const char *const field_unit[N_FIELDS_MAX] = {"Pa", "m^3/s", "m^2", "m/s", "1", "1"};
static const char *const probe_var[4] = {"time", "pressure", "flow", "area"};
static const char *const probe_unit[4] = {"s", "Pa", "m^3/s", "m^2"};
/* top-level names the writer owns; ht_output_table must not replace them */
static const char *const reserved[] = {"time", "fields", "mesh", "probes", "config", "xdmf", "heart"};
/* /heart/<name>: the columns of ht_output_heart's rows (kernels/heart_stage.h order) after time */
#define HEART_COLS 16
static const char *const heart_var[HEART_COLS] = {
    "time", "lv_pressure", "lv_volume", "la_pressure", "aortic_valve_flow", "mitral_valve_flow",
    "aortic_valve_state", "rv_pressure", "rv_volume", "ra_pressure", "pa_pressure", "sv_pressure",
    "root_pressure", "impella_flow", "ecmo_flow", "bronchial_flow"};
static const char *const heart_unit[HEART_COLS] = {"s", "Pa", "m^3", "Pa", "m^3/s", "m^3/s", "1",
                                                   "Pa", "m^3", "Pa", "Pa", "Pa", "Pa", "m^3/s", "m^3/s",
                                                   "m^3/s"};

struct ht_output {
    hid_t file, str_t;
    hid_t time_d, field_d[N_FIELDS_MAX];
    hid_t (*probe_d)[4];
    hid_t heart_d[HEART_COLS];    /* /heart/<var>, when the run has a heart */
    int heart;
    double heart_lv[5];           /* LV Ees, V0, Emin, P0, lambda: attributes of /heart */
    hsize_t heart_n;
    char **probe_names;
    hsize_t *probe_n;
    int n_probes, n_fields, n_cells, n_points;
    hsize_t n_t, cap_t;
    double *times;            /* kept to rewrite the XDMF without reading the file back */
    hsize_t xdmf_nt;          /* grids in the XDMF on disk */
    hsize_t vds_nt;           /* rows that have their /xdmf/<field>/<k> datasets */
    double xdmf_wall;
    double flush_seconds;     /* appends flush at most this often (0: every append) */
    double flush_wall;        /* wall time of the last flush */
    char *path, *xdmf_path, *h5_base;
    char *grid_common;        /* the part of every XDMF grid that does not change */
    /* the current call's error buffer; first error wins */
    char *err;
    size_t errlen;
    int err_set;
};

/* ---------------------------------------------------------------- errors */

static void set_err(ht_output *o, const char *fmt, ...)
{
    if (o->err_set || !o->err || !o->errlen) return;
    o->err_set = 1;
    int n = snprintf(o->err, o->errlen, "%s: ", o->path ? o->path : "output");
    if (n < 0 || (size_t)n >= o->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->err + n, o->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

#define DETAIL_LEN 256

/* HDF5's innermost description of a system error is long and multi-line ("file write
 * failed: time = ...\n, filename = ..., errno = 27, error message = 'File too large', ...");
 * keep its head and the errno text so that the reason survives a short buffer. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *cd)
{
    char *out = cd;
    if (n != 0 || !e->desc) return 0;
    const char *d = e->desc, *m = strstr(d, "error message = '");
    const char *colon = strchr(d, ':');
    if (m && colon && colon < m) {
        m += strlen("error message = '");
        const char *q = strchr(m, '\'');
        int mlen = q ? (int)(q - m) : (int)strlen(m);
        snprintf(out, DETAIL_LEN, "%.*s: %.*s", (int)(colon - d), d, mlen, m);
    } else {
        snprintf(out, DETAIL_LEN, "%s", d);
    }
    for (char *c = out; *c; ++c)
        if (*c == '\n' || *c == '\r') *c = ' ';
    return 0;
}

/* The innermost entry of HDF5's stack says why (errno text, "name already exists"). */
static int h5err(ht_output *o, const char *obj, const char *call)
{
    char detail[DETAIL_LEN] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, detail);
    H5Eclear2(H5E_DEFAULT);
    set_err(o, "%s%s%s failed%s%s", obj ? obj : "", obj ? ": " : "", call, detail[0] ? ": " : "", detail);
    return -1;
}

/* HDF5 prints its error stack on stderr unless told not to; the caller reports ours. The
 * previous handler is restored so that other HDF5 users in the process are unaffected. */
typedef struct {
    H5E_auto2_t fn;
    void *data;
} quiet;

static quiet quiet_on(ht_output *o, char *err, size_t errlen)
{
    quiet q = {NULL, NULL};
    H5Eget_auto2(H5E_DEFAULT, &q.fn, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (o) {
        o->err = err;
        o->errlen = errlen;
        o->err_set = 0;
        if (err && errlen) err[0] = '\0';
    }
    return q;
}

static void quiet_off(ht_output *o, quiet q)
{
    H5Eset_auto2(H5E_DEFAULT, q.fn, q.data);
    if (o) {
        o->err = NULL;
        o->errlen = 0;
    }
}

/* Close any HDF5 id, checked; keeps the first error. */
static int closeh(ht_output *o, hid_t *id, const char *obj, int rc)
{
    if (*id < 0) return rc;
    herr_t r;
    const char *call;
    switch (H5Iget_type(*id)) {
    case H5I_FILE: r = H5Fclose(*id); call = "H5Fclose"; break;
    case H5I_GROUP: r = H5Gclose(*id); call = "H5Gclose"; break;
    case H5I_DATASET: r = H5Dclose(*id); call = "H5Dclose"; break;
    case H5I_DATASPACE: r = H5Sclose(*id); call = "H5Sclose"; break;
    case H5I_DATATYPE: r = H5Tclose(*id); call = "H5Tclose"; break;
    case H5I_ATTR: r = H5Aclose(*id); call = "H5Aclose"; break;
    case H5I_GENPROP_LST: r = H5Pclose(*id); call = "H5Pclose"; break;
    default: r = -1; call = "H5Iget_type"; break;
    }
    *id = H5I_INVALID_HID;
    if (r < 0) {
        int e = h5err(o, obj, call);
        return rc ? rc : e;
    }
    return rc;
}

static double wall_now(void);

static int flush(ht_output *o)
{
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) return h5err(o, NULL, "H5Fflush");
    o->flush_wall = wall_now();
    return 0;
}

/* A flush costs about a millisecond (metadata cache, chunk index); one per output time of a
 * small network would cost more than the simulation. Appends therefore flush at most every
 * flush_seconds of wall time: a run killed without warning loses at most that much; every
 * orderly end (completion, a detected failure) closes the file and loses nothing. */
static int append_flush(ht_output *o)
{
    if (o->flush_seconds > 0 && wall_now() - o->flush_wall < o->flush_seconds) return 0;
    return flush(o);
}

/* ------------------------------------------------------------- helpers */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A name usable as one HDF5 link: non-empty, no '/', not "." or "..". */
static int valid_link_name(const char *s)
{
    return s && s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* Scalar variable-length UTF-8 string attribute, replaced when it exists. */
static int put_attr_str(ht_output *o, hid_t obj, const char *objpath, const char *name,
                        const char *value)
{
    hid_t sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = 0;
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0) return h5err(o, objpath, "H5Aexists");
    if (ex > 0 && H5Adelete(obj, name) < 0) return h5err(o, objpath, "H5Adelete");
    if ((sp = H5Screate(H5S_SCALAR)) < 0) {
        rc = h5err(o, objpath, "H5Screate");
    } else if ((a = H5Acreate2(obj, name, o->str_t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5err(o, objpath, "H5Acreate2");
    } else if (H5Awrite(a, o->str_t, &value) < 0) {
        rc = h5err(o, objpath, "H5Awrite");
    }
    rc = closeh(o, &a, objpath, rc);
    return closeh(o, &sp, objpath, rc);
}

/* 1D variable-length UTF-8 string attribute. */
static int put_attr_strs(ht_output *o, hid_t obj, const char *objpath, const char *name,
                         size_t n, const char *const *values)
{
    hid_t sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = 0;
    hsize_t dim = n;
    if ((sp = H5Screate_simple(1, &dim, NULL)) < 0) {
        rc = h5err(o, objpath, "H5Screate_simple");
    } else if ((a = H5Acreate2(obj, name, o->str_t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5err(o, objpath, "H5Acreate2");
    } else if (n && H5Awrite(a, o->str_t, values) < 0) {
        rc = h5err(o, objpath, "H5Awrite");
    }
    rc = closeh(o, &a, objpath, rc);
    return closeh(o, &sp, objpath, rc);
}

/* Scalar double attribute. */
static int put_attr_num(ht_output *o, hid_t obj, const char *objpath, const char *name, double value)
{
    hid_t sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = 0;
    if ((sp = H5Screate(H5S_SCALAR)) < 0) {
        rc = h5err(o, objpath, "H5Screate");
    } else if ((a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5err(o, objpath, "H5Acreate2");
    } else if (H5Awrite(a, H5T_NATIVE_DOUBLE, &value) < 0) {
        rc = h5err(o, objpath, "H5Awrite");
    }
    rc = closeh(o, &a, objpath, rc);
    return closeh(o, &sp, objpath, rc);
}

/* The LV's pressure-volume relation parameters on /heart (SI; names say which). */
static int heart_attrs(ht_output *o)
{
    static const char *const names[5] = {"lv_Ees", "lv_V0", "lv_Emin", "lv_P0", "lv_lambda"};
    hid_t g = H5Gopen2(o->file, "/heart", H5P_DEFAULT);
    if (g < 0) return h5err(o, "/heart", "H5Gopen2");
    int rc = 0;
    for (int k = 0; k < 5 && !rc; ++k) rc = put_attr_num(o, g, "/heart", names[k], o->heart_lv[k]);
    return closeh(o, &g, "/heart", rc);
}

static int put_units(ht_output *o, hid_t d, const char *path, const char *units)
{
    return put_attr_str(o, d, path, "units", units);
}

/* Create a dataset. chunk != NULL: chunked, shuffled and deflated (extendible ones).
 * Returns the open dataset, or H5I_INVALID_HID with the error set. */
static hid_t mk_dset(ht_output *o, const char *path, hid_t ftype, int rank, const hsize_t *dims,
                     const hsize_t *maxdims, const hsize_t *chunk, const char *units)
{
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, d = H5I_INVALID_HID;
    int rc = 0;
    if ((sp = H5Screate_simple(rank, dims, maxdims)) < 0) {
        rc = h5err(o, path, "H5Screate_simple");
    } else if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) {
        rc = h5err(o, path, "H5Pcreate");
    } else if (chunk && H5Pset_chunk(dcpl, rank, chunk) < 0) {
        rc = h5err(o, path, "H5Pset_chunk");
    } else if (chunk && H5Pset_shuffle(dcpl) < 0) {
        rc = h5err(o, path, "H5Pset_shuffle");
    } else if (chunk && H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0) {
        rc = h5err(o, path, "H5Pset_deflate");
    } else if ((d = H5Dcreate2(o->file, path, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) {
        rc = h5err(o, path, "H5Dcreate2");
    } else {
        rc = put_units(o, d, path, units);
    }
    rc = closeh(o, &dcpl, path, rc);
    rc = closeh(o, &sp, path, rc);
    if (rc) closeh(o, &d, path, rc);
    return d;
}

/* Create a fixed-size contiguous dataset and write all of it. */
static int put_dset(ht_output *o, const char *path, hid_t ftype, hid_t mtype, int rank,
                    const hsize_t *dims, const void *data, const char *units)
{
    hid_t d = mk_dset(o, path, ftype, rank, dims, NULL, NULL, units);
    if (d < 0) return -1;
    hsize_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    int rc = 0;
    if (n && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) rc = h5err(o, path, "H5Dwrite");
    return closeh(o, &d, path, rc);
}

/* Grow an extendible dataset (rank 1, or rank 2 with ncols columns) to row0+nrows rows and
 * write those rows. The extent is absolute, so a retry after a failure is idempotent. */
static int append(ht_output *o, hid_t d, const char *path, int rank, hsize_t row0, hsize_t nrows,
                  hsize_t ncols, const double *v)
{
    hsize_t dims[2] = {row0 + nrows, ncols}, start[2] = {row0, 0}, count[2] = {nrows, ncols};
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    int rc = 0;
    if (H5Dset_extent(d, dims) < 0) return h5err(o, path, "H5Dset_extent");
    if (!nrows) return 0;
    if ((fs = H5Dget_space(d)) < 0) {
        rc = h5err(o, path, "H5Dget_space");
    } else if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
        rc = h5err(o, path, "H5Sselect_hyperslab");
    } else if ((ms = H5Screate_simple(rank, count, NULL)) < 0) {
        rc = h5err(o, path, "H5Screate_simple");
    } else if (H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, v) < 0) {
        rc = h5err(o, path, "H5Dwrite");
    }
    rc = closeh(o, &ms, path, rc);
    return closeh(o, &fs, path, rc);
}

static int mk_group(ht_output *o, const char *path, int track_order)
{
    hid_t gcpl = H5I_INVALID_HID, g = H5I_INVALID_HID;
    int rc = 0;
    if ((gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0) {
        rc = h5err(o, path, "H5Pcreate");
    } else if (track_order &&
               H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
        rc = h5err(o, path, "H5Pset_link_creation_order");
    } else if ((g = H5Gcreate2(o->file, path, H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0) {
        rc = h5err(o, path, "H5Gcreate2");
    }
    rc = closeh(o, &g, path, rc);
    return closeh(o, &gcpl, path, rc);
}

/* H5Lexists fails, rather than answering no, when an intermediate group is missing. */
static int link_exists(ht_output *o, const char *path)
{
    char *buf = dupstr(path);
    if (!buf) {
        set_err(o, "out of memory");
        return -1;
    }
    int r = 1;
    for (char *s = buf + 1;; ++s) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        htri_t e = H5Lexists(o->file, buf, H5P_DEFAULT);
        *s = c;
        if (e < 0) {
            r = h5err(o, path, "H5Lexists");
            break;
        }
        if (e == 0) {
            r = 0;
            break;
        }
        if (c == '\0') break;
    }
    free(buf);
    return r;
}

/* ---------------------------------------------------------------- XDMF */

static void xml_escaped(FILE *f, const char *s)
{
    for (; *s; ++s) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f);
        }
    }
}

static int make_grid_common(ht_output *o)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0;
    /* open_memstream is POSIX 2008 and keeps the escaping code in one place */
    f = open_memstream(&buf, &len);
    if (!f) {
        set_err(o, "out of memory");
        return -1;
    }
    fprintf(f, "    <Topology TopologyType=\"Polyline\" NodesPerElement=\"2\" NumberOfElements=\"%d\">\n",
            o->n_cells);
    fprintf(f, "     <DataItem Dimensions=\"%d 2\" NumberType=\"Int\" Precision=\"4\" Format=\"HDF\">",
            o->n_cells);
    xml_escaped(f, o->h5_base);
    fputs(":/mesh/segments</DataItem>\n    </Topology>\n", f);
    fputs("    <Geometry GeometryType=\"XYZ\">\n", f);
    fprintf(f, "     <DataItem Dimensions=\"%d 3\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">",
            o->n_points);
    xml_escaped(f, o->h5_base);
    fputs(":/mesh/points</DataItem>\n    </Geometry>\n", f);
    fputs("    <Attribute Name=\"vessel_id\" AttributeType=\"Scalar\" Center=\"Cell\">\n", f);
    fprintf(f, "     <DataItem Dimensions=\"%d\" NumberType=\"Int\" Precision=\"4\" Format=\"HDF\">",
            o->n_cells);
    xml_escaped(f, o->h5_base);
    fputs(":/mesh/vessel_id</DataItem>\n    </Attribute>\n", f);
    fputs("    <Attribute Name=\"x\" AttributeType=\"Scalar\" Center=\"Cell\">\n", f);
    fprintf(f, "     <DataItem Dimensions=\"%d\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">",
            o->n_cells);
    xml_escaped(f, o->h5_base);
    fputs(":/mesh/x</DataItem>\n    </Attribute>\n", f);
    if (fclose(f) || !buf) {
        free(buf);
        set_err(o, "out of memory");
        return -1;
    }
    o->grid_common = buf;
    return 0;
}

/* The shortest of %.15g..%.17g that reads back to the same double: exact, yet "0.1". */
static void fmt_double(char *buf, size_t len, double v)
{
    for (int prec = 15; prec <= 17; ++prec) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* Written to a temporary file, synced and renamed, so a reader never sees a partial XDMF;
 * it names only rows that were flushed to the HDF5 file before. */
static int write_xdmf(ht_output *o, hsize_t n_grids)
{
    size_t n = strlen(o->xdmf_path);
    char *tmp = malloc(n + 5);
    if (!tmp) {
        set_err(o, "out of memory");
        return -1;
    }
    memcpy(tmp, o->xdmf_path, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        set_err(o, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fputs("<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n"
          "<Xdmf Version=\"3.0\">\n <Domain>\n"
          "  <Grid Name=\"hemotree\" GridType=\"Collection\" CollectionType=\"Temporal\">\n", f);
    for (hsize_t k = 0; k < n_grids; ++k) {
        char tv[32];
        fmt_double(tv, sizeof tv, o->times[k]);
        fprintf(f, "   <Grid Name=\"step_%06llu\" GridType=\"Uniform\">\n    <Time Value=\"%s\"/>\n",
                (unsigned long long)k, tv);
        fputs(o->grid_common, f);
        for (int j = 0; j < o->n_fields; ++j) {
            fprintf(f, "    <Attribute Name=\"%s\" AttributeType=\"Scalar\" Center=\"Cell\">\n"
                       "     <DataItem Dimensions=\"%d\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">",
                    field_name[j], o->n_cells);
            xml_escaped(f, o->h5_base);
            fprintf(f, ":/xdmf/%s/%llu</DataItem>\n    </Attribute>\n", field_name[j],
                    (unsigned long long)k);
        }
        fputs("   </Grid>\n", f);
    }
    fputs("  </Grid>\n </Domain>\n</Xdmf>\n", f);
    int bad = ferror(f) || fflush(f) || fsync(fileno(f));
    int e = errno;
    if (fclose(f)) {
        if (!bad) e = errno;
        bad = 1;
    }
    if (!bad && rename(tmp, o->xdmf_path)) {
        e = errno;
        bad = 1;
    }
    if (bad) {
        set_err(o, "cannot write %s: %s", o->xdmf_path, strerror(e));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    o->xdmf_nt = n_grids;
    o->xdmf_wall = wall_now();
    return 0;
}

/* One virtual dataset per row and field, /xdmf/<field>/<k> -> row k of /fields/<field>:
 * Xdmf3ReaderT drops HyperSlab items but reads these, and nothing is copied. They are made
 * in batches just before the XDMF that names them, because creating and flushing five new
 * objects per output time would cost more than the sample itself. */
static int make_rows(ht_output *o, hsize_t to)
{
    const hsize_t nc = (hsize_t)o->n_cells;
    for (hsize_t k = o->vds_nt; k < to; ++k) {
        for (int j = 0; j < o->n_fields; ++j) {
            char src[64], path[96];
            snprintf(src, sizeof src, "/fields/%s", field_name[j]);
            snprintf(path, sizeof path, "/xdmf/%s/%llu", field_name[j], (unsigned long long)k);
            hid_t vs = H5I_INVALID_HID, ss = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
            hsize_t sdims[2] = {k + 1, nc}, start[2] = {k, 0}, count[2] = {1, nc};
            int rc = 0;
            htri_t ex = H5Lexists(o->file, path, H5P_DEFAULT); /* left by a failed earlier try */
            if (ex < 0) {
                rc = h5err(o, path, "H5Lexists");
            } else if (ex > 0 && H5Ldelete(o->file, path, H5P_DEFAULT) < 0) {
                rc = h5err(o, path, "H5Ldelete");
            } else if ((vs = H5Screate_simple(1, &nc, NULL)) < 0) {
                rc = h5err(o, path, "H5Screate_simple");
            } else if ((ss = H5Screate_simple(2, sdims, NULL)) < 0) {
                rc = h5err(o, path, "H5Screate_simple");
            } else if (H5Sselect_hyperslab(ss, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
                rc = h5err(o, path, "H5Sselect_hyperslab");
            } else if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) {
                rc = h5err(o, path, "H5Pcreate");
            } else if (H5Pset_virtual(dcpl, vs, ".", src, ss) < 0) { /* "." = this same file */
                rc = h5err(o, path, "H5Pset_virtual");
            } else if ((ds = H5Dcreate2(o->file, path, H5T_IEEE_F64LE, vs, H5P_DEFAULT, dcpl,
                                        H5P_DEFAULT)) < 0) {
                rc = h5err(o, path, "H5Dcreate2");
            } else {
                rc = put_units(o, ds, path, field_unit[j]);
            }
            rc = closeh(o, &ds, path, rc);
            rc = closeh(o, &dcpl, path, rc);
            rc = closeh(o, &ss, path, rc);
            rc = closeh(o, &vs, path, rc);
            if (rc) return rc;
        }
    }
    o->vds_nt = to;
    return 0;
}

/* Rewriting on every sample would cost O(n^2) over a run. On doubling the total stays O(n);
 * the extra every-64-samples rewrite, at most once per XDMF_MIN_WALL_S of wall time, keeps
 * a long run viewable while it goes at a bounded share of the run time. */
static int maybe_write_xdmf(ht_output *o)
{
    if (o->n_t >= 2 * o->xdmf_nt ||
        (o->n_t - o->xdmf_nt >= XDMF_EVERY && wall_now() - o->xdmf_wall >= XDMF_MIN_WALL_S))
    {
        if (make_rows(o, o->n_t) || flush(o)) return -1;
        return write_xdmf(o, o->n_t);
    }
    return 0;
}

/* ---------------------------------------------------------------- open */

static int check_desc(const ht_output_desc *d, char *err, size_t errlen)
{
#define BAD(...) do { if (err && errlen) snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
    if (!d || !d->path || !d->path[0]) BAD("output: no output path");
    const char *p = d->path;
    if (d->n_cells < 1 || d->n_points < 1 || d->n_vessels < 1)
        BAD("%s: mesh needs at least one cell, point and vessel (got %d, %d, %d)", p, d->n_cells,
            d->n_points, d->n_vessels);
    if (!d->points || !d->segments || !d->vessel_id || !d->x || !d->vessel_names)
        BAD("%s: mesh description has a NULL array", p);
    for (int i = 0; i < 2 * d->n_cells; ++i)
        if (d->segments[i] < 0 || d->segments[i] >= d->n_points)
            BAD("%s: cell %d refers to point %d, outside [0, %d)", p, i / 2, d->segments[i], d->n_points);
    for (int i = 0; i < d->n_cells; ++i)
        if (d->vessel_id[i] < 0 || d->vessel_id[i] >= d->n_vessels)
            BAD("%s: cell %d has vessel id %d, outside [0, %d)", p, i, d->vessel_id[i], d->n_vessels);
    for (int i = 0; i < d->n_vessels; ++i)
        if (!d->vessel_names[i]) BAD("%s: vessel %d has no name", p, i);
    if (d->n_probes < 0 || (d->n_probes > 0 && !d->probe_names))
        BAD("%s: bad probe list", p);
    for (int i = 0; i < d->n_probes; ++i) {
        if (!valid_link_name(d->probe_names[i]))
            BAD("%s: probe %d name '%s' cannot be an HDF5 group name (empty, '.', '..' or contains '/')",
                p, i, d->probe_names[i] ? d->probe_names[i] : "(null)");
        for (int j = 0; j < i; ++j)
            if (!strcmp(d->probe_names[i], d->probe_names[j]))
                BAD("%s: probe name '%s' is used twice", p, d->probe_names[i]);
    }
    /* HDF5's error for a missing directory is a bare errno text deep in its stack */
    const char *slash = strrchr(p, '/');
    char *dir = slash ? strndup(p, slash == p ? 1 : (size_t)(slash - p)) : strdup(".");
    if (!dir) BAD("%s: out of memory", p);
    struct stat st;
    if (stat(dir, &st)) {
        int e = errno;
        if (err && errlen)
            snprintf(err, errlen, "%s: output directory '%s' %s", p, dir,
                     e == ENOENT ? "does not exist" : strerror(e));
        free(dir);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (err && errlen) snprintf(err, errlen, "%s: '%s' is not a directory", p, dir);
        free(dir);
        return -1;
    }
    free(dir);
    return 0;
#undef BAD
}

/* OUT.h5 / OUT.hdf5 / OUT.hdf -> OUT.xdmf; any other name gets ".xdmf" appended, so the
 * sidecar can never be the HDF5 file or some unrelated file with the same stem. */
static char *xdmf_path_for(const char *h5)
{
    const char *base = strrchr(h5, '/');
    base = base ? base + 1 : h5;
    const char *dot = strrchr(base, '.');
    size_t keep = strlen(h5);
    if (dot && dot != base && (!strcmp(dot, ".h5") || !strcmp(dot, ".hdf5") || !strcmp(dot, ".hdf")))
        keep = (size_t)(dot - h5);
    char *x = malloc(keep + 6);
    if (!x) return NULL;
    memcpy(x, h5, keep);
    memcpy(x + keep, ".xdmf", 6);
    return x;
}

static int write_config(ht_output *o, const ht_output_desc *d)
{
    hid_t g = H5I_INVALID_HID, sp = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    int rc = mk_group(o, "/config", 0);
    if (rc) return rc;
    const char *text = d->config_text ? d->config_text : "";
    if ((sp = H5Screate(H5S_SCALAR)) < 0) {
        rc = h5err(o, "/config/input", "H5Screate");
    } else if ((ds = H5Dcreate2(o->file, "/config/input", o->str_t, sp, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT)) < 0) {
        rc = h5err(o, "/config/input", "H5Dcreate2");
    } else if (H5Dwrite(ds, o->str_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) < 0) {
        rc = h5err(o, "/config/input", "H5Dwrite");
    } else {
        rc = put_units(o, ds, "/config/input", "1");
    }
    rc = closeh(o, &ds, "/config/input", rc);
    rc = closeh(o, &sp, "/config/input", rc);
    if (rc) return rc;
    if ((g = H5Gopen2(o->file, "/config", H5P_DEFAULT)) < 0) return h5err(o, "/config", "H5Gopen2");
    if (!rc) rc = put_attr_str(o, g, "/config", "version", d->version ? d->version : "unknown");
    if (!rc) rc = put_attr_str(o, g, "/config", "git_hash", d->git_hash ? d->git_hash : "unknown");
    if (!rc) rc = put_attr_str(o, g, "/config", "case_name", d->case_name ? d->case_name : "");
    return closeh(o, &g, "/config", rc);
}

static int write_mesh(ht_output *o, const ht_output_desc *d)
{
    int rc = mk_group(o, "/mesh", 0);
    hsize_t dims[2];
    if (!rc) {
        dims[0] = (hsize_t)d->n_points;
        dims[1] = 3;
        rc = put_dset(o, "/mesh/points", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, d->points, "m");
    }
    if (!rc) {
        dims[0] = (hsize_t)d->n_cells;
        dims[1] = 2;
        rc = put_dset(o, "/mesh/segments", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dims, d->segments, "1");
    }
    if (!rc) rc = put_dset(o, "/mesh/vessel_id", H5T_STD_I32LE, H5T_NATIVE_INT, 1, dims, d->vessel_id, "1");
    if (!rc) rc = put_dset(o, "/mesh/x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, d->x, "m");
    if (!rc) {
        dims[0] = (hsize_t)d->n_vessels;
        rc = put_dset(o, "/mesh/vessel_names", o->str_t, o->str_t, 1, dims, d->vessel_names, "1");
    }
    return rc;
}

static int create_series(ht_output *o, const ht_output_desc *d)
{
    hsize_t dims[2] = {0, (hsize_t)d->n_cells}, maxd[2] = {H5S_UNLIMITED, (hsize_t)d->n_cells};
    hsize_t chunk[2];
    /* a chunk is a few output times of all cells, or a slice of one row on huge meshes */
    hsize_t row_bytes = (hsize_t)d->n_cells * sizeof(double);
    if (row_bytes > CHUNK_BYTES_MAX) {
        chunk[0] = 1;
        chunk[1] = CHUNK_BYTES_MAX / sizeof(double);
    } else {
        chunk[0] = (CHUNK_BYTES_MIN + row_bytes - 1) / row_bytes;
        if (chunk[0] > CHUNK_ROWS_MAX) chunk[0] = CHUNK_ROWS_MAX;
        chunk[1] = (hsize_t)d->n_cells;
    }
    hsize_t tchunk = TIME_CHUNK;
    if ((o->time_d = mk_dset(o, "/time", H5T_IEEE_F64LE, 1, dims, maxd, &tchunk, "s")) < 0) return -1;
    int rc = mk_group(o, "/fields", 0);
    if (!rc) rc = mk_group(o, "/xdmf", 0);
    for (int j = 0; !rc && j < o->n_fields; ++j) {
        char path[64];
        snprintf(path, sizeof path, "/fields/%s", field_name[j]);
        o->field_d[j] = mk_dset(o, path, H5T_IEEE_F64LE, 2, dims, maxd, chunk, field_unit[j]);
        if (o->field_d[j] < 0) return -1;
        snprintf(path, sizeof path, "/xdmf/%s", field_name[j]);
        /* creation order so that h5py lists rows 0, 1, 2, ... rather than 0, 1, 10, ... */
        rc = mk_group(o, path, 1);
    }
    if (!rc) rc = mk_group(o, "/probes", 1);
    hsize_t pchunk = PROBE_CHUNK;
    if (!rc && o->heart) {
        rc = mk_group(o, "/heart", 1);
        if (!rc) rc = heart_attrs(o);
        for (int v = 0; !rc && v < HEART_COLS; ++v) {
            char path[64];
            snprintf(path, sizeof path, "/heart/%s", heart_var[v]);
            o->heart_d[v] = mk_dset(o, path, H5T_IEEE_F64LE, 1, dims, maxd, &pchunk, heart_unit[v]);
            if (o->heart_d[v] < 0) return -1;
        }
    }
    for (int i = 0; !rc && i < o->n_probes; ++i) {
        char path[1024];
        if (snprintf(path, sizeof path, "/probes/%s", o->probe_names[i]) >= (int)sizeof path - 16) {
            set_err(o, "probe name '%s' is too long", o->probe_names[i]);
            return -1;
        }
        rc = mk_group(o, path, 1);
        size_t base = strlen(path);
        for (int v = 0; !rc && v < 4; ++v) {
            snprintf(path + base, sizeof path - base, "/%s", probe_var[v]);
            o->probe_d[i][v] = mk_dset(o, path, H5T_IEEE_F64LE, 1, dims, maxd, &pchunk, probe_unit[v]);
            if (o->probe_d[i][v] < 0) return -1;
            path[base] = '\0';
        }
    }
    return rc;
}

static void release(ht_output *o)
{
    if (!o) return;
    for (int i = 0; i < o->n_probes; ++i) free(o->probe_names ? o->probe_names[i] : NULL);
    free(o->probe_names);
    free(o->probe_d);
    free(o->probe_n);
    free(o->times);
    free(o->path);
    free(o->xdmf_path);
    free(o->grid_common);
    free(o);
}

/* Close every id; used by close and by a failed open. */
static int close_ids(ht_output *o, int rc)
{
    rc = closeh(o, &o->time_d, "/time", rc);
    for (int j = 0; j < N_FIELDS_MAX; ++j) rc = closeh(o, &o->field_d[j], field_name[j], rc);
    for (int i = 0; o->probe_d && i < o->n_probes; ++i)
        for (int v = 0; v < 4; ++v) rc = closeh(o, &o->probe_d[i][v], o->probe_names[i], rc);
    for (int v = 0; v < HEART_COLS; ++v) rc = closeh(o, &o->heart_d[v], heart_var[v], rc);
    rc = closeh(o, &o->str_t, "string type", rc);
    return closeh(o, &o->file, NULL, rc);
}

/* The writer's memory for d (no file yet); NULL with err set. */
static ht_output *writer_new(const ht_output_desc *d, char *err, size_t errlen)
{
    ht_output *o = calloc(1, sizeof *o);
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", d->path);
        return NULL;
    }
    o->file = o->str_t = o->time_d = H5I_INVALID_HID;
    for (int j = 0; j < N_FIELDS_MAX; ++j) o->field_d[j] = H5I_INVALID_HID;
    for (int j = 0; j < HEART_COLS; ++j) o->heart_d[j] = H5I_INVALID_HID;
    o->heart = d->heart;
    memcpy(o->heart_lv, d->heart_lv, sizeof o->heart_lv);
    o->n_cells = d->n_cells;
    o->n_points = d->n_points;
    o->n_fields = d->tracer ? (d->saturation ? 6 : 5) : 4;
    o->flush_seconds = d->flush_seconds;
    o->path = dupstr(d->path);
    o->xdmf_path = xdmf_path_for(d->path);
    o->probe_names = calloc((size_t)(d->n_probes ? d->n_probes : 1), sizeof *o->probe_names);
    o->probe_d = calloc((size_t)(d->n_probes ? d->n_probes : 1), sizeof *o->probe_d);
    o->probe_n = calloc((size_t)(d->n_probes ? d->n_probes : 1), sizeof *o->probe_n);
    int oom = !o->path || !o->xdmf_path || !o->probe_names || !o->probe_d || !o->probe_n;
    for (int i = 0; !oom && i < d->n_probes; ++i) {
        o->n_probes = i + 1;
        for (int v = 0; v < 4; ++v) o->probe_d[i][v] = H5I_INVALID_HID;
        oom = !(o->probe_names[i] = dupstr(d->probe_names[i]));
    }
    if (oom) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", d->path);
        release(o);
        return NULL;
    }
    const char *slash = strrchr(o->path, '/');
    o->h5_base = slash ? (char *)slash + 1 : o->path;
    return o;
}

/* The checks and the allocation that opening and reopening share. */
static ht_output *writer_start(const ht_output_desc *d, ht_output **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    if (err && errlen) err[0] = '\0';
    if (check_desc(d, err, errlen)) return NULL;
    if (!out) {
        if (err && errlen) snprintf(err, errlen, "%s: no place for the writer", d->path);
        return NULL;
    }
    return writer_new(d, err, errlen);
}

int ht_output_open(const ht_output_desc *d, ht_output **out, char *err, size_t errlen)
{
    ht_output *o = writer_start(d, out, err, errlen);
    if (!o) return -1;

    quiet q = quiet_on(o, err, errlen);
    int rc = 0, created = 0;
    if ((o->str_t = H5Tcopy(H5T_C_S1)) < 0) {
        rc = h5err(o, "string type", "H5Tcopy");
    } else if (H5Tset_size(o->str_t, H5T_VARIABLE) < 0) {
        rc = h5err(o, "string type", "H5Tset_size");
    } else if (H5Tset_cset(o->str_t, H5T_CSET_UTF8) < 0) {
        rc = h5err(o, "string type", "H5Tset_cset");
    } else if ((o->file = H5Fcreate(o->path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        /* the caller chose this path: truncating it is what it asked for */
        rc = h5err(o, NULL, "H5Fcreate");
    } else {
        created = 1;
        hid_t root = H5I_INVALID_HID;
        if ((root = H5Gopen2(o->file, "/", H5P_DEFAULT)) < 0) {
            rc = h5err(o, "/", "H5Gopen2");
        } else {
            rc = put_attr_str(o, root, "/", "format", "hemotree-output 1");
            /* stays "running" in the file of a run that dies without a word */
            if (!rc) rc = put_attr_str(o, root, "/", "status", "running");
            rc = closeh(o, &root, "/", rc);
        }
    }
    if (!rc) rc = write_config(o, d);
    if (!rc) rc = write_mesh(o, d);
    if (!rc) rc = create_series(o, d);
    if (!rc) rc = flush(o);
    if (!rc) rc = make_grid_common(o);
    if (!rc) rc = write_xdmf(o, 0);
    if (rc) {
        close_ids(o, rc);
        /* a half-built file would look like a run that never started */
        if (created) remove(o->path);
        quiet_off(o, q);
        release(o);
        return -1;
    }
    quiet_off(o, q);
    *out = o;
    return 0;
}

/* ---------------------------------------------------------------- checkpoint/restart */

int ht_output_sync(ht_output *o, unsigned long long *n_t, unsigned long long *heart_n, unsigned long long *probe_n,
                   char *err, size_t errlen)
{
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "output: not open");
        return -1;
    }
    quiet qs = quiet_on(o, err, errlen);
    int rc = flush(o);
    quiet_off(o, qs);
    if (rc) return rc;
    *n_t = (unsigned long long)o->n_t;
    *heart_n = (unsigned long long)o->heart_n;
    for (int i = 0; probe_n && i < o->n_probes; ++i) probe_n[i] = (unsigned long long)o->probe_n[i];
    return 0;
}

/* Open an existing extendible dataset and cut it to n rows (it must have at least n). */
static hid_t cut_dset(ht_output *o, const char *path, hsize_t n)
{
    hid_t d = H5Dopen2(o->file, path, H5P_DEFAULT), sp = H5I_INVALID_HID;
    if (d < 0) {
        h5err(o, path, "H5Dopen2 (the file does not have the layout of this case)");
        return H5I_INVALID_HID;
    }
    hsize_t dims[2] = {0, 0};
    int rc = 0, rank = 0;
    if ((sp = H5Dget_space(d)) < 0) {
        rc = h5err(o, path, "H5Dget_space");
    } else if ((rank = H5Sget_simple_extent_dims(sp, dims, NULL)) < 1 || rank > 2) {
        rc = h5err(o, path, "H5Sget_simple_extent_dims");
    } else if (dims[0] < n) {
        set_err(o, "%s: %s has %llu rows, fewer than the checkpoint's %llu (the file is not the one the "
                   "checkpoint was taken with)", o->path, path, (unsigned long long)dims[0], (unsigned long long)n);
        rc = -1;
    } else if (dims[0] > n) {
        dims[0] = n;
        if (H5Dset_extent(d, dims) < 0) rc = h5err(o, path, "H5Dset_extent");
    }
    closeh(o, &sp, path, 0);
    if (rc) closeh(o, &d, path, 0);
    return d;
}

static int reopen_impl(ht_output *o, const ht_output_desc *d, hsize_t n_t, hsize_t heart_n,
                       const unsigned long long *probe_n)
{
    char path[1100];
    if ((o->str_t = H5Tcopy(H5T_C_S1)) < 0) return h5err(o, "string type", "H5Tcopy");
    if (H5Tset_size(o->str_t, H5T_VARIABLE) < 0) return h5err(o, "string type", "H5Tset_size");
    if (H5Tset_cset(o->str_t, H5T_CSET_UTF8) < 0) return h5err(o, "string type", "H5Tset_cset");
    if ((o->file = H5Fopen(o->path, H5F_ACC_RDWR, H5P_DEFAULT)) < 0) return h5err(o, NULL, "H5Fopen");
    if ((o->time_d = cut_dset(o, "/time", n_t)) < 0) return -1;
    for (int j = 0; j < o->n_fields; ++j) {
        snprintf(path, sizeof path, "/fields/%s", field_name[j]);
        if ((o->field_d[j] = cut_dset(o, path, n_t)) < 0) return -1;
    }
    for (int v = 0; o->heart && v < HEART_COLS; ++v) {
        snprintf(path, sizeof path, "/heart/%s", heart_var[v]);
        if ((o->heart_d[v] = cut_dset(o, path, heart_n)) < 0) return -1;
    }
    o->heart_n = heart_n;
    for (int i = 0; i < o->n_probes; ++i) {
        for (int v = 0; v < 4; ++v) {
            snprintf(path, sizeof path, "/probes/%s/%s", o->probe_names[i], probe_var[v]);
            if ((o->probe_d[i][v] = cut_dset(o, path, (hsize_t)probe_n[i])) < 0) return -1;
        }
        o->probe_n[i] = (hsize_t)probe_n[i];
    }
    /* the output times so far, for the XDMF */
    hsize_t cap = n_t > 64 ? n_t : 64;
    if (!(o->times = malloc((size_t)cap * sizeof *o->times))) {
        set_err(o, "out of memory");
        return -1;
    }
    o->cap_t = cap;
    if (n_t && H5Dread(o->time_d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, o->times) < 0)
        return h5err(o, "/time", "H5Dread");
    o->n_t = n_t;
    /* the /xdmf/<f>/<k> rows: keep those below n_t, drop the killed run's later ones */
    hsize_t k = 0;
    for (; k < n_t; ++k) {
        snprintf(path, sizeof path, "/xdmf/%s/%llu", field_name[0], (unsigned long long)k);
        htri_t e = H5Lexists(o->file, path, H5P_DEFAULT);
        if (e < 0) return h5err(o, path, "H5Lexists");
        if (!e) break;
    }
    o->vds_nt = k;
    for (k = n_t;; ++k) {
        int any = 0;
        for (int j = 0; j < o->n_fields; ++j) {
            snprintf(path, sizeof path, "/xdmf/%s/%llu", field_name[j], (unsigned long long)k);
            htri_t e = H5Lexists(o->file, path, H5P_DEFAULT);
            if (e < 0) return h5err(o, path, "H5Lexists");
            if (e && H5Ldelete(o->file, path, H5P_DEFAULT) < 0) return h5err(o, path, "H5Ldelete");
            any |= e > 0;
        }
        if (!any) break;
    }
    hid_t root = H5Gopen2(o->file, "/", H5P_DEFAULT);
    if (root < 0) return h5err(o, "/", "H5Gopen2");
    int rc = put_attr_str(o, root, "/", "status", "running");
    rc = closeh(o, &root, "/", rc);
    (void)d;
    if (!rc) rc = make_rows(o, n_t);
    if (!rc) rc = flush(o);
    if (!rc) rc = make_grid_common(o);
    if (!rc) rc = write_xdmf(o, n_t);
    return rc;
}

int ht_output_reopen(const ht_output_desc *d, unsigned long long n_t, unsigned long long heart_n,
                     const unsigned long long *probe_n, ht_output **out, char *err, size_t errlen)
{
    ht_output *o = writer_start(d, out, err, errlen);
    if (!o) return -1;
    quiet q = quiet_on(o, err, errlen);
    int rc = reopen_impl(o, d, (hsize_t)n_t, (hsize_t)heart_n, probe_n);
    if (rc) {
        close_ids(o, rc);
        quiet_off(o, q);
        release(o);
        return -1;
    }
    o->flush_wall = wall_now();
    quiet_off(o, q);
    *out = o;
    return 0;
}

/* ---------------------------------------------------------------- appends */

static int fields_impl(ht_output *o, double t, const double *const v[N_FIELDS_MAX])
{
    for (int j = 0; j < o->n_fields; ++j)
        if (!v[j]) {
            set_err(o, "/fields/%s: no data given", field_name[j]);
            return -1;
        }
    if (o->n_t == o->cap_t) {
        hsize_t cap = o->cap_t ? 2 * o->cap_t : 64;
        double *nt = realloc(o->times, (size_t)cap * sizeof *nt);
        if (!nt) {
            set_err(o, "out of memory");
            return -1;
        }
        o->times = nt;
        o->cap_t = cap;
    }
    const hsize_t k = o->n_t, nc = (hsize_t)o->n_cells;
    for (int j = 0; j < o->n_fields; ++j) {
        char path[64];
        snprintf(path, sizeof path, "/fields/%s", field_name[j]);
        if (append(o, o->field_d[j], path, 2, k, 1, nc, v[j])) return -1;
    }
    /* /time last: its length is the count of complete samples if a later step fails */
    if (append(o, o->time_d, "/time", 1, k, 1, 1, &t)) return -1;
    if (append_flush(o)) return -1;
    o->times[k] = t;
    o->n_t = k + 1;
    return maybe_write_xdmf(o);
}

int ht_output_fields(ht_output *o, double t, const double *p, const double *q, const double *a,
                     const double *u, const double *c, char *err, size_t errlen)
{
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "output: not open");
        return -1;
    }
    return ht_output_fields_sat(o, t, p, q, a, u, c, NULL, err, errlen);
}

int ht_output_fields_sat(ht_output *o, double t, const double *p, const double *q, const double *a,
                         const double *u, const double *c, const double *sat, char *err, size_t errlen)
{
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "output: not open");
        return -1;
    }
    const double *const v[N_FIELDS_MAX] = {p, q, a, u, c, sat};
    quiet qs = quiet_on(o, err, errlen);
    int rc = fields_impl(o, t, v);
    quiet_off(o, qs);
    return rc;
}

static int probe_impl(ht_output *o, int probe, size_t n, const double *const v[4])
{
    if (probe < 0 || probe >= o->n_probes) {
        set_err(o, "probe index %d outside [0, %d)", probe, o->n_probes);
        return -1;
    }
    if (!n) return 0;
    char path[1024];
    for (int j = 0; j < 4; ++j)
        if (!v[j]) {
            set_err(o, "/probes/%s/%s: no data given", o->probe_names[probe], probe_var[j]);
            return -1;
        }
    const hsize_t k = o->probe_n[probe];
    /* time last, as for the fields: its length counts the complete samples */
    for (int j = 3; j >= 0; --j) {
        snprintf(path, sizeof path, "/probes/%s/%s", o->probe_names[probe], probe_var[j]);
        if (append(o, o->probe_d[probe][j], path, 1, k, (hsize_t)n, 1, v[j])) return -1;
    }
    if (append_flush(o)) return -1;
    o->probe_n[probe] = k + n;
    return 0;
}

int ht_output_probe(ht_output *o, int probe, size_t n, const double *t, const double *p,
                    const double *q, const double *a, char *err, size_t errlen)
{
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "output: not open");
        return -1;
    }
    const double *const v[4] = {t, p, q, a};
    quiet qs = quiet_on(o, err, errlen);
    int rc = probe_impl(o, probe, n, v);
    quiet_off(o, qs);
    return rc;
}

static int heart_impl(ht_output *o, size_t n, const double *t, const double *rows)
{
    if (!o->heart) {
        set_err(o, "/heart: the output was opened without a heart");
        return -1;
    }
    if (!n) return 0;
    double *col = malloc(n * sizeof *col);
    if (!col) {
        set_err(o, "/heart: out of memory");
        return -1;
    }
    int rc = 0;
    const hsize_t k = o->heart_n;
    /* time last: its length counts the complete samples */
    for (int v = HEART_COLS - 1; v >= 0 && !rc; --v) {
        char path[64];
        snprintf(path, sizeof path, "/heart/%s", heart_var[v]);
        for (size_t j = 0; j < n; ++j) col[j] = v == 0 ? t[j] : rows[j * (HEART_COLS - 1) + (size_t)(v - 1)];
        rc = append(o, o->heart_d[v], path, 1, k, (hsize_t)n, 1, col);
    }
    free(col);
    if (rc || append_flush(o)) return -1;
    o->heart_n = k + n;
    return 0;
}

int ht_output_heart(ht_output *o, size_t n, const double *t, const double *rows, char *err, size_t errlen)
{
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "output: not open");
        return -1;
    }
    quiet qs = quiet_on(o, err, errlen);
    int rc = heart_impl(o, n, t, rows);
    quiet_off(o, qs);
    return rc;
}

/* ---------------------------------------------------------------- tables */

static int check_table_path(ht_output *o, const char *path)
{
    if (!path || path[0] != '/' || !path[1] || path[strlen(path) - 1] == '/') {
        set_err(o, "table path '%s' must be absolute, below the root, without a trailing '/'",
                path ? path : "(null)");
        return -1;
    }
    for (const char *s = path + 1; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
            set_err(o, "table path '%s' has an empty, '.' or '..' component", path);
            return -1;
        }
        if (s == path + 1)
            for (size_t r = 0; r < sizeof reserved / sizeof *reserved; ++r)
                if (strlen(reserved[r]) == n && !strncmp(s, reserved[r], n)) {
                    set_err(o, "table path '%s' is inside /%s, which the writer owns", path, reserved[r]);
                    return -1;
                }
        s += n;
        if (*s == '/') ++s;
    }
    return 0;
}

static int table_impl(ht_output *o, const char *path, size_t n_rows, int n_cols,
                      const char *const *names, const char *const *units, const double *data)
{
    if (check_table_path(o, path)) return -1;
    if (n_cols < 1 || !names || !units || (n_rows && !data)) {
        set_err(o, "%s: table needs at least one column, names, units and data", path);
        return -1;
    }
    if (n_rows > (size_t)-1 / sizeof(double) / (size_t)n_cols) {
        set_err(o, "%s: table too large", path);
        return -1;
    }
    for (int c = 0; c < n_cols; ++c) {
        if (!valid_link_name(names[c]) || !units[c]) {
            set_err(o, "%s: column %d name '%s' is not a valid dataset name or has no units", path, c,
                    names[c] ? names[c] : "(null)");
            return -1;
        }
        for (int c2 = 0; c2 < c; ++c2)
            if (!strcmp(names[c], names[c2])) {
                set_err(o, "%s: column name '%s' is used twice", path, names[c]);
                return -1;
            }
    }
    size_t plen = strlen(path), name_max = 0;
    for (int c = 0; c < n_cols; ++c)
        if (strlen(names[c]) > name_max) name_max = strlen(names[c]);
    char *gpath = malloc(plen + 1);
    char *cpath = malloc(plen + name_max + 2);
    hid_t g = H5I_INVALID_HID, lcpl = H5I_INVALID_HID, gcpl = H5I_INVALID_HID;
    hid_t ms = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    int rc = 0;
    if (!gpath || !cpath) {
        set_err(o, "out of memory");
        rc = -1;
        goto done;
    }
    memcpy(gpath, path, plen);
    gpath[plen] = '\0';
    int ex = link_exists(o, gpath);
    if (ex < 0) {
        rc = -1;
        goto done;
    }
    if (ex) {
        /* replace only what an earlier call made: a table carries a "columns" attribute */
        htri_t is_table = H5Aexists_by_name(o->file, gpath, "columns", H5P_DEFAULT);
        if (is_table < 0) {
            rc = h5err(o, gpath, "H5Aexists_by_name");
            goto done;
        }
        if (!is_table) {
            set_err(o, "%s exists and is not a table written by ht_output_table", gpath);
            rc = -1;
            goto done;
        }
        /* the old space is not reclaimed; tables are small */
        if (H5Ldelete(o->file, gpath, H5P_DEFAULT) < 0) {
            rc = h5err(o, gpath, "H5Ldelete");
            goto done;
        }
    }
    if ((lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0) {
        rc = h5err(o, gpath, "H5Pcreate");
    } else if (H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        rc = h5err(o, gpath, "H5Pset_create_intermediate_group");
    } else if ((gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0) {
        rc = h5err(o, gpath, "H5Pcreate");
    } else if (H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
        rc = h5err(o, gpath, "H5Pset_link_creation_order");
    } else if ((g = H5Gcreate2(o->file, gpath, lcpl, gcpl, H5P_DEFAULT)) < 0) {
        rc = h5err(o, gpath, "H5Gcreate2");
    } else {
        rc = put_attr_strs(o, g, gpath, "columns", (size_t)n_cols, names);
    }
    if (rc) goto done;
    hsize_t all = (hsize_t)n_rows * (hsize_t)n_cols, nr = n_rows;
    if (n_rows && (ms = H5Screate_simple(1, &all, NULL)) < 0) {
        rc = h5err(o, gpath, "H5Screate_simple");
        goto done;
    }
    for (int c = 0; !rc && c < n_cols; ++c) {
        snprintf(cpath, plen + name_max + 2, "%s/%s", gpath, names[c]);
        if ((ds = mk_dset(o, cpath, H5T_IEEE_F64LE, 1, &nr, NULL, NULL, units[c])) < 0) {
            rc = -1;
            break;
        }
        if (n_rows) {
            /* a strided selection picks column c out of the row-major block without a copy */
            hsize_t start = (hsize_t)c, stride = (hsize_t)n_cols;
            if (H5Sselect_hyperslab(ms, H5S_SELECT_SET, &start, &stride, &nr, NULL) < 0)
                rc = h5err(o, cpath, "H5Sselect_hyperslab");
            else if (H5Dwrite(ds, H5T_NATIVE_DOUBLE, ms, H5S_ALL, H5P_DEFAULT, data) < 0)
                rc = h5err(o, cpath, "H5Dwrite");
        }
        rc = closeh(o, &ds, cpath, rc);
    }
    if (!rc) rc = flush(o);
done:
    rc = closeh(o, &ms, gpath ? gpath : path, rc);
    rc = closeh(o, &g, gpath ? gpath : path, rc);
    rc = closeh(o, &gcpl, gpath ? gpath : path, rc);
    rc = closeh(o, &lcpl, gpath ? gpath : path, rc);
    free(gpath);
    free(cpath);
    return rc;
}

int ht_output_table(ht_output *o, const char *path, size_t n_rows, int n_cols,
                    const char *const *names, const char *const *units, const double *data,
                    char *err, size_t errlen)
{
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "output: not open");
        return -1;
    }
    quiet qs = quiet_on(o, err, errlen);
    int rc = table_impl(o, path, n_rows, n_cols, names, units, data);
    quiet_off(o, qs);
    return rc;
}

int ht_output_attr(ht_output *o, const char *name, const char *value)
{
    if (!o || !name || !name[0]) return -1;
    char err[256];
    quiet qs = quiet_on(o, err, sizeof err);
    hid_t root = H5I_INVALID_HID;
    int rc = 0;
    if ((root = H5Gopen2(o->file, "/", H5P_DEFAULT)) < 0) {
        rc = h5err(o, "/", "H5Gopen2");
    } else {
        rc = put_attr_str(o, root, "/", name, value ? value : "");
        rc = closeh(o, &root, "/", rc);
    }
    /* the status of a failed run must reach the disk before anything else goes wrong */
    if (!rc) rc = flush(o);
    quiet_off(o, qs);
    return rc;
}

int ht_output_strings(ht_output *o, const char *path, size_t n, const char *const *v, char *err, size_t errlen)
{
    if (!o) {
        if (err && errlen) snprintf(err, errlen, "output: not open");
        return -1;
    }
    quiet qs = quiet_on(o, err, errlen);
    hsize_t dims[1] = {(hsize_t)n};
    int rc = put_dset(o, path, o->str_t, o->str_t, 1, dims, v, "1");
    quiet_off(o, qs);
    return rc;
}

/* ---------------------------------------------------------------- close */

int ht_output_close(ht_output *o, char *err, size_t errlen)
{
    if (!o) return 0;
    quiet qs = quiet_on(o, err, errlen);
    int rc = make_rows(o, o->n_t);
    int fr = flush(o);
    if (!rc) rc = fr;
    rc = close_ids(o, rc);
    /* after H5Fclose, so the XDMF never names more than the closed file holds */
    int xr = write_xdmf(o, o->vds_nt);
    if (!rc) rc = xr;
    quiet_off(o, qs);
    release(o);
    return rc;
}
