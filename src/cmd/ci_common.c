#include "cmd/ci_common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "git/git.h"
#include "woodpecker/logs.h"

int ci_repo_name(struct cmd_ctx *ctx, char **full_name, struct err *e)
{
    if (ctx->cfg.repo && *ctx->cfg.repo) {
        *full_name = xstrdup(ctx->cfg.repo);
        return 0;
    }
    char *remote = NULL, *url = NULL;
    if (git_choose_remote(NULL, ctx->cfg.remote, &remote, e) < 0) {
        if (e->code == EXIT_NOT_FOUND && strstr(e->msg, "not a git repository")) {
            err_set(e, EXIT_NOT_FOUND, "not in a git repository and no repo given");
            err_hint(e, "run inside a clone, or pass --repo OWNER/NAME (HOMELAB_REPO, ci.repo)");
        }
        return -1;
    }
    int rc = git_remote_url(NULL, remote, &url, e);
    if (rc == 0 && git_remote_full_name(url, full_name) < 0)
        rc = err_set(e, EXIT_NOT_FOUND, "cannot tell the repo from remote '%s' (%s)", remote,
                     url);
    if (rc < 0 && e->code == EXIT_NOT_FOUND && !e->hint[0])
        err_hint(e, "pass --repo OWNER/NAME (HOMELAB_REPO, ci.repo)");
    free(remote);
    free(url);
    return rc;
}

int ci_session_open(struct cmd_ctx *ctx, struct ci_session *s)
{
    memset(s, 0, sizeof(*s));
    char *name = NULL;
    if (ci_repo_name(ctx, &name, &ctx->err) < 0)
        return -1;
    if (wp_client_open(&s->client, &ctx->cfg, ctx->g.verbose, &ctx->err) < 0) {
        free(name);
        return -1;
    }
    int rc = wp_repo_lookup(&s->client, name, &s->repo, &ctx->err);
    free(name);
    if (rc < 0) {
        wp_client_close(&s->client);
        return -1;
    }
    return 0;
}

void ci_session_close(struct ci_session *s)
{
    wp_repo_release(&s->repo);
    wp_client_close(&s->client);
}

static int parse_number(const char *s, long long *n)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -1;
    long long v = strtoll(s, &end, 10);
    if (*end || v <= 0)
        return -1;
    *n = v;
    return 0;
}

int ci_target_parse(const char *arg, struct ci_target *t, struct err *e)
{
    memset(t, 0, sizeof(*t));
    const char *rev = arg ? arg : "HEAD";
    if (rev[0] == '#') {
        if (parse_number(rev + 1, &t->number) < 0)
            return err_set(e, EXIT_USAGE, "'%s' is not a pipeline number (#N)", rev);
        snprintf(t->label, sizeof(t->label), "#%lld", t->number);
        return 0;
    }
    if (!*rev || rev[0] == '-')
        return err_set(e, EXIT_USAGE, "'%s' is not a revision", rev);
    struct err gerr;
    err_clear(&gerr);
    if (git_rev_parse_commit(NULL, rev, &t->sha, &gerr) < 0) {
        /* a commit the local clone has not fetched: use the id as a prefix */
        if (!git_is_hex_id(rev)) {
            *e = gerr;
            if (strstr(e->msg, "not a git repository")) {
                err_set(e, EXIT_NOT_FOUND, "not in a git repository, so '%s' means nothing",
                        rev);
                err_hint(e, "give a commit id (7+ hex digits) or #N, with --repo OWNER/NAME");
            } else if (e->code == EXIT_NOT_FOUND) {
                err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", rev);
            }
            return -1;
        }
        t->sha = xstrdup(rev);
        for (char *p = t->sha; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    snprintf(t->label, sizeof(t->label), "%.7s", t->sha);
    return 0;
}

void ci_target_release(struct ci_target *t)
{
    free(t->sha);
    t->sha = NULL;
}

int ci_find(struct ci_session *s, const struct ci_target *t, struct wp_pipeline *p,
            struct err *e)
{
    long long number = t->number;
    if (!number) {
        struct wp_pipeline item;
        long long newest = 0;
        int rc = wp_find_pipeline(&s->client, s->repo.id, t->sha, &item, &newest, e);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            if (newest)
                err_set(e, EXIT_NOT_FOUND, "no pipeline for commit %s in %s (newest is #%lld)",
                        t->label, s->repo.full_name, newest);
            else
                err_set(e, EXIT_NOT_FOUND, "no pipeline for commit %s in %s (it has none yet)",
                        t->label, s->repo.full_name);
            return 0;
        }
        number = item.number;
        wp_pipeline_release(&item);
    }
    if (wp_get_pipeline(&s->client, s->repo.id, number, p, e) < 0)
        return e->code == EXIT_NOT_FOUND ? 0 : -1;
    return 1;
}

/* ---- rendering ---- */

const char *ci_status_color(const char *status, int color)
{
    if (!color)
        return "";
    if (!strcmp(status, "success"))
        return "\033[32m";
    if (wp_status_failed(status))
        return "\033[31m";
    if (!strcmp(status, "running"))
        return "\033[33m";
    if (!strcmp(status, "blocked"))
        return "\033[35m";
    return "\033[2m";
}

static const char *reset(int color)
{
    return color ? "\033[0m" : "";
}

static void timing(long long created, long long started, long long finished, long long now,
                   char *out, size_t outlen)
{
    char d[32];
    if (finished && started) {
        wp_format_duration(finished - started, d, sizeof(d));
        snprintf(out, outlen, "%s", d);
    } else if (started) {
        wp_format_duration(now - started, d, sizeof(d));
        snprintf(out, outlen, "running %s", d);
    } else {
        wp_format_duration(now - created, d, sizeof(d));
        snprintf(out, outlen, "queued %s", d);
    }
}

void ci_summary_line(const struct wp_pipeline *p, long long now, struct buf *out)
{
    char t[48], msg[80];
    timing(p->created, p->started, p->finished, now, t, sizeof(t));
    wp_first_line(p->message, 72, msg, sizeof(msg));
    buf_addf(out, "#%lld %s %s %s %.7s %s %s", p->number, p->status, p->event,
             p->branch[0] ? p->branch : "-", p->commit, t, msg);
    while (out->len && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
}

static void step_line(const struct wp_step *st, long long now, int color, struct buf *out)
{
    char d[32] = "";
    if (st->started)
        wp_format_duration(wp_elapsed(st->started, st->finished, now), d, sizeof(d));
    buf_addf(out, "    %-24s %s%-8s%s %6s", st->name, ci_status_color(st->state, color),
             st->state, reset(color), d);
    if (wp_status_failed(st->state) && st->exit_code)
        buf_addf(out, "  exit %d", st->exit_code);
    if (st->error[0]) {
        char e[120];
        wp_first_line(st->error, 100, e, sizeof(e));
        buf_addf(out, "  %s", e);
    }
    buf_addc(out, '\n');
}

void ci_render_tree(const struct wp_pipeline *p, long long now, int color, struct buf *out)
{
    if (p->errors) {
        char e[200];
        wp_first_line(p->errors, 180, e, sizeof(e));
        buf_addf(out, "  error: %s\n", e);
    }
    for (size_t i = 0; i < p->nworkflows; i++) {
        const struct wp_workflow *w = &p->workflows[i];
        char d[32] = "";
        if (w->started)
            wp_format_duration(wp_elapsed(w->started, w->finished, now), d, sizeof(d));
        buf_addf(out, "  %-26s %s%-8s%s %6s\n", w->name, ci_status_color(w->state, color),
                 w->state, reset(color), d);
        for (size_t k = 0; k < w->nsteps; k++)
            step_line(&w->steps[k], now, color, out);
    }
}

void ci_pipeline_url(const struct ci_session *s, long long number, struct buf *out)
{
    buf_addf(out, "%s/repos/%lld/pipeline/%lld", s->client.server, s->repo.id, number);
}

static json_t *step_json(const struct wp_step *st)
{
    return json_pack("{s:I, s:i, s:s, s:s, s:i, s:s, s:I, s:I, s:s}", "id", (json_int_t)st->id,
                     "pid", st->pid, "name", st->name, "state", st->state, "exit_code",
                     st->exit_code, "error", st->error, "started", (json_int_t)st->started,
                     "finished", (json_int_t)st->finished, "type", st->type);
}

static json_t *workflow_json(const struct wp_workflow *w)
{
    json_t *steps = json_array();
    for (size_t k = 0; k < w->nsteps; k++)
        json_array_append_new(steps, step_json(&w->steps[k]));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "name", w->name, "state", w->state,
                     "error", w->error, "started", (json_int_t)w->started, "finished",
                     (json_int_t)w->finished, "steps", steps);
}

json_t *ci_pipeline_json(const struct ci_session *s, const struct wp_pipeline *p)
{
    struct buf url;
    buf_init(&url, 0);
    ci_pipeline_url(s, p->number, &url);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}",
                          "number", (json_int_t)p->number, "status", p->status, "event",
                          p->event, "branch", p->branch, "commit", p->commit, "message",
                          p->message, "author", p->author, "ref", p->ref, "parent",
                          (json_int_t)p->parent, "created", (json_int_t)p->created, "started",
                          (json_int_t)p->started, "finished", (json_int_t)p->finished, "url",
                          url.data);
    buf_release(&url);
    if (p->errors)
        json_object_set_new(j, "error", json_string(p->errors));
    if (p->has_workflows) {
        json_t *wfs = json_array();
        for (size_t i = 0; i < p->nworkflows; i++)
            json_array_append_new(wfs, workflow_json(&p->workflows[i]));
        json_object_set_new(j, "workflows", wfs);
    }
    return j;
}

/* ---- log tails ---- */

/* Keeps the last `max` rendered lines in a ring. */
struct tail {
    struct log_decoder dec;
    struct log_render render;
    struct buf line;
    char **ring;
    size_t max, count, next;
};

static void tail_push(struct tail *t, const char *s, size_t len)
{
    if (!t->max)
        return;
    free(t->ring[t->next]);
    t->ring[t->next] = xstrndup(s, len);
    t->next = (t->next + 1) % t->max;
    if (t->count < t->max)
        t->count++;
}

/* Splits rendered text into lines (without their '\n') and keeps them. */
static void tail_take(struct tail *t)
{
    size_t start = 0;
    for (size_t i = 0; i < t->line.len; i++)
        if (t->line.data[i] == '\n') {
            tail_push(t, t->line.data + start, i - start);
            start = i + 1;
        }
    buf_consume(&t->line, start);
}

static int tail_on_entry(void *ctx, const struct log_entry *entry)
{
    struct tail *t = ctx;
    log_render_entry(&t->render, entry, &t->line);
    tail_take(t);
    return 0;
}

static int tail_on_data(void *ud, const char *data, size_t len)
{
    struct tail *t = ud;
    struct err e;
    err_clear(&e);
    return log_decoder_feed(&t->dec, data, len, &e) < 0;
}

static void tail_reset(struct tail *t, int keep_color)
{
    for (size_t i = 0; i < t->max; i++) {
        free(t->ring[i]);
        t->ring[i] = NULL;
    }
    t->count = t->next = 0;
    buf_reset(&t->line);
    log_decoder_release(&t->dec);
    log_render_release(&t->render);
    log_decoder_init(&t->dec, 0, tail_on_entry, t);
    log_render_init(&t->render, keep_color ? LOG_RENDER_COLOR : 0);
}

/* One attempt: 1 got lines, 0 empty (worth retrying), -1 final error. */
static int tail_fetch(struct ci_session *s, const char *path, struct tail *t, int keep_color,
                      struct err *e)
{
    struct http_response r;
    http_response_init(&r, 0);
    tail_reset(t, keep_color);
    struct err attempt;
    err_clear(&attempt);
    int rc = http_request(&s->client.http, path, NULL, tail_on_data, t, &r, &attempt);
    int got = 0;
    if (rc < 0) {
        *e = attempt;
        got = attempt.code == EXIT_REFUSED ? -1 : 0;
    } else if (r.status == 401 || r.status == 403 || r.status == 404) {
        got = err_set(e, r.status == 404 ? EXIT_NOT_FOUND : EXIT_REFUSED,
                      "the log endpoint answered HTTP %ld", r.status);
    } else if (r.status == 200 && log_decoder_finish(&t->dec, &attempt) == 0) {
        log_render_flush(&t->render, &t->line);
        if (t->line.len)
            buf_addc(&t->line, '\n');
        tail_take(t);
        got = t->count > 0;
    } else {
        err_set(e, EXIT_UNAVAILABLE, "the log endpoint answered HTTP %ld%s%s", r.status,
                attempt.msg[0] ? ": " : "", attempt.msg);
    }
    http_response_release(&r);
    return got;
}

int ci_log_tail(struct ci_session *s, long long number, long long step_id, size_t n,
                int keep_color, struct strvec *lines, struct err *e)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/repos/%lld/logs/%lld/%lld", s->repo.id, number,
             step_id);
    struct tail t;
    memset(&t, 0, sizeof(t));
    t.max = n;
    t.ring = xcalloc(n ? n : 1, sizeof(*t.ring));
    buf_init(&t.line, 4u << 20);
    log_decoder_init(&t.dec, 0, tail_on_entry, &t);
    log_render_init(&t.render, 0);
    int got = 0;
    err_clear(e);
    /* the endpoint answers empty bodies now and then: retry a little */
    for (int attempt = 0; attempt < 4; attempt++) {
        got = tail_fetch(s, path, &t, keep_color, e);
        if (got != 0)
            break;
        clock_sleep(http_backoff_delay(attempt, 0.3, 2));
    }
    for (size_t i = 0; i < t.count; i++)
        strvec_push(lines, t.ring[(t.next + t.max - t.count + i) % t.max]);
    for (size_t i = 0; i < t.max; i++)
        free(t.ring[i]);
    free(t.ring);
    buf_release(&t.line);
    log_decoder_release(&t.dec);
    log_render_release(&t.render);
    if (got < 0)
        return -1;
    if (got == 0 && e->code && e->code != EXIT_UNAVAILABLE)
        return -1;
    err_clear(e);
    return 0;
}
