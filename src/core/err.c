#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void err_clear(struct err *e)
{
    e->code = 0;
    e->kind = ERR_OTHER;
    e->msg[0] = '\0';
    e->hint[0] = '\0';
}

#define LONG_RUN 160 /* a run of non-blank bytes longer than this is shortened */
#define RUN_HEAD 100
#define RUN_TAIL 40

/*
 * Copies src into dst[cap], cutting any run of more than LONG_RUN non-blank
 * bytes to its first RUN_HEAD and last RUN_TAIL bytes around "..." (at
 * UTF-8 character boundaries). An echoed value (a 100 KB --repo, a URL
 * that holds it) then cannot push the cause, which comes after it, out of
 * the fixed-size message.
 */
static void shorten_into(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    while (*src && o + 1 < cap) {
        size_t run = strcspn(src, " \n\t");
        if (run == 0)
            run = 1; /* the blank itself */
        size_t head = run, skip_to = run;
        if (run > LONG_RUN) {
            head = RUN_HEAD;
            while (head && ((unsigned char)src[head] & 0xC0) == 0x80)
                head--;
            skip_to = run - RUN_TAIL;
            while (skip_to < run && ((unsigned char)src[skip_to] & 0xC0) == 0x80)
                skip_to++;
        }
        for (size_t i = 0; i < head && o + 1 < cap; i++)
            dst[o++] = src[i];
        if (skip_to > head) {
            for (const char *d = "..."; *d && o + 1 < cap; d++)
                dst[o++] = *d;
            for (size_t i = skip_to; i < run && o + 1 < cap; i++)
                dst[o++] = src[i];
        }
        src += run;
    }
    dst[o] = '\0';
}

/* vsnprintf() into dst[cap] through shorten_into(). */
static void vformat_short(char *dst, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vformat_short(char *dst, size_t cap, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0) {
        dst[0] = '\0';
        return;
    }
    char *full = malloc((size_t)n + 1);
    if (!full) {
        vsnprintf(dst, cap, fmt, ap);
        return;
    }
    vsnprintf(full, (size_t)n + 1, fmt, ap);
    shorten_into(dst, cap, full);
    free(full);
}

static void err_vset(struct err *e, enum err_kind kind, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void err_vset(struct err *e, enum err_kind kind, int code, const char *fmt, va_list ap)
{
    vformat_short(e->msg, sizeof(e->msg), fmt, ap);
    e->code = code;
    e->kind = kind;
    e->hint[0] = '\0';
}

int err_set_(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, ERR_OTHER, code, fmt, ap);
    va_end(ap);
    return -1;
}

int err_set_kind_(struct err *e, enum err_kind kind, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, kind, code, fmt, ap);
    va_end(ap);
    return -1;
}

int err_fail(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, ERR_OTHER, code, fmt, ap);
    va_end(ap);
    return code;
}

void err_hint(struct err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_short(e->hint, sizeof(e->hint), fmt, ap);
    va_end(ap);
}

int err_wrap(struct err *e, const char *fmt, ...)
{
    char prefix[512];
    char old[sizeof(e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vformat_short(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    size_t n = strlen(prefix);
    if (n > sizeof(e->msg) - 3)
        n = sizeof(e->msg) - 3;
    memcpy(e->msg, prefix, n);
    memcpy(e->msg + n, ": ", 2);
    size_t rest = sizeof(e->msg) - n - 3;
    size_t ol = strnlen(old, rest);
    memcpy(e->msg + n + 2, old, ol);
    e->msg[n + 2 + ol] = '\0';
    return -1;
}

void err_print(const struct err *e)
{
    fprintf(stderr, "homelab: %s\n", e->msg[0] ? e->msg : "unknown error");
    if (e->hint[0])
        fprintf(stderr, "  %s\n", e->hint);
}

const char *exit_code_name(int code)
{
    switch (code) {
    case EXIT_OK: return "ok";
    case EXIT_FAILED: return "failed";
    case EXIT_USAGE: return "usage";
    case EXIT_TIMEOUT: return "timeout";
    case EXIT_NEEDS_PERSON: return "needs-person";
    case EXIT_NOT_FOUND: return "not-found";
    case EXIT_UNAVAILABLE: return "unavailable";
    case EXIT_REFUSED: return "refused";
    case EXIT_INTERRUPTED: return "interrupted";
    }
    return "unknown";
}
