/* woodpecker/act: see act.h. */
#include "woodpecker/act.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/provider.h"

int wp_act_supported(enum ci_action a, struct err *e)
{
    if (a != CI_ACT_RESTART_FAILED)
        return 0;
    err_set(e, EXIT_USAGE, "--failed: Woodpecker restarts whole pipelines, not single steps");
    err_hint(e, "drop --failed to restart the whole pipeline");
    return -1;
}

/* The Woodpecker write of a neutral action (one wp_act_supported() allows). */
static enum wp_action wp_action_of(enum ci_action a)
{
    switch (a) {
    case CI_ACT_APPROVE: return WP_APPROVE;
    case CI_ACT_DECLINE: return WP_DECLINE;
    case CI_ACT_CANCEL: return WP_CANCEL;
    case CI_ACT_RUN: return WP_CREATE;
    case CI_ACT_RESTART:
    case CI_ACT_RESTART_FAILED: break;
    }
    return WP_RESTART;
}

/* req->vars ("KEY=VALUE") as a new JSON object of strings; NULL and e
 * filled (EXIT_USAGE) for one without "KEY=". */
static json_t *variables_of(const struct ci_act_req *req, struct err *e)
{
    json_t *vars = json_object();
    for (size_t i = 0; i < req->nvars; i++) {
        const char *kv = req->vars[i];
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
            json_decref(vars);
            err_set(e, EXIT_USAGE, "a pipeline variable is KEY=VALUE, not '%s'", kv);
            return NULL;
        }
        char *key = xstrndup(kv, (size_t)(eq - kv));
        json_object_set_new(vars, key, json_string(eq + 1));
        free(key);
    }
    return vars;
}

int wp_write_from_req(const struct ci_act_req *req, const struct wp_repo *repo,
                      struct wp_write *w, json_t **vars, struct err *e)
{
    memset(w, 0, sizeof(*w));
    *vars = NULL;
    if (wp_act_supported(req->action, e) < 0)
        return -1;
    w->action = wp_action_of(req->action);
    if (w->action != WP_CREATE) {
        if (!req->run)
            return err_set(e, EXIT_USAGE, "the %s names no pipeline", wp_action_name(w->action));
        w->number = req->run->number;
        return 0;
    }
    w->branch = req->branch ? req->branch : repo->default_branch;
    if (!w->branch || !*w->branch) {
        return err_set(e, EXIT_USAGE, "the server reports no default branch for %s: name "
                       "the branch to run on", repo->full_name);
    }
    if (!(*vars = variables_of(req, e)))
        return -1;
    w->variables = *vars;
    return 0;
}

void wp_act_result(const struct wp_write *w, struct ci_act_result *out)
{
    memset(out, 0, sizeof(*out));
    out->run_id = w->result_number;
    out->attempt = 1;
    out->recovered = w->recovered;
    out->sends = w->sends;
    snprintf(out->status, sizeof(out->status), "%s", w->filtered ? "filtered" : w->status);
    if (w->filtered)
        return; /* nothing was made: an error, not a progress line */
    switch (w->action) {
    case WP_RESTART:
        snprintf(out->what, sizeof(out->what), "restarted #%lld as #%lld", w->number,
                 w->result_number);
        break;
    case WP_CREATE:
        snprintf(out->what, sizeof(out->what), "started #%lld on %s", w->result_number,
                 w->branch ? w->branch : "");
        break;
    case WP_APPROVE:
        snprintf(out->what, sizeof(out->what), "approved #%lld", w->number);
        break;
    case WP_CANCEL:
        snprintf(out->what, sizeof(out->what), "cancel of #%lld accepted", w->number);
        break;
    case WP_DECLINE:
        break; /* the result line, "#N declined", says it */
    }
}

/* Woodpecker answers a write without push permission with 404: ask first. */
static int check_push(struct wp_client *c, const struct wp_repo *repo, enum wp_action a,
                      struct err *e)
{
    struct err pe;
    err_clear(&pe);
    if (wp_can_push(c, repo->id, &pe) != 0)
        return 0; /* may push, or the server cannot say: the write will tell */
    err_set(e, EXIT_REFUSED, "the token from %s has no push permission on %s, which %s "
            "needs", c->token_source, repo->full_name, wp_action_name(a));
    err_hint(e, "ask for write access to %s on the forge; Woodpecker syncs it within an hour",
             repo->full_name);
    return -1;
}

int wp_act_send(struct wp_client *c, const struct wp_repo *repo, const struct ci_act_req *req,
                struct ci_act_result *out, struct err *e)
{
    struct wp_write w;
    json_t *vars = NULL;
    memset(out, 0, sizeof(*out));
    if (wp_write_from_req(req, repo, &w, &vars, e) < 0 || check_push(c, repo, w.action, e) < 0) {
        json_decref(vars);
        return -1;
    }
    int rc = wp_write_send(c, repo->id, repo->full_name, &w, e);
    wp_act_result(&w, out);
    if (rc == 0 && w.filtered) {
        err_set(e, EXIT_NOT_FOUND, "no workflow accepts a manual run on branch '%s' (the "
                "server answered 204 Pipeline-Filtered)", w.branch);
        err_hint(e, "a workflow needs 'when: event: manual' (and that branch) to run");
        rc = -1;
    }
    json_decref(vars);
    return rc < 0 ? -1 : 0;
}

int wp_act_request(struct wp_client *c, const struct wp_repo *repo,
                   const struct ci_act_req *req, struct buf *path, struct buf *body,
                   struct err *e)
{
    struct wp_write w;
    json_t *vars = NULL;
    int rc = -1;
    if (wp_write_from_req(req, repo, &w, &vars, e) == 0 && check_push(c, repo, w.action, e) == 0) {
        wp_write_request(repo->id, &w, path, body);
        rc = 0;
    }
    json_decref(vars);
    return rc;
}
