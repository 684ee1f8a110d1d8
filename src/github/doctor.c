/* github/doctor: see doctor.h. */
#include "github/doctor.h"

#include <string.h>

#include "core/http.h"
#include "github/client.h"

/* A login as GitHub allows them, else "?": nothing else reaches the line. */
static const char *plain_login(const char *login)
{
    int plain = login && *login && strlen(login) < 64;
    for (const char *q = login; plain && *q; q++)
        plain = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                (*q >= '0' && *q <= '9') || *q == '-' || *q == '_';
    return plain ? login : "?";
}

static void check_rate_limit(const struct ci_diagnosis *d, struct gh_client *c)
{
    json_t *j = NULL;
    struct err e;
    err_clear(&e);
    if (gh_get(c, "/rate_limit", &j, NULL, &e) < 0) {
        ci_check_report(d->sink, "ratelimit", CI_CHECK_WARN, NULL, "%s", e.msg);
        return;
    }
    json_t *core = json_object_get(json_object_get(j, "resources"), "core");
    long long left = json_integer_value(json_object_get(core, "remaining"));
    long long limit = json_integer_value(json_object_get(core, "limit"));
    ci_check_report(d->sink, "ratelimit", left < limit / 10 ? CI_CHECK_WARN : CI_CHECK_OK,
                    "other tools share this token's limit", "%lld of %lld requests left this hour",
                    left, limit);
}

static int check_repo(const struct ci_diagnosis *d, struct gh_client *c)
{
    if (ci_check_repo_named(d) < 0)
        return -1;
    struct buf path;
    buf_init(&path, 0);
    buf_addf(&path, "/repos/");
    http_escape_path(&path, d->repo);
    json_t *j = NULL;
    struct err e;
    err_clear(&e);
    int rc = gh_get(c, path.data, &j, NULL, &e);
    if (rc < 0)
        ci_check_report(d->sink, "repo", CI_CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
    else
        ci_check_report(d->sink, "repo", CI_CHECK_OK, NULL, "%s is visible", d->repo);
    buf_release(&path);
    return rc;
}

int gh_diagnose(const struct ci_diagnosis *d)
{
    struct gh_client c;
    struct err e;
    err_clear(&e);
    if (gh_client_open(&c, d->cfg, d->verbose, &e) < 0) {
        ci_check_report(d->sink, "github", CI_CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        return -1;
    }
    ci_check_report(d->sink, "token", CI_CHECK_OK, NULL, "GitHub token from %s", c.token_source);
    json_t *j = NULL;
    int rc = gh_get(&c, "/user", &j, NULL, &e);
    if (rc < 0) {
        ci_check_report(d->sink, "github", CI_CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
    } else {
        ci_check_report(d->sink, "github", CI_CHECK_OK, NULL, "%s accepts the token (user %s)",
                        c.api_host, plain_login(json_string_value(json_object_get(j, "login"))));
        check_rate_limit(d, &c);
        rc = check_repo(d, &c);
    }
    gh_client_close(&c);
    return rc;
}
