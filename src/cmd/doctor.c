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

enum check_result { CHECK_OK = CI_CHECK_OK, CHECK_WARN = CI_CHECK_WARN, CHECK_FAIL = CI_CHECK_FAIL,
                    CHECK_SKIP = CI_CHECK_SKIP };

struct doctor {
    struct cmd_ctx *ctx;
    json_t *checks;
    int failed;
};

static void report(struct doctor *d, const char *name, enum check_result r, const char *fix,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* One check's line (plain) or object (JSON). */
static void report_line(struct doctor *d, const char *name, enum check_result r, const char *fix,
                        const char *detail)
{
    static const char *const words[] = { "ok", "warn", "FAIL", "skip" };
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

static void report(struct doctor *d, const char *name, enum check_result r, const char *fix,
                   const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    report_line(d, name, r, fix, detail);
}

/* The provider's checks come through here (ci/provider.h). */
static void on_check(void *ctx, const char *name, enum ci_check_result r, const char *fix,
                     const char *detail)
{
    report_line(ctx, name, (enum check_result)r, fix, detail);
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

/* The chosen provider's checks, with the repo the command names. */
static void check_provider(struct doctor *d, const struct ci_provider_ops *ops)
{
    char *repo = NULL;
    struct err repo_err;
    err_clear(&repo_err);
    ci_provider_repo_name(d->ctx, ops, &repo, &repo_err);
    struct ci_check_sink sink = { on_check, d };
    struct ci_diagnosis diag = { &d->ctx->cfg, repo, &repo_err, d->ctx->g.verbose, &sink };
    ops->diagnose(&diag);
    free(repo);
}

int cmd_doctor(struct cmd_ctx *ctx)
{
    if (ctx->npos)
        return err_fail(&ctx->err, EXIT_USAGE, "'doctor' takes no arguments");
    struct doctor d = { ctx, json_array(), 0 };
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
