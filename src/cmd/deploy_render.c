/*
 * deploy_render: what `deploy wait` and `deploy status` show, as pure
 * functions of a deploy_view (no clock, no terminal, no cluster), so unit
 * tests render into a struct buf and compare text.
 */
#include "cmd/deploy_render.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/sanitize.h"
#include "kube/image.h"

/*
 * Appends server text (names, reasons, messages) on one line, escaped by
 * the sanitizer: nothing in it can move the cursor, retitle the window or
 * hide text. Newlines and tabs become spaces (the live region counts
 * columns; a tab would break that).
 */
void deploy_add_safe(struct buf *out, const char *s, size_t len)
{
    size_t start = out->len;
    sanitize_append(out, s, len, SANITIZE_DROP_SGR);
    for (size_t i = start; i < out->len; i++)
        if (out->data[i] == '\n' || out->data[i] == '\t')
            out->data[i] = ' ';
}

void deploy_add_safes(struct buf *out, const char *s)
{
    deploy_add_safe(out, s, strlen(s));
}

static const char *short_sha(const struct deploy_view *d, char *dst, size_t n)
{
    snprintf(dst, n, "%.7s", d->sha);
    return dst;
}

static enum term_color phase_color(enum eval_phase p)
{
    switch (p) {
    case EVAL_COMPLETE: return TERM_GREEN;
    case EVAL_FAILED:
    case EVAL_SUPERSEDED: return TERM_RED;
    case EVAL_NEEDS_PERSON: return TERM_YELLOW;
    default: return TERM_CYAN;
    }
}

/* "LABEL WORD (SHA): REASON", the summary of a result. */
void deploy_render_summary(const struct deploy_view *d, const char *word, struct buf *out)
{
    char sh[16];
    buf_addf(out, "%s %s", d->label, word);
    if (d->sha[0])
        buf_addf(out, " (%s)", short_sha(d, sh, sizeof(sh)));
    buf_adds(out, ": ");
    deploy_add_safes(out, d->v->reason);
}

void deploy_render_progress(const struct deploy_view *d, struct buf *out)
{
    buf_addf(out, "%s: %s: ", d->label, eval_phase_name(d->v->phase));
    deploy_add_safes(out, d->v->reason);
}

void deploy_render_frame(const struct deploy_view *d, int final, int code, double now,
                         struct buf *f)
{
    int color = d->color;
    char dur[32], sh[16];
    term_fmt_duration(dur, sizeof(dur), now - d->t0);
    if (final)
        term_paint(f, color, code == EXIT_OK ? TERM_GREEN : TERM_RED,
                   code == EXIT_OK ? (d->utf8 ? "\xe2\x9c\x93" : "ok")
                                   : (d->utf8 ? "\xe2\x9c\x97" : "x"));
    else
        term_paint(f, color, TERM_CYAN, term_spinner(d->utf8, now));
    buf_adds(f, " ");
    term_paint(f, color, TERM_BOLD, d->label);
    if (d->sha[0])
        buf_addf(f, "  %s", short_sha(d, sh, sizeof(sh)));
    buf_adds(f, "  ");
    term_paint(f, color, phase_color(d->v->phase), eval_phase_name(d->v->phase));
    buf_adds(f, "  ");
    term_paint(f, color, TERM_DIM, dur);
    buf_adds(f, "\n  image     ");
    deploy_add_safes(f, d->v->image[0] ? d->v->image : "?");
    if (d->sha[0])
        buf_addf(f, "  (%s)", image_match_name(d->v->image_match));
    buf_addf(f, "\n  replicas  %ld desired, %ld updated, %ld ready, %ld available", d->v->desired,
             d->v->updated, d->v->ready, d->v->available);
    if (d->v->old_pods)
        buf_addf(f, ", %ld old pod%s", d->v->old_pods, d->v->old_pods == 1 ? "" : "s");
    buf_adds(f, "\n  ");
    struct buf reason;
    buf_init(&reason, 0);
    deploy_add_safes(&reason, d->v->reason);
    term_paint(f, color, d->v->phase == EVAL_FAILED ? TERM_RED : TERM_PLAIN, reason.data);
    buf_release(&reason);
    buf_addc(f, '\n');
}

/* One failure for the terminal: what, where, restarts, and its log lines (or NULL). */
void deploy_render_failure(const struct deploy_view *d, const struct eval_failure *f,
                           const json_t *lines, const char *which, struct buf *b)
{
    int color = d->color;
    if (f->pod[0]) {
        buf_adds(b, "pod ");
        deploy_add_safes(b, f->pod);
    } else {
        buf_adds(b, d->label);
    }
    if (f->container[0]) {
        buf_addf(b, ", %scontainer ", f->init ? "init " : "");
        deploy_add_safes(b, f->container);
    }
    buf_adds(b, ": ");
    struct buf r;
    buf_init(&r, 0);
    deploy_add_safes(&r, f->reason);
    term_paint(b, color, TERM_RED, r.data);
    buf_release(&r);
    buf_addc(b, '\n');
    if (f->message[0]) {
        buf_adds(b, "  ");
        deploy_add_safes(b, f->message);
        buf_addc(b, '\n');
    }
    if (f->container[0]) {
        buf_addf(b, "  restarts %ld", f->restarts);
        if (f->last_reason[0]) {
            buf_adds(b, ", last termination ");
            deploy_add_safes(b, f->last_reason);
            if (f->last_exit_code >= 0)
                buf_addf(b, " (exit %d)", f->last_exit_code);
        }
        buf_addc(b, '\n');
    }
    if (lines) {
        size_t n = json_array_size(lines);
        buf_addf(b, "  last %zu log line%s (%s instance):\n", n, n == 1 ? "" : "s", which);
        for (size_t k = 0; k < n; k++) {
            term_paint(b, color, TERM_DIM, "  | ");
            buf_adds(b, json_string_value(json_array_get(lines, k)));
            buf_addc(b, '\n');
        }
        if (!n)
            buf_adds(b, "  (the log is empty)\n");
    }
}
