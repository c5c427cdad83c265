/* The HDF5 + XDMF writer: layout, values, units and virtual rows read back with the HDF5 C
 * API; a run that dies without closing leaves a readable file; errors are ours, named and
 * quiet on stderr.
 * Usage: test_output write|crash|errors DIR */
#include "output.h"

#include <hdf5.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ++failures;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
        }                                                                   \
    } while (0)

/* ------------------------------------------------------------ test mesh */

/* Two vessels, 4 + 3 cells, the junction point duplicated (9 points). */
enum { NC = 7, NP = 9, NV = 2, NT = 10, NPROBE = 2, NS = 37 };

static double points[NP * 3];
static int segments[NC * 2], vessel_id[NC];
static double xc[NC];
static const char *const vessel_names[NV] = {"aorta", "left_iliac_\xc3\xa9"}; /* UTF-8 survives */
static const char *const probe_names[NPROBE] = {"aortic_root", "iliac_mid"};
static const char *const config_text = "mesh: two.yaml\nrun:\n  cycles: 2\n";

static void build_mesh(void)
{
    int pt = 0, cell = 0;
    for (int v = 0; v < NV; ++v) {
        int n = v == 0 ? 4 : 3;
        int first = pt;
        for (int i = 0; i <= n; ++i, ++pt) {
            points[3 * pt + 0] = v == 0 ? 0.01 * i : 0.04 + 0.007 * i;
            points[3 * pt + 1] = v == 0 ? 0.0 : -0.007 * i;
            points[3 * pt + 2] = 0.001 * v;
        }
        for (int i = 0; i < n; ++i, ++cell) {
            segments[2 * cell] = first + i;
            segments[2 * cell + 1] = first + i + 1;
            vessel_id[cell] = v;
            xc[cell] = 0.01 * (i + 0.5);
        }
    }
}

static ht_output_desc make_desc(const char *path, int tracer)
{
    ht_output_desc d;
    memset(&d, 0, sizeof d);
    d.path = path;
    d.n_cells = NC;
    d.n_vessels = NV;
    d.n_points = NP;
    d.points = points;
    d.segments = segments;
    d.vessel_id = vessel_id;
    d.x = xc;
    d.vessel_names = vessel_names;
    d.tracer = tracer;
    d.n_probes = NPROBE;
    d.probe_names = probe_names;
    d.config_text = config_text;
    d.case_name = "two_vessels";
    d.version = "9.8.7";
    d.git_hash = "abc1234";
    return d;
}

/* Known values, so that a read-back can say which sample went wrong. */
static double fval(int f, int k, int i)
{
    switch (f) {
    case 0: return 1000.0 * k + i;                          /* pressure */
    case 1: return 1e-6 * (k + 1) * (i + 1);                /* flow */
    case 2: return 1e-4 + 1e-6 * i + 1e-7 * k;              /* area */
    case 3: return fval(1, k, i) / fval(2, k, i);           /* velocity */
    default: return 0.01 * k * i;                           /* ecmo_fraction */
    }
}
static double tval(int k) { return 0.1 * k; }
static double pval(int probe, int v, int j)
{
    switch (v) {
    case 0: return 0.01 * j;
    case 1: return 10000.0 + 10.0 * j + 1000.0 * probe;
    case 2: return 1e-5 * j - 3e-6 * probe;
    default: return 2e-4 + 1e-7 * j + 1e-5 * probe;
    }
}

static const char *const fields[5] = {"pressure", "flow", "area", "velocity", "ecmo_fraction"};
static const char *const funits[5] = {"Pa", "m^3/s", "m^2", "m/s", "1"};
static const char *const pvars[4] = {"time", "pressure", "flow", "area"};
static const char *const punits[4] = {"s", "Pa", "m^3/s", "m^2"};

static int write_fields(ht_output *o, int k, int tracer, char *err, size_t errlen)
{
    double v[5][NC];
    for (int f = 0; f < 5; ++f)
        for (int i = 0; i < NC; ++i) v[f][i] = fval(f, k, i);
    return ht_output_fields(o, tval(k), v[0], v[1], v[2], v[3], tracer ? v[4] : NULL, err, errlen);
}

/* Samples [j0, j0+n) of every probe. */
static int write_probes(ht_output *o, int j0, int n, char *err, size_t errlen)
{
    double v[4][NS];
    for (int p = 0; p < NPROBE; ++p) {
        for (int var = 0; var < 4; ++var)
            for (int j = 0; j < n; ++j) v[var][j] = pval(p, var, j0 + j);
        if (ht_output_probe(o, p, (size_t)n, v[0], v[1], v[2], v[3], err, errlen)) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ readers */

static int rank_dims(hid_t file, const char *path, hsize_t *dims)
{
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t s = H5Dget_space(d);
    int r = H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    H5Dclose(d);
    return r;
}

static int read_doubles(hid_t file, const char *path, double *buf)
{
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) return -1;
    herr_t r = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(d);
    return r < 0 ? -1 : 0;
}

/* A string attribute as a malloc'd C string, or NULL. */
static char *attr_str(hid_t file, const char *obj, const char *name)
{
    hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Aget_type(a);
    char *out = NULL;
    if (H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5T_CSET_UTF8);
        char *s = NULL;
        if (H5Aread(a, mt, &s) >= 0 && s) {
            out = strdup(s);
            H5free_memory(s);
        }
        H5Tclose(mt);
    }
    H5Tclose(t);
    H5Aclose(a);
    return out;
}

static void check_units(hid_t file, const char *path, const char *expect)
{
    char *u = attr_str(file, path, "units");
    CHECK(u && !strcmp(u, expect), "%s units '%s', expected '%s'", path, u ? u : "(none)", expect);
    free(u);
}

static void check_attr(hid_t file, const char *obj, const char *name, const char *expect)
{
    char *u = attr_str(file, obj, name);
    CHECK(u && !strcmp(u, expect), "%s attribute %s is '%s', expected '%s'", obj, name, u ? u : "(none)",
          expect);
    free(u);
}

/* Count of "<Grid Name=\"step_" in the XDMF, or -1 when it cannot be read. */
static int xdmf_grids(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "<Grid Name=\"step_")) ++n;
    fclose(f);
    return n;
}

/* Everything written by write_all, for its first n_t output times and probe samples. */
static void check_file(const char *path, int n_t, int n_vds, int n_s, int tracer, int complete)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file >= 0, "cannot open %s", path);
    if (file < 0) return;
    hsize_t dims[2];
    double buf[NT * NC * 3 + NS];
    char p[256];

    /* time */
    CHECK(rank_dims(file, "/time", dims) == 1 && dims[0] == (hsize_t)n_t, "/time has %llu rows, expected %d",
          (unsigned long long)dims[0], n_t);
    CHECK(!read_doubles(file, "/time", buf), "read /time");
    for (int k = 0; k < n_t; ++k) CHECK(buf[k] == tval(k), "/time[%d] = %g", k, buf[k]);
    check_units(file, "/time", "s");

    /* fields: shape, values, units, storage */
    for (int f = 0; f < 5; ++f) {
        snprintf(p, sizeof p, "/fields/%s", fields[f]);
        htri_t ex = H5Lexists(file, p, H5P_DEFAULT);
        if (f == 4 && !tracer) {
            CHECK(ex == 0, "%s written without tracer", p);
            continue;
        }
        CHECK(ex > 0, "%s missing", p);
        if (ex <= 0) continue;
        CHECK(rank_dims(file, p, dims) == 2 && dims[0] == (hsize_t)n_t && dims[1] == NC,
              "%s is %llux%llu", p, (unsigned long long)dims[0], (unsigned long long)dims[1]);
        CHECK(!read_doubles(file, p, buf), "read %s", p);
        for (int k = 0; k < n_t; ++k)
            for (int i = 0; i < NC; ++i)
                CHECK(buf[k * NC + i] == fval(f, k, i), "%s[%d,%d] = %.17g", p, k, i, buf[k * NC + i]);
        check_units(file, p, funits[f]);
        hid_t d = H5Dopen2(file, p, H5P_DEFAULT);
        hid_t dcpl = H5Dget_create_plist(d), s = H5Dget_space(d);
        hsize_t chunk[2] = {0, 0}, maxd[2] = {0, 0};
        CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED, "%s not chunked", p);
        H5Pget_chunk(dcpl, 2, chunk);
        CHECK(chunk[0] >= 1 && chunk[0] <= 8 && chunk[1] == NC, "%s chunk %llux%llu", p,
              (unsigned long long)chunk[0], (unsigned long long)chunk[1]);
        int nf = H5Pget_nfilters(dcpl), shuffle = 0, deflate = 0;
        for (int j = 0; j < nf; ++j) {
            unsigned flags, cd[8];
            size_t ncd = 8;
            H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)j, &flags, &ncd, cd, 0, NULL, NULL);
            shuffle |= id == H5Z_FILTER_SHUFFLE;
            deflate |= id == H5Z_FILTER_DEFLATE;
        }
        CHECK(shuffle && deflate, "%s filters: shuffle %d deflate %d", p, shuffle, deflate);
        H5Sget_simple_extent_dims(s, dims, maxd);
        CHECK(maxd[0] == H5S_UNLIMITED && maxd[1] == NC, "%s not extendible in time", p);
        H5Sclose(s);
        H5Pclose(dcpl);
        H5Dclose(d);

        /* the virtual rows the XDMF points at */
        for (int k = 0; k < n_vds; ++k) {
            snprintf(p, sizeof p, "/xdmf/%s/%d", fields[f], k);
            CHECK(rank_dims(file, p, dims) == 1 && dims[0] == NC, "%s shape", p);
            double row[NC];
            CHECK(!read_doubles(file, p, row), "read %s", p);
            for (int i = 0; i < NC; ++i) CHECK(row[i] == fval(f, k, i), "%s[%d] = %.17g", p, i, row[i]);
            hid_t vd = H5Dopen2(file, p, H5P_DEFAULT);
            hid_t vp = H5Dget_create_plist(vd);
            CHECK(H5Pget_layout(vp) == H5D_VIRTUAL, "%s is not a virtual dataset", p);
            H5Pclose(vp);
            H5Dclose(vd);
            check_units(file, p, funits[f]);
        }
        snprintf(p, sizeof p, "/xdmf/%s/%d", fields[f], n_vds);
        CHECK(H5Lexists(file, p, H5P_DEFAULT) == 0, "%s exists beyond the samples", p);
    }

    /* mesh */
    CHECK(rank_dims(file, "/mesh/points", dims) == 2 && dims[0] == NP && dims[1] == 3, "/mesh/points shape");
    CHECK(!read_doubles(file, "/mesh/points", buf), "read points");
    for (int i = 0; i < NP * 3; ++i) CHECK(buf[i] == points[i], "points[%d]", i);
    check_units(file, "/mesh/points", "m");
    {
        int ibuf[NC * 2];
        hid_t d = H5Dopen2(file, "/mesh/segments", H5P_DEFAULT);
        CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ibuf) >= 0, "read segments");
        H5Dclose(d);
        for (int i = 0; i < NC * 2; ++i) CHECK(ibuf[i] == segments[i], "segments[%d]", i);
        CHECK(rank_dims(file, "/mesh/segments", dims) == 2 && dims[0] == NC && dims[1] == 2, "segments shape");
        d = H5Dopen2(file, "/mesh/vessel_id", H5P_DEFAULT);
        CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ibuf) >= 0, "read vessel_id");
        H5Dclose(d);
        for (int i = 0; i < NC; ++i) CHECK(ibuf[i] == vessel_id[i], "vessel_id[%d]", i);
        check_units(file, "/mesh/segments", "1");
        check_units(file, "/mesh/vessel_id", "1");
    }
    CHECK(!read_doubles(file, "/mesh/x", buf), "read x");
    for (int i = 0; i < NC; ++i) CHECK(buf[i] == xc[i], "x[%d]", i);
    check_units(file, "/mesh/x", "m");
    {
        hid_t d = H5Dopen2(file, "/mesh/vessel_names", H5P_DEFAULT);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5T_CSET_UTF8);
        char *names[NV] = {NULL, NULL};
        CHECK(rank_dims(file, "/mesh/vessel_names", dims) == 1 && dims[0] == NV, "vessel_names shape");
        CHECK(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0, "read vessel_names");
        for (int v = 0; v < NV; ++v) {
            CHECK(names[v] && !strcmp(names[v], vessel_names[v]), "vessel name %d", v);
            H5free_memory(names[v]);
        }
        H5Tclose(mt);
        H5Dclose(d);
        check_units(file, "/mesh/vessel_names", "1");
    }

    /* probes */
    for (int pr = 0; pr < NPROBE; ++pr)
        for (int v = 0; v < 4; ++v) {
            snprintf(p, sizeof p, "/probes/%s/%s", probe_names[pr], pvars[v]);
            CHECK(rank_dims(file, p, dims) == 1 && dims[0] == (hsize_t)n_s, "%s has %llu samples, expected %d",
                  p, (unsigned long long)dims[0], n_s);
            CHECK(!read_doubles(file, p, buf), "read %s", p);
            for (int j = 0; j < n_s; ++j) CHECK(buf[j] == pval(pr, v, j), "%s[%d] = %g", p, j, buf[j]);
            check_units(file, p, punits[v]);
        }

    /* config */
    {
        hid_t d = H5Dopen2(file, "/config/input", H5P_DEFAULT);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char *s = NULL;
        CHECK(d >= 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0, "read /config/input");
        CHECK(s && !strcmp(s, config_text), "/config/input = '%s'", s ? s : "(null)");
        H5free_memory(s);
        H5Tclose(mt);
        H5Dclose(d);
        check_units(file, "/config/input", "1");
        check_attr(file, "/config", "version", "9.8.7");
        check_attr(file, "/config", "git_hash", "abc1234");
        check_attr(file, "/config", "case_name", "two_vessels");
        check_attr(file, "/", "format", "hemotree-output 1");
        check_attr(file, "/", "status", complete ? "completed" : "running");
    }

    /* metrics, after the replacement in write_all */
    if (complete) {
        CHECK(rank_dims(file, "/metrics/volume/imbalance", dims) == 1 && dims[0] == 1, "volume shape");
        CHECK(!read_doubles(file, "/metrics/volume/imbalance", buf) && buf[0] == -2.5e-9, "volume value");
        check_units(file, "/metrics/volume/imbalance", "m^3");
        const char *cols[3] = {"cycle", "relative_change", "max_change"};
        const char *cu[3] = {"1", "1", "Pa"};
        for (int c = 0; c < 3; ++c) {
            snprintf(p, sizeof p, "/metrics/periodicity/%s", cols[c]);
            CHECK(rank_dims(file, p, dims) == 1 && dims[0] == 4, "%s has %llu rows after replace", p,
                  (unsigned long long)dims[0]);
            CHECK(!read_doubles(file, p, buf), "read %s", p);
            for (int r = 0; r < 4; ++r) CHECK(buf[r] == 100.0 * r + c, "%s[%d] = %g", p, r, buf[r]);
            check_units(file, p, cu[c]);
        }
        CHECK(H5Lexists(file, "/metrics/periodicity/old_only", H5P_DEFAULT) == 0, "replaced table kept a column");
        CHECK(rank_dims(file, "/metrics/empty/a", dims) == 1 && dims[0] == 0, "empty table");
    }
    CHECK(H5Fget_obj_count(file, H5F_OBJ_ALL) == 1, "objects left open by the checks");
    H5Fclose(file);
}

static void write_all(const char *path, int tracer)
{
    char err[512];
    ht_output_desc d = make_desc(path, tracer);
    ht_output *o = NULL;
    CHECK(!ht_output_open(&d, &o, err, sizeof err), "open: %s", err);
    if (!o) return;
    /* probes in 3 batches of 12, 12, 13 between the field samples */
    int batches[3] = {12, 12, 13}, j0 = 0, b = 0;
    for (int k = 0; k < NT; ++k) {
        CHECK(!write_fields(o, k, tracer, err, sizeof err), "fields %d: %s", k, err);
        if (k % 3 == 2 && b < 3) {
            CHECK(!write_probes(o, j0, batches[b], err, sizeof err), "probes: %s", err);
            j0 += batches[b++];
        }
        CHECK(!ht_output_probe(o, 0, 0, NULL, NULL, NULL, NULL, err, sizeof err), "empty batch: %s", err);
    }
    CHECK(j0 == NS, "wrote %d probe samples", j0);
    {
        const char *names[] = {"stored_start", "stored_end", "inflow", "outflow", "imbalance"};
        const char *units[] = {"m^3", "m^3", "m^3", "m^3", "m^3"};
        double row[5] = {1e-4, 1.1e-4, 2e-5, 1e-5, -2.5e-9};
        CHECK(!ht_output_table(o, "/metrics/volume", 1, 5, names, units, row, err, sizeof err), "table: %s", err);
    }
    {
        const char *names[] = {"cycle", "relative_change", "old_only"};
        const char *units[] = {"1", "1", "Pa"};
        double rows[2 * 3] = {1, 2, 3, 4, 5, 6};
        CHECK(!ht_output_table(o, "/metrics/periodicity", 2, 3, names, units, rows, err, sizeof err), "table: %s",
              err);
        const char *names2[] = {"cycle", "relative_change", "max_change"};
        const char *units2[] = {"1", "1", "Pa"};
        double rows2[4 * 3];
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 3; ++c) rows2[3 * r + c] = 100.0 * r + c;
        CHECK(!ht_output_table(o, "/metrics/periodicity", 4, 3, names2, units2, rows2, err, sizeof err),
              "table replace: %s", err);
        const char *names3[] = {"a"};
        const char *units3[] = {"1"};
        CHECK(!ht_output_table(o, "/metrics/empty", 0, 1, names3, units3, NULL, err, sizeof err), "empty: %s", err);
    }
    CHECK(!ht_output_attr(o, "status", "failed: first word"), "attr");
    CHECK(!ht_output_attr(o, "status", "completed"), "attr replace");
    CHECK(!ht_output_close(o, err, sizeof err), "close: %s", err);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static int mode_write(const char *dir)
{
    char *h5 = join(dir, "run.h5"), *xd = join(dir, "run.xdmf");
    char *h5b = join(dir, "notracer.h5");
    write_all(h5, 1);
    check_file(h5, NT, NT, NS, 1, 1);
    CHECK(xdmf_grids(xd) == NT, "%s has %d grids, expected %d", xd, xdmf_grids(xd), NT);
    char *tmp = join(dir, "run.xdmf.tmp");
    CHECK(access(tmp, F_OK) != 0, "%s left behind", tmp);
    write_all(h5b, 0);
    check_file(h5b, NT, NT, NS, 0, 1);
    free(h5);
    free(xd);
    free(h5b);
    free(tmp);
    return 0;
}

/* A child writes 37 output times and all probe samples, then dies without closing. */
static int mode_crash(const char *dir)
{
    char *h5 = join(dir, "crash.h5");
    enum { NK = NT };
    pid_t pid = fork();
    if (pid == 0) {
        char err[512];
        ht_output_desc d = make_desc(h5, 1);
        ht_output *o = NULL;
        if (ht_output_open(&d, &o, err, sizeof err)) {
            fprintf(stderr, "child: %s\n", err);
            _exit(3);
        }
        for (int k = 0; k < NK; ++k)
            if (write_fields(o, k, 1, err, sizeof err)) {
                fprintf(stderr, "child: %s\n", err);
                _exit(3);
            }
        if (write_probes(o, 0, 20, err, sizeof err) || write_probes(o, 20, NS - 20, err, sizeof err)) {
            fprintf(stderr, "child: %s\n", err);
            _exit(3);
        }
        _exit(0); /* no close, no atexit handlers: as if killed */
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
    /* 10 samples: the XDMF was last rewritten at 8 (doubling), with the virtual rows it names */
    check_file(h5, NK, 8, NS, 1, 0);
    char *xd = join(dir, "crash.xdmf");
    int g = xdmf_grids(xd);
    CHECK(g == 8, "%s has %d grids after the crash, expected 8", xd, g);
    free(h5);
    free(xd);
    return 0;
}

/* A child whose files may not grow past 96 KiB: the write that hits the limit fails with a
 * message naming the file and the reason, and close still returns. Exit 0 when so. */
static void full_disk_child(const char *path)
{
    signal(SIGXFSZ, SIG_IGN); /* EFBIG from write() instead of a signal */
    struct rlimit rl = {96 * 1024, 96 * 1024};
    setrlimit(RLIMIT_FSIZE, &rl);
    char err[512] = "";
    ht_output_desc d = make_desc(path, 1);
    ht_output *o = NULL;
    if (ht_output_open(&d, &o, err, sizeof err)) {
        fprintf(stderr, "child: open: %s\n", err);
        _exit(3);
    }
    int k = 0;
    while (k < 100000 && !write_fields(o, k, 1, err, sizeof err)) ++k;
    int named = strstr(err, path) && strstr(err, "too large");
    printf("file size limit: failed after %d samples: %s\n", k, err);
    ht_output_close(o, err, sizeof err);
    fflush(stdout);
    _exit(k > 0 && k < 100000 && named ? 0 : 4);
}

/* Errors: named, and nothing from HDF5's own stack printer on stderr. */
static int mode_errors(const char *dir)
{
    char err[512], path[1024];
    ht_output *o = NULL;
    ht_output_desc d;

    fflush(stderr);
    char cap[1024]; /* on the stack: the forked child below must not hold heap blocks */
    snprintf(cap, sizeof cap, "%s/stderr.txt", dir);
    int saved = dup(2);
    FILE *capf = fopen(cap, "w");
    dup2(fileno(capf), 2);

    snprintf(path, sizeof path, "%s/no_such_dir/x.h5", dir);
    d = make_desc(path, 0);
    int r = ht_output_open(&d, &o, err, sizeof err);
    int missing_ok = r != 0 && !o && strstr(err, "does not exist") && strstr(err, "no_such_dir");
    char missing_msg[512];
    snprintf(missing_msg, sizeof missing_msg, "%s", err);

    d = make_desc(dir, 0); /* a directory, not a file */
    r = ht_output_open(&d, &o, err, sizeof err);
    int dir_ok = r != 0 && !o && strstr(err, dir) && strstr(err, "H5Fcreate");
    char dir_msg[512];
    snprintf(dir_msg, sizeof dir_msg, "%s", err);

    snprintf(path, sizeof path, "%s/bad.h5", dir);
    d = make_desc(path, 0);
    int seg = segments[3];
    segments[3] = NP;
    r = ht_output_open(&d, &o, err, sizeof err);
    segments[3] = seg;
    int bad_ok = r != 0 && !o && strstr(err, "cell 1");
    CHECK(access(path, F_OK) != 0, "a rejected description created %s", path);

    snprintf(path, sizeof path, "%s/errs.h5", dir);
    d = make_desc(path, 0);
    r = ht_output_open(&d, &o, err, sizeof err);
    int open_ok = r == 0 && o;
    char open_msg[512];
    snprintf(open_msg, sizeof open_msg, "%s", err);
    int probe_ok = 0, reserved_ok = 0, nontable_ok = 0, null_ok = 0, col_ok = 0;
    char m1[512] = "", m2[512] = "", m3[512] = "", m4[512] = "", m5[512] = "";
    if (o) {
        double t[1] = {0};
        probe_ok = ht_output_probe(o, 2, 1, t, t, t, t, err, sizeof err) != 0 && strstr(err, "probe index 2");
        snprintf(m1, sizeof m1, "%s", err);
        const char *names[] = {"a"}, *units[] = {"1"};
        reserved_ok = ht_output_table(o, "/fields", 1, 1, names, units, t, err, sizeof err) != 0 &&
                      strstr(err, "/fields");
        snprintf(m2, sizeof m2, "%s", err);
        ht_output_table(o, "/metrics/a", 1, 1, names, units, t, err, sizeof err);
        nontable_ok = ht_output_table(o, "/metrics", 1, 1, names, units, t, err, sizeof err) != 0 &&
                      strstr(err, "not a table");
        snprintf(m3, sizeof m3, "%s", err);
        double v[NC] = {0};
        null_ok = ht_output_fields(o, 0.0, v, NULL, v, v, NULL, err, sizeof err) != 0 && strstr(err, "/fields/flow");
        snprintf(m4, sizeof m4, "%s", err);
        const char *bad_names[] = {"a/b"};
        col_ok = ht_output_table(o, "/metrics/b", 1, 1, bad_names, units, t, err, sizeof err) != 0 &&
                 strstr(err, "a/b");
        snprintf(m5, sizeof m5, "%s", err);
        /* after all that, a normal sample still goes in */
        CHECK(!ht_output_fields(o, 0.5, v, v, v, v, NULL, err, sizeof err), "fields after errors: %s", err);
        CHECK(!ht_output_close(o, err, sizeof err), "close: %s", err);
    }

    snprintf(path, sizeof path, "%s/full.h5", dir);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) full_disk_child(path);
    int ws = 0;
    int full_ok = pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(capf);
    CHECK(ht_output_close(NULL, err, sizeof err) == 0, "close(NULL)");

    CHECK(missing_ok, "missing directory: '%s'", missing_msg);
    CHECK(dir_ok, "path is a directory: '%s'", dir_msg);
    CHECK(bad_ok, "bad segment index: '%s'", err);
    CHECK(open_ok, "open: %s", open_msg);
    CHECK(probe_ok, "probe index: '%s'", m1);
    CHECK(reserved_ok, "reserved table path: '%s'", m2);
    CHECK(nontable_ok, "non-table replace: '%s'", m3);
    CHECK(null_ok, "NULL field: '%s'", m4);
    CHECK(col_ok, "bad column name: '%s'", m5);
    CHECK(full_ok, "file size limit: child exit status %d", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    {
        /* what was flushed before the failing write is still there */
        hsize_t dims[2] = {0, 0};
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        CHECK(f >= 0 && rank_dims(f, "/time", dims) == 1 && dims[0] >= 1, "%s unreadable after the failure", path);
        if (f >= 0) H5Fclose(f);
    }
    printf("sample messages:\n  %s\n  %s\n  %s\n  %s\n", missing_msg, dir_msg, m2, m3);

    struct stat st;
    CHECK(stat(cap, &st) == 0 && st.st_size == 0, "HDF5 printed on stderr (%lld bytes, see %s)",
          (long long)st.st_size, cap);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s write|crash|errors DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[2];
    if (mkdir(dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
        return 2;
    }
    build_mesh();
    if (!strcmp(argv[1], "write")) mode_write(dir);
    else if (!strcmp(argv[1], "crash")) mode_crash(dir);
    else if (!strcmp(argv[1], "errors")) mode_errors(dir);
    else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    }
    if (failures) {
        fprintf(stderr, "test_output %s: %d check(s) failed\n", argv[1], failures);
        return 1;
    }
    printf("test_output %s: all checks passed\n", argv[1]);
    return 0;
}
