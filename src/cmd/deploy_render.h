/*
 * deploy_render: the text of `deploy wait` and `deploy status`.
 *
 * Every string that came from the cluster (names, reasons, messages,
 * images) is escaped by the sanitizer and kept on one line; colour comes
 * only from term_paint() and only when view->color is set.
 */
#ifndef HOMELAB_DEPLOY_RENDER_H
#define HOMELAB_DEPLOY_RENDER_H

#include <jansson.h>

#include "core/buf.h"
#include "core/term.h"
#include "kube/eval.h"

/* What the renderers show; everything borrowed. */
struct deploy_view {
    const char *label;               /* "deployment apps/web" */
    const char *sha;                 /* the commit waited for, "" for none */
    const struct eval_verdict *v;
    double t0;                       /* clock_now() at the start */
    int color;                       /* SGR colours allowed */
    int utf8;                        /* the terminal takes UTF-8 marks */
};

/*
 * Appends server text on one line, escaped: nothing in it can move the
 * cursor, retitle the window or hide text; newlines and tabs become
 * spaces (the live region counts columns).
 */
void deploy_add_safe(struct buf *out, const char *s, size_t len);
void deploy_add_safes(struct buf *out, const char *s);

/* "LABEL WORD (SHA): REASON", the summary of a result. */
void deploy_render_summary(const struct deploy_view *d, const char *word, struct buf *out);
/* "LABEL: PHASE: REASON", one plain progress line. */
void deploy_render_progress(const struct deploy_view *d, struct buf *out);
/*
 * The live region's frame at `now` (clock_now()): a spinner (or the final
 * mark for `code` when `final`), label, short sha, phase, elapsed time,
 * image, replicas and reason lines.
 */
void deploy_render_frame(const struct deploy_view *d, int final, int code, double now,
                         struct buf *f);
/* One failure: what, where, restarts, and its log `lines` (or NULL) from the `which` instance. */
void deploy_render_failure(const struct deploy_view *d, const struct eval_failure *f,
                           const json_t *lines, const char *which, struct buf *b);

#endif
