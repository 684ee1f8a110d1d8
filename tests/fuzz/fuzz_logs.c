/*
 * fuzz_logs: the step log decoder (woodpecker/logs.h) and the terminal
 * sanitizer behind its rendering (core/sanitize.h).
 *
 * Input: one option byte (bits 0-1: render flags COLOR and NO_COLOR, bit
 * 2: TIME, bit 3: a small element cap of 256 bytes; the rest seeds the
 * chunking), then a log body as GET .../logs/... answers it.
 *
 * Properties:
 *   - the body decoded in one piece and in random chunks gives the same
 *     entries and the same outcome (the decoder sees bytes as libcurl
 *     hands them over);
 *   - every rendered line is safe for a terminal: no control bytes, no
 *     escape sequences (with COLOR only well-formed colour sequences),
 *     valid UTF-8;
 *   - the sanitizer, on the raw input as one line, can be undone: every
 *     \xHH read back as its byte gives the input without the CRs that
 *     end it or come before a newline; with a small cap the output is a
 *     prefix of the uncapped one;
 *   - log_entry_parse() on the raw input does not crash.
 */
#include "fuzz.h"

#include "core/buf.h"
#include "core/sanitize.h"
#include "ci/logrender.h"
#include "woodpecker/logs.h"

struct run {
    struct buf entries;  /* the decoded entries, serialised */
    struct buf rendered; /* what the terminal would get */
    struct ci_log_render r;
    unsigned flags;
};

static int on_entry(void *ctx, const struct log_entry *en)
{
    struct run *run = ctx;
    FUZZ_CHECK(en->data && en->data[en->len] == '\0', "entry data not NUL-terminated");
    buf_addf(&run->entries, "%lld/%lld/%d/%lld/%zu:", en->line, en->time, en->type, en->step_id,
             en->len);
    buf_add(&run->entries, en->data, en->len);
    struct ci_log_entry ce;
    wp_log_entry_neutral(en, &ce);
    ci_log_render_entry(&run->r, &ce, &run->rendered);
    return 0;
}

static void decode(const uint8_t *data, size_t size, size_t cap, struct fuzz_rng *rng,
                   struct run *run)
{
    struct log_decoder d;
    struct err e;
    err_clear(&e);
    buf_init(&run->entries, 0);
    buf_init(&run->rendered, 0);
    ci_log_render_init(&run->r, run->flags);
    log_decoder_init(&d, cap, on_entry, run);
    size_t off = 0;
    int rc = 0;
    while (off < size && rc == 0) {
        size_t n = rng ? fuzz_chunk(rng, size - off) : size - off;
        rc = log_decoder_feed(&d, (const char *)data + off, n, &e);
        off += n;
    }
    FUZZ_CHECK(rc == 0 || rc == -1, "feed returned %d", rc);
    if (rc == 0)
        rc = log_decoder_finish(&d, &e);
    else
        FUZZ_CHECK(log_decoder_finish(&d, &e) == -1, "finish passed after a failed feed");
    buf_addf(&run->entries, "|rc=%d %s", rc, rc ? e.msg : "");
    ci_log_render_flush(&run->r, &run->rendered);
    ci_log_render_release(&run->r);
    log_decoder_release(&d);
}

/* \xHH back to bytes. */
static void unescape(const struct buf *in, struct buf *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < in->len; i++) {
        const char *h1, *h2;
        if (in->data[i] == '\\' && i + 3 < in->len && in->data[i + 1] == 'x' &&
            (h1 = memchr(hex, in->data[i + 2], 16)) && (h2 = memchr(hex, in->data[i + 3], 16))) {
            buf_addc(out, (char)((h1 - hex) << 4 | (h2 - hex)));
            i += 3;
        } else {
            buf_addc(out, in->data[i]);
        }
    }
}

/* The input minus the CRs the sanitizer drops (runs before '\n' or the end). */
static void drop_final_crs(const uint8_t *in, size_t n, struct buf *out)
{
    for (size_t i = 0; i < n;) {
        if (in[i] == '\r') {
            size_t j = i;
            while (j < n && in[j] == '\r')
                j++;
            if (j < n && in[j] != '\n')
                buf_add(out, in + i, j - i);
            i = j;
        } else {
            buf_addc(out, (char)in[i++]);
        }
    }
}

static void check_sanitizer(const uint8_t *data, size_t size, unsigned sflags, size_t cap)
{
    struct buf full, capped;
    buf_init(&full, 0);
    buf_init(&capped, cap);
    FUZZ_CHECK(sanitize_append(&full, (const char *)data, size, sflags) == 0, "uncapped failed");
    size_t at = fuzz_unsafe_at(full.data, full.len, sflags & SANITIZE_KEEP_SGR);
    FUZZ_CHECK(at == full.len, "sanitized text has byte 0x%02x at %zu",
               (unsigned char)full.data[at], at);
    if (!sflags) {
        struct buf back, want;
        buf_init(&back, 0);
        buf_init(&want, 0);
        unescape(&full, &back);
        drop_final_crs(data, size, &want);
        FUZZ_CHECK(back.len == want.len && !memcmp(back.data, want.data, want.len),
                   "escaping is not reversible");
        buf_release(&back);
        buf_release(&want);
    }
    int rc = sanitize_append(&capped, (const char *)data, size, sflags);
    FUZZ_CHECK(capped.len <= cap, "cap exceeded");
    FUZZ_CHECK(capped.len <= full.len && !memcmp(capped.data, full.data, capped.len),
               "capped output is not a prefix");
    FUZZ_CHECK((rc == 0) == (capped.len == full.len), "capped result %d with %zu of %zu bytes",
               rc, capped.len, full.len);
    buf_release(&full);
    buf_release(&capped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt = fuzz_take(&data, &size);
    unsigned flags = 0;
    if (opt & 1)
        flags |= CI_LOG_RENDER_COLOR;
    if (opt & 2)
        flags |= CI_LOG_RENDER_NO_COLOR;
    if (opt & 4)
        flags |= CI_LOG_RENDER_TIME;
    size_t cap = (opt & 8) ? 256 : 0;
    struct fuzz_rng rng = { (uint32_t)(opt >> 4) * 2654435761u + 7 };

    struct run whole = { .flags = flags }, chunked = { .flags = flags };
    decode(data, size, cap, NULL, &whole);
    decode(data, size, cap, &rng, &chunked);
    FUZZ_CHECK(whole.entries.len == chunked.entries.len &&
                   !memcmp(whole.entries.data, chunked.entries.data, whole.entries.len),
               "chunking changed the entries");
    FUZZ_CHECK(whole.rendered.len == chunked.rendered.len &&
                   !memcmp(whole.rendered.data, chunked.rendered.data, whole.rendered.len),
               "chunking changed the rendering");
    size_t at = fuzz_unsafe_at(whole.rendered.data, whole.rendered.len, flags & CI_LOG_RENDER_COLOR);
    FUZZ_CHECK(at == whole.rendered.len, "rendered log has byte 0x%02x at %zu",
               (unsigned char)whole.rendered.data[at], at);
    buf_release(&whole.entries);
    buf_release(&whole.rendered);
    buf_release(&chunked.entries);
    buf_release(&chunked.rendered);

    unsigned sflags = (opt & 1) ? SANITIZE_KEEP_SGR : (opt & 2) ? SANITIZE_DROP_SGR : 0;
    check_sanitizer(data, size, sflags, 1 + (opt >> 4) * 7);

    struct log_entry en;
    struct buf d;
    struct err e;
    buf_init(&d, 0);
    err_clear(&e);
    (void)log_entry_parse((const char *)data, size, &en, &d, &e);
    buf_release(&d);
    return 0;
}
