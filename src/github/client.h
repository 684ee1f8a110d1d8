/*
 * github/client: the GitHub REST API client (Actions). Typed errors, no
 * printing except --verbose traces and the rate-limit progress callback.
 *
 * Token: GH_TOKEN, then GITHUB_TOKEN, then Vault (github.vault-path,
 * github.vault-field), then `gh auth token --hostname HOST` when gh is on
 * PATH (spawned with an argv, never a shell). It goes only to the API
 * host: the job-log redirect is fetched by a second HTTP client that has
 * no token at all, so no redirect can carry it elsewhere.
 *
 * Every GET is conditional: the last ETag per exact path is sent as
 * If-None-Match and a 304 answers from the cached body (*changed = 0).
 * An x-poll-interval header is kept (poll_interval: pollers wait at least
 * that long); a Link rel="next" under the API base is kept as `next` for
 * paging. Waits (rate limits, retries) go through http_wait(): a signal
 * ends them with EXIT_INTERRUPTED.
 *
 * Errors: 401 → EXIT_REFUSED ("token rejected"); 403 with
 * x-ratelimit-remaining 0, a retry-after or "rate limit" in the body, and
 * 429 → wait (retry-after, else until x-ratelimit-reset, else 60 s), with
 * on_rate_wait told until when; EXIT_UNAVAILABLE when that wait would pass
 * the deadline; other 403 → EXIT_REFUSED; 404 → EXIT_NOT_FOUND (with a
 * hint that a private repository looks missing to a token without
 * access); 5xx and transport failures are retried with backoff within the
 * retry budget (core/http's policy: http_backoff_delay), then
 * EXIT_UNAVAILABLE.
 */
#ifndef HOMELAB_GH_CLIENT_H
#define HOMELAB_GH_CLIENT_H

#include <jansson.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/http.h"

struct gh_cache_entry {
    char *path;
    char *etag;
    json_t *body;
};

struct gh_client {
    struct http_client api;
    char *api_base;        /* https://api.github.com or https://HOST/api/v3 */
    char *api_host;
    char *token_source;    /* "GH_TOKEN", "Vault PATH", "gh auth token" */
    char *cacert;
    int verbose;
    struct gh_cache_entry *cache;
    size_t ncache;
    long long rl_remaining; /* last x-ratelimit-remaining, -1 unknown */
    long long rl_limit;
    long long requests;     /* requests sent (200s and 304s) */
    long long not_modified; /* of those, 304s */
    int rate_limited;       /* the last error was a rate-limit wait past the deadline */
    double rate_limited_until; /* then: until when (clock_wall()) */
    double poll_interval;   /* the largest x-poll-interval GitHub sent, 0 none */
    char next[4096];        /* the last 200's Link rel="next", as a path; "" none */
    void (*on_rate_wait)(void *ud, double until_wall);
    void *ud;
};

int gh_client_open(struct gh_client *c, const struct config *cfg, int verbose, struct err *e);
void gh_client_close(struct gh_client *c);

/* The token from the first source that has one; *source names it. */
int gh_resolve_token(const struct config *cfg, const char *api_host, int verbose, char **token,
                     char **source, struct err *e);

/* Trims the token and refuses control characters or spaces (core/cred.h, EXIT_USAGE). */
int gh_token_check(char *token, const char *source, struct err *e);

/*
 * Conditional GET of an API path (starting with '/'). *out is a borrowed
 * reference owned by the client's cache (valid until the next gh_get of
 * the same path or gh_client_close); `changed` may be NULL.
 */
int gh_get(struct gh_client *c, const char *path, json_t **out, int *changed, struct err *e);

/*
 * A job's plain-text log: GET .../actions/jobs/ID/logs without following
 * the redirect, then the Location (https only) with a client that has no
 * token. At most `cap` bytes (larger: EXIT_UNAVAILABLE). 404 before the
 * job completed: returns 0 with *available = 0.
 */
int gh_job_log(struct gh_client *c, const char *repo, long long job_id, size_t cap,
               struct buf *out, int *available, struct err *e);

/*
 * The rel="next" URL of a Link header value, as a path under api_base
 * (the token goes nowhere else): "/repos/..?page=2". "" when there is no
 * next link, when it points elsewhere, or when it does not fit in n.
 */
void gh_next_link(const char *api_base, const char *link, char *out, size_t n);

#endif
