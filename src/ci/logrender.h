/*
 * ci/logrender: log entries (ci/provider.h's struct ci_log_entry) rendered
 * as terminal lines, whichever provider read them:
 *   - output (CI_LOG_OUTPUT): the sanitized line;
 *   - exit code: "[exit code N]" ("?" when empty; never raw);
 *   - metadata: nothing;
 *   - progress: a run of consecutive progress entries shows only its last
 *     one, when the run ends (the next shown entry, or flush).
 * Each line ends in '\n'. CI_LOG_RENDER_TIME prefixes the entry's offset
 * from the step's start, "[  12s] " (an entry with its own time stamp,
 * own_time, shows that instead, and none without the flag); CI_LOG_RENDER_COLOR keeps colours
 * (SANITIZE_KEEP_SGR); CI_LOG_RENDER_NO_COLOR drops them
 * (SANITIZE_DROP_SGR) where they would otherwise be shown escaped;
 * CI_LOG_RENDER_RAW copies the bytes unchanged (--raw: the user asked for
 * control sequences to reach the terminal). Pure: no I/O.
 */
#ifndef HOMELAB_CI_LOGRENDER_H
#define HOMELAB_CI_LOGRENDER_H

#include "ci/provider.h"
#include "core/buf.h"

enum ci_log_render_flags {
    CI_LOG_RENDER_COLOR = 1 << 0,
    CI_LOG_RENDER_TIME = 1 << 1,
    CI_LOG_RENDER_RAW = 1 << 2,
    CI_LOG_RENDER_NO_COLOR = 1 << 3,
};

struct ci_log_render {
    unsigned flags;
    struct buf progress; /* the held progress line, already rendered */
    int holding;         /* progress holds a line not yet shown */
};

void ci_log_render_init(struct ci_log_render *r, unsigned flags);
void ci_log_render_release(struct ci_log_render *r);
/* Appends what `entry` shows (maybe nothing) to `out`; -1 when out's cap is hit. */
int ci_log_render_entry(struct ci_log_render *r, const struct ci_log_entry *entry,
                        struct buf *out);
/* Appends the held progress line, if any: call at the end of a log. */
int ci_log_render_flush(struct ci_log_render *r, struct buf *out);

#endif
