/* ci/logrender: see logrender.h. */
#include "ci/logrender.h"

#include <stdio.h>

#include "core/sanitize.h"

static int render_text(unsigned flags, const char *s, size_t len, struct buf *out)
{
    unsigned sf = 0;
    if (flags & CI_LOG_RENDER_RAW)
        return buf_add(out, s, len);
    if (flags & CI_LOG_RENDER_COLOR)
        sf |= SANITIZE_KEEP_SGR;
    if (flags & CI_LOG_RENDER_NO_COLOR)
        sf |= SANITIZE_DROP_SGR;
    return sanitize_append(out, s, len, sf);
}

static int render_line(unsigned flags, const struct ci_log_entry *entry, struct buf *out)
{
    if (entry->own_time) {
        /* the line's own stamp, or none */
        size_t skip = flags & CI_LOG_RENDER_TIME ? 0 : entry->stamp;
        if (skip > entry->len)
            skip = entry->len;
        if (render_text(flags, entry->data + skip, entry->len - skip, out) < 0)
            return -1;
        return buf_addc(out, '\n');
    }
    if (flags & CI_LOG_RENDER_TIME) {
        char t[32]; /* one snprintf: buf_addf() formats twice */
        int n = snprintf(t, sizeof(t), "[%4llds] ", entry->time);
        if (buf_add(out, t, (size_t)n) < 0)
            return -1;
    }
    if (entry->kind == CI_LOG_EXIT_CODE) {
        if (buf_adds(out, "[exit code ") < 0 ||
            (entry->len ? render_text(flags & ~CI_LOG_RENDER_RAW, entry->data, entry->len, out)
                        : buf_addc(out, '?')) < 0 ||
            buf_addc(out, ']') < 0)
            return -1;
    } else if (render_text(flags, entry->data, entry->len, out) < 0) {
        return -1;
    }
    return buf_addc(out, '\n');
}

int ci_log_render_flush(struct ci_log_render *r, struct buf *out)
{
    if (!r->holding)
        return 0;
    r->holding = 0;
    return buf_add(out, r->progress.data, r->progress.len);
}

int ci_log_render_entry(struct ci_log_render *r, const struct ci_log_entry *entry, struct buf *out)
{
    if (entry->kind == CI_LOG_META)
        return 0;
    if (entry->kind == CI_LOG_PROGRESS) {
        buf_reset(&r->progress);
        r->holding = 1;
        return render_line(r->flags, entry, &r->progress);
    }
    if (ci_log_render_flush(r, out) < 0)
        return -1;
    return render_line(r->flags, entry, out);
}

void ci_log_render_init(struct ci_log_render *r, unsigned flags)
{
    r->flags = flags;
    r->holding = 0;
    buf_init(&r->progress, 0);
}

void ci_log_render_release(struct ci_log_render *r)
{
    buf_release(&r->progress);
}
