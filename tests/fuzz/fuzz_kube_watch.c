/*
 * fuzz_kube_watch: the kubectl watch-stream splitter and event parser
 * (kube/transport.h: kube_lines_*, kube_event_parse).
 *
 * Input: one option byte (bits 0-2 pick the line cap: 1 to 128 bytes, or
 * the 16 MiB the watch uses; the rest seeds the chunking), then what a
 * `kubectl get --raw ...?watch=1` child writes to stdout.
 *
 * Properties: the lines handed out are exactly those of a simple model
 * (split at '\n'; empty lines and lines longer than the cap dropped; a
 * last line without '\n' held back) whatever the chunking, the dropped
 * count agrees, and every line parses or is rejected without a crash or
 * leak (events are released).
 */
#include "fuzz.h"

#include "core/buf.h"
#include "kube/transport.h"

struct collect {
    struct buf out;
    size_t lines;
};

static void on_line(void *arg, const char *line, size_t len)
{
    struct collect *c = arg;
    FUZZ_CHECK(len > 0 && !memchr(line, '\n', len), "bad line handed out");
    buf_addf(&c->out, "%zu:", len);
    buf_add(&c->out, line, len);
    c->lines++;
    struct kube_event ev;
    if (kube_event_parse(line, len, &ev) == 0) {
        FUZZ_CHECK(ev.object != NULL, "event without an object");
        FUZZ_CHECK(ev.type <= KUBE_ERROR, "event type %d", (int)ev.type);
        kube_event_release(&ev);
    } else {
        FUZZ_CHECK(ev.object == NULL, "rejected event holds an object");
    }
}

/* The model: what the splitter should hand out, and how many it drops. */
static size_t model(const uint8_t *data, size_t size, size_t cap, struct buf *out)
{
    size_t dropped = 0, start = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '\n')
            continue;
        size_t n = i - start;
        if (n > cap) {
            dropped++;
        } else if (n) {
            buf_addf(out, "%zu:", n);
            buf_add(out, data + start, n);
        }
        start = i + 1;
    }
    if (size - start > cap)
        dropped++; /* the held-back line is already over the cap */
    return dropped;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt = fuzz_take(&data, &size);
    static const size_t caps[] = { 1, 2, 8, 32, 64, 100, 128, 16u << 20 };
    size_t cap = caps[opt & 7];
    struct fuzz_rng rng = { (uint32_t)(opt >> 3) * 2654435761u + 3 };

    struct buf want;
    buf_init(&want, 0);
    size_t want_dropped = model(data, size, cap, &want);

    for (int pass = 0; pass < 2; pass++) {
        struct kube_lines l;
        struct collect c = { BUF_INIT, 0 };
        buf_init(&c.out, 0);
        kube_lines_init(&l, cap);
        size_t off = 0;
        while (off < size) {
            size_t n = pass ? fuzz_chunk(&rng, size - off) : size - off;
            kube_lines_feed(&l, (const char *)data + off, n, on_line, &c);
            off += n;
        }
        FUZZ_CHECK(c.out.len == want.len && !memcmp(c.out.data, want.data, want.len),
                   "pass %d: lines differ from the model", pass);
        FUZZ_CHECK(l.dropped == want_dropped, "pass %d: dropped %zu, model %zu", pass,
                   l.dropped, want_dropped);
        FUZZ_CHECK(l.pending.len <= cap, "pending line over the cap");
        kube_lines_release(&l);
        buf_release(&c.out);
    }
    buf_release(&want);
    return 0;
}
