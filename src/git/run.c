/*
 * git/run: running git. Every command is an argv (core/proc), never a
 * shell line; traces go to stderr like git's own GIT_TRACE; a failure is a
 * status code and git's own first line of complaint, passed up in a struct
 * err. The other files in src/git/ build on git_run()/git_ok() and the helpers
 * in git/internal.h.
 */
#include "git/git.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sanitize.h"
#include "git/internal.h"

/* ---- running git ---- */

static int trace_forced;

void git_set_trace(int on)
{
    trace_forced = on;
}

static int trace_enabled(void)
{
    if (trace_forced)
        return 1;
    const char *t = getenv("GIT_TRACE");
    return t && (!strcmp(t, "1") || !strcmp(t, "2") || !strcasecmp(t, "true"));
}

void git_build_argv(const struct git *g, const char *const *args, struct strvec *argv)
{
    strvec_push(argv, "git");
    if (g && g->dir)
        strvec_pushl(argv, "-C", g->dir, NULL);
    if (g && g->crypt)
        for (size_t i = 0; git_crypt_config[i]; i++)
            strvec_pushl(argv, "-c", git_crypt_config[i], NULL);
    for (size_t i = 0; args[i]; i++)
        strvec_push(argv, args[i]);
}

/* Appends `arg` as a POSIX shell would need it written (for traces only). */
static void sq_append(struct buf *b, const char *arg)
{
    int plain = *arg != '\0';
    for (const char *p = arg; *p && plain; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./=:@%+,^{}", *p))
            plain = 0;
    if (plain) {
        buf_adds(b, arg);
        return;
    }
    buf_addc(b, '\'');
    for (const char *p = arg; *p; p++) {
        if (*p == '\'')
            buf_adds(b, "'\\''");
        else
            buf_addc(b, *p);
    }
    buf_addc(b, '\'');
}

static void trace_argv(const struct strvec *argv)
{
    struct buf line, shown;
    buf_init(&line, 0);
    buf_init(&shown, 0);
    for (size_t i = 0; i < argv->n; i++) {
        if (i)
            buf_addc(&line, ' ');
        sq_append(&line, argv->v[i]);
    }
    buf_adds(&shown, "trace: homelab: ");
    sanitize_append(&shown, line.data, line.len, 0);
    fprintf(stderr, "%s\n", shown.data);
    fflush(stderr);
    buf_release(&line);
    buf_release(&shown);
}

/* git's own trace lines (GIT_TRACE) from a child's captured stderr, to ours. */
static void forward_traces(const char *text)
{
    struct buf line;
    buf_init(&line, 0);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (memmem(p, n, " trace: ", 8)) {
            buf_reset(&line);
            sanitize_append(&line, p, n, 0);
            fprintf(stderr, "%s\n", line.data);
        }
        p += n;
        if (*p)
            p++;
    }
    buf_release(&line);
}

int git_run(const struct git *g, const char *const *args, struct buf *out, struct buf *errout,
            struct err *e)
{
    struct strvec argv = STRVEC_INIT;
    git_build_argv(g, args, &argv);
    int tracing = trace_enabled();
    struct buf own;
    buf_init(&own, 0);
    if (tracing) {
        trace_argv(&argv);
        if (!errout)
            errout = &own;
    }
    size_t err_start = errout ? errout->len : 0;
    int rc = proc_run((const char *const *)argv.v, NULL, out, errout, e);
    if (tracing)
        forward_traces(errout->data + err_start);
    buf_release(&own);
    strvec_clear(&argv);
    return rc < 0 ? -1 : rc;
}

void git_trim_newlines(struct buf *b)
{
    while (b && b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
        b->data[--b->len] = '\0';
}

/*
 * The line of git's stderr worth showing: the first "fatal:" or "error:"
 * line, else the first line that is not a hint; prefix dropped.
 */
static void complaint(const char *text, struct buf *msg)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (n && strncmp(p, "hint:", 5)) {
            int strong = !strncmp(p, "fatal: ", 7) || !strncmp(p, "error: ", 7);
            if (!best || (strong && strncmp(best, "fatal: ", 7) && strncmp(best, "error: ", 7))) {
                best = p;
                best_len = n;
            }
            if (strong)
                break;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    if (!best)
        return;
    if (!strncmp(best, "fatal: ", 7) || !strncmp(best, "error: ", 7)) {
        best += 7;
        best_len -= 7;
    }
    while (best_len && (best[best_len - 1] == ' ' || best[best_len - 1] == '\r'))
        best_len--;
    sanitize_append(msg, best, best_len, 0);
}

int git_fail_with(const char *const *args, const struct buf *errout, int code, struct err *e)
{
    struct buf why;
    buf_init(&why, 0);
    complaint(errout->data, &why);
    /* git's own words are the only place this failure can be told apart */
    if (strstr(why.data, "not a git repository"))
        /* a setup problem (where it was run), not a missing object */
        err_set_kind(e, ERR_NOT_A_REPO, EXIT_USAGE, "not a git repository");
    else
        err_set(e, code, "git %s: %s", args[0], why.len ? why.data : "failed");
    buf_release(&why);
    return -1;
}

int git_run_upto(const struct git *g, const char *const *args, struct buf *out, int max_ok,
                 int code, struct err *e)
{
    struct buf errout;
    buf_init(&errout, 0);
    int rc = git_run(g, args, out, &errout, e);
    if (rc > max_ok)
        rc = git_fail_with(args, &errout, code, e);
    buf_release(&errout);
    return rc;
}

int git_ok(const struct git *g, const char *const *args, struct buf *out, int code,
           struct err *e)
{
    int rc = git_run_upto(g, args, out, 0, code, e);
    git_trim_newlines(out);
    return rc < 0 ? -1 : 0;
}

/* git_ok() handing the trimmed stdout over as a string. */
int git_string(const struct git *g, const char *const *args, int code, char **s,
                      struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    int rc = git_ok(g, args, &out, code, e);
    if (rc == 0)
        *s = buf_detach(&out);
    buf_release(&out);
    return rc;
}

int git_has_line(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p;) {
        if (!strncmp(p, word, n) && (p[n] == '\n' || p[n] == '\0'))
            return 1;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return 0;
}

/* Runs a yes/no git command: 0 → 1, 1 → 0, else -1 with git's reason. */
int git_yes_no(const struct git *g, const char *const *args, struct err *e)
{
    int rc = git_run_upto(g, args, NULL, 1, EXIT_FAILED, e);
    return rc < 0 ? -1 : rc == 0;
}

int git_read_file(const char *path, struct buf *b)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}


int git_start(const struct git *g, const char *const *args, struct proc_stream *ps,
              struct err *e)
{
    struct strvec argv = STRVEC_INIT;
    git_build_argv(g, args, &argv);
    if (trace_enabled())
        trace_argv(&argv);
    int rc = proc_stream_start(ps, (const char *const *)argv.v, NULL, e);
    strvec_clear(&argv);
    return rc;
}
