/*
 * git/merge: merging the default branch into a topic and pushing the
 * result, each outcome (conflict, non-fast-forward, hook refusal) told
 * apart from git's porcelain output.
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

/* ---- merge ---- */

int git_merge_abort(const struct git *g, struct err *e)
{
    const char *args[] = { "merge", "--abort", NULL };
    return git_ok(g, args, NULL, EXIT_FAILED, e);
}

/* Appends NUL-separated names to sv. */
static void split_z(const struct buf *b, struct strvec *sv)
{
    for (size_t i = 0; i < b->len;) {
        size_t n = strnlen(b->data + i, b->len - i);
        if (n)
            strvec_push(sv, b->data + i);
        i += n + 1;
    }
}

int git_merge(const struct git *g, const char *rev, struct strvec *conflicts, struct err *e)
{
    struct buf out, errout;
    buf_init(&out, 0);
    buf_init(&errout, 0);
    /* --ff: a merge.ff=only in the user's config must not turn a merge into an error */
    const char *args[] = { "merge", "--no-edit", "--ff", "--end-of-options", rev, NULL };
    int rc = git_run(g, args, &out, &errout, e);
    if (rc <= 0)
        goto out;
    struct err probe;
    err_clear(&probe);
    const char *in_merge[] = { "rev-parse", "--verify", "--quiet", "MERGE_HEAD", NULL };
    if (git_run(g, in_merge, NULL, NULL, &probe) != 0) {
        /* git refused to start: local changes, untracked files in the way… */
        buf_add(&errout, "\n", 1);
        buf_add(&errout, out.data, out.len);
        rc = git_fail_with(args, &errout, EXIT_FAILED, e);
        goto out;
    }
    buf_reset(&out);
    const char *unmerged[] = { "diff", "--name-only", "--diff-filter=U", "-z", NULL };
    if (git_run(g, unmerged, &out, NULL, &probe) == 0)
        split_z(&out, conflicts);
    rc = git_merge_abort(g, e) < 0 ? -1 : GIT_MERGE_CONFLICT;
out:
    buf_release(&out);
    buf_release(&errout);
    return rc;
}

/* ---- push ---- */

void git_push_result_release(struct git_push_result *r)
{
    free(r->summary);
    free(r->reason);
    free(r->remote);
    memset(r, 0, sizeof(*r));
}

static int is_non_ff(const char *summary, const char *reason)
{
    if (!reason)
        return 0;
    if (!strcmp(summary, "[rejected]"))
        return !strcmp(reason, "non-fast-forward") || !strcmp(reason, "fetch first") ||
               !strcmp(reason, "stale info");
    /* the server lost a race between its own check and the ref update */
    return !strcmp(summary, "[remote rejected]") && strstr(reason, "cannot lock ref") &&
           strstr(reason, "but expected");
}

enum git_push_status git_parse_push(const char *out, const char *dst, struct git_push_result *r)
{
    memset(r, 0, sizeof(*r));
    r->status = GIT_PUSH_ERROR;
    size_t dlen = strlen(dst);
    for (const char *p = out; *p;) {
        size_t n = strcspn(p, "\n");
        /* FLAG \t FROM:TO \t SUMMARY[ (REASON)] */
        const char *t1 = memchr(p, '\t', n);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', n - (size_t)(t1 + 1 - p)) : NULL;
        if (t1 == p + 1 && t2) {
            const char *to = t2 - dlen;
            if (to > t1 && to[-1] == ':' && !strncmp(to, dst, dlen)) {
                const char *s = t2 + 1, *end = p + n;
                while (end > s && end[-1] == '\r')
                    end--;
                const char *paren = NULL;
                if (end > s && end[-1] == ')')
                    for (const char *q = end - 1; q > s; q--)
                        if (*q == '(' && q[-1] == ' ') {
                            paren = q;
                            break;
                        }
                r->summary = xstrndup(s, (size_t)((paren ? paren - 1 : end) - s));
                if (paren)
                    r->reason = xstrndup(paren + 1, (size_t)(end - 1 - (paren + 1)));
                switch (*p) {
                case ' ': case '+': case '*': case '-':
                    r->status = GIT_PUSH_OK;
                    break;
                case '=':
                    r->status = GIT_PUSH_UP_TO_DATE;
                    break;
                case '!':
                    r->status = is_non_ff(r->summary, r->reason) ? GIT_PUSH_NON_FF
                                                                 : GIT_PUSH_REJECTED;
                    break;
                default:
                    r->status = GIT_PUSH_ERROR;
                }
                return r->status;
            }
        }
        p += n;
        if (*p)
            p++;
    }
    return r->status;
}

/* The "remote: " lines of git's stderr, sanitized, or NULL. */
static char *remote_lines(const char *text)
{
    struct buf b;
    buf_init(&b, 16 << 10);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (!strncmp(p, "remote: ", 8)) {
            size_t len = n - 8;
            while (len && (p[8 + len - 1] == ' ' || p[8 + len - 1] == '\r'))
                len--;
            if (b.len)
                buf_addc(&b, '\n');
            sanitize_append(&b, p + 8, len, 0);
        }
        p += n;
        if (*p)
            p++;
    }
    if (!b.len) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

int git_push(const struct git *g, const char *remote, const char *src, const char *dst,
             struct git_push_result *r, struct err *e)
{
    struct buf spec, out, errout;
    buf_init(&spec, 0);
    buf_init(&out, 0);
    buf_init(&errout, 0);
    buf_addf(&spec, "%s:%s", src, dst);
    const char *args[] = { "push", "--porcelain", "--", remote, spec.data, NULL };
    int rc = git_run(g, args, &out, &errout, e);
    if (rc >= 0) {
        git_parse_push(out.data, dst, r);
        r->remote = remote_lines(errout.data);
        if (r->status == GIT_PUSH_ERROR)
            rc = git_fail_with(args, &errout, EXIT_UNAVAILABLE, e);
        else
            rc = 0;
    } else {
        memset(r, 0, sizeof(*r));
        r->status = GIT_PUSH_ERROR;
    }
    if (rc < 0)
        err_wrap(e, "pushing to '%s'", remote);
    buf_release(&spec);
    buf_release(&out);
    buf_release(&errout);
    return rc;
}
