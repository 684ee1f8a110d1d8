/* logstream: see logstream.h. */
#include "woodpecker/logstream.h"

#include <stdio.h>
#include <string.h>

#include "core/sanitize.h"

int wp_logstream_event(struct wp_logstream *ls, const struct sse_event *ev)
{
    if (!strcmp(ev->type, "eof")) {
        ls->eof = 1;
        return 1;
    }
    if (!strcmp(ev->type, "error")) {
        if (!strcmp(ev->data, "eof")) /* servers before v3.12 */
            ls->eof = 1;
        else if (!strncmp(ev->data, "step not running", 16))
            ls->not_running = 1;
        else
            sanitize_into(ls->error, sizeof(ls->error), ev->data, ev->data_len);
        return 1;
    }
    if (strcmp(ev->type, "message"))
        return 0;
    struct log_entry entry;
    struct err e;
    err_clear(&e);
    ls->messages++;
    snprintf(ls->last_id, sizeof(ls->last_id), "%s", ev->id);
    if (log_entry_parse(ev->data, ev->data_len, &entry, &ls->data, &e) < 0)
        return 0; /* one bad message; the stored log will have the line */
    return ls->on_entry(ls->ud, &entry);
}

static int on_log_event(void *ud, const struct sse_event *ev)
{
    return wp_logstream_event(ud, ev);
}

static int after_feed(void *ud)
{
    struct wp_logstream *ls = ud;
    return ls->after_feed ? ls->after_feed(ls->ud) : 0;
}

void wp_logstream_init(struct wp_logstream *ls, log_entry_fn *on_entry,
                       int (*after_feed_fn)(void *ud), void *ud)
{
    memset(ls, 0, sizeof(*ls));
    buf_init(&ls->data, 0);
    ls->on_entry = on_entry;
    ls->after_feed = after_feed_fn;
    ls->ud = ud;
}

void wp_logstream_release(struct wp_logstream *ls)
{
    wp_logstream_close(ls);
    buf_release(&ls->data);
}

int wp_logstream_open(struct wp_client *c, struct wp_logstream *ls, long long repo_id,
                      long long number, long long step_id, struct err *e)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/stream/logs/%lld/%lld/%lld", repo_id, number, step_id);
    ls->messages = 0;
    ls->error[0] = '\0';
    return wp_stream_open(c, &ls->ws, path, ls->last_id, 0, on_log_event, after_feed, ls, e);
}

int wp_logstream_poll(struct wp_logstream *ls, int timeout_ms)
{
    return wp_stream_poll(&ls->ws, timeout_ms);
}

void wp_logstream_close(struct wp_logstream *ls)
{
    wp_stream_close(&ls->ws);
}

void wp_logstream_restart(struct wp_logstream *ls)
{
    ls->last_id[0] = '\0';
}
