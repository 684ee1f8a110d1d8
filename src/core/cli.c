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

int cli_parse_duration(const char *s, double *seconds)
{
    double total = 0;
    const char *p = s;
    if (!*p)
        return -1;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0)
            return -1;
        p = end;
        if (!strncmp(p, "ms", 2)) {
            v /= 1000;
            p += 2;
        } else if (*p == 'h') {
            v *= 3600;
            p++;
        } else if (*p == 'm') {
            v *= 60;
            p++;
        } else if (*p == 's') {
            p++;
        } else if (*p) {
            return -1;
        }
        total += v;
    }
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
        if (!*val || *end || errno || n < 0)
            return err_set(e, EXIT_USAGE, "--%s wants a non-negative number, not '%s'",
                           o->name, val);
        *(long *)o->value = n;
        return 0;
    case OPT_DURATION:
        if (cli_parse_duration(val, o->value) < 0)
            return err_set(e, EXIT_USAGE,
                           "--%s wants a duration such as 90s, 20m or 1h, not '%s'",
                           o->name, val);
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
            if (!strcmp(a, "-h")) {
                const char *help = "--help";
                const struct opt *o = find_opt(tables, help + 2, 4);
                if (o)
                    *(int *)o->value = 1;
                continue;
            }
            return err_set(e, EXIT_USAGE, "unknown flag '%s' (flags are long: --name)", a);
        } else {
            strvec_push(pos, a);
        }
    }
    return 0;
}

void cli_describe(const struct opt *table, struct buf *out)
{
    for (const struct opt *o = table; o->name; o++) {
        char left[64];
        if (o->argname)
            snprintf(left, sizeof(left), "--%s %s", o->name, o->argname);
        else
            snprintf(left, sizeof(left), "--%s", o->name);
        buf_addf(out, "  %-26s %s\n", left, o->help ? o->help : "");
    }
}
