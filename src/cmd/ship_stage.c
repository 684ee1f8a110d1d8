/*
 * ship_stage: what the two stage followers (ship_wp.c for Woodpecker,
 * ship_gh.c for GitHub Actions) share, so that a stage is set up, recorded
 * and released the same way whichever CI runs it (see cmd/ship_stage.h).
 */
#include "cmd/ship_stage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

void ship_follow_init(struct ship_follow *f, struct cmd_ctx *ctx, const struct ship_stage *st,
                      const char *sha, struct ship_run *r, int quiet)
{
    memset(f, 0, sizeof(*f));
    f->ctx = ctx;
    f->st = st;
    f->sha = sha;
    f->r = r;
    f->quiet = quiet;
    f->started = f->last_ok = clock_now();
    term_init(&f->term, STDERR_FILENO, ctx->color);
}

void ship_follow_release(struct ship_follow *f)
{
    term_plain_release(&f->plain);
    term_release(&f->term);
}

void ship_follow_draw(struct ship_follow *f, ship_frame_fn frame, void *follower, int force)
{
    if (f->quiet || f->ctx->mode != OUTPUT_TTY)
        return;
    struct buf b;
    buf_init(&b, 0);
    double now = clock_now();
    char el[32];
    term_fmt_duration(el, sizeof(el), now - f->started);
    frame(follower, &b, now, el);
    term_live(&f->term, b.data, now, force);
    buf_release(&b);
}

void ship_follow_done(struct ship_follow *f, ship_frame_fn frame, void *follower)
{
    if (f->quiet || f->ctx->mode != OUTPUT_TTY)
        return;
    ship_follow_draw(f, frame, follower, 1);
    term_live_done(&f->term);
}

void ship_follow_report(struct ship_follow *f, struct buf *out, const char *key,
                        json_t *details)
{
    if (f->ctx->mode != OUTPUT_JSON)
        fputs(out->data, stderr);
    buf_release(out);
    f->r->report = json_pack("{s:o}", key, details);
}

int ship_run_unreadable(struct ship_run *r, const struct err *e)
{
    r->code = e->code;
    snprintf(r->status, sizeof(r->status), "%s", exit_code_name(e->code));
    snprintf(r->line, sizeof(r->line), "%s: %s", r->status, e->msg);
    return e->code;
}

void ship_run_none(struct ship_run *r, const char *fmt, ...)
{
    va_list ap;
    snprintf(r->status, sizeof(r->status), "none");
    va_start(ap, fmt);
    vsnprintf(r->line, sizeof(r->line), fmt, ap);
    va_end(ap);
}
