/* hemotree command line: run, check, bench, sweep. Exit status 0 ok, 1 run failed, 2 bad input. */
#include "case.h"
#include "bench.h"
#include "driver.h"
#include "ensemble.h"
#include "sweep.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SETS 256

static void usage_main(FILE *f)
{
    fprintf(f,
            "hemotree %s: 1D arterial blood flow for ECMO / Impella / ECMELLA studies\n\n"
            "usage: hemotree <command> [options]\n\n"
            "commands:\n"
            "  run CASE.yaml     simulate a case, write OUT.h5 and OUT.xdmf\n"
            "  check CASE.yaml   validate the input and print the network summary\n"
            "  bench             time the solver on the standard networks\n"
            "  sweep SWEEP.yaml  run a sweep's members over MPI ranks (mpirun/srun, or alone)\n"
            "  help, --help, -h  print this help\n"
            "  --version         print the version and git hash\n\n"
            "`hemotree <command> --help` describes each command.\n"
            "exit status: 0 ok, 1 run failed, 2 bad input\n",
            HT_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
            "usage: hemotree run CASE.yaml [-o OUT.h5] [--cycles N] [--set key=value]...\n"
            "                    [--backend cpu|cuda|auto] [--quiet] [--jobs N] [--batch N]\n"
            "                    [--checkpoint-every X] [--restart OUT.ckpt]\n"
            "                    [--output-thread on|off|auto]\n\n"
            "  CASE.yaml          a hemotree case, or an openBF network file (run unchanged)\n"
            "  -o, --output FILE  output HDF5 file (default: <case name>.h5); FILE with .xdmf\n"
            "                     beside it opens in ParaView\n"
            "  --cycles N         cardiac cycles to simulate (overrides run.cycles)\n"
            "  --set key=value    override a case value by key path, e.g.\n"
            "                     --set blood.viscosity=\"3.5 mPa s\" --set outlets.d1.R1=7e7\n"
            "  --backend B        cpu, cuda, or auto (default: CUDA when a device is present,\n"
            "                     otherwise CPU, and it says so); cuda without a device or in a\n"
            "                     build without CUDA is an error (exit 2)\n"
            "  --quiet            no summary at the end\n"
            "  --output-thread T  on: the HDF5 appends run on a thread of their own while the\n"
            "                     solver steps on; off: in line; auto (default): on with the\n"
            "                     CUDA backend, or when the CPU backend's threads leave a\n"
            "                     core free. The files are the same either way\n"
            "  --checkpoint-every X  write OUT.ckpt (beside OUT.h5) at the first output time\n"
            "                     after every X since the last: simulated seconds (\"0.5 s\")\n"
            "                     or wall-clock minutes (\"10 min\", counted to the start of\n"
            "                     the output interval), or \"off\" for none (the default);\n"
            "                     single runs (sweeps: `sweep --help`)\n"
            "  --restart OUT.ckpt continue a killed run from its checkpoint (the same CASE and\n"
            "                     --set/--cycles; refused with exit 2 if the checkpoint is\n"
            "                     corrupted, truncated or of another case): OUT.h5 (or -o) is\n"
            "                     cut back to the checkpoint and appended to; on the CPU backend\n"
            "                     the result equals the uninterrupted run's bit for bit\n"
            "A case with an `ensemble:` section runs every member to OUT_m<k>.h5 and writes\n"
            "OUT_summary.csv and OUT_summary.h5. Members that share a network shape run\n"
            "together in one launch (the GPU: all at once; the CPU: one member per thread):\n"
            "  --batch N          members per launch (default 256)\n"
            "  --jobs N           CPU threads for the members of a launch (default\n"
            "                     OMP_NUM_THREADS or the cores)\n"
            "A progress line is printed when stdout is a terminal. Exit status 0 ok, 1 the run\n"
            "failed (the message names vessel, position and time; the output written so far\n"
            "stays readable), 2 bad input.\n");
}

static void usage_check(FILE *f)
{
    fprintf(f,
            "usage: hemotree check CASE.yaml [--set key=value]...\n\n"
            "Validate the case (and its mesh) without running: every error names the file,\n"
            "line, key and what was expected. On success print the network: vessels, cells,\n"
            "dx, wave speeds, outlets and the initial time step; for an ensemble also the member\n"
            "count and each member's parameter values. Exit status 0 ok, 2 bad input.\n");
}

static void usage_bench(FILE *f)
{
    fprintf(f,
            "usage: hemotree bench [--backend cpu|cuda|auto] [--cycles N] [--members N[,N...]]\n"
            "                      [--networks LIST] [--json] [--cases DIR]\n\n"
            "Time the solver, without output files, on the standard networks: a single vessel\n"
            "(common carotid), the aortic bifurcation, the 37-artery network and ADAN56, from\n"
            "cases/benchmarks. Prints the device, the precision, each mesh size, time steps,\n"
            "mean dt, wall time, cell updates per second (steps x cells / s) and simulated\n"
            "cardiac cycles per wall-clock second, and for ensembles member-cycles per second.\n"
            "  --backend B   cpu, cuda or auto (default auto)\n"
            "  --cycles N    cycles per network (default 2)\n"
            "  --members N   time ensembles of N identical members in one launch (a list,\n"
            "                e.g. 1,32,256,1024; default 1); ensembles sample no probes\n"
            "  --networks L  only these of vessel,bifurcation,37,adan56 (comma-separated)\n"
            "  --json        one JSON object instead of the table\n"
            "  --cases DIR   where the benchmark cases are (default: the source tree's)\n");
}

static void usage_sweep(FILE *f)
{
    fprintf(f,
            "usage: [mpirun -n N | srun] hemotree sweep SWEEP.yaml [-o OUTDIR] [--cycles N]\n"
            "                    [--set key=value]... [--backend cpu|cuda|auto] [--batch N] [--jobs N]\n"
            "                    [--quiet] [--output-thread on|off|auto]\n\n"
            "SWEEP.yaml names a base case (case: path, relative to the sweep file) and its members:\n"
            "parameters: with combine: product|zip, as an ensemble: section, or rows: file.csv (a\n"
            "header of key paths, one member per row). Each member k runs as `hemotree run` of the\n"
            "case with its overrides would and writes OUTDIR/m<k>.h5 (+ .xdmf); rank 0 writes\n"
            "OUTDIR/summary.csv and OUTDIR/summary.h5. Under mpirun or srun rank 0 hands out chunks\n"
            "of members to the other ranks as they ask (it only schedules); without a launcher the\n"
            "one process runs every member. Each worker rank (every rank but 0, or the only\n"
            "one) takes the GPU of its rank among the worker ranks on its node, modulo the\n"
            "GPUs it sees.\n"
            "  -o, --output DIR   output directory (default: the sweep file's name without .yaml)\n"
            "  --cycles N         cardiac cycles per member (overrides run.cycles)\n"
            "  --set key=value    override a value of the base case, for every member\n"
            "  --backend B        cpu, cuda or auto (default auto)\n"
            "  --batch N          members per chunk (default 256 with GPUs, else 8 or the threads)\n"
            "  --jobs N           CPU threads per rank (default OMP_NUM_THREADS or the cores)\n"
            "  --quiet            no summary at the end\n"
            "  --output-thread T  on: the HDF5 appends run on a thread of their own while the\n"
            "                     solver steps on; off: in line; auto (default): on with the\n"
            "                     CUDA backend, or when the CPU backend's threads leave a\n"
            "                     core free. The files are the same either way\n"
            "  --checkpoint-every X  each launch of members writes OUTDIR/m<first>.ckpt at the\n"
            "                     first output time after every X (\"0.5 s\" simulated, \"10 min\"\n"
            "                     wall clock, counted to the start of the output interval;\n"
            "                     default \"10 min\", \"off\" for none); it is removed when the\n"
            "                     launch ends\n"
            "A failed member (bad input or a failed run) is recorded with its message and the\n"
            "others go on. OUTDIR/progress.csv gets a line per finished member: the same command\n"
            "run again after a kill skips those, continues the launches that left a checkpoint\n"
            "from it and runs the rest from t = 0 (another sweep definition in that directory is\n"
            "refused). A case with run.stop_when_periodic: true (or --set\n"
            "run.stop_when_periodic=true) ends each member at its periodic state. Exit status 0\n"
            "every member completed, 1 one failed, 2 bad input.\n");
}

static int parse_backend(const char *v, int *out)
{
    if (!strcmp(v, "cpu")) *out = HT_BACKEND_CPU;
    else if (!strcmp(v, "cuda")) *out = HT_BACKEND_CUDA;
    else if (!strcmp(v, "auto")) *out = HT_BACKEND_AUTO;
    else {
        fprintf(stderr, "hemotree: --backend: expected cpu, cuda or auto, got '%s'\n", v);
        return 2;
    }
    return 0;
}

/* "0.5 s" (simulated seconds) or "10 min" / "2 h" (wall clock) */
static int parse_ckpt_every(const char *v, ht_run_opts *o)
{
    if (!strcmp(v, "off")) {
        o->ckpt_every = -1; /* sweeps: no launch checkpoints (they have them by default) */
        return 0;
    }
    char *end;
    double x = strtod(v, &end);
    while (*end == ' ') ++end;
    double scale = 0;
    if (!strcmp(end, "s")) scale = 1;
    else if (!strcmp(end, "min")) scale = 60;
    else if (!strcmp(end, "h")) scale = 3600;
    if (end == v || scale == 0 || !(x > 0) || x > 1e9) {
        fprintf(stderr, "hemotree: --checkpoint-every: expected simulated seconds (\"0.5 s\") or wall-clock "
                        "minutes (\"10 min\"), got '%s'\n", v);
        return 2;
    }
    o->ckpt_every = x * scale;
    o->ckpt_wall = scale > 1;
    return 0;
}

static int parse_cycles(const char *v, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1000000) {
        fprintf(stderr, "hemotree: --cycles: expected a positive integer, got '%s'\n", v);
        return 2;
    }
    *out = (int)n;
    return 0;
}

/* "1,32,256": ensemble sizes for bench */
static int parse_members(const char *text, ht_bench_opts *o)
{
    const char *p = text;
    o->n_members = 0;
    while (*p) {
        char *end;
        long m = strtol(p, &end, 10);
        if (end == p || m < 1 || m > 65536 || (*end && *end != ',') ||
            o->n_members == (int)(sizeof o->members / sizeof o->members[0])) {
            fprintf(stderr, "hemotree bench: --members: expected up to 16 comma-separated counts in 1..65536, "
                            "got '%s'\n", text);
            return -1;
        }
        o->members[o->n_members++] = (int)m;
        p = *end ? end + 1 : end;
    }
    if (o->n_members == 0) {
        fprintf(stderr, "hemotree bench: --members: expected a count, got '%s'\n", text);
        return -1;
    }
    return 0;
}

static int main_bench(int argc, char **argv)
{
    ht_bench_opts o;
    memset(&o, 0, sizeof o);
    o.cycles = 2;
    for (int a = 2; a < argc; ++a) {
        const char *s = argv[a];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            usage_bench(stdout);
            return 0;
        } else if (!strcmp(s, "--json")) {
            o.json = 1;
        } else if (!strcmp(s, "--backend") || !strcmp(s, "--cycles") || !strcmp(s, "--cases") ||
                   !strcmp(s, "--members") || !strcmp(s, "--networks")) {
            if (++a >= argc) { fprintf(stderr, "hemotree bench: %s needs a value\n", s); return 2; }
            if (!strcmp(s, "--backend")) { if (parse_backend(argv[a], &o.backend)) return 2; }
            else if (!strcmp(s, "--cycles")) { if (parse_cycles(argv[a], &o.cycles)) return 2; }
            else if (!strcmp(s, "--members")) { if (parse_members(argv[a], &o)) return 2; }
            else if (!strcmp(s, "--networks")) o.networks = argv[a];
            else o.cases_dir = argv[a];
        } else {
            fprintf(stderr, "hemotree bench: unknown option '%s'\n", s);
            return 2;
        }
    }
    return ht_bench(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage_main(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("hemotree %s (%s)\n", HT_VERSION, HT_GIT_HASH);
        return 0;
    }
    if (!strcmp(cmd, "bench")) return main_bench(argc, argv);
    int is_sweep = !strcmp(cmd, "sweep");
    int is_run = !strcmp(cmd, "run") || is_sweep, is_check = !strcmp(cmd, "check");
    if (!is_run && !is_check) {
        fprintf(stderr, "hemotree: unknown command '%s'\n\n", cmd);
        usage_main(stderr);
        return 2;
    }
    const char *case_path = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0;
    ht_run_opts o;
    memset(&o, 0, sizeof o);
    int jobs = 0, batch = 0;
    for (int a = 2; a < argc; ++a) {
        const char *s = argv[a];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            if (is_sweep) usage_sweep(stdout); else if (is_run) usage_run(stdout); else usage_check(stdout);
            return 0;
        } else if (is_run && (!strcmp(s, "-o") || !strcmp(s, "--output"))) {
            if (++a >= argc) { fprintf(stderr, "hemotree: %s needs a file name\n", s); return 2; }
            o.out_path = argv[a];
        } else if (is_run && !strcmp(s, "--cycles")) {
            if (++a >= argc) { fprintf(stderr, "hemotree: --cycles needs a number\n"); return 2; }
            if (parse_cycles(argv[a], &o.cycles)) return 2;
        } else if (!strcmp(s, "--set")) {
            if (++a >= argc || !strchr(argv[a], '=')) {
                fprintf(stderr, "hemotree: --set needs key=value\n");
                return 2;
            }
            if (n_sets == MAX_SETS) { fprintf(stderr, "hemotree: too many --set options\n"); return 2; }
            sets[n_sets++] = argv[a];
        } else if (is_run && !strcmp(s, "--backend")) {
            if (++a >= argc) { fprintf(stderr, "hemotree: --backend needs cpu, cuda or auto\n"); return 2; }
            if (parse_backend(argv[a], &o.backend)) return 2;
        } else if (is_run && (!strcmp(s, "--jobs") || !strcmp(s, "--batch"))) {
            if (++a >= argc) { fprintf(stderr, "hemotree: %s needs a number\n", s); return 2; }
            char *end;
            long j = strtol(argv[a], &end, 10);
            if (*end || j < 1 || j > 100000) {
                fprintf(stderr, "hemotree: %s: expected a positive integer, got '%s'\n", s, argv[a]);
                return 2;
            }
            if (!strcmp(s, "--jobs")) jobs = (int)j;
            else batch = (int)j;
        } else if (is_run && !strcmp(s, "--checkpoint-every")) {
            if (++a >= argc) { fprintf(stderr, "hemotree: --checkpoint-every needs a time\n"); return 2; }
            if (parse_ckpt_every(argv[a], &o)) return 2;
        } else if (is_run && !is_sweep && !strcmp(s, "--restart")) {
            if (++a >= argc) { fprintf(stderr, "hemotree: --restart needs a checkpoint file\n"); return 2; }
            o.restart = argv[a];
        } else if (is_run && !strcmp(s, "--quiet")) {
            o.quiet = 1;
        } else if (is_run && !strcmp(s, "--output-thread")) {
            const char *v = ++a < argc ? argv[a] : "";
            if (!strcmp(v, "on")) o.output_thread = 1;
            else if (!strcmp(v, "off")) o.output_thread = -1;
            else if (!strcmp(v, "auto")) o.output_thread = 0;
            else {
                fprintf(stderr, "hemotree: --output-thread: expected on, off or auto, got '%s'\n", v);
                return 2;
            }
        } else if (s[0] == '-') {
            fprintf(stderr, "hemotree %s: unknown option '%s'\n", cmd, s);
            return 2;
        } else if (!case_path) {
            case_path = s;
        } else {
            fprintf(stderr, "hemotree %s: unexpected argument '%s'\n", cmd, s);
            return 2;
        }
    }
    if (!case_path) {
        fprintf(stderr, "hemotree %s: missing %s\n", cmd, is_sweep ? "SWEEP.yaml" : "CASE.yaml");
        return 2;
    }
    if (is_sweep) return ht_sweep(case_path, sets, n_sets, &o, jobs, batch);
    ht_case c;
    ht_error err;
    /* a case with an `ensemble:` section is many runs: ensemble.c loads and runs each member */
    ht_ensemble ens;
    if (ht_ensemble_load(case_path, sets, n_sets, &ens, &err)) {
        fprintf(stderr, "hemotree: %s\n", err.msg);
        return 2;
    }
    if (ens.n_members > 0) {
        if (!is_check && (o.restart || o.ckpt_every > 0)) {
            fprintf(stderr, "hemotree: --checkpoint-every and --restart are for single runs, not ensembles\n");
            ht_ensemble_free(&ens);
            return 2;
        }
        int erc = is_check ? ht_ensemble_check(&ens) : ht_ensemble_run(&ens, &o, jobs, batch);
        ht_ensemble_free(&ens);
        return erc;
    }
    if (ht_case_load(case_path, sets, n_sets, &c, &err)) {
        fprintf(stderr, "hemotree: %s\n", err.msg);
        return 2;
    }
    int rc;
    if (is_check) {
        rc = ht_check(&c);
    } else {
        o.progress = isatty(STDOUT_FILENO);
        rc = ht_run(&c, &o);
    }
    ht_case_free(&c);
    return rc;
}
