#include "git/git.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/proc.h"

/* Runs git with `args` (after -C dir); captures stdout (trimmed) in out. */
static int run_git(const char *dir, const char *const *args, struct buf *out, struct err *e)
{
    struct strvec argv = STRVEC_INIT;
    strvec_push(&argv, "git");
    if (dir)
        strvec_pushl(&argv, "-C", dir, NULL);
    for (size_t i = 0; args[i]; i++)
        strvec_push(&argv, args[i]);
    struct buf errout;
    buf_init(&errout, 0);
    int rc = proc_run((const char *const *)argv.v, NULL, out, &errout, e);
    strvec_clear(&argv);
    if (rc > 0) {
        char *msg = errout.data;
        msg[strcspn(msg, "\n")] = '\0';
        if (!strncmp(msg, "fatal: ", 7))
            msg += 7;
        if (strstr(msg, "not a git repository"))
            err_set(e, EXIT_NOT_FOUND, "not a git repository");
        else
            err_set(e, EXIT_NOT_FOUND, "git %s: %s", args[0], *msg ? msg : "failed");
        rc = -1;
    }
    buf_release(&errout);
    while (out && out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
        out->data[--out->len] = '\0';
    return rc < 0 ? -1 : 0;
}

int git_rev_parse_commit(const char *dir, const char *rev, char **sha, struct err *e)
{
    struct buf spec, out;
    buf_init(&spec, 0);
    buf_init(&out, 0);
    buf_addf(&spec, "%s^{commit}", rev);
    const char *args[] = { "rev-parse", "--verify", "--quiet", "--end-of-options", spec.data,
                           NULL };
    int rc = run_git(dir, args, &out, e);
    buf_release(&spec);
    if (rc == 0 && out.len == 0)
        rc = err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", rev);
    if (rc == 0) {
        *sha = buf_detach(&out);
    } else {
        /* --quiet hides the reason: tell "no repository" from "no such rev" */
        if (e->code == EXIT_NOT_FOUND && !strstr(e->msg, "not a git repository")) {
            const char *probe[] = { "rev-parse", "--git-dir", NULL };
            struct err pe;
            err_clear(&pe);
            if (run_git(dir, probe, NULL, &pe) < 0 && pe.code)
                *e = pe;
            else
                err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", rev);
        }
        buf_release(&out);
    }
    return rc;
}

static int has_line(const char *text, const char *word)
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

int git_choose_remote(const char *dir, const char *preferred, char **remote, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    const char *args[] = { "remote", NULL };
    if (run_git(dir, args, &out, e) < 0) {
        buf_release(&out);
        return -1;
    }
    int rc = 0;
    if (preferred && *preferred) {
        if (has_line(out.data, preferred))
            *remote = xstrdup(preferred);
        else
            rc = err_set(e, EXIT_NOT_FOUND, "no git remote named '%s'", preferred);
    } else if (has_line(out.data, "forgejo")) {
        *remote = xstrdup("forgejo");
    } else if (has_line(out.data, "origin")) {
        *remote = xstrdup("origin");
    } else if (out.len) {
        *remote = xstrndup(out.data, strcspn(out.data, "\n"));
    } else {
        rc = err_set(e, EXIT_NOT_FOUND, "this repository has no git remote");
    }
    buf_release(&out);
    return rc;
}

int git_remote_url(const char *dir, const char *remote, char **url, struct err *e)
{
    struct buf out;
    buf_init(&out, 0);
    const char *args[] = { "remote", "get-url", "--", remote, NULL };
    int rc = run_git(dir, args, &out, e);
    if (rc == 0)
        *url = buf_detach(&out);
    buf_release(&out);
    return rc;
}

/* The path part of a remote URL, or NULL when it has no host part. */
static const char *url_path(const char *url)
{
    const char *scheme = strstr(url, "://");
    if (scheme) {
        if (!strncmp(url, "file://", 7))
            return NULL;
        const char *host = scheme + 3;
        const char *slash = strchr(host, '/');
        if (!slash || slash == host)
            return NULL;
        return slash + 1;
    }
    /* scp-like [user@]host:path — but not a local path with a colon later */
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    if (!colon || colon == url || (slash && slash < colon))
        return NULL;
    return colon + 1;
}

int git_remote_full_name(const char *url, char **full_name)
{
    *full_name = NULL;
    if (!url || !*url)
        return -1;
    const char *path = url_path(url);
    if (!path)
        return -1;
    size_t n = strcspn(path, "?#");
    while (n && path[n - 1] == '/')
        n--;
    if (n >= 4 && !strncmp(path + n - 4, ".git", 4))
        n -= 4;
    while (n && *path == '/') {
        path++;
        n--;
    }
    char *name = xstrndup(path, n);
    /* owner/name at least, with no empty components */
    int ok = strchr(name, '/') && !strstr(name, "//") && name[0] != '/' &&
             name[strlen(name) - 1] != '/';
    for (char *p = name; ok && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == ' ' || *p == '\\')
            ok = 0;
    if (!ok) {
        free(name);
        return -1;
    }
    *full_name = name;
    return 0;
}

int git_is_hex_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return 0;
    return n >= 7 && n <= 64;
}
