/*
 * proc: run child processes from an argv array, never through a shell.
 *
 * Arguments that come from users or servers (branch names, namespaces, step
 * names) stay single literal arguments. A missing program is reported as
 * "cannot run 'git': No such file or directory" with rc -1.
 *
 * `env` entries are "K=V" to set and a bare "K" to unset, applied on top of
 * our own environment. `dir` (or NULL) is the child's working directory.
 */
#ifndef HOMELAB_PROC_H
#define HOMELAB_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

/* A NULL-terminated, growable argv. */
struct strvec {
    char **v;
    size_t n;
    size_t alloc;
};

#define STRVEC_INIT {0}

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Pushes each argument up to a NULL. */
void strvec_pushl(struct strvec *sv, ...);
void strvec_clear(struct strvec *sv);

struct proc_opts {
    const char *dir;         /* working directory, NULL = ours */
    const char *const *env;  /* NULL-terminated "K=V" / "K", or NULL */
    int inherit_stdout;      /* child writes straight to our stdout */
    int inherit_stderr;      /* child writes straight to our stderr */
    const char *stdin_data;  /* fed to the child's stdin, NULL = /dev/null */
    size_t out_cap;          /* cap on captured stdout, 0 = 64 MiB */
    int timeout_ms;          /* kill the child after this, 0 = none */
};

/*
 * Runs argv to completion. Captures stdout into `out` and stderr into `errout`
 * (either may be NULL to discard) unless inherited. Returns the exit status
 * (0-255), 128+signal when killed, or -1 when the program could not be run
 * (e->msg filled, EXIT_UNAVAILABLE). A timeout kills the child and returns
 * -2 with e filled (EXIT_TIMEOUT).
 */
int proc_run(const char *const *argv, const struct proc_opts *opts,
             struct buf *out, struct buf *errout, struct err *e);

/*
 * A streaming child: its stdout is a non-blocking pipe the caller reads with
 * poll(); stderr is captured into `errbuf` by proc_stream_read_stderr() or at
 * the end. proc_stream_stop() kills (SIGTERM, then SIGKILL after a grace)
 * and reaps it; safe to call twice. Every started stream is also registered
 * so proc_kill_all() can terminate children from a signal path.
 * A streaming child leads a process group of its own: the signals go to
 * the group, and once the child is reaped whatever is left in its group is
 * killed, so nothing it started outlives it (a kubectl that is a version
 * dispatcher runs the real one as its child).
 */
struct proc_stream {
    pid_t pid;
    int out_fd;   /* read end of the child's stdout, -1 when closed */
    int err_fd;   /* read end of the child's stderr, -1 when closed */
    struct buf errbuf;
    int status;   /* exit status once reaped, else -1 */
};

int proc_stream_start(struct proc_stream *ps, const char *const *argv,
                      const struct proc_opts *opts, struct err *e);
/* Drains whatever stderr is available without blocking. */
void proc_stream_read_stderr(struct proc_stream *ps);
/* Non-blocking check; returns 1 and sets ps->status once the child exited. */
int proc_stream_reaped(struct proc_stream *ps);
/*
 * Waits for the child to end on its own: reads its stdout into `out` (NULL
 * discards) and its stderr into errbuf until both close, reaps it and
 * returns the exit status. For a command started early so that it runs
 * while the caller does something else.
 */
int proc_stream_finish(struct proc_stream *ps, struct buf *out);
/* Terminates (if running), reaps and closes; returns the exit status. */
int proc_stream_stop(struct proc_stream *ps);
/* Sends SIGTERM to every running stream child (async-signal-safe). */
void proc_kill_all(void);

#endif
