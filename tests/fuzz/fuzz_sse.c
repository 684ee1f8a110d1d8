/*
 * fuzz_sse: the Server-Sent Events parser (core/sse.h).
 *
 * Input: one option byte (bit 0: a small event cap of 64 bytes instead of
 * the default; the other bits seed the chunking), then the stream. The
 * stream is parsed twice, in one piece and in random chunks, and both
 * must give the same events, comments, last id, retry value and error:
 * the header promises that splitting the same bytes differently gives the
 * same callbacks.
 */
#include "fuzz.h"

#include "core/buf.h"
#include "core/sse.h"

struct record {
    struct buf log; /* every callback, serialised */
};

static void add_field(struct buf *b, const char *s, size_t n)
{
    buf_addf(b, "%zu:", n);
    buf_add(b, s, n);
}

static int on_event(void *ctx, const struct sse_event *ev)
{
    struct record *r = ctx;
    FUZZ_CHECK(ev->type && ev->data && ev->id, "NULL member in an event");
    FUZZ_CHECK(ev->data[ev->data_len] == '\0', "data not NUL-terminated");
    buf_adds(&r->log, "E");
    add_field(&r->log, ev->type, strlen(ev->type));
    add_field(&r->log, ev->data, ev->data_len);
    add_field(&r->log, ev->id, strlen(ev->id));
    return 0;
}

static int on_comment(void *ctx, const char *text, size_t len)
{
    struct record *r = ctx;
    buf_adds(&r->log, "C");
    add_field(&r->log, text, len);
    return 0;
}

/* Parses the stream in chunks (all at once when rng is NULL) into r. */
static void parse(const uint8_t *data, size_t size, size_t cap, struct fuzz_rng *rng,
                  struct record *r)
{
    struct sse_parser p;
    struct err e;
    err_clear(&e);
    buf_init(&r->log, 0);
    sse_init(&p, cap, on_event, on_comment, r);
    size_t off = 0;
    int rc = 0;
    while (off < size && rc == 0) {
        size_t n = rng ? fuzz_chunk(rng, size - off) : size - off;
        rc = sse_feed(&p, (const char *)data + off, n, &e);
        off += n;
    }
    if (rc) {
        FUZZ_CHECK(rc == -1 && e.code == EXIT_UNAVAILABLE, "unexpected result %d", rc);
        buf_adds(&r->log, "X"); /* the cap was hit */
        /* a failed parser keeps failing until restarted */
        FUZZ_CHECK(sse_feed(&p, "data: x\n\n", 9, &e) == -1, "feed after failure passed");
    }
    buf_addf(&r->log, "I%s R%lld", p.last_id.data, p.retry_ms);
    /* a restart forgets the partial event but keeps the id */
    sse_restart(&p);
    FUZZ_CHECK(sse_feed(&p, "data: after\n\n", 13, &e) == 0, "feed after restart failed");
    sse_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt = fuzz_take(&data, &size);
    size_t cap = (opt & 1) ? 64 : 0;
    struct fuzz_rng rng = { (uint32_t)opt * 2654435761u + 1 };
    struct record whole, chunked;
    parse(data, size, cap, NULL, &whole);
    parse(data, size, cap, &rng, &chunked);
    FUZZ_CHECK(whole.log.len == chunked.log.len &&
                   memcmp(whole.log.data, chunked.log.data, whole.log.len) == 0,
               "chunking changed the result:\n whole:   %s\n chunked: %s", whole.log.data,
               chunked.log.data);
    buf_release(&whole.log);
    buf_release(&chunked.log);
    return 0;
}
