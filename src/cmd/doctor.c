/*
 * doctor: the first command a newcomer runs. Each check prints one line,
 * with what to do when it fails, in the order a setup is built: config,
 * token, server (TLS, dial), token accepted, repo, event stream, kubectl,
 * git. Exit 0 only when everything `ci` needs works; kubectl problems are
 * warnings unless --deploy says the cluster matters too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ci_common.h"
#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/sanitize.h"
#include "kube/transport.h"
#include "woodpecker/stream.h"
#include "github/client.h"

static struct {
    int deploy;
} doctor_opts;

const struct opt doctor_opts_table[] = {
    { "deploy", OPT_BOOL, &doctor_opts.deploy, NULL,
      "kubectl and the cluster must work too (else they are warnings)" },
    OPT_END,
};

enum check_result { CHECK_OK, CHECK_WARN, CHECK_FAIL, CHECK_SKIP };

struct doctor {
    struct cmd_ctx *ctx;
    json_t *checks;
    int failed;
};

static void report(struct doctor *d, const char *name, enum check_result r, const char *fix,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct doctor *d, const char *name, enum check_result r, const char *fix,
                   const char *fmt, ...)
{
    static const char *const words[] = { "ok", "warn", "FAIL", "skip" };
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (r == CHECK_FAIL)
        d->failed = 1;
    if (d->ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "check", name, "result",
                              r == CHECK_OK ? "ok" : r == CHECK_WARN ? "warn"
                              : r == CHECK_FAIL ? "fail" : "skip", "detail", detail);
        if (fix && r != CHECK_OK)
            json_object_set_new(j, "fix", json_string(fix));
        json_array_append_new(d->checks, j);
        return;
    }
    /* A detail can carry what a server sent (a version, a login, an error):
     * shown with its control bytes escaped, never passed to the terminal. */
    struct buf safe;
    buf_init(&safe, 0);
    sanitize_append(&safe, detail, strlen(detail), SANITIZE_DROP_SGR);
    printf("%-4s %-10s %s\n", words[r], name, safe.data);
    buf_release(&safe);
    if (fix && (r == CHECK_FAIL || r == CHECK_WARN))
        printf("     %-10s fix: %s\n", "", fix);
}

static void check_config(struct doctor *d)
{
    const struct config *c = &d->ctx->cfg;
    if (c->file_found)
        report(d, "config", c->file_insecure ? CHECK_WARN : CHECK_OK,
               "chmod 600 the file: it holds a token", "%s parsed", c->path);
    else
        report(d, "config", CHECK_OK, NULL, "no file at %s; using environment and flags",
               c->path);
}

static int check_token(struct doctor *d, char **source)
{
    char *token = NULL;
    struct err e;
    err_clear(&e);
    if (wp_resolve_token(&d->ctx->cfg, 0, &token, source, &e) < 0) {
        report(d, "token", CHECK_FAIL, "export WOODPECKER_TOKEN=… or store it in Vault",
               "%s", e.msg);
        return -1;
    }
    explicit_bzero(token, strlen(token));
    free(token);
    report(d, "token", CHECK_OK, NULL, "from %s", *source);
    return 0;
}

static int check_server(struct doctor *d, struct wp_client *c)
{
    const struct config *cfg = &d->ctx->cfg;
    struct err e;
    err_clear(&e);
    if (wp_client_open(c, cfg, d->ctx->g.verbose, &e) < 0) {
        report(d, "server", CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        return -1;
    }
    char version[1024]; /* report() cuts its detail at this size anyway */
    c->http.retry_budget = 5; /* a health check reports, it does not wait out an outage */
    int named = wp_server_version(c, version, sizeof(version), &e);
    if (named < 0) {
        report(d, "server", CHECK_FAIL,
               e.code == EXIT_REFUSED ? "pass the server's CA with --cacert or ci.cacert"
                                      : "check ci.server and ci.dial",
               "%s", e.msg);
        return -1;
    }
    report(d, "server", CHECK_OK, NULL, "%s%s%s reachable, TLS valid, Woodpecker %s",
           cfg->server, cfg->dial ? " via " : "", cfg->dial ? cfg->dial : "",
           named ? version : "(unknown version)");
    return 0;
}

/* Without a token the server is not contacted, but still listed, so that
 * a missing server shows up on the first run too. */
static void skip_server(struct doctor *d)
{
    const struct config *cfg = &d->ctx->cfg;
    if (!cfg->server || !*cfg->server) {
        char fix[600];
        snprintf(fix, sizeof(fix), "set WOODPECKER_SERVER, pass --server URL, or add "
                 "'[ci] server = URL' to %s", cfg->path);
        report(d, "server", CHECK_FAIL, fix, "no Woodpecker server configured");
    } else {
        report(d, "server", CHECK_SKIP, NULL, "%s not checked: no token yet", cfg->server);
    }
    report(d, "auth", CHECK_SKIP, NULL, "not checked: no token yet");
}

static int check_user(struct doctor *d, struct wp_client *c, const char *source)
{
    char login[1024];
    struct err e;
    err_clear(&e);
    int named = wp_current_user(c, login, sizeof(login), &e);
    if (named < 0 && e.code != EXIT_REFUSED) { /* no answer: the token was not judged */
        report(d, "auth", CHECK_FAIL, "check ci.server and ci.dial",
               "the token from %s could not be checked: %s", source, e.msg);
        return -1;
    }
    if (named < 0) {
        report(d, "auth", CHECK_FAIL, "create a new personal token in Woodpecker",
               "the token from %s was rejected%s%s", source, e.msg[0] ? ": " : "", e.msg);
        return -1;
    }
    report(d, "auth", CHECK_OK, NULL, "token accepted for user %s", named ? login : "?");
    return 0;
}

static int check_repo(struct doctor *d, struct wp_client *c, struct wp_repo *repo)
{
    char *name = NULL;
    struct err e;
    err_clear(&e);
    if (ci_repo_name(d->ctx, &name, &e) < 0) {
        report(d, "repo", CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        return -1;
    }
    if (wp_repo_lookup(c, name, repo, &e) < 0) {
        report(d, "repo", CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        free(name);
        return -1;
    }
    report(d, "repo", CHECK_OK, NULL, "%s is active (id %lld)", repo->full_name, repo->id);
    free(name);
    return 0;
}

static void check_stream(struct doctor *d, struct wp_client *c)
{
    int ok = wp_stream_probe(c, 3);
    if (ok)
        report(d, "stream", CHECK_OK, NULL, "event stream reachable");
    else
        report(d, "stream", CHECK_WARN, "a proxy may buffer or block /api/stream/events",
               "event stream not usable; ci watch will poll every 3s");
}

static void check_kubectl(struct doctor *d)
{
    enum check_result bad = doctor_opts.deploy ? CHECK_FAIL : CHECK_WARN;
    const struct config *cfg = &d->ctx->cfg;
    const char *argv[] = { cfg->kubectl, "version", "--client", "-o", "json", NULL };
    struct buf out;
    buf_init(&out, 0);
    struct err e;
    err_clear(&e);
    struct proc_opts po = { .timeout_ms = 10000 };
    int rc = proc_run(argv, &po, &out, NULL, &e);
    if (rc != 0) {
        report(d, "kubectl", bad, "install kubectl or set deploy.kubectl / HOMELAB_KUBECTL",
               "%s", rc < 0 ? e.msg : "kubectl version failed");
        buf_release(&out);
        return;
    }
    json_t *v = json_loadb(out.data, out.len, 0, NULL);
    const char *ver = json_string_value(
        json_object_get(json_object_get(v, "clientVersion"), "gitVersion"));
    report(d, "kubectl", CHECK_OK, NULL, "%s %s", cfg->kubectl, ver ? ver : "");
    json_decref(v);
    buf_release(&out);
    struct kube_client kc;
    kube_client_init(&kc, cfg->kubectl, cfg->context);
    kc.retries = 1; /* a health check reports, it does not wait out an outage */
    json_t *sv = NULL;
    if (kube_get_json(&kc, "/version", &sv, &e) < 0) {
        report(d, "cluster", bad, "check KUBECONFIG and --context",
               "context %s unreachable: %s", cfg->context ? cfg->context : "(current)", e.msg);
        return;
    }
    const char *server_ver = json_string_value(json_object_get(sv, "gitVersion"));
    report(d, "cluster", CHECK_OK, NULL, "context %s reachable, Kubernetes %s",
           cfg->context ? cfg->context : "(current)", server_ver ? server_ver : "?");
    json_decref(sv);
}

static void check_git(struct doctor *d)
{
    const char *argv[] = { "git", "--version", NULL };
    struct buf out;
    buf_init(&out, 0);
    struct err e;
    err_clear(&e);
    int rc = proc_run(argv, NULL, &out, NULL, &e);
    out.data[strcspn(out.data, "\n")] = '\0';
    if (rc == 0)
        report(d, "git", CHECK_OK, NULL, "%s", out.data);
    else
        report(d, "git", CHECK_FAIL, "install git", "%s", rc < 0 ? e.msg : "git failed");
    buf_release(&out);
}

/* The GitHub provider: token, API reachable and accepting it, rate limit, repo. */
static int github_checks(struct doctor *d)
{
    struct gh_client c;
    struct err e;
    err_clear(&e);
    if (gh_client_open(&c, &d->ctx->cfg, d->ctx->g.verbose, &e) < 0) {
        report(d, "github", CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        return -1;
    }
    report(d, "token", CHECK_OK, NULL, "GitHub token from %s", c.token_source);
    json_t *j = NULL;
    if (gh_get(&c, "/user", &j, NULL, &e) < 0) {
        report(d, "github", CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        gh_client_close(&c);
        return -1;
    }
    const char *login = json_string_value(json_object_get(j, "login"));
    int plain = login && *login && strlen(login) < 64;
    for (const char *q = login; plain && *q; q++)
        plain = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                (*q >= '0' && *q <= '9') || *q == '-' || *q == '_';
    report(d, "github", CHECK_OK, NULL, "%s accepts the token (user %s)", c.api_host,
           plain ? login : "?");
    if (gh_get(&c, "/rate_limit", &j, NULL, &e) == 0) {
        json_t *core = json_object_get(json_object_get(j, "resources"), "core");
        long long left = json_integer_value(json_object_get(core, "remaining"));
        long long limit = json_integer_value(json_object_get(core, "limit"));
        report(d, "ratelimit", left < limit / 10 ? CHECK_WARN : CHECK_OK,
               "other tools share this token's limit", "%lld of %lld requests left this hour",
               left, limit);
    } else {
        report(d, "ratelimit", CHECK_WARN, NULL, "%s", e.msg);
    }
    char *repo = NULL;
    err_clear(&e);
    if (ci_gh_repo_name(d->ctx, &repo, &e) < 0) {
        report(d, "repo", CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
    } else {
        struct buf path;
        buf_init(&path, 0);
        buf_addf(&path, "/repos/");
        http_escape_path(&path, repo);
        if (gh_get(&c, path.data, &j, NULL, &e) < 0)
            report(d, "repo", CHECK_FAIL, e.hint[0] ? e.hint : NULL, "%s", e.msg);
        else
            report(d, "repo", CHECK_OK, NULL, "%s is visible", repo);
        buf_release(&path);
    }
    free(repo);
    gh_client_close(&c);
    return 0;
}

int cmd_doctor(struct cmd_ctx *ctx)
{
    if (ctx->npos)
        return err_fail(&ctx->err, EXIT_USAGE, "'doctor' takes no arguments");
    struct doctor d = { ctx, json_array(), 0 };
    char *source = NULL;
    struct wp_client c;
    memset(&c, 0, sizeof(c));
    check_config(&d);
    int gh = ci_github_selected(ctx);
    if (gh < 0) {
        json_decref(d.checks);
        return ctx->err.code;
    }
    int ci_ok = -1; /* -1: the GitHub provider was checked instead */
    if (gh) {
        github_checks(&d);
    } else {
        int token_ok = check_token(&d, &source) == 0;
        ci_ok = token_ok && check_server(&d, &c) == 0 && check_user(&d, &c, source) == 0;
        if (!token_ok)
            skip_server(&d);
    }
    struct wp_repo repo;
    memset(&repo, 0, sizeof(repo));
    if (ci_ok == 1 && check_repo(&d, &c, &repo) == 0)
        check_stream(&d, &c);
    else if (!ci_ok)
        report(&d, "repo", CHECK_SKIP, NULL, "not checked: CI access does not work yet");
    check_kubectl(&d);
    check_git(&d);
    if (ctx->mode == OUTPUT_JSON) {
        json_t *r = json_pack("{s:o, s:b}", "checks", d.checks, "ok", !d.failed);
        json_dumpf(r, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(r);
    } else {
        json_decref(d.checks);
    }
    wp_repo_release(&repo);
    if (c.server)
        wp_client_close(&c);
    free(source);
    return d.failed ? EXIT_FAILED : EXIT_OK;
}
