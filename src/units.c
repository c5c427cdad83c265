/* Quantities with units: "number [unit expression]" to SI, with dimensional analysis over
 * the base dimensions (m, kg, s). The unit list is short on purpose (the ones clinicians
 * and the 1D literature write); a prefix is never applied to an arbitrary unit, so "mm"
 * is a millimetre and never a milli-metre-something by accident. */
#include "case.h"
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int m, kg, s;
} dims;

typedef struct {
    const char *name;
    double factor;
    dims d;
} unit_def;

#define LEN {1, 0, 0}
#define MASS {0, 1, 0}
#define TIME {0, 0, 1}
#define VOL {3, 0, 0}
#define PRES {-1, 1, -2}
#define FORCE {1, 1, -2}
#define VISC {-1, 1, -1}
#define FREQ {0, 0, -1}
#define NONE {0, 0, 0}

static const unit_def UNITS[] = {
    {"m", 1, LEN}, {"cm", 1e-2, LEN}, {"mm", 1e-3, LEN}, {"um", 1e-6, LEN},
    {"\xc2\xb5m", 1e-6, LEN}, {"\xce\xbcm", 1e-6, LEN}, /* micro sign and Greek mu */
    {"s", 1, TIME}, {"ms", 1e-3, TIME}, {"min", 60, TIME}, {"h", 3600, TIME},
    {"g", 1e-3, MASS}, {"kg", 1, MASS}, {"mg", 1e-6, MASS},
    {"L", 1e-3, VOL}, {"l", 1e-3, VOL}, {"dL", 1e-4, VOL}, {"dl", 1e-4, VOL},
    {"mL", 1e-6, VOL}, {"ml", 1e-6, VOL}, {"uL", 1e-9, VOL}, {"ul", 1e-9, VOL},
    {"Pa", 1, PRES}, {"mPa", 1e-3, PRES}, {"kPa", 1e3, PRES}, {"MPa", 1e6, PRES},
    {"mmHg", 133.322387415, PRES}, {"cmH2O", 98.0665, PRES},
    {"N", 1, FORCE}, {"dyn", 1e-5, FORCE},
    {"P", 0.1, VISC}, {"cP", 1e-3, VISC},
    {"Hz", 1, FREQ}, {"bpm", 1.0 / 60.0, FREQ},
    {"rad", 1, NONE}, {"deg", 3.14159265358979323846 / 180.0, NONE},
};

typedef struct {
    const char *name;
    dims d;
    const char *example;
} dim_def;

static const dim_def DIMS[] = {
    {"length", LEN, "12 cm"},
    {"pressure", PRES, "80 mmHg"},
    {"flow", {3, 0, -1}, "5 mL/s"},
    {"time", TIME, "1.1 s"},
    {"density", {-3, 1, 0}, "1060 kg/m^3"},
    {"viscosity", VISC, "4 mPa s"},
    {"resistance", {-4, 1, -1}, "1.2e8 Pa s/m^3"},
    {"compliance", {4, -1, 2}, "0.9 mL/mmHg"},
    {"area", {2, 0, 0}, "3 cm^2"},
    {"volume", VOL, "70 mL"},
    {"velocity", {1, 0, -1}, "50 cm/s"},
    {"dimensionless", NONE, "0.5"},
    {"frequency", FREQ, "75 bpm"},
    {"elastance", {-4, 1, -2}, "2 mmHg/mL"},
    {"inverse_volume", {-3, 0, 0}, "0.02 /mL"},
    {"frequency_squared", {0, 0, -2}, "1e4 1/s^2"},
    {"force", FORCE, "1 N"},
    {"mass", MASS, "1 kg"},
};

static int dims_eq(dims a, dims b) { return a.m == b.m && a.kg == b.kg && a.s == b.s; }

static const dim_def *find_dim_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof DIMS / sizeof DIMS[0]; ++i)
        if (!strcmp(DIMS[i].name, name)) return &DIMS[i];
    return NULL;
}

static const dim_def *find_dim(dims d)
{
    for (size_t i = 0; i < sizeof DIMS / sizeof DIMS[0]; ++i)
        if (dims_eq(DIMS[i].d, d)) return &DIMS[i];
    return NULL;
}

/* "kg m^-1 s^-2" */
static void dims_text(dims d, char *out, size_t len)
{
    const char *names[3] = {"m", "kg", "s"};
    int e[3] = {d.m, d.kg, d.s};
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < 3; ++i) {
        if (!e[i]) continue;
        int w = e[i] == 1 ? snprintf(out + o, len - o, "%s%s", o ? " " : "", names[i])
                          : snprintf(out + o, len - o, "%s%s^%d", o ? " " : "", names[i], e[i]);
        if (w < 0 || (size_t)w >= len - o) return;
        o += (size_t)w;
    }
    if (!o) snprintf(out, len, "1");
}

static void set_msg(char *msg, size_t len, const char *fmt, ...)
{
    if (!msg || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

static int is_name_start(const unsigned char *p)
{
    return isalpha(*p) || (p[0] == 0xc2 && p[1] == 0xb5) || (p[0] == 0xce && p[1] == 0xbc);
}

/* Scans a decimal number (no hex, inf or nan; strtod would take those). */
static size_t scan_number(const char *s)
{
    size_t i = 0, digits = 0;
    if (s[i] == '+' || s[i] == '-') ++i;
    while (isdigit((unsigned char)s[i])) ++i, ++digits;
    if (s[i] == '.') {
        ++i;
        while (isdigit((unsigned char)s[i])) ++i, ++digits;
    }
    if (!digits) return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-') ++j;
        if (isdigit((unsigned char)s[j])) {
            while (isdigit((unsigned char)s[j])) ++j;
            i = j;
        }
    }
    return i;
}

int ht_units_parse(const char *text, const char *dim, double *value, char *msg, size_t msglen)
{
    const dim_def *want = find_dim_by_name(dim);
    if (!want) {
        set_msg(msg, msglen, "internal error: unknown dimension '%s'", dim);
        return -1;
    }
    if (!text) text = "";
    const char *p = text;
    while (isspace((unsigned char)*p)) ++p;
    if (!*p) {
        set_msg(msg, msglen, "expected a %s (e.g. \"%s\"), found nothing", want->name, want->example);
        return -1;
    }
    size_t nl = scan_number(p);
    if (!nl) {
        set_msg(msg, msglen, "expected a %s (e.g. \"%s\"), found \"%s\" which does not start with a number",
                want->name, want->example, text);
        return -1;
    }
    char num[64];
    if (nl >= sizeof num) {
        set_msg(msg, msglen, "expected a %s, found \"%s\": the number is too long", want->name, text);
        return -1;
    }
    memcpy(num, p, nl);
    num[nl] = 0;
    double v = strtod(num, NULL);
    p += nl;

    double factor = 1;
    dims d = {0, 0, 0};
    int denom = 0, n_factors = 0, n_denom = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '*') ++p;
        if (!*p) break;
        if (isspace((unsigned char)*p)) {
            ++p;
            continue;
        }
        if (*p == '/') {
            if (denom) {
                set_msg(msg, msglen, "expected a %s, found \"%s\": a unit may have only one '/'", want->name, text);
                return -1;
            }
            denom = 1;
            ++p;
            continue;
        }
        const char *start = p;
        const unit_def *u = NULL;
        int is_one = 0;
        if (*p == '1' && !denom && !isalnum((unsigned char)p[1]) && p[1] != '.') {
            is_one = 1; /* "1/s^2" */
            ++p;
        } else if (is_name_start((const unsigned char *)p)) {
            while (*p && (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)) ++p;
            size_t len = (size_t)(p - start);
            for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; ++i)
                if (strlen(UNITS[i].name) == len && !strncmp(UNITS[i].name, start, len)) u = &UNITS[i];
            if (!u) {
                int has_digit = 0;
                for (const char *q = start; q < p; ++q) has_digit |= isdigit((unsigned char)*q);
                set_msg(msg, msglen,
                        "expected a %s (e.g. \"%s\"), found \"%s\": unknown unit '%.*s'%s (known: m cm mm um s ms "
                        "min h g kg L mL dL Pa kPa MPa mmHg cmH2O dyn N P cP Hz bpm)",
                        want->name, want->example, text, (int)len, start,
                        has_digit ? ", write powers with ^ (m^3)" : "");
                return -1;
            }
        } else {
            set_msg(msg, msglen, "expected a %s (e.g. \"%s\"), found \"%s\": unexpected '%c' after the number",
                    want->name, want->example, text, *p);
            return -1;
        }
        int power = 1;
        if (*p == '^') {
            ++p;
            int sign = 1;
            if (*p == '-' || *p == '+') sign = *p++ == '-' ? -1 : 1;
            if (!isdigit((unsigned char)*p)) {
                set_msg(msg, msglen, "expected a %s, found \"%s\": '^' must be followed by an integer power",
                        want->name, text);
                return -1;
            }
            power = 0;
            while (isdigit((unsigned char)*p)) {
                power = power * 10 + (*p++ - '0');
                if (power > 12) {
                    set_msg(msg, msglen, "expected a %s, found \"%s\": the power is too large", want->name, text);
                    return -1;
                }
            }
            power *= sign;
        }
        if (*p && !isspace((unsigned char)*p) && *p != '*' && *p != '/') {
            set_msg(msg, msglen, "expected a %s (e.g. \"%s\"), found \"%s\": unexpected '%c' in the unit",
                    want->name, want->example, text, *p);
            return -1;
        }
        if (is_one) {
            if (power != 1) {
                set_msg(msg, msglen, "expected a %s, found \"%s\": '1' cannot have a power", want->name, text);
                return -1;
            }
            continue;
        }
        int e = denom ? -power : power;
        factor *= pow(u->factor, e);
        d.m += e * u->d.m;
        d.kg += e * u->d.kg;
        d.s += e * u->d.s;
        ++n_factors;
        n_denom += denom;
    }
    if (denom && !n_denom) {
        set_msg(msg, msglen, "expected a %s, found \"%s\": nothing after '/'", want->name, text);
        return -1;
    }
    /* a bare number is SI whatever the dimension */
    if (n_factors && !dims_eq(d, want->d)) {
        char have[64], need[64];
        dims_text(d, have, sizeof have);
        dims_text(want->d, need, sizeof need);
        const dim_def *got = find_dim(d);
        set_msg(msg, msglen, "expected a %s (%s, e.g. \"%s\"), found \"%s\" which is %s%s (%s)", want->name, need,
                want->example, text, got ? "a " : "", got ? got->name : "of another dimension", have);
        return -1;
    }
    double r = v * factor;
    if (!isfinite(r)) {
        set_msg(msg, msglen, "expected a %s, found \"%s\" which is not a finite number in SI", want->name, text);
        return -1;
    }
    *value = r;
    return 0;
}

unsigned ht_units_parse_any(const char *text, double *value)
{
    unsigned mask = 0;
    for (size_t i = 0; i < sizeof DIMS / sizeof DIMS[0] && i < 32; ++i) {
        double v;
        if (ht_units_parse(text, DIMS[i].name, &v, NULL, 0)) continue;
        if (!mask) *value = v;
        mask |= 1u << i;
    }
    return mask;
}
