/* ht_units_parse: conversions to SI, dimension checks, and rejection of malformed text. */
#include "case.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

static void ok(const char *text, const char *dim, double expect)
{
    double v = NAN;
    char msg[512] = "";
    int rc = ht_units_parse(text, dim, &v, msg, sizeof msg);
    double tol = 1e-12 * fabs(expect);
    if (rc || !(fabs(v - expect) <= tol)) {
        ++failures;
        fprintf(stderr, "FAIL \"%s\" as %s: rc %d, got %.17g, expected %.17g (%s)\n", text, dim, rc, v, expect, msg);
    }
}

static void bad(const char *text, const char *dim, const char *words)
{
    double v = 12345;
    char msg[512] = "";
    int rc = ht_units_parse(text, dim, &v, msg, sizeof msg);
    if (!rc || v != 12345 || !strstr(msg, words)) {
        ++failures;
        fprintf(stderr, "FAIL \"%s\" as %s: rc %d, value %g, message \"%s\" should contain \"%s\"\n", text, dim, rc,
                v, msg, words);
    }
}

int main(void)
{
    const double mmHg = 133.322387415;
    /* bare numbers are SI, whatever the dimension */
    ok("0.126", "length", 0.126);
    ok("1.2e8", "resistance", 1.2e8);
    ok("  -3.5e-2  ", "pressure", -0.035);
    ok(".5", "dimensionless", 0.5);
    ok("7.", "time", 7);
    /* lengths, times, masses */
    ok("12 cm", "length", 0.12);
    ok("12cm", "length", 0.12);
    ok("7.581 mm", "length", 7.581e-3);
    ok("20 um", "length", 20e-6);
    ok("20 \xc2\xb5m", "length", 20e-6);
    ok("1.1 s", "time", 1.1);
    ok("5 ms", "time", 5e-3);
    ok("2 min", "time", 120);
    ok("1 h", "time", 3600);
    /* pressures */
    ok("80 mmHg", "pressure", 80 * mmHg);
    ok("10 cmH2O", "pressure", 980.665);
    ok("400 kPa", "pressure", 4e5);
    ok("1.2 MPa", "pressure", 1.2e6);
    ok("10 dyn/cm^2", "pressure", 1.0);
    ok("5 N/m^2", "pressure", 5);
    ok("-2 mmHg", "pressure", -2 * mmHg);
    /* flows and volumes */
    ok("6.5 mL/s", "flow", 6.5e-6);
    ok("3.5 L/min", "flow", 3.5e-3 / 60);
    ok("3.5 l/min", "flow", 3.5e-3 / 60);
    ok("1 m^3/s", "flow", 1);
    ok("2 cm^3/s", "flow", 2e-6);
    ok("70 mL", "volume", 70e-6);
    ok("1 dL", "volume", 1e-4);
    ok("3 cm^2", "area", 3e-4);
    ok("50 cm/s", "velocity", 0.5);
    /* blood properties */
    ok("1060 kg/m^3", "density", 1060);
    ok("1.06 g/mL", "density", 1060);
    ok("1.06 g/cm^3", "density", 1060);
    ok("1060 kg m^-3", "density", 1060);
    ok("4 mPa s", "viscosity", 4e-3);
    ok("4 mPa*s", "viscosity", 4e-3);
    ok("0.04 P", "viscosity", 4e-3);
    ok("3.5 cP", "viscosity", 3.5e-3);
    /* windkessel parameters */
    ok("1.2e8 Pa s/m^3", "resistance", 1.2e8);
    ok("1 mmHg s/mL", "resistance", mmHg / 1e-6);
    ok("1 mmHg*min/L", "resistance", mmHg * 60 / 1e-3);
    ok("1000 dyn s/cm^5", "resistance", 1000 * 1e-5 / 1e-10);
    ok("0.9 mL/mmHg", "compliance", 0.9e-6 / mmHg);
    ok("1e-10 m^3/Pa", "compliance", 1e-10);
    ok("1e-10 m^4 s^2/kg", "compliance", 1e-10);
    /* rates */
    ok("75 bpm", "frequency", 1.25);
    ok("2 Hz", "frequency", 2);
    /* heart rates, elastances, EDPVR stiffness (the heart: section) */
    ok("75 /min", "frequency", 1.25);
    ok("90 1/min", "frequency", 1.5);
    ok("60/min", "frequency", 1);
    ok("0.6 mmHg/mL", "elastance", 0.6 * mmHg / 1e-6);
    ok("0.019 /mL", "inverse_volume", 0.019 / 1e-6);
    ok("0.019 1/mL", "inverse_volume", 0.019e6);
    bad("75 mmHg", "frequency", "expected a frequency");
    bad("2 mmHg/mL/s", "elastance", "only one '/'");
    ok("1e4 1/s^2", "frequency_squared", 1e4);
    ok("1e4 s^-2", "frequency_squared", 1e4);
    ok("90 deg", "dimensionless", 3.14159265358979323846 / 2);

    /* wrong dimension: the message names what was expected and what was found */
    bad("4 mmHg", "viscosity", "expected a viscosity");
    bad("4 mmHg", "viscosity", "which is a pressure");
    bad("12 cm", "pressure", "which is a length");
    bad("5 mL", "flow", "which is a volume");
    bad("1 s", "length", "expected a length");
    bad("3 kg", "length", "which is a mass");
    bad("1 m^5", "length", "of another dimension");
    /* malformed */
    bad("", "length", "found nothing");
    bad("   ", "length", "found nothing");
    bad("cm", "length", "does not start with a number");
    bad("nan", "length", "does not start with a number");
    bad("inf", "length", "does not start with a number");
    bad("-inf mm", "length", "does not start with a number");
    bad("0x10", "length", "unknown unit 'x10'");
    bad("12 inch", "length", "unknown unit 'inch'");
    bad("1 m3/s", "flow", "write powers with ^");
    bad("10.5.3 cm", "length", "unexpected '.'");
    bad("12 cm)", "length", "unexpected ')'");
    bad("1 mL/s/s", "flow", "only one '/'");
    bad("1 mL/", "volume", "nothing after '/'");
    bad("1 m^", "length", "integer power");
    bad("1 m^x", "length", "integer power");
    bad("1 m^99", "length", "too large");
    bad("1e308 MPa", "pressure", "not a finite number");
    bad("5 mm", "no-such-dimension", "unknown dimension");

    if (failures) {
        fprintf(stderr, "test_units: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_units: all checks passed\n");
    return 0;
}
