/*
 * cli: command-line options declared as data.
 *
 * Each verb declares a table of `struct opt` ending in OPT_END; the global
 * options (server, timeout, output mode…) form another table. cli_parse()
 * consumes both from anywhere on the command line, accepting `--name value`
 * and `--name=value`, and collects the positional arguments. `--` ends the
 * options. A few options have a short form (-R repo, -L limit, -q quiet,
 * -v verbose, -h help: `-R x`, `-Rx`), working wherever the long one does;
 * cli_describe() shows it. An unknown flag or a malformed value is a usage error (exit 2)
 * whose message names the closest known flag.
 */
#ifndef HOMELAB_CLI_H
#define HOMELAB_CLI_H

#include "core/err.h"
#include "core/proc.h"

enum opt_type {
    OPT_END_ = 0,
    OPT_BOOL,     /* int *: set to 1 */
    OPT_STRING,   /* const char **: points into argv */
    OPT_INT,      /* long *: decimal digits only, 0..CLI_INT_MAX */
    OPT_DURATION, /* double *: seconds; accepts 90s, 20m, 1h, 1h30m, 500ms, 45 */
    OPT_LIST,     /* struct strvec *: repeatable */
};

struct opt {
    const char *name;    /* long name without the dashes */
    enum opt_type type;
    void *value;
    const char *argname; /* e.g. "N", NULL for booleans */
    const char *help;
};

#define OPT_END { NULL, OPT_END_, NULL, NULL, NULL }

/*
 * Parses argv[0..argc) against `tables` (a NULL-terminated list of option
 * tables). Positional arguments are appended to `pos`. Returns 0, or -1 with
 * e->code EXIT_USAGE.
 */
int cli_parse(const struct opt *const *tables, int argc, char **argv,
              struct strvec *pos, struct err *e);

#define CLI_DURATION_MAX (7 * 24 * 3600.0) /* seconds */
#define CLI_INT_MAX 1000000000

/*
 * Parses a duration: digits with a unit (h, m, s, ms), repeated with
 * decreasing units ("1h30m", "250ms"), or digits alone (seconds: "45").
 * Nothing else (no sign, space, fraction, exponent, nan/inf); more than 0
 * and at most CLI_DURATION_MAX. Returns 0, or -1 leaving *seconds alone.
 */
int cli_parse_duration(const char *s, double *seconds);

/*
 * How many words of argv, from argv[i], one flag of `tables` takes: 1 ("--json",
 * "--repo=x", "-Rx"), 2 ("--repo x", "-R x"), or 0 when argv[i] is not one
 * of their flags. For finding flags before a verb.
 */
int cli_flag_words(const struct opt *const *tables, int argc, char **argv, int i);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t cli_edit_distance(const char *a, const char *b);

/* Appends "  --name ARG   help" lines for a table to `out`. */
void cli_describe(const struct opt *table, struct buf *out);

#endif
