/* ci/provider: see provider.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ci/provider.h"
#include "core/clock.h"

int ci_url_host(const char *url, char *out, size_t outlen)
{
    const char *p, *end;
    out[0] = '\0';
    if (!url)
        return -1;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        p = scheme + 3;
        end = p + strcspn(p, "/?#");
        const char *at = memchr(p, '@', (size_t)(end - p));
        if (at)
            p = at + 1;
    } else { /* scp-like [user@]host:path */
        const char *colon = strchr(url, ':');
        if (!colon)
            return -1;
        const char *at = memchr(url, '@', (size_t)(colon - url));
        p = at ? at + 1 : url;
        end = colon;
    }
    size_t n;
    if (*p == '[') { /* [v6] */
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            return -1;
        n = (size_t)(rb - p + 1);
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        n = (size_t)((colon ? colon : end) - p);
    }
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* Whether `host` is GitHub's: github.com, or the host of github.api. */
int ci_host_is_github(const char *host, const char *github_api)
{
    char api_host[256];
    if (!host || !*host)
        return 0;
    if (!strcasecmp(host, "github.com"))
        return 1;
    if (github_api && ci_url_host(github_api, api_host, sizeof(api_host)) == 0) {
        if (!strcasecmp(api_host, host))
            return 1;
        /* api.github.com belongs to github.com */
        if (!strncasecmp(api_host, "api.", 4) && !strcasecmp(api_host + 4, host))
            return 1;
    }
    return 0;
}

int ci_provider_choose(const char *flag, const struct config *cfg, const char *remote_host,
                       enum ci_provider_kind *out, struct err *e)
{
    const char *name = flag ? flag : cfg->provider;
    if (name && *name) {
        if (!strcmp(name, "woodpecker"))
            *out = CI_WOODPECKER;
        else if (!strcmp(name, "github"))
            *out = CI_GITHUB;
        else
            return err_set(e, EXIT_USAGE, "unknown CI provider '%.40s' (woodpecker or github)",
                           name);
        return 0;
    }
    *out = ci_host_is_github(remote_host, cfg->github_api) ? CI_GITHUB : CI_WOODPECKER;
    return 0;
}

static int unsupported(const struct ci_provider *p, const char *what, struct err *e)
{
    return err_set(e, EXIT_USAGE, "%s is not supported by the %s provider", what, p->ops->name);
}

int ci_runs_of_commit(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                      struct ci_runset *out, int *changed, struct err *e)
{
    if (!p->ops->runs_of_commit)
        return unsupported(p, "listing the runs of a commit", e);
    return p->ops->runs_of_commit(p, sha, f, out, changed, e);
}

int ci_load_jobs(struct ci_provider *p, struct ci_run *r, int *changed, struct err *e)
{
    if (!p->ops->load_jobs)
        return unsupported(p, "reading jobs", e);
    return p->ops->load_jobs(p, r, changed, e);
}

int ci_list_runs(struct ci_provider *p, const struct ci_filter *f, size_t limit,
                 struct ci_runset *out, struct err *e)
{
    if (!p->ops->list_runs)
        return unsupported(p, "listing runs", e);
    return p->ops->list_runs(p, f, limit, out, e);
}

int ci_read_log(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                const struct ci_step *st, const struct ci_log_sink *sink, struct err *e)
{
    if (!p->ops->read_log)
        return unsupported(p, "reading logs", e);
    return p->ops->read_log(p, r, j, st, sink, e);
}

int ci_live_open(struct ci_provider *p, const struct ci_run *r, const struct ci_step *st,
                 const struct ci_log_sink *sink, struct ci_live_log *l, struct err *e)
{
    if (!p->ops->live_open)
        return unsupported(p, "following a live log", e);
    return p->ops->live_open(p, r, st, sink, l, e);
}

int ci_live_poll(struct ci_provider *p, struct ci_live_log *l, int timeout_ms)
{
    return p->ops->live_poll ? p->ops->live_poll(p, l, timeout_ms) : 1;
}

void ci_live_close(struct ci_provider *p, struct ci_live_log *l, enum ci_live_close how)
{
    if (p->ops->live_close)
        p->ops->live_close(p, l, how);
}

int ci_newest_run(struct ci_provider *p, const char *sha, const struct ci_filter *f,
                  long long *number, struct err *e)
{
    if (!p->ops->newest_run)
        return unsupported(p, "finding a commit's newest run", e);
    return p->ops->newest_run(p, sha, f, number, e);
}

int ci_commit_runs(struct ci_provider *p, const char *sha, size_t max,
                   int (*each)(void *ctx, const struct ci_run *r), void *ctx, struct err *e)
{
    if (!p->ops->commit_runs)
        return unsupported(p, "listing a commit's runs", e);
    return p->ops->commit_runs(p, sha, max, each, ctx, e);
}

void ci_feed_wait(struct ci_provider *p, struct ci_feed *f, double max)
{
    if (p->ops->feed_wait) {
        p->ops->feed_wait(p, f, max);
        return;
    }
    f->health = CI_FEED_NONE;
    if (max > 0)
        clock_sleep(max);
}

void ci_feed_missed(struct ci_provider *p, struct ci_feed *f)
{
    if (p->ops->feed_missed)
        p->ops->feed_missed(p, f);
}

void ci_feed_close(struct ci_provider *p, struct ci_feed *f)
{
    if (p->ops->feed_close)
        p->ops->feed_close(p, f);
}

struct http_client *ci_provider_transport(struct ci_provider *p)
{
    return p->ops->transport ? p->ops->transport(p) : NULL;
}

const char *ci_action_name(enum ci_action a)
{
    switch (a) {
    case CI_ACT_RESTART: case CI_ACT_RESTART_FAILED: return "restart";
    case CI_ACT_APPROVE: return "approve";
    case CI_ACT_DECLINE: return "decline";
    case CI_ACT_CANCEL: return "cancel";
    case CI_ACT_RUN: return "run";
    }
    return "act";
}

int ci_act(struct ci_provider *p, const struct ci_act_req *req, struct ci_act_result *out,
           struct err *e)
{
    if (!p->ops->act)
        return unsupported(p, ci_action_name(req->action), e);
    return p->ops->act(p, req, out, e);
}

int ci_act_describe(struct ci_provider *p, const struct ci_act_req *req, struct buf *path,
                    struct buf *body, struct err *e)
{
    if (!p->ops->describe)
        return unsupported(p, ci_action_name(req->action), e);
    return p->ops->describe(p, req, path, body, e);
}

void ci_provider_close(struct ci_provider *p)
{
    if (p->ops && p->ops->close)
        p->ops->close(p);
    free(p->repo);
    free(p->web_base);
    free(p->default_branch);
    p->repo = p->web_base = p->default_branch = NULL;
    p->impl = NULL;
}

void ci_check_report(const struct ci_check_sink *s, const char *name, enum ci_check_result r,
                     const char *fix, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    s->report(s->ctx, name, r, fix, detail);
}

int ci_check_repo_named(const struct ci_diagnosis *d)
{
    if (d->repo)
        return 0;
    const struct err *re = d->repo_err;
    ci_check_report(d->sink, "repo", CI_CHECK_FAIL, re->hint[0] ? re->hint : NULL, "%s", re->msg);
    return -1;
}
