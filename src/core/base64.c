/*
 * base64: see base64.h. A table maps each character to its 6 bits, or to
 * BAD (high bit set) so one test per group of four catches any invalid
 * character.
 */
#include "core/base64.h"

#define BAD 0x80

static const unsigned char value[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD, BAD,  63,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD, BAD,
    BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

size_t base64_decoded_max(size_t len)
{
    return len / 4 * 3;
}

/* The last group: "xx==", "xxx=" or "xxxx"; canonical trailing bits. */
static int decode_last(const unsigned char *in, unsigned char *out, size_t *n)
{
    unsigned a = value[in[0]], b = value[in[1]];
    if ((a | b) & BAD)
        return -1;
    if (in[2] == '=') {
        if (in[3] != '=' || (b & 0x0f))
            return -1;
        out[0] = (unsigned char)(a << 2 | b >> 4);
        *n = 1;
        return 0;
    }
    unsigned c = value[in[2]];
    if (c & BAD)
        return -1;
    if (in[3] == '=') {
        if (c & 0x03)
            return -1;
        out[0] = (unsigned char)(a << 2 | b >> 4);
        out[1] = (unsigned char)(b << 4 | c >> 2);
        *n = 2;
        return 0;
    }
    unsigned d = value[in[3]];
    if (d & BAD)
        return -1;
    unsigned v = a << 18 | b << 12 | c << 6 | d;
    out[0] = (unsigned char)(v >> 16);
    out[1] = (unsigned char)(v >> 8);
    out[2] = (unsigned char)v;
    *n = 3;
    return 0;
}

int base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, last;
    if (len % 4)
        return -1;
    if (!len) {
        *out_len = 0;
        return 0;
    }
    for (const unsigned char *end = p + len - 4; p < end; p += 4) {
        unsigned a = value[p[0]], b = value[p[1]], c = value[p[2]], d = value[p[3]];
        if ((a | b | c | d) & BAD)
            return -1;
        unsigned v = a << 18 | b << 12 | c << 6 | d;
        out[o] = (unsigned char)(v >> 16);
        out[o + 1] = (unsigned char)(v >> 8);
        out[o + 2] = (unsigned char)v;
        o += 3;
    }
    if (decode_last(p, out + o, &last) < 0)
        return -1;
    *out_len = o + last;
    return 0;
}

int base64_decode_buf(struct buf *b, const char *in, size_t len)
{
    size_t n;
    if (buf_grow(b, base64_decoded_max(len)) < 0)
        return -1;
    if (base64_decode(in, len, (unsigned char *)b->data + b->len, &n) < 0) {
        if (b->alloc)
            b->data[b->len] = '\0';
        return -1;
    }
    b->len += n;
    if (b->alloc)
        b->data[b->len] = '\0';
    return 0;
}
