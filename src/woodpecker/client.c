#include "woodpecker/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cred.h"
#include "core/vault.h"

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
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

/* Trims the token; one that could inject header lines is refused (cred.h). */
static int checked_token(char **token, char **source, struct err *e)
{
    if (cred_clean(*token, *source, e) == 0)
        return 0;
    wipe_free(*token);
    free(*source);
    *token = *source = NULL;
    return -1;
}

int wp_resolve_token(const struct config *cfg, int verbose, char **token, char **source,
                     struct err *e)
{
    *token = *source = NULL;
    if (from_env("WOODPECKER_TOKEN", token, source) || from_env("WP_TOKEN", token, source))
        return checked_token(token, source, e);
    struct buf b;
    buf_init(&b, 0);
    if (cfg->file_token && *cfg->file_token) {
        *token = xstrdup(cfg->file_token);
        buf_addf(&b, "ci.token in %s", cfg->path);
        *source = buf_detach(&b);
        return checked_token(token, source, e);
    }
    struct err verr;
    err_clear(&verr);
    if (vault_read(cfg->vault_path, cfg->vault_field, verbose, token, &verr) == 0) {
        buf_addf(&b, "Vault %s (field %s)", cfg->vault_path, cfg->vault_field);
        *source = buf_detach(&b);
        return checked_token(token, source, e);
    }
    buf_release(&b);
    if (verr.code == EXIT_USAGE || verr.code == EXIT_INTERRUPTED) {
        *e = verr; /* a malformed Vault token or address: fix that first */
        return -1;
    }
    if (verr.code == EXIT_UNAVAILABLE) {
        *e = verr;
        return err_wrap(e, "no WOODPECKER_TOKEN or WP_TOKEN, and reading Vault %s failed",
                        cfg->vault_path);
    }
    err_set(e, EXIT_REFUSED,
            "no Woodpecker token: WOODPECKER_TOKEN is not set, and Vault %s (field %s) "
            "gave none: %s", cfg->vault_path, cfg->vault_field, verr.msg);
    err_hint(e, "export WOODPECKER_TOKEN=… (a personal token from your Woodpecker user "
                "settings), or put it in Vault at %s", cfg->vault_path);
    return -1;
}

int wp_client_open(struct wp_client *c, const struct config *cfg, int verbose, struct err *e)
{
    memset(c, 0, sizeof(*c));
    if (!cfg->server || !*cfg->server) {
        err_set(e, EXIT_USAGE, "no Woodpecker server configured");
        err_hint(e, "set WOODPECKER_SERVER, pass --server URL, or add '[ci] server = URL' "
                    "to %s", cfg->path);
        return -1;
    }
    char *token = NULL;
    if (wp_resolve_token(cfg, verbose, &token, &c->token_source, e) < 0)
        return -1;
    struct http_opts o = { .base_url = cfg->server, .dial = cfg->dial, .cacert = cfg->cacert,
                           .token = token, .verbose = verbose };
    /* Test hooks: shorten the retry budget, lower the response size cap. */
    const char *budget = getenv("HOMELAB_RETRY_BUDGET");
    const char *cap = getenv("HOMELAB_MAX_RESPONSE");
    if (budget)
        o.retry_budget = strtod(budget, NULL);
    if (cap)
        o.body_cap = (size_t)strtoull(cap, NULL, 10);
    int rc = http_init(&c->http, &o, e);
    wipe_free(token);
    if (rc < 0) {
        free(c->token_source);
        c->token_source = NULL;
        return -1;
    }
    c->server = xstrdup(cfg->server);
    return 0;
}

void wp_client_close(struct wp_client *c)
{
    http_release(&c->http);
    free(c->token_source);
    free(c->server);
    memset(c, 0, sizeof(*c));
}

/* Asks /api/user whether the token is accepted. Not cached: a token can be
 * revoked while a watch runs. */
static int token_accepted(struct wp_client *c)
{
    {
        json_t *j = NULL;
        long status = 0;
        struct err ignored;
        err_clear(&ignored);
        c->user_ok = http_get_json(&c->http, "/api/user", &j, &status, &ignored) == 0;
        c->user_checked = 1;
        json_decref(j);
    }
    return c->user_ok;
}

static int token_rejected(struct wp_client *c, struct err *e)
{
    err_set(e, EXIT_REFUSED, "%s rejected the token from %s", c->server, c->token_source);
    err_hint(e, "create a new personal token in Woodpecker (user settings → personal access "
                "token) and update %s", c->token_source);
    return -1;
}

int wp_get_json(struct wp_client *c, const char *path, json_t **out, struct err *e)
{
    long status = 0;
    if (http_get_json(&c->http, path, out, &status, e) == 0)
        return 0;
    if (status == -2) {
        err_set(e, EXIT_UNAVAILABLE, "%s%s answered with a web page, not JSON: this does not "
                "look like a Woodpecker API — check ci.server", c->server, path);
        return -1;
    }
    if (e->code)
        return -1;
    if (status == 401 || status == 403 || status == 404) {
        if (!token_accepted(c))
            return token_rejected(c, e);
        return err_set(e, EXIT_NOT_FOUND, "%s%s: not found or not visible to this user "
                       "(HTTP %ld)", c->server, path, status);
    }
    if (status == 400)
        return err_set(e, EXIT_USAGE, "%s%s: the server rejected the request (HTTP 400)",
                       c->server, path);
    return err_set(e, EXIT_UNAVAILABLE, "%s%s answered HTTP %ld", c->server, path, status);
}

/* Copies the string member `key` of j; 1 when there was one. */
static int string_member(json_t *j, const char *key, char *out, size_t size)
{
    const char *v = json_string_value(json_object_get(j, key));
    snprintf(out, size, "%s", v ? v : "");
    return v != NULL;
}

int wp_server_version(struct wp_client *c, char *version, size_t size, struct err *e)
{
    json_t *v = NULL;
    long status = 0;
    version[0] = '\0';
    if (http_get_json(&c->http, "/version", &v, &status, e) < 0) {
        if (!e->code)
            err_set(e, EXIT_UNAVAILABLE, "/version answered HTTP %ld", status);
        return -1;
    }
    int named = string_member(v, "version", version, size);
    json_decref(v);
    return named;
}

int wp_current_user(struct wp_client *c, char *login, size_t size, struct err *e)
{
    json_t *u = NULL;
    long status = 0;
    login[0] = '\0';
    if (http_get_json(&c->http, "/api/user", &u, &status, e) < 0) {
        if (!e->code)
            e->code = EXIT_REFUSED; /* an answer, not the user: the message stays empty */
        return -1;
    }
    int named = string_member(u, "login", login, size);
    json_decref(u);
    return named;
}

int wp_repo_lookup(struct wp_client *c, const char *full_name, struct wp_repo *repo,
                   struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    buf_adds(&path, "/api/repos/lookup/");
    http_escape_path(&path, full_name);
    json_t *j = NULL;
    int rc = wp_get_json(c, path.data, &j, e);
    buf_release(&path);
    if (rc < 0) {
        if (e->code == EXIT_NOT_FOUND) {
            err_set(e, EXIT_NOT_FOUND, "repo %s is not in Woodpecker at %s, or this user "
                    "cannot see it", full_name, c->server);
            err_hint(e, "check the name (--repo OWNER/NAME) and that the repo is enabled "
                        "in Woodpecker");
        }
        return -1;
    }
    rc = wp_repo_from_json(j, repo);
    json_decref(j);
    if (rc < 0)
        return err_set(e, EXIT_UNAVAILABLE, "lookup of %s returned no repo id: this does not "
                       "look like a Woodpecker API — check ci.server", full_name);
    if (!repo->active) {
        err_set(e, EXIT_NOT_FOUND, "repo %s is not active in Woodpecker", repo->full_name);
        err_hint(e, "activate it in the Woodpecker web UI (repo settings)");
        wp_repo_release(repo);
        return -1;
    }
    return 0;
}

int wp_list_pipelines(struct wp_client *c, long long repo_id, const struct wp_list_filter *f,
                      int page, int per_page, json_t **items, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    buf_addf(&path, "/api/repos/%lld/pipelines?page=%d&perPage=%d", repo_id, page,
             per_page > WP_MAX_PER_PAGE ? WP_MAX_PER_PAGE : per_page);
    const char *keys[] = { "branch", "status", "event" };
    const char *vals[] = { f ? f->branch : NULL, f ? f->status : NULL, f ? f->event : NULL };
    for (int i = 0; i < 3; i++)
        if (vals[i]) {
            buf_addf(&path, "&%s=", keys[i]);
            http_escape(&path, vals[i]);
        }
    int rc = wp_get_json(c, path.data, items, e);
    buf_release(&path);
    if (rc < 0)
        return -1;
    if (json_is_null(*items)) {
        json_decref(*items);
        *items = json_array();
    }
    if (!json_is_array(*items)) {
        json_decref(*items);
        *items = NULL;
        return err_set(e, EXIT_UNAVAILABLE, "the pipeline list is not a JSON array: this "
                       "does not look like a Woodpecker API — check ci.server");
    }
    return 0;
}

int wp_get_pipeline(struct wp_client *c, long long repo_id, long long number,
                    struct wp_pipeline *p, struct err *e)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/repos/%lld/pipelines/%lld", repo_id, number);
    json_t *j = NULL;
    if (wp_get_json(c, path, &j, e) < 0) {
        if (e->code == EXIT_NOT_FOUND)
            err_set(e, EXIT_NOT_FOUND, "pipeline #%lld does not exist", number);
        return -1;
    }
    int rc = wp_pipeline_from_json(j, p);
    json_decref(j);
    if (rc < 0)
        return err_set(e, EXIT_UNAVAILABLE, "pipeline #%lld: the answer is not a pipeline",
                       number);
    return 0;
}

int wp_find_pipeline(struct wp_client *c, long long repo_id, const char *sha,
                     struct wp_pipeline *p, long long *newest, struct err *e)
{
    *newest = 0;
    long long last_seen = 0;
    /* Newest first; stop at the first match. A pipeline list can be long,
     * so the pages are walked only as far as needed. The commit asked about
     * is nearly always among the newest (it was just pushed), so a short
     * first look comes before full pages: parsing 50 pipelines costs more
     * than the whole rest of the lookup. When it misses, full pages follow
     * from the start (the few items seen twice are skipped below). */
    for (int page = 0; page <= 200; page++) {
        json_t *items = NULL;
        int per_page = page ? WP_MAX_PER_PAGE : WP_FIRST_PAGE;
        if (wp_list_pipelines(c, repo_id, NULL, page ? page : 1, per_page, &items, e) < 0)
            return -1;
        size_t n = json_array_size(items);
        for (size_t i = 0; i < n; i++) {
            json_t *it = json_array_get(items, i);
            long long num = json_integer_value(json_object_get(it, "number"));
            if (!*newest)
                *newest = num;
            /* offsets shift when pipelines are created while paging */
            if (last_seen && num >= last_seen)
                continue;
            last_seen = num;
            const char *commit = json_string_value(json_object_get(it, "commit"));
            if (wp_commit_matches(commit, sha)) {
                int rc = wp_pipeline_from_json(it, p);
                json_decref(items);
                return rc < 0 ? err_set(e, EXIT_UNAVAILABLE, "malformed pipeline in list") : 1;
            }
        }
        json_decref(items);
        if (n < (size_t)per_page)
            break;
    }
    return 0;
}
