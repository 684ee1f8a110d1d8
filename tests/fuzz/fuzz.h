/*
 * fuzz.h: what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each target is one file, fuzz_<name>.c, defining LLVMFuzzerTestOneInput.
 * Crashes, sanitizer reports and leaks fail a run; so does a broken
 * property, through FUZZ_CHECK (a message, then abort()). Most targets
 * check properties as well as "does not crash": that the same bytes fed in
 * different chunks give the same result, that sanitized text holds no
 * control bytes, that a parser's output stays within its input.
 *
 * Inputs often start with a few option bytes (flags, a chunking seed)
 * taken with fuzz_take(); the rest is the text under test, so the seed
 * corpus files in tests/fuzz/corpus/<name>/ start with those bytes too.
 */
#ifndef HOMELAB_FUZZ_H
#define HOMELAB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                 \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz property failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* The next option byte of the input (0 once it runs out). */
static inline uint8_t fuzz_take(const uint8_t **data, size_t *size)
{
    if (!*size)
        return 0;
    uint8_t b = **data;
    (*data)++;
    (*size)--;
    return b;
}

/* A small deterministic generator for chunk sizes (xorshift32). */
struct fuzz_rng {
    uint32_t s;
};

static inline uint32_t fuzz_next(struct fuzz_rng *r)
{
    uint32_t x = r->s ? r->s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->s = x;
    return x;
}

/*
 * The size of the next chunk to feed: 1 to 16 bytes mostly, now and then
 * up to 4 KiB, never more than `left` (and at least 1 when left > 0).
 */
static inline size_t fuzz_chunk(struct fuzz_rng *r, size_t left)
{
    uint32_t x = fuzz_next(r);
    size_t n = (x & 7) == 0 ? (x >> 3) % 4096 + 1 : (x >> 3) % 16 + 1;
    return n < left ? n : left;
}

/* A NUL-terminated copy of data[0..size) (free() it). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif

/*
 * Whether s[0..n) is safe to print on a terminal: valid UTF-8, no C0
 * control but tab and newline, no DEL, no C1 control (raw or encoded).
 * With allow_sgr, ESC may start a colour sequence ESC [ [0-9;:]* m.
 * Returns the offset of the first offending byte, or n when all is well.
 */
static inline size_t fuzz_unsafe_at(const char *s, size_t n, int allow_sgr)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == 0x1b && allow_sgr && i + 1 < n && p[i + 1] == '[') {
            size_t j = i + 2;
            while (j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';' || p[j] == ':'))
                j++;
            if (j < n && p[j] == 'm') {
                i = j + 1;
                continue;
            }
            return i;
        }
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                return i;
            i++;
            continue;
        }
        size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (!len || i + len > n)
            return i;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return i;
        if (c == 0xc2 && p[i + 1] < 0xa0)
            return i; /* U+0080-U+009F */
        i += len;
    }
    return n;
}
