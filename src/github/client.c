/* github/client: see client.h. */
#include "github/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ci/provider.h"
#include "core/clock.h"
#include "core/cred.h"
#include "core/proc.h"
#include "core/term.h"
#include "core/vault.h"

#define GH_TOKEN_MAX 1024
#define RATE_FALLBACK_WAIT 60.0

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* The shared credential check (core/cred.h), plus GitHub's length bound. */
int gh_token_check(char *token, const char *source, struct err *e)
{
    if (cred_clean(token, source, e) < 0)
        return -1;
    if (strlen(token) > GH_TOKEN_MAX)
        return err_set(e, EXIT_USAGE, "the GitHub token from %s is over %d bytes", source,
                       GH_TOKEN_MAX);
    return 0;
}

static int from_env(const char *var, char **token, char **source)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return 0;
    *token = xstrdup(v);
    *source = xstrdup(var);
    return 1;
}

/* `gh auth token --hostname HOST`: argv, no shell; not logged in = none. */
static int from_gh(const char *host, char **token, char **source)
{
    const char *argv[] = { "gh", "auth", "token", "--hostname", host, NULL };
    struct proc_opts o = { .out_cap = 4096, .timeout_ms = 10000 };
    struct buf out, errout;
    buf_init(&out, 4096);
    buf_init(&errout, 4096);
    struct err e;
    err_clear(&e);
    int ok = proc_run(argv, &o, &out, &errout, &e) == 0;
    while (ok && out.len && (out.data[out.len - 1] == '\n' || out.data[out.len - 1] == '\r'))
        out.data[--out.len] = '\0';
    ok = ok && out.len > 0;
    if (ok) {
        *token = xstrdup(out.data);
        *source = xstrdup("gh auth token");
    }
    explicit_bzero(out.data, out.len);
    buf_release(&out);
    buf_release(&errout);
    return ok;
}

int gh_resolve_token(const struct config *cfg, const char *api_host, int verbose, char **token,
                     char **source, struct err *e)
{
    *token = *source = NULL;
    if (from_env("GH_TOKEN", token, source) || from_env("GITHUB_TOKEN", token, source))
        return gh_token_check(*token, *source, e);
    if (cfg->github_vault_path && *cfg->github_vault_path) {
        struct err verr;
        err_clear(&verr);
        if (vault_read(cfg->github_vault_path, cfg->github_vault_field, verbose, token,
                       &verr) == 0) {
            struct buf b;
            buf_init(&b, 0);
            buf_addf(&b, "Vault %s", cfg->github_vault_path);
            *source = buf_detach(&b);
            return gh_token_check(*token, *source, e);
        }
    }
    const char *host = !strcasecmp(api_host, "api.github.com") ? "github.com" : api_host;
    if (from_gh(host, token, source))
        return gh_token_check(*token, *source, e);
    err_set(e, EXIT_REFUSED, "no GitHub token: GH_TOKEN and GITHUB_TOKEN are not set%s, and "
            "`gh auth token` gave none", cfg->github_vault_path ? ", Vault had none" : "");
    err_hint(e, "export GH_TOKEN=… (a token that can read Actions of the repo), or run "
                "`gh auth login --hostname %s`", host);
    return -1;
}

int gh_client_open(struct gh_client *c, const struct config *cfg, int verbose, struct err *e)
{
    memset(c, 0, sizeof(*c));
    char host[256];
    if (ci_url_host(cfg->github_api, host, sizeof(host)) < 0 ||
        strncmp(cfg->github_api, "https://", 8))
        return err_set(e, EXIT_USAGE, "github.api must be an https:// URL, not '%.80s'",
                       cfg->github_api);
    char *token = NULL;
    if (gh_resolve_token(cfg, host, verbose, &token, &c->token_source, e) < 0) {
        wipe_free(token);
        free(c->token_source);
        c->token_source = NULL;
        return -1;
    }
    struct http_opts o = { .base_url = cfg->github_api, .dial = cfg->github_dial,
                           .cacert = cfg->cacert, .token = token, .verbose = verbose };
    int rc = http_init(&c->api, &o, e);
    wipe_free(token);
    if (rc < 0) {
        free(c->token_source);
        c->token_source = NULL;
        return -1;
    }
    c->api_base = xstrdup(cfg->github_api);
    c->api_host = xstrdup(host);
    c->cacert = cfg->cacert ? xstrdup(cfg->cacert) : NULL;
    c->verbose = verbose;
    c->rl_remaining = c->rl_limit = -1;
    return 0;
}

void gh_client_close(struct gh_client *c)
{
    for (size_t i = 0; i < c->ncache; i++) {
        free(c->cache[i].path);
        free(c->cache[i].etag);
        json_decref(c->cache[i].body);
    }
    free(c->cache);
    http_release(&c->api);
    free(c->api_base);
    free(c->api_host);
    free(c->token_source);
    free(c->cacert);
    memset(c, 0, sizeof(*c));
}

static struct gh_cache_entry *cache_entry(struct gh_client *c, const char *path)
{
    for (size_t i = 0; i < c->ncache; i++)
        if (!strcmp(c->cache[i].path, path))
            return &c->cache[i];
    c->cache = realloc(c->cache, (c->ncache + 1) * sizeof(*c->cache));
    if (!c->cache)
        abort();
    struct gh_cache_entry *ce = &c->cache[c->ncache++];
    *ce = (struct gh_cache_entry){ xstrdup(path), NULL, NULL };
    return ce;
}

/* The headers of one answer that matter here. */
struct answer {
    char etag[256], remaining[32], reset[32], limit[32], location[4096], poll[32], link[4096];
    struct http_capture cap[7];
};

static void answer_init(struct answer *a, struct http_response *r)
{
    memset(a, 0, sizeof(*a));
    a->cap[0] = (struct http_capture){ "etag", a->etag, sizeof(a->etag) };
    a->cap[1] = (struct http_capture){ "x-ratelimit-remaining", a->remaining,
                                       sizeof(a->remaining) };
    a->cap[2] = (struct http_capture){ "x-ratelimit-reset", a->reset, sizeof(a->reset) };
    a->cap[3] = (struct http_capture){ "x-ratelimit-limit", a->limit, sizeof(a->limit) };
    a->cap[4] = (struct http_capture){ "location", a->location, sizeof(a->location) };
    a->cap[5] = (struct http_capture){ "x-poll-interval", a->poll, sizeof(a->poll) };
    a->cap[6] = (struct http_capture){ "link", a->link, sizeof(a->link) };
    r->capture = a->cap;
    r->ncapture = 7;
}

/* Seconds to wait when this answer is a rate limit; -1 when it is not. */
static double rate_wait(const struct http_response *r, const struct answer *a)
{
    int limited = r->status == 429 || (r->status == 403 &&
                  (r->retry_after >= 0 || !strcmp(a->remaining, "0") ||
                   (r->body.data && strcasestr(r->body.data, "rate limit"))));
    if (!limited)
        return -1;
    if (r->retry_after >= 0)
        return r->retry_after;
    if (!strcmp(a->remaining, "0") && a->reset[0]) {
        double w = strtod(a->reset, NULL) - clock_wall();
        return w > 0 ? w + 1 : 1;
    }
    return RATE_FALLBACK_WAIT;
}

/* Waits out a rate limit, or says it would pass the deadline. */
static int wait_rate(struct gh_client *c, double wait, struct err *e)
{
    double until_wall = clock_wall() + wait;
    char hms[16];
    time_t t = (time_t)until_wall;
    struct tm tm;
    strftime(hms, sizeof(hms), "%H:%M:%S", localtime_r(&t, &tm));
    if (c->api.deadline > 0 && clock_now() + wait > c->api.deadline) {
        c->rate_limited = 1;
        c->rate_limited_until = until_wall;
        err_set(e, EXIT_UNAVAILABLE, "rate-limited by %s until %s, past the --timeout",
                c->api_host, hms);
        err_hint(e, "GitHub's rate limit is shared by every tool using this token");
        return -1;
    }
    if (c->on_rate_wait)
        c->on_rate_wait(c->ud, until_wall);
    return http_wait(&c->api, wait, e);
}

static int final_status(struct gh_client *c, const char *path, long status, struct err *e)
{
    if (status == 401) {
        err_set(e, EXIT_REFUSED, "%s rejected the GitHub token from %s (HTTP 401)",
                c->api_host, c->token_source);
        err_hint(e, "renew the token, or check which one wins: GH_TOKEN, GITHUB_TOKEN, Vault, gh");
        return -1;
    }
    if (status == 403) {
        err_set(e, EXIT_REFUSED, "%s refused %s (HTTP 403)", c->api_host, path);
        err_hint(e, "the token from %s lacks access (Actions: read, or the repo scope)",
                 c->token_source);
        return -1;
    }
    if (status == 404 || status == 410) {
        err_set(e, EXIT_NOT_FOUND, "%s: not found on %s (HTTP %ld)", path, c->api_host, status);
        err_hint(e, "a private repository looks missing to a token without access to it");
        return -1;
    }
    return err_set(e, EXIT_UNAVAILABLE, "%s answered HTTP %ld for %s", c->api_host, status, path);
}

static void note_rate(struct gh_client *c, const struct answer *a)
{
    if (a->remaining[0])
        c->rl_remaining = strtoll(a->remaining, NULL, 10);
    if (a->limit[0])
        c->rl_limit = strtoll(a->limit, NULL, 10);
    if (a->poll[0]) {
        /* "wait at least that many seconds before you poll the same
         * endpoint again"; a day is more than any sane answer */
        double v = strtod(a->poll, NULL);
        c->poll_interval = v > 0 && v < 86400 ? v : c->poll_interval;
    }
}

void gh_next_link(const char *api_base, const char *link, char *out, size_t n)
{
    out[0] = '\0';
    for (const char *p = link; (p = strchr(p, '<')) != NULL; p++) {
        const char *end = strchr(p, '>');
        if (!end)
            return;
        const char *semi = end + 1;
        const char *comma = strchr(semi, ',');
        size_t span = comma ? (size_t)(comma - semi) : strlen(semi);
        const char *rel = strstr(semi, "rel=\"next\"");
        if (rel && (size_t)(rel - semi) < span) {
            size_t blen = strlen(api_base), ulen = (size_t)(end - p - 1);
            if (ulen > blen && !strncmp(p + 1, api_base, blen) && p[1 + blen] == '/' &&
                ulen - blen < n)
                snprintf(out, n, "%.*s", (int)(ulen - blen), p + 1 + blen);
            return;
        }
        p = end;
    }
}

/* One exchange; 1 = done (answer in r), 0 = retry, -1 = error. */
static int exchange(struct gh_client *c, const char *path, const char *etag,
                    struct http_response *r, struct answer *a, int *attempt, double budget_end,
                    struct err *e)
{
    char inm[300];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag ? etag : "");
    const char *headers[] = { "Accept: application/vnd.github+json",
                              "X-GitHub-Api-Version: 2022-11-28", etag ? inm : NULL, NULL };
    struct err why;
    err_clear(&why);
    answer_init(a, r);
    int rc = http_request(&c->api, path, headers, NULL, NULL, r, &why);
    if (rc == 0)
        c->requests++;
    if (rc < 0 && (why.code == EXIT_REFUSED || why.kind == ERR_TOO_LARGE)) {
        *e = why;
        return -1;
    }
    if (rc == 0) {
        note_rate(c, a);
        double w = rate_wait(r, a);
        if (w >= 0)
            return wait_rate(c, w, e) < 0 ? -1 : 0;
        if (r->status < 500 && r->status != 408)
            return 1;
        snprintf(why.msg, sizeof(why.msg), "%s answered HTTP %ld", c->api_host, r->status);
    }
    double delay = http_backoff_delay((*attempt)++, 0.5, 8);
    if (clock_now() + delay > budget_end ||
        (c->api.deadline > 0 && clock_now() + delay > c->api.deadline))
        return err_set(e, EXIT_UNAVAILABLE, "%s (gave up retrying)", why.msg);
    if (c->verbose)
        fprintf(stderr, "homelab: %s; retrying in %.1fs\n", why.msg, delay);
    return http_wait(&c->api, delay, e);
}

int gh_get(struct gh_client *c, const char *path, json_t **out, int *changed, struct err *e)
{
    struct gh_cache_entry *ce = cache_entry(c, path);
    double budget_end = clock_now() + (c->api.retry_budget > 0 ? c->api.retry_budget : 60);
    int attempt = 0, done = 0;
    struct http_response r;
    struct answer a;
    http_response_init(&r, 0);
    while (!done) {
        done = exchange(c, path, ce->body ? ce->etag : NULL, &r, &a, &attempt, budget_end, e);
        if (done < 0) {
            http_response_release(&r);
            return -1;
        }
    }
    int rc = 0;
    c->next[0] = '\0';
    if (r.status == 304 && ce->body) {
        c->not_modified++;
        *out = ce->body;
        if (changed)
            *changed = 0;
    } else if (r.status >= 200 && r.status < 300) {
        json_error_t je;
        json_t *j = json_loadb(r.body.data, r.body.len, 0, &je);
        if (!j) {
            rc = err_set(e, EXIT_UNAVAILABLE, "%s sent invalid JSON for %s", c->api_host, path);
        } else {
            gh_next_link(c->api_base, a.link, c->next, sizeof(c->next));
            json_decref(ce->body);
            ce->body = j;
            free(ce->etag);
            ce->etag = a.etag[0] ? xstrdup(a.etag) : NULL;
            *out = j;
            if (changed)
                *changed = 1;
        }
    } else {
        rc = final_status(c, path, r.status, e);
    }
    http_response_release(&r);
    return rc;
}

/* The redirect target, fetched by a client that holds no token. */
static int fetch_redirect(struct gh_client *c, const char *location, size_t cap,
                          struct buf *out, struct err *e)
{
    if (strncmp(location, "https://", 8))
        return err_set(e, EXIT_UNAVAILABLE, "the job log redirect is not https; refused");
    const char *slash = strchr(location + 8, '/');
    char *base = slash ? xstrndup(location, (size_t)(slash - location)) : xstrdup(location);
    struct http_client logs;
    struct http_opts o = { .base_url = base, .cacert = c->cacert, .verbose = c->verbose };
    int rc = http_init(&logs, &o, e);
    free(base);
    if (rc < 0)
        return -1;
    struct http_response r;
    http_response_init(&r, cap);
    const char *headers[] = { "Accept: text/plain, */*", NULL };
    rc = http_request(&logs, slash ? slash : "/", headers, NULL, NULL, &r, e);
    if (rc == 0 && r.status != 200)
        rc = err_set(e, EXIT_UNAVAILABLE, "the job log is not available (HTTP %ld from the "
                     "log host)", r.status);
    if (rc == 0) {
        buf_reset(out);
        buf_add(out, r.body.data, r.body.len);
    }
    http_response_release(&r);
    http_release(&logs);
    return rc;
}

int gh_job_log(struct gh_client *c, const char *repo, long long job_id, size_t cap,
               struct buf *out, int *available, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    buf_addf(&path, "/repos/");
    http_escape_path(&path, repo);
    buf_addf(&path, "/actions/jobs/%lld/logs", job_id);
    double budget_end = clock_now() + (c->api.retry_budget > 0 ? c->api.retry_budget : 60);
    int attempt = 0, done = 0;
    struct http_response r;
    struct answer a;
    http_response_init(&r, 1 << 20);
    *available = 0;
    while (!done) {
        done = exchange(c, path.data, NULL, &r, &a, &attempt, budget_end, e);
        if (done < 0)
            break;
    }
    int rc = done < 0 ? -1 : 0;
    if (rc == 0) {
        if (r.status == 404) {
            rc = 0; /* no log yet (queued, or GitHub has none while running) */
        } else if (r.status >= 300 && r.status < 400 && a.location[0] &&
                   strlen(a.location) < sizeof(a.location) - 1) {
            rc = fetch_redirect(c, a.location, cap, out, e);
            *available = rc == 0;
        } else if (r.status == 200) {
            buf_reset(out); /* a server that answers directly (not GitHub's way) */
            buf_add(out, r.body.data, r.body.len);
            *available = 1;
        } else {
            rc = final_status(c, path.data, r.status, e);
        }
    }
    http_response_release(&r);
    buf_release(&path);
    return rc;
}
