#include "core/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct opt *find_opt(const struct opt *const *tables, const char *name,
                                  size_t len)
{
    for (size_t t = 0; tables[t]; t++)
        for (const struct opt *o = tables[t]; o->name; o++)
            if (strlen(o->name) == len && !strncmp(o->name, name, len))
                return o;
    return NULL;
}

/*
 * The short forms, one table (as curl's aliases[]): the letters gh users
 * expect for the common options. A letter works where its long flag does.
 */
static const struct {
    char letter;
    const char *name;
} shorts[] = {
    { 'R', "repo" }, { 'L', "limit" }, { 'q', "quiet" }, { 'v', "verbose" }, { 'h', "help" },
};

static const char *short_name(char letter)
{
    for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
        if (shorts[i].letter == letter)
            return shorts[i].name;
    return NULL;
}

static char short_letter(const char *name)
{
    for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
        if (!strcmp(shorts[i].name, name))
            return shorts[i].letter;
    return 0;
}

/* The option a word names: "--name", "--name=v", "-X", "-Xvalue"; *inline_val
 * gets what follows '=' (or the letter), NULL when the value is the next word. */
static const struct opt *word_opt(const struct opt *const *tables, const char *a,
                                  const char **inline_val)
{
    *inline_val = NULL;
    if (a[0] != '-' || !a[1])
        return NULL;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        if (eq)
            *inline_val = eq + 1;
        return find_opt(tables, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
    }
    const char *name = short_name(a[1]);
    const struct opt *o = name ? find_opt(tables, name, strlen(name)) : NULL;
    if (o && a[2])
        *inline_val = a + 2;
    return o;
}

int cli_flag_words(const struct opt *const *tables, int argc, char **argv, int i)
{
    const char *val;
    const struct opt *o = word_opt(tables, argv[i], &val);
    if (!o)
        return 0;
    return o->type == OPT_BOOL || val || i + 1 >= argc ? 1 : 2;
}

size_t cli_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xcalloc(lb + 1, sizeof(*row));
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

static const char *closest_opt(const struct opt *const *tables, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t t = 0; tables[t]; t++)
        for (const struct opt *o = tables[t]; o->name; o++) {
            size_t d = cli_edit_distance(name, o->name);
            if (d < best_d) {
                best_d = d;
                best = o->name;
            }
        }
    return best && best_d <= 3 ? best : NULL;
}

/*
 * Strict on purpose: strtod() took "nan", "inf", "0x1p3", "1e2" and " 5s".
 * A duration is digits followed by a unit (h, m, s, ms), repeated with
 * each unit smaller than the one before ("1h30m"), or digits alone
 * (seconds). 0 is refused: it read as "no limit" by accident.
 */
int cli_parse_duration(const char *s, double *seconds)
{
    static const struct { const char *name; double scale; } units[] = {
        { "h", 3600 }, { "ms", 0.001 }, { "m", 60 }, { "s", 1 },
    };
    double total = 0, last_scale = 1e9;
    const char *p = s;
    if (!*p)
        return -1;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        double v = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9'; p++, digits++)
            v = v * 10 + (*p - '0');
        if (digits > 9)
            return -1;
        if (!*p && p - digits == s) { /* digits alone: seconds */
            total = v;
            break;
        }
        size_t u = 0;
        while (u < 4 && strncmp(p, units[u].name, strlen(units[u].name)))
            u++;
        if (u == 4 || units[u].scale >= last_scale)
            return -1;
        last_scale = units[u].scale;
        p += strlen(units[u].name);
        total += v * units[u].scale;
    }
    if (total <= 0 || total > CLI_DURATION_MAX)
        return -1;
    *seconds = total;
    return 0;
}

static int set_value(const struct opt *o, const char *val, struct err *e)
{
    char *end;
    switch (o->type) {
    case OPT_STRING:
        *(const char **)o->value = val;
        return 0;
    case OPT_LIST:
        strvec_push(o->value, val);
        return 0;
    case OPT_INT:
        errno = 0;
        long n = strtol(val, &end, 10);
        if (val[0] < '0' || val[0] > '9' || *end || errno || n > CLI_INT_MAX)
            return err_set(e, EXIT_USAGE, "--%s wants a whole number from 0 to %d, not '%.40s%s'",
                           o->name, CLI_INT_MAX, val, strlen(val) > 40 ? "..." : "");
        *(long *)o->value = n;
        return 0;
    case OPT_DURATION:
        if (cli_parse_duration(val, o->value) < 0)
            return err_set(e, EXIT_USAGE,
                           "--%s wants a duration from 1ms to 7 days such as 90s, 20m, 1h30m "
                           "or 500ms, not '%.40s%s'", o->name, val, strlen(val) > 40 ? "..." : "");
        return 0;
    default:
        return err_set(e, EXIT_USAGE, "--%s takes no value", o->name);
    }
}

static int parse_long_opt(const struct opt *const *tables, int argc, char **argv, int *i,
                          struct err *e)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const struct opt *o = find_opt(tables, name, len);
    if (!o) {
        char *bare = xstrndup(name, len);
        const char *near = closest_opt(tables, bare);
        if (near)
            err_set(e, EXIT_USAGE, "unknown flag '--%s' (did you mean '--%s'?)", bare, near);
        else
            err_set(e, EXIT_USAGE, "unknown flag '--%s'", bare);
        free(bare);
        return -1;
    }
    if (o->type == OPT_BOOL) {
        if (eq)
            return err_set(e, EXIT_USAGE, "--%s takes no value", o->name);
        *(int *)o->value = 1;
        return 0;
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
        if (*i + 1 >= argc)
            return err_set(e, EXIT_USAGE, "--%s needs a value (%s)", o->name,
                           o->argname ? o->argname : "VALUE");
        val = argv[++*i];
    }
    return set_value(o, val, e);
}

/* "-R acme/web", "-Racme/web", "-q": a letter of shorts[] whose long flag is
 * in the tables. */
static int parse_short_opt(const struct opt *const *tables, int argc, char **argv, int *i,
                           struct err *e)
{
    const char *a = argv[*i], *val;
    const struct opt *o = word_opt(tables, a, &val);
    if (!o)
        return err_set(e, EXIT_USAGE, "unknown flag '%.40s%s' (short flags: -R --repo, "
                       "-L --limit, -q --quiet, -v --verbose, -h --help; the rest are long)",
                       a, strlen(a) > 40 ? "..." : "");
    if (o->type == OPT_BOOL) {
        if (val)
            return err_set(e, EXIT_USAGE, "-%c (--%s) takes no value: '%.40s'", a[1], o->name,
                           a);
        *(int *)o->value = 1;
        return 0;
    }
    if (!val) {
        if (*i + 1 >= argc)
            return err_set(e, EXIT_USAGE, "-%c (--%s) needs a value (%s)", a[1], o->name,
                           o->argname ? o->argname : "VALUE");
        val = argv[++*i];
    }
    return set_value(o, val, e);
}

int cli_parse(const struct opt *const *tables, int argc, char **argv,
              struct strvec *pos, struct err *e)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                strvec_push(pos, argv[i]);
            break;
        }
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            if (parse_long_opt(tables, argc, argv, &i, e) < 0)
                return -1;
        } else if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9')) {
            if (parse_short_opt(tables, argc, argv, &i, e) < 0)
                return -1;
        } else {
            strvec_push(pos, a);
        }
    }
    return 0;
}

void cli_describe(const struct opt *table, struct buf *out)
{
    for (const struct opt *o = table; o->name; o++) {
        char left[64], letter = short_letter(o->name);
        snprintf(left, sizeof(left), "%s%c%s--%s%s%s", letter ? "-" : "", letter ? letter : ' ',
                 letter ? ", " : "   ", o->name, o->argname ? " " : "",
                 o->argname ? o->argname : "");
        buf_addf(out, "  %-29s %s\n", left, o->help ? o->help : "");
    }
}
