/* linering: see linering.h. */
#include "core/linering.h"

#include <stdlib.h>
#include <string.h>

void line_ring_init(struct line_ring *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    r->max = max;
    if (max) {
        r->line = xcalloc(max, sizeof(*r->line));
        r->len = xcalloc(max, sizeof(*r->len));
    }
    buf_init(&r->partial, 0);
}

void line_ring_reset(struct line_ring *r)
{
    for (size_t i = 0; i < r->max; i++) {
        free(r->line[i]);
        r->line[i] = NULL;
        r->len[i] = 0;
    }
    r->count = r->next = 0;
    r->total = 0;
    buf_reset(&r->partial);
}

void line_ring_release(struct line_ring *r)
{
    line_ring_reset(r);
    free(r->line);
    free(r->len);
    buf_release(&r->partial);
    memset(r, 0, sizeof(*r));
}

static void push(struct line_ring *r, const char *s, size_t len)
{
    r->total++;
    if (!r->max)
        return;
    /* reuse the slot's memory when it is big enough: a long log mostly
     * replaces lines of similar length */
    char *slot = r->line[r->next];
    if (!slot || r->len[r->next] < len) {
        free(slot);
        slot = xmalloc(len + 1);
    }
    memcpy(slot, s, len);
    slot[len] = '\0';
    r->line[r->next] = slot;
    r->len[r->next] = len;
    r->next = (r->next + 1) % r->max;
    if (r->count < r->max)
        r->count++;
}

void line_ring_add(struct line_ring *r, const char *text, size_t len)
{
    while (len) {
        const char *nl = memchr(text, '\n', len);
        if (!nl) {
            buf_add(&r->partial, text, len);
            return;
        }
        size_t n = (size_t)(nl - text);
        if (r->partial.len) {
            buf_add(&r->partial, text, n);
            push(r, r->partial.data, r->partial.len);
            buf_reset(&r->partial);
        } else {
            push(r, text, n);
        }
        text += n + 1;
        len -= n + 1;
    }
}

void line_ring_finish(struct line_ring *r)
{
    if (!r->partial.len)
        return;
    push(r, r->partial.data, r->partial.len);
    buf_reset(&r->partial);
}

const char *line_ring_get(const struct line_ring *r, size_t i, size_t *len)
{
    if (i >= r->count)
        return NULL;
    size_t slot = (r->next + r->max - r->count + i) % r->max;
    *len = r->len[slot];
    return r->line[slot];
}
