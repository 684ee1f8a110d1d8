#include "cmd/ci_common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/linering.h"
#include "core/term.h"
#include "git/git.h"
#include "woodpecker/logs.h"

int ci_repo_name(struct cmd_ctx *ctx, char **full_name, struct err *e)
{
    if (ctx->cfg.repo && *ctx->cfg.repo) {
        *full_name = xstrdup(ctx->cfg.repo);
        return 0;
    }
    char *remote = NULL, *url = NULL;
    /* one git process for the remote and its URL */
    if (git_choose_remote_url(&git_here, ctx->cfg.remote, &remote, &url, e) < 0) {
        if (e->kind == ERR_NOT_A_REPO) {
            err_set_kind(e, ERR_NOT_A_REPO, EXIT_NOT_FOUND,
                         "not in a git repository and no repo given");
            err_hint(e, "run inside a clone, or pass --repo OWNER/NAME (HOMELAB_REPO, ci.repo)");
        }
        return -1;
    }
    int rc = 0;
    if (git_remote_full_name(url, full_name) < 0)
        /* the URL itself may carry user:password@, so it is not shown */
        rc = err_set(e, EXIT_NOT_FOUND, "cannot tell OWNER/NAME from the URL of remote '%s'",
                     remote);
    if (rc < 0 && e->code == EXIT_NOT_FOUND && !e->hint[0])
        err_hint(e, "pass --repo OWNER/NAME (HOMELAB_REPO, ci.repo)");
    free(remote);
    free(url);
    return rc;
}

int ci_session_open_target(struct cmd_ctx *ctx, struct ci_session *s, struct ci_target *t)
{
    memset(s, 0, sizeof(*s));
    char *name = NULL;
    int rc = ci_repo_name(ctx, &name, &ctx->err);
    if (t && t->job) {
        /* the target's error comes first, as when it was resolved first */
        struct err te;
        err_clear(&te);
        if (ci_target_finish(t, &te) < 0) {
            ctx->err = te;
            free(name);
            return -1;
        }
    }
    if (rc < 0)
        return -1;
    if (wp_client_open(&s->client, &ctx->cfg, ctx->g.verbose, &ctx->err) < 0) {
        free(name);
        return -1;
    }
    /* --timeout bounds the whole verb, the repo lookup's retries included */
    if (cmd_timeout(ctx) > 0)
        s->client.http.deadline = clock_now() + cmd_timeout(ctx);
    rc = wp_repo_lookup(&s->client, name, &s->repo, &ctx->err);
    free(name);
    if (rc < 0) {
        wp_client_close(&s->client);
        return -1;
    }
    return 0;
}

int ci_session_open(struct cmd_ctx *ctx, struct ci_session *s)
{
    return ci_session_open_target(ctx, s, NULL);
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

int ci_target_start(const char *arg, struct ci_target *t, struct err *e)
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
    t->job = xcalloc(1, sizeof(*t->job));
    git_rev_parse_commit_start(&git_here, rev, t->job);
    return 0;
}

int ci_target_finish(struct ci_target *t, struct err *e)
{
    if (!t->job)
        return 0;
    struct git_rev_job *job = t->job;
    t->job = NULL;
    char *rev = xstrdup(job->rev);
    struct err gerr;
    err_clear(&gerr);
    int rc = 0;
    if (git_rev_parse_finish(job, &t->sha, &gerr) < 0) {
        /* a commit the local clone has not fetched: use the id as a prefix */
        if (!git_is_hex_id(rev)) {
            *e = gerr;
            if (e->kind == ERR_NOT_A_REPO) {
                err_set_kind(e, ERR_NOT_A_REPO, EXIT_NOT_FOUND,
                             "not in a git repository, so '%s' means nothing", rev);
                err_hint(e, "give a commit id (7+ hex digits) or #N, with --repo OWNER/NAME");
            } else if (e->code == EXIT_NOT_FOUND && rev[strspn(rev, "0123456789")] == '\0') {
                /* `ci status #60` unquoted: the shell made #60 a comment,
                 * or the '#' was left out */
                err_set(e, EXIT_USAGE, "unknown revision '%s'", rev);
                err_hint(e, "did you mean pipeline #%s? (quote it: '#%s')", rev, rev);
            } else if (e->code == EXIT_NOT_FOUND) {
                err_set(e, EXIT_NOT_FOUND, "unknown revision '%s'", rev);
            }
            rc = -1;
        } else {
            t->sha = xstrdup(rev);
            for (char *p = t->sha; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
    }
    if (rc == 0)
        snprintf(t->label, sizeof(t->label), "%.7s", t->sha);
    free(rev);
    free(job);
    return rc;
}

int ci_target_parse(const char *arg, struct ci_target *t, struct err *e)
{
    if (ci_target_start(arg, t, e) < 0)
        return -1;
    return ci_target_finish(t, e);
}

void ci_target_release(struct ci_target *t)
{
    if (t->job) {
        struct err ignored;
        err_clear(&ignored);
        ci_target_finish(t, &ignored);
    }
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

enum term_color ci_status_tone(const char *status)
{
    if (!strcmp(status, "success"))
        return TERM_GREEN;
    if (wp_status_failed(status))
        return TERM_RED;
    if (!strcmp(status, "running"))
        return TERM_YELLOW;
    if (!strcmp(status, "blocked"))
        return TERM_MAGENTA;
    return TERM_DIM;
}

void ci_paint_status(struct buf *out, int color, const char *status, int width)
{
    term_paintf(out, color, ci_status_tone(status), "%-*s", width, status);
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
    buf_addf(out, "    %-24s ", st->name);
    ci_paint_status(out, color, st->state, 8);
    buf_addf(out, " %6s", d);
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
        buf_addf(out, "  %-26s ", w->name);
        ci_paint_status(out, color, w->state, 8);
        buf_addf(out, " %6s\n", d);
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

/* ---- stored step logs ---- */

unsigned long long ci_log_max_bytes(void)
{
    const char *v = getenv("HOMELAB_MAX_LOG"); /* test hook */
    char *end;
    unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
    return n && !*end ? n : CI_LOG_MAX_BYTES;
}

/* One attempt's state, shared with the libcurl callback. */
struct read_attempt {
    struct ci_log_read *rd;
    struct http_response *r;
    struct log_decoder dec;
    long long seen;          /* entries decoded in this attempt */
    unsigned long long max;
    int started;             /* the first call with data was checked */
    int oversize;
    int stopped;             /* a callback asked to stop */
    int interrupted;
    int not_json;
};

static int read_on_entry(void *ctx, const struct log_entry *entry)
{
    struct read_attempt *a = ctx;
    /* a retry resumes after what an earlier attempt delivered */
    if (a->seen++ < a->rd->entries)
        return 0;
    a->rd->entries++;
    if (a->rd->on_entry(a->rd->ctx, entry)) {
        a->stopped = 1;
        return 1;
    }
    return 0;
}

static int read_on_data(void *ud, const char *data, size_t len)
{
    struct read_attempt *a = ud;
    if (term_interrupted()) {
        a->interrupted = 1;
        return 1;
    }
    if (!data)
        return 0;
    if (a->r->status != 200)
        return 0; /* an error page: not a log; the status decides */
    if (!a->started) {
        a->started = 1;
        if (a->r->content_length >= 0 && (unsigned long long)a->r->content_length > a->max) {
            a->oversize = 1;
            return 1;
        }
        if (a->r->content_type[0] && !http_is_json_type(a->r->content_type)) {
            a->not_json = 1;
            return 1;
        }
    }
    a->rd->bytes += len;
    if (a->rd->bytes > a->max) {
        a->oversize = 1;
        return 1;
    }
    struct err e;
    err_clear(&e);
    int rc = log_decoder_feed(&a->dec, data, len, &e);
    if (rc > 0 || a->stopped) {
        a->stopped = 1;
        return 1;
    }
    if (rc < 0)
        return 1; /* log_decoder_finish() reports it */
    if (a->rd->on_chunk && a->rd->on_chunk(a->rd->ctx)) {
        a->stopped = 1;
        return 1;
    }
    return 0;
}

static void size_text(unsigned long long n, char *out, size_t outlen)
{
    if (n >= 1u << 20)
        snprintf(out, outlen, "%.0f MiB", (double)n / (1u << 20));
    else
        snprintf(out, outlen, "%llu bytes", n);
}

enum attempt_result { ATTEMPT_DONE, ATTEMPT_EMPTY, ATTEMPT_RETRY, ATTEMPT_FINAL };

/* One GET; `why` says what went wrong for RETRY and FINAL (FINAL fills e). */
static enum attempt_result read_once(struct ci_session *s, const char *path,
                                     struct ci_log_read *rd, struct err *why, struct err *e)
{
    struct http_response r;
    struct read_attempt a;
    memset(&a, 0, sizeof(a));
    http_response_init(&r, 1);
    a.rd = rd;
    a.r = &r;
    a.max = rd->max_bytes ? rd->max_bytes : ci_log_max_bytes();
    rd->bytes = 0;
    log_decoder_init(&a.dec, 0, read_on_entry, &a);
    int rc = http_request(&s->client.http, path, NULL, read_on_data, &a, &r, why);
    enum attempt_result res = ATTEMPT_RETRY;
    char cap[32];
    size_text(a.max, cap, sizeof(cap));
    if (a.interrupted) {
        err_set(e, EXIT_INTERRUPTED, "interrupted");
        res = ATTEMPT_FINAL;
    } else if (a.stopped) {
        if (!e->code)
            err_set(e, EXIT_FAILED, "stopped");
        res = ATTEMPT_FINAL;
    } else if (a.oversize) {
        if (r.content_length >= 0 && !rd->bytes)
            err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE, "the log is %lld bytes, over the "
                         "%s limit for a step log; refused", r.content_length, cap);
        else
            err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE, "the log is larger than the %s "
                         "limit for a step log; refused after %s (the output above is "
                         "incomplete)", cap, cap);
        res = ATTEMPT_FINAL;
    } else if (rc < 0) {
        if (why->code == EXIT_REFUSED || why->code == EXIT_INTERRUPTED) {
            *e = *why;
            res = ATTEMPT_FINAL;
        }
    } else if (r.status == 401 || r.status == 403) {
        err_set(e, EXIT_REFUSED, "the log endpoint answered HTTP %ld", r.status);
        err_hint(e, "is the token (%s) still valid?", s->client.token_source);
        res = ATTEMPT_FINAL;
    } else if (r.status == 404 || r.status == 400) {
        err_set(e, EXIT_NOT_FOUND, "the log endpoint answered HTTP %ld (no such step in the "
                "pipeline)", r.status);
        res = ATTEMPT_FINAL;
    } else if (r.status != 200) {
        err_set(why, EXIT_UNAVAILABLE, "the log endpoint answered HTTP %ld", r.status);
    } else if (a.not_json) {
        err_set(why, EXIT_UNAVAILABLE, "the log endpoint answered %s, not JSON",
                r.content_type);
    } else if (!rd->bytes && !a.dec.bytes) {
        res = ATTEMPT_EMPTY; /* an empty 200 body */
    } else if (log_decoder_finish(&a.dec, why) < 0) {
        /* cut or garbled: retry, resuming after what was delivered; but an
         * entry over the size cap will be just as large next time */
        if (a.dec.oversize) {
            *e = *why;
            res = ATTEMPT_FINAL;
        }
    } else {
        res = a.seen ? ATTEMPT_DONE : ATTEMPT_EMPTY;
    }
    log_decoder_release(&a.dec);
    http_response_release(&r);
    return res;
}

int ci_log_read(struct ci_session *s, long long number, long long step_id,
                struct ci_log_read *rd, struct err *e)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/repos/%lld/logs/%lld/%lld", s->repo.id, number,
             step_id);
    int empty_max = rd->empty_attempts > 0 ? rd->empty_attempts : 4;
    int empties = 0;
    double deadline = clock_now() + s->client.http.retry_budget;
    rd->entries = 0;
    for (int attempt = 0;; attempt++) {
        struct err why;
        err_clear(&why);
        enum attempt_result res = read_once(s, path, rd, &why, e);
        if (res == ATTEMPT_DONE)
            return 1;
        if (res == ATTEMPT_FINAL)
            return -1;
        double wait;
        if (res == ATTEMPT_EMPTY && !rd->entries) {
            if (++empties >= empty_max)
                return 0;
            wait = http_backoff_delay(empties - 1, 0.3, 2);
        } else {
            if (res == ATTEMPT_EMPTY) /* entries came before: this answer is the flake */
                err_set(&why, EXIT_UNAVAILABLE, "an empty answer after %lld entries",
                        rd->entries);
            wait = http_backoff_delay(attempt, 0.25, 8);
            if (clock_now() + wait > deadline) {
                err_set(e, EXIT_UNAVAILABLE, "giving up on the step log after %d attempts: %s",
                        attempt + 1, why.msg);
                return -1;
            }
        }
        if (s->client.http.verbose)
            fprintf(stderr, "homelab: retrying the step log in %.1fs: %s\n", wait,
                    why.msg[0] ? why.msg : "empty");
        if (http_wait(&s->client.http, wait, e) < 0)
            return -1;
    }
}

/* ---- log tails ---- */

struct tail {
    struct log_render render;
    struct buf text;
    struct line_ring ring;
};

static int tail_on_entry(void *ctx, const struct log_entry *entry)
{
    struct tail *t = ctx;
    buf_reset(&t->text);
    log_render_entry(&t->render, entry, &t->text);
    line_ring_add(&t->ring, t->text.data, t->text.len);
    return 0;
}

int ci_log_tail(struct ci_session *s, long long number, long long step_id, size_t n,
                int keep_color, struct strvec *lines, struct err *e)
{
    struct tail t;
    log_render_init(&t.render, keep_color ? LOG_RENDER_COLOR : LOG_RENDER_NO_COLOR);
    buf_init(&t.text, 0);
    line_ring_init(&t.ring, n);
    struct ci_log_read rd = { .on_entry = tail_on_entry, .ctx = &t };
    err_clear(e);
    int rc = ci_log_read(s, number, step_id, &rd, e);
    if (rc > 0) {
        buf_reset(&t.text);
        log_render_flush(&t.render, &t.text);
        line_ring_add(&t.ring, t.text.data, t.text.len);
        line_ring_finish(&t.ring);
        for (size_t i = 0; i < t.ring.count; i++) {
            size_t len;
            const char *l = line_ring_get(&t.ring, i, &len);
            strvec_push(lines, l); /* rendered text holds no NUL */
        }
    }
    line_ring_release(&t.ring);
    buf_release(&t.text);
    log_render_release(&t.render);
    return rc < 0 ? -1 : 0;
}
