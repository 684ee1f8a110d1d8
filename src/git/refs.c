/*
 * git/refs: revisions, refs and remotes: the one rev-parse (whole or in two
 * halves, so git runs while the caller does other work), ancestry, the
 * remote to use and its default branch.
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

/* ---- refs and names ---- */

const struct git git_here = { NULL, 0 };

/* Starts `rev-parse --verify --quiet SPEC`; `label` names it in errors. */
static void rev_start(const struct git *g, const char *spec, const char *label,
                      struct git_rev_job *j)
{
    memset(j, 0, sizeof(*j));
    j->g = g ? *g : git_here;
    j->rev = xstrdup(label);
    const char *args[] = { "rev-parse", "--verify", "--quiet", "--end-of-options", spec, NULL };
    err_clear(&j->err);
    j->running = git_start(&j->g, args, &j->ps, &j->err) == 0;
}

void git_rev_parse_start(const struct git *g, const char *spec, struct git_rev_job *j)
{
    rev_start(g, spec, spec, j);
}

void git_rev_parse_commit_start(const struct git *g, const char *rev, struct git_rev_job *j)
{
    struct buf spec;
    buf_init(&spec, 0);
    buf_addf(&spec, "%s^{commit}", rev);
    rev_start(g, spec.data, rev, j);
    buf_release(&spec);
}

/* Why a rev-parse failed: --quiet hides the reason, so ask git about the
 * repository itself, and say "unknown revision" only when it is fine. */
static void rev_failed(struct git_rev_job *j, struct err *e)
{
    if (e->code != EXIT_NOT_FOUND || e->kind == ERR_NOT_A_REPO)
        return;
    const char *probe[] = { "rev-parse", "--git-dir", NULL };
    struct err pe;
    err_clear(&pe);
    if (git_ok(&j->g, probe, NULL, EXIT_NOT_FOUND, &pe) < 0 && pe.code)
        *e = pe;
    else
        err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", j->rev);
}

int git_rev_parse_finish(struct git_rev_job *j, char **oid, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    int rc = 0;
    *oid = NULL;
    if (!j->running) {
        *e = j->err;
        rc = -1;
    } else {
        if (proc_stream_finish(&j->ps, &out) != 0) {
            const char *args[] = { "rev-parse", NULL };
            rc = git_fail_with(args, &j->ps.errbuf, EXIT_NOT_FOUND, e);
        }
        git_trim_newlines(&out);
    }
    buf_release(&j->ps.errbuf);
    if (rc == 0 && out.len == 0)
        rc = err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", j->rev);
    if (rc == 0)
        *oid = buf_detach(&out);
    else if (j->running)
        rev_failed(j, e);
    buf_release(&out);
    free(j->rev);
    j->rev = NULL;
    j->running = 0;
    return rc;
}

int git_rev_parse(const struct git *g, const char *spec, char **oid, struct err *e)
{
    struct git_rev_job j;
    git_rev_parse_start(g, spec, &j);
    return git_rev_parse_finish(&j, oid, e);
}

int git_rev_parse_commit(const struct git *g, const char *rev, char **sha, struct err *e)
{
    struct git_rev_job j;
    git_rev_parse_commit_start(g, rev, &j);
    return git_rev_parse_finish(&j, sha, e);
}



int git_ref_exists(const struct git *g, const char *ref, struct err *e)
{
    const char *args[] = { "show-ref", "--verify", "--quiet", ref, NULL };
    if (strncmp(ref, "refs/", 5))
        return err_set(e, EXIT_USAGE, "'%s' is not a full ref name", ref);
    return git_yes_no(g, args, e);
}

int git_is_ancestor(const struct git *g, const char *a, const char *b, struct err *e)
{
    const char *args[] = { "merge-base", "--is-ancestor", "--end-of-options", a, b, NULL };
    return git_yes_no(g, args, e);
}

int git_count_missing(const struct git *g, const char *a, const char *b, long *n, struct err *e)
{
    struct buf range, out;
    buf_init(&range, 0);
    buf_init(&out, 0);
    buf_addf(&range, "%s..%s", a, b);
    const char *args[] = { "rev-list", "--count", "--end-of-options", range.data, NULL };
    int rc = git_ok(g, args, &out, EXIT_FAILED, e);
    if (rc == 0) {
        char *end;
        *n = strtol(out.data, &end, 10);
        if (end == out.data || *end)
            rc = err_set(e, EXIT_FAILED, "git rev-list: unexpected output");
    }
    buf_release(&range);
    buf_release(&out);
    return rc;
}

int git_check_branch_name(const struct git *g, const char *name, struct err *e)
{
    if (name[0] == '-')
        return err_set(e, EXIT_USAGE, "'%s' is not a valid branch name (leading '-')", name);
    const char *args[] = { "check-ref-format", "--branch", name, NULL };
    struct buf errout;
    buf_init(&errout, 0);
    int rc = git_run(g, args, NULL, &errout, e);
    buf_release(&errout);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        struct buf shown;
        buf_init(&shown, 0);
        sanitize_append(&shown, name, strlen(name), 0);
        err_set(e, EXIT_USAGE, "'%s' is not a valid branch name", shown.data);
        buf_release(&shown);
        return -1;
    }
    return 0;
}

/* ---- remotes ---- */

/* The DESIGN's choice among remote names (one per line, as `git remote` lists
 * them): `preferred` when given, else forgejo, else origin, else the first. */
static int choose_from(const char *names, const char *preferred, char **remote, struct err *e)
{
    if (preferred && *preferred) {
        if (git_has_line(names, preferred))
            *remote = xstrdup(preferred);
        else
            return err_set(e, EXIT_NOT_FOUND, "no git remote named '%s'", preferred);
    } else if (git_has_line(names, "forgejo")) {
        *remote = xstrdup("forgejo");
    } else if (git_has_line(names, "origin")) {
        *remote = xstrdup("origin");
    } else if (*names) {
        *remote = xstrndup(names, strcspn(names, "\n"));
    } else {
        return err_set(e, EXIT_NOT_FOUND, "this repository has no git remote");
    }
    return 0;
}

int git_choose_remote(const struct git *g, const char *preferred, char **remote, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    const char *args[] = { "remote", NULL };
    if (git_ok(g, args, &out, EXIT_NOT_FOUND, e) < 0) {
        buf_release(&out);
        return -1;
    }
    int rc = choose_from(out.data, preferred, remote, e);
    buf_release(&out);
    return rc;
}

int git_choose_remote_url(const struct git *g, const char *preferred, char **remote, char **url,
                          struct err *e)
{
    struct buf out, names;
    buf_init(&out, 0);
    buf_init(&names, 0);
    struct strvec urls = STRVEC_INIT;
    const char *args[] = { "remote", "-v", NULL };
    int rc = git_ok(g, args, &out, EXIT_NOT_FOUND, e);
    if (rc == 0) {
        git_parse_remote_v(out.data, &names, &urls);
        rc = choose_from(names.data, preferred, remote, e);
    }
    if (rc == 0) {
        /* names and urls are in step: find the chosen one's line */
        size_t i = 0;
        for (const char *p = names.data; *p; i++) {
            size_t len = strcspn(p, "\n");
            if (len == strlen(*remote) && !strncmp(p, *remote, len))
                break;
            p += len + (p[len] != '\0');
        }
        *url = xstrdup(i < urls.n ? urls.v[i] : *remote);
    }
    strvec_clear(&urls);
    buf_release(&names);
    buf_release(&out);
    return rc;
}

int git_remote_url(const struct git *g, const char *remote, char **url, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    const char *args[] = { "remote", "get-url", "--", remote, NULL };
    int rc = git_ok(g, args, &out, EXIT_NOT_FOUND, e);
    if (rc == 0)
        *url = buf_detach(&out);
    buf_release(&out);
    return rc;
}

int git_fetch(const struct git *g, const char *remote, struct err *e)
{
    const char *args[] = { "fetch", "--quiet", "--", remote, NULL };
    if (git_ok(g, args, NULL, EXIT_UNAVAILABLE, e) < 0)
        return err_wrap(e, "fetching '%s'", remote);
    return 0;
}

int git_parse_symref_head(const char *text, char **branch)
{
    *branch = NULL;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        size_t len = n;
        while (len && p[len - 1] == '\r')
            len--;
        /* "ref: refs/heads/NAME\tHEAD" */
        if (len > 21 && !strncmp(p, "ref: refs/heads/", 16) && !strncmp(p + len - 5, "\tHEAD", 5)) {
            size_t name_len = len - 16 - 5;
            if (!memchr(p + 16, '\t', name_len)) {
                *branch = xstrndup(p + 16, name_len);
                return 0;
            }
        }
        p += n;
        if (*p)
            p++;
    }
    return -1;
}

/* "refs/remotes/REMOTE/" + branch */
static char *tracking_ref(const char *remote, const char *branch)
{
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "refs/remotes/%s/%s", remote, branch);
    return buf_detach(&b);
}

int git_default_branch(const struct git *g, const char *remote, char **branch, struct err *e)
{
    *branch = NULL;
    char *head = tracking_ref(remote, "HEAD");
    char *prefix = tracking_ref(remote, "");
    struct buf out;
    buf_init(&out, 0);
    struct err ignored;
    err_clear(&ignored);

    /* 1. what the clone recorded as the remote's HEAD */
    const char *symref[] = { "symbolic-ref", "--quiet", head, NULL };
    if (git_run(g, symref, &out, NULL, &ignored) == 0) {
        git_trim_newlines(&out);
        size_t plen = strlen(prefix);
        if (!strncmp(out.data, prefix, plen) && out.data[plen] &&
            git_ref_exists(g, out.data, &ignored) == 1)
            *branch = xstrdup(out.data + plen);
    }
    /* 2. what the remote advertises now */
    if (!*branch) {
        buf_reset(&out);
        const char *ls[] = { "ls-remote", "--symref", "--", remote, "HEAD", NULL };
        if (git_run(g, ls, &out, NULL, &ignored) == 0)
            git_parse_symref_head(out.data, branch);
    }
    /* 3. the conventional names, as far as the remote has them */
    static const char *const guesses[] = { "main", "master" };
    for (size_t i = 0; !*branch && i < 2; i++) {
        char *ref = tracking_ref(remote, guesses[i]);
        if (git_ref_exists(g, ref, &ignored) == 1)
            *branch = xstrdup(guesses[i]);
        free(ref);
    }
    buf_release(&out);
    free(head);
    free(prefix);
    if (!*branch) {
        err_set(e, EXIT_NOT_FOUND, "cannot tell the default branch of remote '%s'", remote);
        err_hint(e, "it has no HEAD and neither main nor master; 'git remote set-head %s BRANCH' "
                    "records one", remote);
        return -1;
    }
    return 0;
}
