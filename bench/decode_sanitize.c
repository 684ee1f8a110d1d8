/*
 * decode_sanitize: throughput of the step-log path, from HTTP body bytes
 * to terminal-safe text.
 *
 * Builds a ~100 MB Woodpecker log body in memory (the JSON array that
 * GET /api/repos/{id}/logs/{n}/{step} returns, with realistic lines: plain
 * build output, ANSI colour, carriage-return progress, terminal escapes,
 * UTF-8), then feeds it to log_decoder_feed() in 64 KiB chunks, as a
 * libcurl write callback would, rendering every entry with
 * ci_log_render_entry() (sanitizing). Reports the best of 3 runs in MB/s of
 * body (wall clock) and the peak RSS. See bench/README.md.
 *
 * Usage: decode_sanitize [MB]   (default 100)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "ci/logrender.h"
#include "woodpecker/logs.h"

#define CHUNK (64 * 1024)
#define RUNS 3

static const char *const lines[] = {
    "+ go build -trimpath -ldflags '-s -w' -o bin/server ./cmd/server",
    "go: downloading github.com/prometheus/client_golang v1.19.1",
    "ok  \texample.com/homelab/internal/api\t0.412s\tcoverage: 81.3% of statements",
    "=== RUN   TestPipelineWatch/waits_for_the_pipeline_to_appear",
    "--- PASS: TestPipelineWatch/waits_for_the_pipeline_to_appear (0.02s)",
    "Step 7/12 : RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates",
    "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
    "  CC       src/core/http.o",
    "",
    "\x1b[32m\xe2\x9c\x93\x1b[0m 214 tests passed \x1b[2m(3.81s)\x1b[0m",
    "\x1b[1;31merror\x1b[0m\x1b[1m: unused variable: `client`\x1b[0m",
    "\x1b[38;5;244m2024-05-01T12:00:03Z\x1b[0m \x1b[34mINFO\x1b[0m listening on :8080",
    "\x1b[33mwarning\x1b[0m: package.json: No license field",
    "Downloading 12%\rDownloading 47%\rDownloading 100%\r",
    "\x1b[2K\x1b[1G[=====>                ] 31/120 layers",
    "\x1b]0;build: step 3\x07" "building...",
    "Compiling r\xc3\xa9sum\xc3\xa9 \xe2\x86\x92 \xe6\x9e\x84\xe5\xbb\xba\xe5\xae\x8c\xe6\x88\x90 \xf0\x9f\x9a\x80",
    "Gr\xc3\xb6\xc3\x9f""e: 4,2\xc2\xa0MiB \xe2\x80\x94 fertig",
    "tab\tseparated\tvalues\there",
    "C:\\Users\\builder\\AppData\\Local\\Temp\\x86\\cache",
};

static void base64_encode(struct buf *out, const unsigned char *in, size_t len)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    char q[4];
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        q[0] = a[v >> 18], q[1] = a[v >> 12 & 63], q[2] = a[v >> 6 & 63], q[3] = a[v & 63];
        buf_add(out, q, 4);
    }
    if (i < len) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);
        q[0] = a[v >> 18], q[1] = a[v >> 12 & 63];
        q[2] = i + 1 < len ? a[v >> 6 & 63] : '=';
        q[3] = '=';
        buf_add(out, q, 4);
    }
}

/* The body: mostly short lines, now and then a long one (a dumped config, a stack). */
static void make_body(struct buf *body, size_t target)
{
    struct buf line;
    unsigned seed = 42;
    long long n = 0;
    buf_init(&line, 0);
    buf_adds(body, "[");
    while (body->len < target) {
        seed = seed * 1103515245 + 12345;
        size_t pick = (seed >> 16) % (sizeof(lines) / sizeof(lines[0]));
        buf_reset(&line);
        buf_adds(&line, lines[pick]);
        if ((seed >> 8) % 50 == 0)
            for (int k = 0; k < 8; k++)
                buf_adds(&line, lines[(pick + (size_t)k) % 9]);
        if (n)
            buf_adds(body, ",");
        buf_addf(body, "{\"id\":%lld,\"step_id\":902,\"time\":%lld,\"line\":%lld,\"data\":\"",
                 5000 + n, n / 400, n);
        base64_encode(body, (const unsigned char *)line.data, line.len);
        buf_adds(body, "\",\"type\":0}");
        n++;
    }
    buf_adds(body, "]");
    buf_release(&line);
}

struct sink {
    struct ci_log_render render;
    struct buf out;
    unsigned long long out_bytes;
};

/* Stands in for writing to stdout: count and drop, keeping memory flat. */
static int on_entry(void *ctx, const struct log_entry *entry)
{
    struct sink *s = ctx;
    struct ci_log_entry ce;
    wp_log_entry_neutral(entry, &ce);
    if (ci_log_render_entry(&s->render, &ce, &s->out) < 0)
        return 1;
    if (s->out.len >= CHUNK) {
        s->out_bytes += s->out.len;
        buf_reset(&s->out);
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* One pass over the body; returns seconds, or -1 on a decoding error. */
static double run_once(const struct buf *body, unsigned flags, long long *entries,
                       unsigned long long *out_bytes)
{
    struct sink s;
    struct log_decoder d;
    struct err e;
    ci_log_render_init(&s.render, flags);
    buf_init(&s.out, 0);
    s.out_bytes = 0;
    log_decoder_init(&d, 0, on_entry, &s);
    double t0 = now();
    int rc = 0;
    for (size_t i = 0; i < body->len && rc == 0; i += CHUNK) {
        size_t n = body->len - i < CHUNK ? body->len - i : CHUNK;
        rc = log_decoder_feed(&d, body->data + i, n, &e);
    }
    if (rc == 0)
        rc = log_decoder_finish(&d, &e);
    ci_log_render_flush(&s.render, &s.out);
    double t = now() - t0;
    if (rc != 0)
        fprintf(stderr, "decode_sanitize: %s\n", e.msg);
    *entries = d.entries;
    *out_bytes = s.out_bytes + s.out.len;
    log_decoder_release(&d);
    ci_log_render_release(&s.render);
    buf_release(&s.out);
    return rc ? -1 : t;
}

static int bench(const struct buf *body, unsigned flags, const char *name)
{
    double best = 0;
    long long entries = 0;
    unsigned long long out_bytes = 0;
    for (int r = 0; r < RUNS; r++) {
        double t = run_once(body, flags, &entries, &out_bytes);
        if (t < 0)
            return -1;
        if (r == 0 || t < best)
            best = t;
    }
    printf("%-12s %8.1f MB/s  best of %d: %.3f s, %lld entries, %.1f MB out\n", name,
           (double)body->len / 1e6 / best, RUNS, best, entries, (double)out_bytes / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100;
    struct buf body;
    buf_init(&body, 0);
    make_body(&body, mb * 1000 * 1000);
    long rss_body = max_rss_kib();
    printf("body: %.1f MB, %zu KiB chunks\n", (double)body.len / 1e6, (size_t)CHUNK / 1024);
    if (bench(&body, 0, "plain") < 0 || bench(&body, CI_LOG_RENDER_COLOR, "colour") < 0 ||
        bench(&body, CI_LOG_RENDER_COLOR | CI_LOG_RENDER_TIME, "colour+time") < 0)
        return 1;
    long rss = max_rss_kib();
    printf("peak RSS: %.1f MiB (%.1f MiB after building the body; decoding added %.1f MiB)\n",
           rss / 1024.0, rss_body / 1024.0, (rss - rss_body) / 1024.0);
    buf_release(&body);
    return 0;
}
