/*
 * err: exit codes and an error value that carries context up to the one
 * place (the dispatcher) that prints it and chooses the exit code.
 *
 * Modules return 0 on success or a negative value on failure, having filled
 * a `struct err` with the exit code that fits and a message of the form
 * "doing X on Y: why". The message starts lower-case, has no final period,
 * and never contains a token.
 *
 * Messages and hints are shortened where they echo a long value: a run of
 * more than 160 non-blank bytes keeps its first 100 and last 40 around
 * "...", so the cause after it always fits.
 *
 * Code that must react to one particular failure branches on its kind, set
 * where the error is born (as curl branches on CURLE_* and never on text):
 * the message is for people and may be reworded freely.
 */
#ifndef HOMELAB_ERR_H
#define HOMELAB_ERR_H

enum exit_code {
    EXIT_OK = 0,
    EXIT_FAILED = 1,      /* pipeline failed, rollout failed, verify failed */
    EXIT_USAGE = 2,       /* unknown verb or flag, malformed argument */
    EXIT_TIMEOUT = 3,     /* timed out waiting */
    EXIT_NEEDS_PERSON = 4,/* blocked awaiting approval, pushed for review */
    EXIT_NOT_FOUND = 5,   /* repo, pipeline or workload missing */
    EXIT_UNAVAILABLE = 6, /* server unreachable or failing after retries */
    EXIT_REFUSED = 7,     /* no token, 401/403, TLS verification failed */
    EXIT_INTERRUPTED = 130,
};

/* What went wrong, for callers that handle one failure differently. */
enum err_kind {
    ERR_OTHER = 0,   /* nothing a caller branches on */
    ERR_NOT_A_REPO,  /* the directory is not inside a git repository */
    ERR_TOO_LARGE,   /* an answer passed its size limit: retrying cannot help */
};

struct err {
    int code;       /* an enum exit_code; 0 while no error is set */
    enum err_kind kind;
    char msg[1024];
    char hint[512]; /* optional second line: what to do about it */
};

void err_clear(struct err *e);
/*
 * err_set(e, code, fmt, ...): sets code and message; returns -1 so callers
 * can `return err_set(...)`. A macro around err_set_() only so that the -1
 * is seen where it is returned: the static analyzer (make lint) does not
 * look into variadic functions, took any int for their result, and followed
 * error paths on into code that assumes success.
 */
int err_set_(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int err_minus_one(int always_minus_one)
{
    (void)always_minus_one;
    return -1;
}
#define err_set(...) err_minus_one(err_set_(__VA_ARGS__))
/* err_set() that also records the kind (err_set() leaves ERR_OTHER). */
int err_set_kind_(struct err *e, enum err_kind kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define err_set_kind(...) err_minus_one(err_set_kind_(__VA_ARGS__))
/*
 * err_fail(e, code, fmt, ...): for verb handlers, whose result is an exit
 * code: sets the error and returns `code`, so `return err_fail(...)` reports
 * through one channel (as git's `return error(...)`).
 */
int err_fail(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the hint line shown under the message. */
void err_hint(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefixes context to an existing message: "ctx: old message". */
int err_wrap(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "homelab: msg" (and "  hint" when set) to stderr. */
void err_print(const struct err *e);
/* The one-word name of an exit code, e.g. "unavailable" for 6. */
const char *exit_code_name(int code);

#endif
