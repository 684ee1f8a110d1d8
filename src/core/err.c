#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
    e->code = 0;
    e->kind = ERR_OTHER;
    e->msg[0] = '\0';
    e->hint[0] = '\0';
}

static void err_vset(struct err *e, enum err_kind kind, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void err_vset(struct err *e, enum err_kind kind, int code, const char *fmt, va_list ap)
{
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
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
    vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
    va_end(ap);
}

int err_wrap(struct err *e, const char *fmt, ...)
{
    char prefix[512];
    char old[sizeof(e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
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
