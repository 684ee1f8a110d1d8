/*
 * waitfor: how the tests wait for an event that shows in a file (a line on
 * the client's stderr, a request in a fake's request log), in one process
 * instead of a shell loop that ran a sleep, a grep and a sed every 50 ms.
 *
 *     waitfor [-F] [-r] [-s N] [-p PID] [-t SECONDS] FILE PATTERN [COUNT]
 *     waitfor -c [-r] FILE PATTERN
 *     waitfor -n [-t SECONDS] FILE
 *
 * Waits until FILE has COUNT (default 1) lines that match PATTERN, a POSIX
 * extended regular expression as `grep -E` takes it, and exits 0. FILE need
 * not exist yet.
 *   -F          PATTERN is a fixed string (`grep -F`)
 *   -r          FILE is a fake's request log (a JSON object a line): a
 *               line's subject is its "path", followed by "?" and its
 *               "raw_query" when it has one (the Kubernetes fake's), not
 *               the line itself
 *   -s N        FILE's first N lines do not count (those written before)
 *   -p PID      stop waiting, exit 1, when process PID has ended (whether
 *               or not its parent has reaped it yet)
 *   -t SECONDS  stop waiting, exit 2, after SECONDS (default 300): only
 *               so a broken client cannot hang the suite, never a bound a
 *               pass depends on
 *   -c          do not wait: print how many lines match now
 *   -n          wait until FILE exists and is not empty
 * Exit 64 on bad usage.
 *
 * Only complete lines count, except the last line of a plain file (no -r),
 * which matches as `grep` would match it while it is being written. FILE is
 * read as it grows, every 20 ms; a FILE that shrinks (emptied for the next
 * run) is read again from its start.
 */
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_MATCHED = 0, EXIT_PROCESS_ENDED = 1, EXIT_TIMED_OUT = 2, EXIT_USAGE = 64 };

#define POLL_NS (20 * 1000 * 1000L)
/* A line longer than this is cut (a request log's line is a few hundred
 * bytes; a client's stderr line, a few dozen). */
#define MAX_LINE (1u << 20)

struct options {
    int fixed, request_log, count_only, nonempty;
    long skip, wanted;
    pid_t pid;
    double limit;
    const char *file, *pattern;
};

/* What has been read of FILE: complete lines are counted and dropped,
 * a partial last line is kept for the next read. */
struct reader {
    FILE *f;
    long offset;          /* bytes of FILE consumed */
    long lines_seen;      /* complete lines read, skipped ones included */
    long matches;         /* matching complete lines after the skipped ones */
    char *partial;        /* the incomplete last line, NUL-terminated */
    size_t partial_len;
    regex_t re;
};

static int usage(void)
{
    fprintf(stderr, "usage: waitfor [-F] [-r] [-s N] [-p PID] [-t SECONDS] FILE PATTERN [COUNT]\n"
                    "       waitfor -c [-r] FILE PATTERN\n"
                    "       waitfor -n [-t SECONDS] FILE\n");
    return EXIT_USAGE;
}

static int parse_long(const char *text, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    o->limit = 300;
    o->wanted = 1;
    long v;
    int c;
    while ((c = getopt(argc, argv, "Frs:p:t:cn")) != -1) {
        switch (c) {
        case 'F': o->fixed = 1; break;
        case 'r': o->request_log = 1; break;
        case 'c': o->count_only = 1; break;
        case 'n': o->nonempty = 1; break;
        case 's':
            if (parse_long(optarg, &o->skip) != 0)
                return -1;
            break;
        case 'p':
            if (parse_long(optarg, &v) != 0 || v == 0)
                return -1;
            o->pid = (pid_t)v;
            break;
        case 't': o->limit = atof(optarg); break;
        default: return -1;
        }
    }
    int operands = argc - optind;
    if (o->nonempty) {
        /* any line, even a partial one: a fixed empty string */
        if (operands != 1)
            return -1;
        o->file = argv[optind];
        o->fixed = 1;
        o->pattern = "";
        return 0;
    }
    if (operands < 2 || operands > 3 || (o->count_only && operands != 2))
        return -1;
    o->file = argv[optind];
    o->pattern = argv[optind + 1];
    if (operands == 3 && (parse_long(argv[optind + 2], &o->wanted) != 0))
        return -1;
    return 0;
}

/* A request log line's subject: "path" or "path?raw_query", or NULL. */
static char *request_subject(const char *line)
{
    json_t *entry = json_loads(line, 0, NULL);
    const char *path = json_string_value(json_object_get(entry, "path"));
    const char *query = json_string_value(json_object_get(entry, "raw_query"));
    char *subject = NULL;
    if (path) {
        size_t n = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
        subject = malloc(n);
        if (subject)
            snprintf(subject, n, "%s%s%s", path, query ? "?" : "", query ? query : "");
    }
    json_decref(entry);
    return subject;
}

static int subject_matches(const struct reader *r, const struct options *o, const char *text)
{
    if (o->fixed)
        return strstr(text, o->pattern) != NULL;
    return regexec(&r->re, text, 0, NULL, 0) == 0;
}

static int line_matches(const struct reader *r, const struct options *o, const char *line)
{
    if (!o->request_log)
        return subject_matches(r, o, line);
    char *subject = request_subject(line);
    int hit = subject && subject_matches(r, o, subject);
    free(subject);
    return hit;
}

static void reader_rewind(struct reader *r)
{
    r->offset = r->lines_seen = r->matches = 0;
    r->partial_len = 0;
    r->partial[0] = '\0';
}

/* Appends c to the partial line (a line past MAX_LINE is cut). */
static void partial_add(struct reader *r, int c)
{
    if (r->partial_len < MAX_LINE) {
        r->partial[r->partial_len++] = (char)c;
        r->partial[r->partial_len] = '\0';
    }
}

/* Reads what FILE has gained since the last call and counts its complete
 * lines. A missing FILE is one that has not been written yet. */
static void reader_update(struct reader *r, const struct options *o)
{
    if (!r->f) {
        r->f = fopen(o->file, "r");
        if (!r->f)
            return;
    }
    if (fseek(r->f, 0, SEEK_END) != 0)
        return;
    long size = ftell(r->f);
    if (size < r->offset)
        reader_rewind(r);
    if (size == r->offset || fseek(r->f, r->offset, SEEK_SET) != 0)
        return;
    int c;
    while (r->offset < size && (c = getc(r->f)) != EOF) {
        r->offset++;
        if (c != '\n') {
            partial_add(r, c);
            continue;
        }
        if (++r->lines_seen > o->skip && line_matches(r, o, r->partial))
            r->matches++;
        r->partial_len = 0;
        r->partial[0] = '\0';
    }
    clearerr(r->f);
}

/* The matches so far, the partial last line of a plain file included. */
static long reader_matches(const struct reader *r, const struct options *o)
{
    long n = r->matches;
    if (!o->request_log && r->partial_len > 0 && r->lines_seen >= o->skip &&
        line_matches(r, o, r->partial))
        n++;
    return n;
}

/* Whether process pid has ended: gone, or a zombie its parent has not
 * reaped yet (the shell that started it is the one waiting on us). */
static int process_ended(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_poll(void)
{
    struct timespec ts = { 0, POLL_NS };
    nanosleep(&ts, NULL);
}

static int wait_matches(struct reader *r, const struct options *o)
{
    double deadline = now_seconds() + o->limit;
    for (;;) {
        reader_update(r, o);
        if (reader_matches(r, o) >= o->wanted)
            return EXIT_MATCHED;
        if (o->pid && process_ended(o->pid)) {
            /* what it wrote just before it ended counts */
            reader_update(r, o);
            return reader_matches(r, o) >= o->wanted ? EXIT_MATCHED : EXIT_PROCESS_ENDED;
        }
        if (now_seconds() >= deadline)
            return EXIT_TIMED_OUT;
        pause_poll();
    }
}

int main(int argc, char **argv)
{
    struct options o = { 0 };
    if (parse_options(argc, argv, &o) != 0)
        return usage();
    struct reader r = { 0 };
    r.partial = malloc(MAX_LINE + 1);
    if (!r.partial)
        return EXIT_USAGE;
    r.partial[0] = '\0';
    if (!o.fixed && regcomp(&r.re, o.pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "waitfor: not an extended regular expression: %s\n", o.pattern);
        return EXIT_USAGE;
    }
    int rc;
    if (o.count_only) {
        reader_update(&r, &o);
        printf("%ld\n", reader_matches(&r, &o));
        rc = EXIT_MATCHED;
    } else {
        rc = wait_matches(&r, &o);
    }
    if (r.f)
        fclose(r.f);
    if (!o.fixed)
        regfree(&r.re);
    free(r.partial);
    return rc;
}
