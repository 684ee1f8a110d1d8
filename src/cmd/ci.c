/*
 * ci status / ci list: one look at the pipelines of the current repo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/ci_common.h"
#include "cmd/cmd.h"
#include "core/clock.h"

const struct opt ci_status_opts[] = {
    { "event", OPT_STRING, &ci_gh_opts.event, "NAME", "GitHub: runs of this event (default push; any)" },
    OPT_END,
};

static struct {
    long limit;
    const char *branch, *status, *event;
} list_opts = { 10, NULL, NULL, NULL };

const struct opt ci_list_opts[] = {
    { "limit", OPT_INT, &list_opts.limit, "N", "how many pipelines (default 10)" },
    { "branch", OPT_STRING, &list_opts.branch, "BRANCH", "only this branch" },
    { "status", OPT_STRING, &list_opts.status, "STATUS", "only this status (success, failure…)" },
    { "event", OPT_STRING, &list_opts.event, "EVENT", "only these events (push,tag,…)" },
    OPT_END,
};

static void print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_COMPACT);
    fputc('\n', stdout);
}

static int one_positional(struct cmd_ctx *ctx, const char **arg)
{
    if (ctx->npos > 1)
        return err_set(&ctx->err, EXIT_USAGE, "'%s' takes at most one REV or #N, got '%s'",
                       ctx->cmd->path, ctx->pos[1]);
    *arg = ctx->npos ? ctx->pos[0] : NULL;
    return 0;
}

int cmd_ci_status(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh < 0)
        return ctx->err.code;
    if (gh)
        return ci_gh_status(ctx);
    const char *arg = NULL;
    struct ci_target t;
    struct ci_session s;
    struct wp_pipeline p;
    /* git rev-parse runs while the remote is read (two git processes side by side) */
    if (one_positional(ctx, &arg) < 0 || ci_target_start(arg, &t, &ctx->err) < 0)
        return ctx->err.code;
    if (ci_session_open_target(ctx, &s, &t) < 0) {
        ci_target_release(&t);
        return ctx->err.code;
    }
    int found = ci_find(&s, &t, &p, &ctx->err);
    int code = found == 1 ? EXIT_OK : ctx->err.code;
    if (found == 1) {
        long long now = (long long)clock_wall();
        if (ctx->mode == OUTPUT_JSON) {
            json_t *j = json_pack("{s:{s:I, s:s}, s:o}", "repo", "id", (json_int_t)s.repo.id,
                                  "full_name", s.repo.full_name, "pipeline",
                                  ci_pipeline_json(&s, &p));
            print_json(j);
            json_decref(j);
        } else {
            struct buf out;
            buf_init(&out, 0);
            ci_summary_line(&p, now, &out);
            puts(out.data);
            if (ctx->mode == OUTPUT_TTY) {
                buf_reset(&out);
                ci_render_tree(&p, now, ctx->color, &out);
                fflush(stdout);
                fputs(out.data, stderr);
            }
            buf_release(&out);
        }
        wp_pipeline_release(&p);
    }
    ci_session_close(&s);
    ci_target_release(&t);
    return code;
}

/* ---- ci list ---- */

/* GitHub reads the same flags: --limit, --branch, --status, --event (one
 * event name); they go to the API as query parameters. */
static int list_github(struct cmd_ctx *ctx)
{
    ci_gh_opts.event = list_opts.event;
    ci_gh_opts.limit = list_opts.limit;
    ci_gh_opts.branch = list_opts.branch;
    ci_gh_opts.status = list_opts.status;
    return ci_gh_list(ctx);
}

static void list_row(const struct wp_pipeline *p, long long now, int color, struct buf *out)
{
    char age[32], dur[32] = "-", msg[64];
    wp_format_duration(now - p->created, age, sizeof(age));
    if (p->started)
        wp_format_duration(wp_elapsed(p->started, p->finished, now), dur, sizeof(dur));
    wp_first_line(p->message, 50, msg, sizeof(msg));
    buf_addf(out, "%-6lld ", p->number);
    ci_paint_status(out, color, p->status, 9);
    buf_addf(out, " %-12s %-20.20s %-8.7s %-8s %-8s %s\n", p->event, p->branch, p->commit, age,
             dur, msg);
}

static int collect_pipelines(struct ci_session *s, const struct wp_list_filter *f, long limit,
                             json_t *all, struct err *e)
{
    for (int page = 1; (long)json_array_size(all) < limit; page++) {
        json_t *items = NULL;
        long want = limit - (long)json_array_size(all);
        int per_page = want >= WP_MAX_PER_PAGE ? WP_MAX_PER_PAGE : (int)want;
        /* page sizes must stay equal across pages for offsets to line up */
        if (limit > WP_MAX_PER_PAGE)
            per_page = WP_MAX_PER_PAGE;
        if (wp_list_pipelines(&s->client, s->repo.id, f, page, per_page, &items, e) < 0)
            return -1;
        size_t n = json_array_size(items);
        for (size_t i = 0; i < n && (long)json_array_size(all) < limit; i++)
            json_array_append(all, json_array_get(items, i));
        json_decref(items);
        if ((int)n < per_page)
            break;
    }
    return 0;
}

static const char *const known_statuses[] = { "created", "pending", "running", "blocked",
    "success", "failure", "killed", "canceled", "error", "declined", "skipped", NULL };
static const char *const known_events[] = { "push", "pull_request", "pull_request_closed",
    "pull_request_metadata", "tag", "release", "deployment", "cron", "manual", NULL };

static int known(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(v, *set))
            return 1;
    return 0;
}

static int check_filter_values(struct err *e)
{
    if (list_opts.status && !known(list_opts.status, known_statuses))
        return err_set(e, EXIT_USAGE, "--status '%s' is not a pipeline status (success, "
                       "failure, running, pending, blocked, killed, canceled, error, declined, "
                       "skipped, created)", list_opts.status);
    if (!list_opts.event)
        return 0;
    char *events = xstrdup(list_opts.event), *save = NULL;
    int rc = 0;
    for (char *ev = strtok_r(events, ",", &save); ev; ev = strtok_r(NULL, ",", &save))
        if (!known(ev, known_events))
            rc = err_set(e, EXIT_USAGE, "--event '%s' is not an event (push, pull_request, "
                         "tag, release, deployment, cron, manual…)", ev);
    free(events);
    return rc;
}

int cmd_ci_list(struct cmd_ctx *ctx)
{
    int gh = ci_github_selected(ctx);
    if (gh < 0)
        return ctx->err.code;
    if (gh)
        return list_github(ctx);
    if (check_filter_values(&ctx->err) < 0)
        return EXIT_USAGE;
    if (ctx->npos)
        return err_fail(&ctx->err, EXIT_USAGE, "'ci list' takes no arguments, got '%s'",
                       ctx->pos[0]);
    if (list_opts.limit < 1)
        return err_fail(&ctx->err, EXIT_USAGE, "--limit must be at least 1");
    struct ci_session s;
    if (ci_session_open(ctx, &s) < 0)
        return ctx->err.code;
    struct wp_list_filter f = { list_opts.branch, list_opts.status, list_opts.event };
    json_t *all = json_array();
    int code = EXIT_OK;
    if (collect_pipelines(&s, &f, list_opts.limit, all, &ctx->err) < 0) {
        code = ctx->err.code;
    } else if (ctx->mode == OUTPUT_JSON) {
        json_t *out = json_array();
        size_t i;
        json_t *it;
        json_array_foreach(all, i, it) {
            struct wp_pipeline p;
            if (wp_pipeline_from_json(it, &p) == 0)
                json_array_append_new(out, ci_pipeline_json(&s, &p));
            wp_pipeline_release(&p);
        }
        print_json(out);
        json_decref(out);
    } else {
        long long now = (long long)clock_wall();
        struct buf out;
        buf_init(&out, 0);
        buf_addf(&out, "%-6s %-9s %-12s %-20s %-8s %-8s %-8s %s\n", "#", "STATUS", "EVENT",
                 "BRANCH", "COMMIT", "AGE", "TOOK", "MESSAGE");
        size_t i;
        json_t *it;
        json_array_foreach(all, i, it) {
            struct wp_pipeline p;
            if (wp_pipeline_from_json(it, &p) == 0)
                list_row(&p, now, ctx->color && ctx->stdout_tty, &out);
            wp_pipeline_release(&p);
        }
        fputs(out.data, stdout);
        buf_release(&out);
    }
    json_decref(all);
    ci_session_close(&s);
    return code;
}
