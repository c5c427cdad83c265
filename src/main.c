/* hemotree command line: run, check. Exit status 0 ok, 1 run failed, 2 bad input. */
#include "case.h"
#include "driver.h"
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
            "  check CASE.yaml   validate the input and print the network summary\n\n"
            "`hemotree <command> --help` describes each command.\n"
            "exit status: 0 ok, 1 run failed, 2 bad input\n",
            HT_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
            "usage: hemotree run CASE.yaml [-o OUT.h5] [--cycles N] [--set key=value]...\n"
            "                    [--backend cpu|cuda|auto] [--quiet]\n\n"
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
            "dx, wave speeds, outlets and the initial time step. Exit status 0 ok, 2 bad input.\n");
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
    int is_run = !strcmp(cmd, "run"), is_check = !strcmp(cmd, "check");
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
    for (int a = 2; a < argc; ++a) {
        const char *s = argv[a];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            if (is_run) usage_run(stdout); else usage_check(stdout);
            return 0;
        } else if (is_run && (!strcmp(s, "-o") || !strcmp(s, "--output"))) {
            if (++a >= argc) { fprintf(stderr, "hemotree: %s needs a file name\n", s); return 2; }
            o.out_path = argv[a];
        } else if (is_run && !strcmp(s, "--cycles")) {
            char *end;
            if (++a >= argc) { fprintf(stderr, "hemotree: --cycles needs a number\n"); return 2; }
            long v = strtol(argv[a], &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "hemotree: --cycles: expected a positive integer, got '%s'\n", argv[a]);
                return 2;
            }
            o.cycles = (int)v;
        } else if (!strcmp(s, "--set")) {
            if (++a >= argc || !strchr(argv[a], '=')) {
                fprintf(stderr, "hemotree: --set needs key=value\n");
                return 2;
            }
            if (n_sets == MAX_SETS) { fprintf(stderr, "hemotree: too many --set options\n"); return 2; }
            sets[n_sets++] = argv[a];
        } else if (is_run && !strcmp(s, "--backend")) {
            if (++a >= argc) { fprintf(stderr, "hemotree: --backend needs cpu, cuda or auto\n"); return 2; }
            if (!strcmp(argv[a], "cpu")) o.backend = HT_BACKEND_CPU;
            else if (!strcmp(argv[a], "cuda")) o.backend = HT_BACKEND_CUDA;
            else if (!strcmp(argv[a], "auto")) o.backend = HT_BACKEND_AUTO;
            else {
                fprintf(stderr, "hemotree: --backend: expected cpu, cuda or auto, got '%s'\n", argv[a]);
                return 2;
            }
        } else if (is_run && !strcmp(s, "--quiet")) {
            o.quiet = 1;
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
        fprintf(stderr, "hemotree %s: missing CASE.yaml\n", cmd);
        return 2;
    }
    ht_case c;
    ht_error err;
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
