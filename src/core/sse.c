/*
 * sse: see sse.h for the contract.
 *
 * Lines that lie whole inside one chunk are parsed in place; only a line
 * cut by a chunk boundary is copied into p->line until its end arrives.
 */
#include "core/sse.h"

#include <string.h>

static const char bom[3] = {'\xef', '\xbb', '\xbf'};

static int too_big(struct sse_parser *p, struct err *e)
{
    p->failed = 1;
    return err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE,
                        "reading event stream: event larger than %zu bytes", p->max_event);
}

static int field_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

static void set_buf(struct buf *b, const char *s, size_t len)
{
    buf_reset(b);
    buf_add(b, s, len); /* bounded by the line, which was checked */
}

/* retry: only ASCII digits count; huge values saturate. */
static void set_retry(struct sse_parser *p, const char *v, size_t len)
{
    long long ms = 0;
    if (!len)
        return;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return;
        if (ms < 1000000000000LL)
            ms = ms * 10 + (v[i] - '0');
    }
    p->retry_ms = ms;
}

static int dispatch(struct sse_parser *p)
{
    set_buf(&p->last_id, p->id.data, p->id.len);
    if (!p->data.len) {
        buf_reset(&p->type);
        return 0;
    }
    p->data.data[--p->data.len] = '\0'; /* the '\n' after the last line */
    struct sse_event ev = {
        .type = p->type.len ? p->type.data : "message",
        .data = p->data.data,
        .data_len = p->data.len,
        .id = p->last_id.data,
    };
    int rc = p->on_event(p->ctx, &ev);
    buf_reset(&p->data);
    buf_reset(&p->type);
    return rc;
}

static int on_field(struct sse_parser *p, const char *name, size_t nlen, const char *v,
                    size_t vlen, struct err *e)
{
    if (field_is(name, nlen, "data")) {
        if (buf_add(&p->data, v, vlen) < 0 || buf_addc(&p->data, '\n') < 0)
            return too_big(p, e);
    } else if (field_is(name, nlen, "event")) {
        set_buf(&p->type, v, vlen);
    } else if (field_is(name, nlen, "id")) {
        if (!memchr(v, '\0', vlen))
            set_buf(&p->id, v, vlen);
    } else if (field_is(name, nlen, "retry")) {
        set_retry(p, v, vlen);
    }
    return 0;
}

static int on_line(struct sse_parser *p, const char *l, size_t len, struct err *e)
{
    if (len > p->max_event)
        return too_big(p, e);
    if (!len)
        return dispatch(p);
    if (l[0] == ':')
        return p->on_comment ? p->on_comment(p->ctx, l + 1, len - 1) : 0;
    const char *colon = memchr(l, ':', len);
    if (!colon)
        return on_field(p, l, len, "", 0, e);
    size_t nlen = (size_t)(colon - l);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    if (vlen && *v == ' ')
        v++, vlen--;
    return on_field(p, l, nlen, v, vlen, e);
}

/*
 * Matches a leading BOM, possibly split across chunks; returns how many
 * bytes of `data` it used. On a mismatch the bytes matched so far were
 * text after all and start the first line.
 */
static size_t skip_bom(struct sse_parser *p, const char *data, size_t len)
{
    size_t i = 0;
    while (p->bom_seen < 3 && i < len) {
        if (data[i] != bom[p->bom_seen]) {
            buf_add(&p->line, bom, (size_t)p->bom_seen);
            p->bom_seen = 3;
            break;
        }
        p->bom_seen++;
        i++;
    }
    return i;
}

static size_t line_end(const char *data, size_t i, size_t len)
{
    while (i < len && data[i] != '\n' && data[i] != '\r')
        i++;
    return i;
}

int sse_feed(struct sse_parser *p, const char *data, size_t len, struct err *e)
{
    if (p->failed)
        return too_big(p, e);
    size_t i = skip_bom(p, data, len);
    while (i < len) {
        if (p->after_cr) {
            p->after_cr = 0;
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = line_end(data, i, len);
        if (j == len) {
            if (buf_add(&p->line, data + i, j - i) < 0)
                return too_big(p, e);
            break;
        }
        p->after_cr = data[j] == '\r';
        int rc;
        if (p->line.len) {
            if (buf_add(&p->line, data + i, j - i) < 0)
                return too_big(p, e);
            rc = on_line(p, p->line.data, p->line.len, e);
            buf_reset(&p->line);
        } else {
            rc = on_line(p, data + i, j - i, e);
        }
        i = j + 1;
        if (rc)
            return rc;
    }
    return 0;
}

void sse_init(struct sse_parser *p, size_t max_event, sse_event_fn *on_event,
              sse_comment_fn *on_comment, void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->on_event = on_event;
    p->on_comment = on_comment;
    p->ctx = ctx;
    p->max_event = max_event ? max_event : SSE_DEFAULT_MAX_EVENT;
    p->retry_ms = -1;
    buf_init(&p->last_id, p->max_event);
    buf_init(&p->line, p->max_event);
    buf_init(&p->data, p->max_event);
    buf_init(&p->type, p->max_event);
    buf_init(&p->id, p->max_event);
}

void sse_release(struct sse_parser *p)
{
    buf_release(&p->last_id);
    buf_release(&p->line);
    buf_release(&p->data);
    buf_release(&p->type);
    buf_release(&p->id);
}

void sse_restart(struct sse_parser *p)
{
    buf_reset(&p->line);
    buf_reset(&p->data);
    buf_reset(&p->type);
    set_buf(&p->id, p->last_id.data, p->last_id.len);
    p->bom_seen = 0;
    p->after_cr = 0;
    p->failed = 0;
}
