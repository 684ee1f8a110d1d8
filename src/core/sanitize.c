/*
 * sanitize: see sanitize.h for the contract and the notation.
 *
 * The hot path is a scan over bytes that need no attention (printable
 * ASCII other than '\', tab, newline, and valid non-C1 UTF-8), appended
 * with one memcpy per run; only the rare special bytes take the slow path.
 */
#include "core/sanitize.h"

#include <string.h>

#define SGR_MAX_PARAMS 64 /* longer colour sequences are shown escaped */

/* 1 for bytes copied as they are by the fast path. */
static const unsigned char plain[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    /* 0x80-0xff: UTF-8, checked separately */
};

struct sanitizer {
    struct buf *out;
    const unsigned char *in;
    size_t len;
    unsigned flags;
    int color_open; /* a kept SGR left colours set */
};

static int add_escaped(struct buf *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
    return buf_add(out, e, sizeof(e));
}

static int add_escaped_n(struct buf *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (add_escaped(out, p[i]) < 0)
            return -1;
    return 0;
}

static int is_cont(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

/*
 * Length of the valid UTF-8 character at p (1 < n <= 4), or 0 when the
 * bytes there are not one: the second-byte ranges exclude overlong forms
 * (E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and > U+10FFFF (F4 90-BF).
 */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!is_cont(p[i]))
            return 0;
    return n;
}

/* U+0080-U+009F: C1 controls such as CSI (U+009B), escaped like raw C1. */
static int is_c1(const unsigned char *p, size_t n)
{
    return n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

/* End of the run of bytes starting at i that can be copied as they are. */
static size_t plain_run(const unsigned char *in, size_t len, size_t i)
{
    for (;;) {
        while (i < len && plain[in[i]])
            i++;
        if (i == len || in[i] < 0x80)
            return i;
        size_t n = utf8_len(in + i, len - i);
        if (!n || is_c1(in + i, n))
            return i;
        i += n;
    }
}

/*
 * The top-level SGR parameters in p[0..n) (digits, ';', ':'): sets *reset
 * when they all mean "reset", returns 0 when one turns on conceal (8).
 * Extended colours (38/48/58;5;N and ;2;R;G;B) are skipped over so that a
 * palette index 8 is not taken for conceal.
 */
static int sgr_params_ok(const unsigned char *p, size_t n, int *reset)
{
    size_t i = 0;
    int skip = 0, mode = 0; /* mode: 1 after 38/48/58, then skip args */
    *reset = 1;
    while (i <= n) {
        unsigned long v = 0;
        int sub = 0;
        for (; i < n && p[i] != ';'; i++) {
            if (p[i] == ':')
                sub = 1;
            else if (!sub && v < 1000)
                v = v * 10 + (p[i] - '0');
        }
        i++; /* past ';' (or the end) */
        if (v)
            *reset = 0;
        if (skip) {
            skip--;
            continue;
        }
        if (mode) {
            skip = v == 5 ? 1 : v == 2 ? 3 : 0;
            mode = 0;
            continue;
        }
        if (v == 8)
            return 0;
        if (!sub && (v == 38 || v == 48 || v == 58))
            mode = 1;
    }
    return 1;
}

/* Length of the keepable SGR sequence at in[i] (an ESC), or 0. */
static size_t sgr_len(struct sanitizer *s, size_t i, int *reset)
{
    const unsigned char *p = s->in + i;
    size_t avail = s->len - i, j = 2;
    if (avail < 3 || p[1] != '[')
        return 0;
    while (j < avail && j - 2 <= SGR_MAX_PARAMS &&
           ((p[j] >= '0' && p[j] <= '9') || p[j] == ';' || p[j] == ':'))
        j++;
    if (j == avail || p[j] != 'm' || j - 2 > SGR_MAX_PARAMS)
        return 0;
    if (!sgr_params_ok(p + 2, j - 2, reset))
        return 0;
    return j + 1;
}

static size_t on_escape(struct sanitizer *s, size_t i, int *rc)
{
    int reset;
    size_t n = 0;
    if (s->flags & (SANITIZE_KEEP_SGR | SANITIZE_DROP_SGR))
        n = sgr_len(s, i, &reset);
    if (!n) {
        *rc = add_escaped(s->out, 0x1b);
        return 1;
    }
    *rc = 0;
    if (s->flags & SANITIZE_KEEP_SGR) {
        *rc = buf_add(s->out, s->in + i, n);
        s->color_open = !reset;
    }
    return n;
}

/* CRs before a newline or the end are dropped (CRLF); others escaped. */
static size_t on_cr(struct sanitizer *s, size_t i, int *rc)
{
    size_t j = i;
    while (j < s->len && s->in[j] == '\r')
        j++;
    if (j == s->len || s->in[j] == '\n') {
        *rc = 0;
        return j - i;
    }
    *rc = add_escaped(s->out, '\r');
    return 1;
}

/* Handles the special byte at in[i]; returns how many bytes it consumed. */
static size_t on_special(struct sanitizer *s, size_t i, int *rc)
{
    unsigned char c = s->in[i];
    if (c == '\\') {
        int before_x = i + 1 < s->len && s->in[i + 1] == 'x';
        *rc = before_x ? add_escaped(s->out, c) : buf_addc(s->out, '\\');
        return 1;
    }
    if (c == 0x1b)
        return on_escape(s, i, rc);
    if (c == '\r')
        return on_cr(s, i, rc);
    if (c >= 0x80) {
        /* plain_run() stopped here: invalid, or a C1 control in UTF-8 */
        size_t n = utf8_len(s->in + i, s->len - i);
        if (!n)
            n = 1;
        *rc = add_escaped_n(s->out, s->in + i, n);
        return n;
    }
    *rc = add_escaped(s->out, c);
    return 1;
}

int sanitize_append(struct buf *out, const char *in, size_t len, unsigned flags)
{
    struct sanitizer s = {out, (const unsigned char *)in, len, flags, 0};
    size_t i = 0;
    while (i < len) {
        size_t end = plain_run(s.in, len, i);
        if (end > i && buf_add(out, in + i, end - i) < 0)
            return -1;
        i = end;
        if (i == len)
            break;
        int rc = 0;
        i += on_special(&s, i, &rc);
        if (rc < 0)
            return -1;
    }
    if (s.color_open)
        return buf_adds(out, "\x1b[0m");
    return 0;
}

void sanitize_into(char *dst, size_t n, const char *in, size_t len)
{
    if (!n)
        return;
    /* Each input byte gives at least one output byte, so what the first
     * n + 3 give covers dst, and a character cut at that input boundary
     * only shows past it. */
    if (len > n + 3)
        len = n + 3;
    struct buf b;
    buf_init(&b, 0);
    (void)sanitize_append(&b, in, len, 0);
    size_t k = b.len < n ? b.len : n - 1;
    while (k > 0 && is_cont((unsigned char)b.data[k]))
        k--;
    memcpy(dst, b.data, k);
    dst[k] = '\0';
    buf_release(&b);
}
