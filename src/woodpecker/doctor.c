/* woodpecker/doctor: see doctor.h. */
#include "woodpecker/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/client.h"
#include "woodpecker/stream.h"

static int check_token(const struct ci_diagnosis *d, char **source)
{
    char *token = NULL;
    struct err e;
    err_clear(&e);
    if (wp_resolve_token(d->cfg, 0, &token, source, &e) < 0) {
        ci_check_report(d->sink, "token", CI_CHECK_FAIL,
                        "export WOODPECKER_TOKEN=… or store it in Vault", "%s", e.msg);
        return -1;
    }
    explicit_bzero(token, strlen(token));
    free(token);
    ci_check_report(d->sink, "token", CI_CHECK_OK, NULL, "from %s", *source);
    return 0;
}

static int check_server(const struct ci_diagnosis *d, struct wp_client *c)
{
    const struct config *cfg = d->cfg;
    struct err e;
    err_clear(&e);
    if (wp_client_open(c, cfg, d->verbose, &e) < 0) {
        ci_check_report(d->sink, "server", CI_CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s",
                        e.msg);
        return -1;
    }
    char version[1024]; /* the report cuts its detail at this size anyway */
    c->http.retry_budget = 5; /* a health check reports, it does not wait out an outage */
    int named = wp_server_version(c, version, sizeof(version), &e);
    if (named < 0) {
        ci_check_report(d->sink, "server", CI_CHECK_FAIL,
                        e.code == EXIT_REFUSED ? "pass the server's CA with --cacert or ci.cacert"
                                               : "check ci.server and ci.dial",
                        "%s", e.msg);
        return -1;
    }
    ci_check_report(d->sink, "server", CI_CHECK_OK, NULL, "%s%s%s reachable, TLS valid, "
                    "Woodpecker %s", cfg->server, cfg->dial ? " via " : "",
                    cfg->dial ? cfg->dial : "", named ? version : "(unknown version)");
    return 0;
}

/* Without a token the server is not contacted, but still listed, so that
 * a missing server shows up on the first run too. */
static void skip_server(const struct ci_diagnosis *d)
{
    const struct config *cfg = d->cfg;
    if (!cfg->server || !*cfg->server) {
        char fix[600];
        snprintf(fix, sizeof(fix), "set WOODPECKER_SERVER, pass --server URL, or add "
                 "'[ci] server = URL' to %s", cfg->path);
        ci_check_report(d->sink, "server", CI_CHECK_FAIL, fix, "no Woodpecker server configured");
    } else {
        ci_check_report(d->sink, "server", CI_CHECK_SKIP, NULL, "%s not checked: no token yet",
                        cfg->server);
    }
    ci_check_report(d->sink, "auth", CI_CHECK_SKIP, NULL, "not checked: no token yet");
}

static int check_user(const struct ci_diagnosis *d, struct wp_client *c, const char *source)
{
    char login[1024];
    struct err e;
    err_clear(&e);
    int named = wp_current_user(c, login, sizeof(login), &e);
    if (named < 0 && e.code != EXIT_REFUSED) { /* no answer: the token was not judged */
        ci_check_report(d->sink, "auth", CI_CHECK_FAIL, "check ci.server and ci.dial",
                        "the token from %s could not be checked: %s", source, e.msg);
        return -1;
    }
    if (named < 0) {
        ci_check_report(d->sink, "auth", CI_CHECK_FAIL, "create a new personal token in Woodpecker",
                        "the token from %s was rejected%s%s", source, e.msg[0] ? ": " : "",
                        e.msg);
        return -1;
    }
    ci_check_report(d->sink, "auth", CI_CHECK_OK, NULL, "token accepted for user %s",
                    named ? login : "?");
    return 0;
}

static int check_repo(const struct ci_diagnosis *d, struct wp_client *c)
{
    if (ci_check_repo_named(d) < 0)
        return -1;
    struct wp_repo repo;
    struct err e;
    err_clear(&e);
    if (wp_repo_lookup(c, d->repo, &repo, &e) < 0) {
        ci_check_report(d->sink, "repo", CI_CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        return -1;
    }
    ci_check_report(d->sink, "repo", CI_CHECK_OK, NULL, "%s is active (id %lld)",
                    repo.full_name, repo.id);
    wp_repo_release(&repo);
    return 0;
}

static void check_stream(const struct ci_diagnosis *d, struct wp_client *c)
{
    if (wp_stream_probe(c, 3))
        ci_check_report(d->sink, "stream", CI_CHECK_OK, NULL, "event stream reachable");
    else
        ci_check_report(d->sink, "stream", CI_CHECK_WARN,
                        "a proxy may buffer or block /api/stream/events",
                        "event stream not usable; ci watch will poll every 3s");
}

int wp_diagnose(const struct ci_diagnosis *d)
{
    char *source = NULL;
    struct wp_client c;
    memset(&c, 0, sizeof(c));
    int token_ok = check_token(d, &source) == 0;
    int ci_ok = token_ok && check_server(d, &c) == 0 && check_user(d, &c, source) == 0;
    if (!token_ok)
        skip_server(d);
    int repo_ok = ci_ok && check_repo(d, &c) == 0;
    if (repo_ok)
        check_stream(d, &c);
    else if (!ci_ok)
        ci_check_report(d->sink, "repo", CI_CHECK_SKIP, NULL,
                        "not checked: CI access does not work yet");
    if (c.server)
        wp_client_close(&c);
    free(source);
    return repo_ok ? 0 : -1;
}
