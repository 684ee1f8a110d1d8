/*
 * linering: the last N lines of a text, in memory bounded by N lines.
 *
 * `ci logs --tail N` and the failure tails of `ci watch` read a step log
 * of any size and keep only its end. Text is appended in pieces of any
 * size; complete lines (ending in '\n') enter the ring, the oldest falling
 * out; an unfinished last line is held until its newline arrives or
 * line_ring_finish() is called. Lines are stored without their '\n' and
 * may contain any byte, NUL included (hence the lengths).
 */
#ifndef HOMELAB_LINERING_H
#define HOMELAB_LINERING_H

#include <stddef.h>

#include "core/buf.h"

struct line_ring {
    char **line;         /* max slots, NULL when empty */
    size_t *len;
    size_t max;          /* lines kept; 0 keeps none */
    size_t count;        /* lines held, <= max */
    size_t next;         /* slot the next line goes to */
    unsigned long long total; /* complete lines seen */
    struct buf partial;  /* an unfinished line */
};

void line_ring_init(struct line_ring *r, size_t max);
void line_ring_release(struct line_ring *r);
/* Forgets every line (keeps max). */
void line_ring_reset(struct line_ring *r);

/* Appends text; every '\n' ends a line. */
void line_ring_add(struct line_ring *r, const char *text, size_t len);
/* Ends an unfinished last line, if any, as a line. */
void line_ring_finish(struct line_ring *r);

/* Line i (0 = oldest kept) and its length; NULL when i >= count. Borrowed. */
const char *line_ring_get(const struct line_ring *r, size_t i, size_t *len);

#endif
