#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- strvec ---- */

void strvec_push(struct strvec *sv, const char *s)
{
    if (sv->n + 2 > sv->alloc) {
        sv->alloc = sv->alloc ? sv->alloc * 2 : 8;
        sv->v = xrealloc(sv->v, sv->alloc * sizeof(*sv->v));
    }
    sv->v[sv->n++] = xstrdup(s);
    sv->v[sv->n] = NULL;
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, 0);
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    strvec_push(sv, b.data);
    buf_release(&b);
}

void strvec_pushl(struct strvec *sv, ...)
{
    va_list ap;
    va_start(ap, sv);
    const char *s;
    while ((s = va_arg(ap, const char *)))
        strvec_push(sv, s);
    va_end(ap);
}

void strvec_clear(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->alloc = 0;
}

/* ---- environment for the child, built before fork() ---- */

static int env_name_matches(const char *entry, const char *name)
{
    size_t n = strcspn(name, "=");
    return !strncmp(entry, name, n) && entry[n] == '=';
}

static char **child_environ(const char *const *overrides, struct strvec *storage)
{
    if (!overrides)
        return environ;
    for (char **e = environ; *e; e++) {
        int replaced = 0;
        for (const char *const *o = overrides; *o; o++)
            if (env_name_matches(*e, *o))
                replaced = 1;
        if (!replaced)
            strvec_push(storage, *e);
    }
    for (const char *const *o = overrides; *o; o++)
        if (strchr(*o, '='))
            strvec_push(storage, *o);
    if (!storage->v)
        strvec_push(storage, "HOMELAB_EMPTY_ENV=1");
    return storage->v;
}

/* ---- spawning ---- */

struct spawn {
    pid_t pid;
    int in_fd, out_fd, err_fd;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/*
 * posix_spawnp() rather than fork() and exec: glibc starts the child with
 * CLONE_VM|CLONE_VFORK, so nothing of our address space is copied (libcurl
 * and its dependencies make it large enough that a fork costs a quarter of
 * a millisecond more per child), and reports a failed exec or chdir as its
 * return value.
 */
/*
 * new_group: the child leads a process group of its own, so that whatever
 * it starts dies with it. Streaming children need that: the kubectl on
 * PATH may be a dispatcher that runs the real kubectl as its own child,
 * and killing only the dispatcher left that one running, holding the
 * pipe, for the rest of its watch (found by bench/chaos). One-shot
 * children stay in our group, so a Ctrl-C on the terminal reaches them.
 */
static int spawn_child(const char *const *argv, const struct proc_opts *o, struct spawn *sp,
                       struct err *e, int new_group)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
    /* defined on every path: callers test the fds even after a failure */
    sp->pid = -1;
    sp->in_fd = sp->out_fd = sp->err_fd = -1;
    if ((o->stdin_data && pipe2(in, O_CLOEXEC) < 0) ||
        (!o->inherit_stdout && pipe2(out, O_CLOEXEC) < 0) ||
        (!o->inherit_stderr && pipe2(errp, O_CLOEXEC) < 0)) {
        int saved = errno;
        close_fd(&in[0]), close_fd(&in[1]), close_fd(&out[0]), close_fd(&out[1]);
        close_fd(&errp[0]), close_fd(&errp[1]);
        return err_set(e, EXIT_UNAVAILABLE, "cannot create pipes: %s", strerror(saved));
    }
    struct strvec envs = STRVEC_INIT;
    char **envp = child_environ(o->env, &envs);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    if (o->stdin_data)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!o->inherit_stdout)
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (!o->inherit_stderr)
        posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    if (o->dir)
        posix_spawn_file_actions_addchdir_np(&fa, o->dir);
    /* we ignore SIGPIPE; the child gets the default back */
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &def);
    short flags = POSIX_SPAWN_SETSIGDEF;
    if (new_group) {
        posix_spawnattr_setpgroup(&attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr, flags);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    strvec_clear(&envs);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&errp[1]);
    if (rc != 0) {
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&errp[0]);
        if (o->dir && rc != ENOENT && rc != EACCES)
            return err_set(e, EXIT_UNAVAILABLE, "cannot run '%s' in '%s': %s", argv[0], o->dir,
                           strerror(rc));
        return err_set(e, EXIT_UNAVAILABLE, "cannot run '%s': %s", argv[0], strerror(rc));
    }
    sp->pid = pid;
    sp->in_fd = in[1];
    sp->out_fd = out[0];
    sp->err_fd = errp[0];
    return 0;
}

static int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is there from fd into b (or discards); closes fd at EOF. */
static void drain(int *fd, struct buf *b, size_t cap, int *overflow)
{
    char chunk[65536];
    ssize_t n = read(*fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close_fd(fd);
        return;
    }
    if (b && !*overflow) {
        if (b->len + (size_t)n > cap)
            *overflow = 1;
        else
            buf_add(b, chunk, (size_t)n);
    }
}

int proc_run(const char *const *argv, const struct proc_opts *opts, struct buf *out,
             struct buf *errout, struct err *e)
{
    static const struct proc_opts defaults;
    const struct proc_opts *o = opts ? opts : &defaults;
    struct spawn sp;
    if (spawn_child(argv, o, &sp, e, 0) < 0)
        return -1;
    size_t cap = o->out_cap ? o->out_cap : 64u << 20;
    const char *in_data = o->stdin_data;
    size_t in_left = in_data ? strlen(in_data) : 0;
    if (sp.in_fd >= 0)
        fcntl(sp.in_fd, F_SETFL, O_NONBLOCK);
    if (sp.in_fd >= 0 && in_left == 0)
        close_fd(&sp.in_fd);
    int overflow = 0, timed_out = 0;
    long long deadline = o->timeout_ms ? now_ms() + o->timeout_ms : 0;
    while (sp.out_fd >= 0 || sp.err_fd >= 0 || sp.in_fd >= 0) {
        struct pollfd p[3] = { { sp.out_fd, POLLIN, 0 }, { sp.err_fd, POLLIN, 0 },
                               { sp.in_fd, POLLOUT, 0 } };
        int wait = deadline ? (int)(deadline - now_ms()) : -1;
        if (deadline && wait <= 0) {
            timed_out = 1;
            kill(sp.pid, SIGKILL);
            break;
        }
        if (poll(p, 3, wait) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            drain(&sp.out_fd, out, cap, &overflow);
        if (p[1].revents)
            drain(&sp.err_fd, errout, 1u << 20, &overflow);
        if (p[2].revents) {
            ssize_t n = write(sp.in_fd, in_data, in_left);
            if (n > 0) {
                in_data += n;
                in_left -= (size_t)n;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                in_left = 0;
            if (in_left == 0)
                close_fd(&sp.in_fd);
        }
    }
    close_fd(&sp.in_fd);
    close_fd(&sp.out_fd);
    close_fd(&sp.err_fd);
    int status;
    while (waitpid(sp.pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out) {
        err_set(e, EXIT_TIMEOUT, "'%s' did not finish within %d ms", argv[0], o->timeout_ms);
        return -2;
    }
    if (overflow) {
        err_set(e, EXIT_UNAVAILABLE, "'%s' printed more than %zu bytes", argv[0], cap);
        return -1;
    }
    return decode_status(status);
}

/* ---- streaming children ---- */

#define MAX_STREAMS 32
static volatile pid_t stream_pids[MAX_STREAMS];

static void register_pid(pid_t pid)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (!stream_pids[i]) {
            stream_pids[i] = pid;
            return;
        }
}

static void unregister_pid(pid_t pid)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (stream_pids[i] == pid)
            stream_pids[i] = 0;
}

/* Signals a streaming child's whole process group (async-signal-safe). */
static void kill_group(pid_t pid, int sig)
{
    if (kill(-pid, sig) < 0)
        kill(pid, sig);
}

/*
 * After the group leader is reaped: what it started and left behind (an
 * orphaned grandchild still in its group) is killed too.
 */
static void stream_reaped(struct proc_stream *ps, int status)
{
    ps->status = decode_status(status);
    kill(-ps->pid, SIGKILL);
    unregister_pid(ps->pid);
    ps->pid = -1;
}

void proc_kill_all(void)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (stream_pids[i] > 0)
            kill_group(stream_pids[i], SIGTERM);
}

int proc_stream_start(struct proc_stream *ps, const char *const *argv,
                      const struct proc_opts *opts, struct err *e)
{
    struct proc_opts o = opts ? *opts : (struct proc_opts){ 0 };
    o.inherit_stdout = 0;
    o.inherit_stderr = 0;
    o.stdin_data = NULL;
    struct spawn sp;
    buf_init(&ps->errbuf, 64 << 10);
    ps->status = -1;
    ps->pid = -1;
    ps->out_fd = ps->err_fd = -1;
    if (spawn_child(argv, &o, &sp, e, 1) < 0)
        return -1;
    ps->pid = sp.pid;
    ps->out_fd = sp.out_fd;
    ps->err_fd = sp.err_fd;
    fcntl(ps->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(ps->err_fd, F_SETFL, O_NONBLOCK);
    register_pid(sp.pid);
    return 0;
}

void proc_stream_read_stderr(struct proc_stream *ps)
{
    int overflow = 0;
    while (ps->err_fd >= 0) {
        struct pollfd p = { ps->err_fd, POLLIN, 0 };
        if (poll(&p, 1, 0) <= 0)
            return;
        size_t before = ps->errbuf.len;
        drain(&ps->err_fd, &ps->errbuf, ps->errbuf.cap, &overflow);
        if (ps->errbuf.len == before)
            return;
    }
}

int proc_stream_reaped(struct proc_stream *ps)
{
    if (ps->pid <= 0)
        return 1;
    int status;
    pid_t r = waitpid(ps->pid, &status, WNOHANG);
    if (r == ps->pid) {
        stream_reaped(ps, status);
        return 1;
    }
    return 0;
}

int proc_stream_finish(struct proc_stream *ps, struct buf *out)
{
    int out_overflow = 0, err_overflow = 0;
    while (ps->out_fd >= 0 || ps->err_fd >= 0) {
        struct pollfd p[2] = { { ps->out_fd, POLLIN, 0 }, { ps->err_fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            drain(&ps->out_fd, out, 64u << 20, &out_overflow);
        if (p[1].revents)
            drain(&ps->err_fd, &ps->errbuf, ps->errbuf.cap, &err_overflow);
    }
    close_fd(&ps->out_fd);
    close_fd(&ps->err_fd);
    if (ps->pid > 0) {
        int status;
        while (waitpid(ps->pid, &status, 0) < 0 && errno == EINTR)
            ;
        stream_reaped(ps, status);
    }
    return ps->status;
}

int proc_stream_stop(struct proc_stream *ps)
{
    if (ps->pid > 0 && !proc_stream_reaped(ps)) {
        kill_group(ps->pid, SIGTERM);
        for (int i = 0; i < 50 && !proc_stream_reaped(ps); i++) {
            struct timespec ts = { 0, 10L * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        if (ps->pid > 0) {
            kill_group(ps->pid, SIGKILL);
            int status;
            waitpid(ps->pid, &status, 0);
            stream_reaped(ps, status);
        }
    }
    proc_stream_read_stderr(ps);
    close_fd(&ps->out_fd);
    close_fd(&ps->err_fd);
    return ps->status;
}
