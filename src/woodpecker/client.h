/*
 * client: the Woodpecker API client. Typed results, no printing.
 *
 * wp_client_open() resolves the token (WOODPECKER_TOKEN, WP_TOKEN, ci.token,
 * then Vault) and remembers which source it used, so a 401 can say which
 * token was rejected without showing it. Every call returns 0 or -1 with
 * `e` filled and the exit code chosen per DESIGN.md:
 *   - a repo endpoint answering 401/403/404 is checked once against
 *     /api/user: token rejected → EXIT_REFUSED, else the repo or pipeline
 *     is missing or invisible → EXIT_NOT_FOUND (Woodpecker treats a bad
 *     token as anonymous, so the status alone cannot tell);
 *   - an HTML page where JSON is due → EXIT_UNAVAILABLE "this does not look
 *     like a Woodpecker API — check ci.server";
 *   - retries exhausted → EXIT_UNAVAILABLE.
 */
#ifndef HOMELAB_WP_CLIENT_H
#define HOMELAB_WP_CLIENT_H

#include <jansson.h>

#include "core/config.h"
#include "core/err.h"
#include "core/http.h"
#include "woodpecker/model.h"

struct wp_client {
    struct http_client http;
    char *token_source;  /* "WOODPECKER_TOKEN", "ci.token in FILE", "Vault PATH" */
    char *server;
    int user_checked;    /* /api/user was asked; user_ok is its last answer */
    int user_ok;
};

struct wp_list_filter {
    const char *branch;
    const char *status;
    const char *event;
};

#define WP_MAX_PER_PAGE 50
/* The short first page of wp_find_pipeline(). */
#define WP_FIRST_PAGE 10

int wp_client_open(struct wp_client *c, const struct config *cfg, int verbose, struct err *e);
void wp_client_close(struct wp_client *c);

/* The token, from the first source that has one; *source names it. */
int wp_resolve_token(const struct config *cfg, int verbose, char **token, char **source,
                     struct err *e);

int wp_repo_lookup(struct wp_client *c, const char *full_name, struct wp_repo *repo,
                   struct err *e);

/* One page of the pipeline list (newest first); *items is a new JSON array. */
int wp_list_pipelines(struct wp_client *c, long long repo_id, const struct wp_list_filter *f,
                      int page, int per_page, json_t **items, struct err *e);

/* The detail of pipeline `number` with workflows and steps. */
int wp_get_pipeline(struct wp_client *c, long long repo_id, long long number,
                    struct wp_pipeline *p, struct err *e);

/*
 * The newest pipeline whose commit matches `sha` (full or prefix), paging
 * only as far as needed. Returns 1 and fills *p (a list item, without
 * workflows) when found; 0 when no pipeline matches, with *newest set to
 * the newest pipeline's number (0 when the repo has none); -1 on error.
 */
int wp_find_pipeline(struct wp_client *c, long long repo_id, const char *sha,
                     struct wp_pipeline *p, long long *newest, struct err *e);

/*
 * The server's version, GET /version (no token needed: the first contact
 * doctor makes). 1 with `version` filled (cut to `size`) when the answer
 * names one, 0 when it does not (`version` is ""), -1 when there is no
 * answer: e as the transfer left it (a TLS refusal is EXIT_REFUSED), or
 * EXIT_UNAVAILABLE "/version answered HTTP N" for an answer that is not
 * the version (N is -2 for a web page). Retries within the client's
 * retry_budget.
 */
int wp_server_version(struct wp_client *c, char *version, size_t size, struct err *e);

/*
 * The login of the token's user, GET /api/user: 1 with `login` filled (cut
 * to `size`), 0 when the answer names none (`login` is ""), -1 when the
 * token is not accepted or the server did not answer. An HTTP answer other
 * than the user (401: Woodpecker treats a bad token as anonymous) gives
 * EXIT_REFUSED with the message left empty, for the caller to word; a
 * failed transfer keeps its code and message.
 */
int wp_current_user(struct wp_client *c, char *login, size_t size, struct err *e);

/* GET of an API path expecting JSON, with the error interpretation above. */
int wp_get_json(struct wp_client *c, const char *path, json_t **out, struct err *e);

#endif
