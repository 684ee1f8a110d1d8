/*
 * doctor: the first command a newcomer runs. Each check prints one line,
 * with what to do when it fails, in the order a setup is built: config,
 * then the chosen CI provider's own checks (its diagnose op: token,
 * server, token accepted, repo, and what else it needs, e.g. Woodpecker's
 * event stream), kubectl, git. Exit 0 only when everything `ci` needs
 * works; kubectl problems are warnings unless --deploy says the cluster
 * matters too.
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

static struct {
    int deploy;
} doctor_opts;

const struct opt doctor_opts_table[] = {
    { "deploy", OPT_BOOL, &doctor_opts.deploy, NULL,
      "kubectl and the cluster must work too (else they are warnings)" },
    OPT_END,
};


struct doctor {
    struct cmd_ctx *ctx;
    json_t *checks;
    int failed;
    struct ci_check_sink sink; /* every check, the provider's too, reports here */
};

/* Every check's line (plain) or object (JSON), the provider's too: the
 * sink's report (ci/provider.h); ctx is the struct doctor. */
static void on_check(void *ctx, const char *name, enum ci_check_result r, const char *fix,
                     const char *detail)
{
    static const char *const words[] = { "ok", "warn", "FAIL", "skip" };
    struct doctor *d = ctx;
    if (r == CI_CHECK_FAIL)
        d->failed = 1;
    if (d->ctx->mode == OUTPUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "check", name, "result",
                              r == CI_CHECK_OK ? "ok" : r == CI_CHECK_WARN ? "warn"
                              : r == CI_CHECK_FAIL ? "fail" : "skip", "detail", detail);
        if (fix && r != CI_CHECK_OK)
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
    if (fix && (r == CI_CHECK_FAIL || r == CI_CHECK_WARN))
        printf("     %-10s fix: %s\n", "", fix);
}

static void check_config(struct doctor *d)
{
    const struct config *c = &d->ctx->cfg;
    if (c->file_found)
        ci_check_report(&d->sink, "config", c->file_insecure ? CI_CHECK_WARN : CI_CHECK_OK,
               "chmod 600 the file: it holds a token", "%s parsed", c->path);
    else
        ci_check_report(&d->sink, "config", CI_CHECK_OK, NULL, "no file at %s; using environment and flags",
               c->path);
}

static void check_kubectl(struct doctor *d)
{
    enum ci_check_result bad = doctor_opts.deploy ? CI_CHECK_FAIL : CI_CHECK_WARN;
    const struct config *cfg = &d->ctx->cfg;
    const char *argv[] = { cfg->kubectl, "version", "--client", "-o", "json", NULL };
    struct buf out;
    buf_init(&out, 0);
    struct err e;
    err_clear(&e);
    struct proc_opts po = { .timeout_ms = 10000 };
    int rc = proc_run(argv, &po, &out, NULL, &e);
    if (rc != 0) {
        ci_check_report(&d->sink, "kubectl", bad, "install kubectl or set deploy.kubectl / HOMELAB_KUBECTL",
               "%s", rc < 0 ? e.msg : "kubectl version failed");
        buf_release(&out);
        return;
    }
    json_t *v = json_loadb(out.data, out.len, 0, NULL);
    const char *ver = json_string_value(
        json_object_get(json_object_get(v, "clientVersion"), "gitVersion"));
    ci_check_report(&d->sink, "kubectl", CI_CHECK_OK, NULL, "%s %s", cfg->kubectl, ver ? ver : "");
    json_decref(v);
    buf_release(&out);
    struct kube_client kc;
    kube_client_init(&kc, cfg->kubectl, cfg->context);
    kc.retries = 1; /* a health check reports, it does not wait out an outage */
    json_t *sv = NULL;
    if (kube_get_json(&kc, "/version", &sv, &e) < 0) {
        ci_check_report(&d->sink, "cluster", bad, "check KUBECONFIG and --context",
               "context %s unreachable: %s", cfg->context ? cfg->context : "(current)", e.msg);
        return;
    }
    const char *server_ver = json_string_value(json_object_get(sv, "gitVersion"));
    ci_check_report(&d->sink, "cluster", CI_CHECK_OK, NULL, "context %s reachable, Kubernetes %s",
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
        ci_check_report(&d->sink, "git", CI_CHECK_OK, NULL, "%s", out.data);
    else
        ci_check_report(&d->sink, "git", CI_CHECK_FAIL, "install git", "%s", rc < 0 ? e.msg : "git failed");
    buf_release(&out);
}

/* The chosen provider's checks, with the repo the command names. */
static void check_provider(struct doctor *d, const struct ci_provider_ops *ops)
{
    char *repo = NULL;
    struct err repo_err;
    err_clear(&repo_err);
    ci_provider_repo_name(d->ctx, ops, &repo, &repo_err);
    struct ci_diagnosis diag = { &d->ctx->cfg, repo, &repo_err, d->ctx->g.verbose, &d->sink };
    ops->diagnose(&diag);
    free(repo);
}

int cmd_doctor(struct cmd_ctx *ctx)
{
    if (ctx->npos)
        return err_fail(&ctx->err, EXIT_USAGE, "'doctor' takes no arguments");
    struct doctor d = { ctx, json_array(), 0, { on_check, NULL } };
    d.sink.ctx = &d;
    check_config(&d);
    const struct ci_provider_ops *ops = ci_chosen_provider(ctx);
    if (!ops) {
        json_decref(d.checks);
        return ctx->err.code;
    }
    check_provider(&d, ops);
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
    return d.failed ? EXIT_FAILED : EXIT_OK;
}
