/*
 * forkpy: the `python3` that tests/run puts first on the integration
 * scripts' PATH. The scripts' inline programs,
 *
 *     python3 -c CODE [ARG...]
 *     python3 - [ARG...]          (the program on standard input)
 *
 * run in a child that the forkpy server (tests/forkpy.py, one per suite,
 * listening on the Unix socket FORKPY_SOCKET) forks from an interpreter
 * that has already started, with this process's arguments, working
 * directory, environment and descriptors 0, 1 and 2. forkpy exits with
 * the program's status and passes SIGINT, SIGTERM, SIGHUP and SIGQUIT on
 * to it (those it does not ignore itself, as a new interpreter would not
 * see them either); when a signal passed on ends the program, forkpy ends
 * by that signal too. Why: a new interpreter's start and imports cost
 * several times the CPU of a fork, some 500 times a suite.
 *
 * Everything else runs FORKPY_PYTHON (default /usr/bin/python3) with the
 * same arguments: another form (a script, -m, an option first),
 * FORKPY_SOCKET unset, no server answering, or a server that declines
 * (PYTHON* variables other than its own, which would have shaped the
 * interpreter). Exit 70 when the server's child went away after the
 * program started, without a status.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

enum { EXIT_LOST = 70, EXIT_NO_PYTHON = 127 };

/* The message to the server: a 4-byte length, then NUL-terminated fields. */
struct message {
    char *data;
    size_t len, cap;
};

static volatile sig_atomic_t program_pid, signal_passed_on;

static int append(struct message *m, const void *p, size_t n)
{
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + n)
            cap *= 2;
        char *data = realloc(m->data, cap);
        if (!data)
            return -1;
        m->data = data;
        m->cap = cap;
    }
    memcpy(m->data + m->len, p, n);
    m->len += n;
    return 0;
}

static int append_field(struct message *m, const char *s)
{
    return append(m, s, strlen(s) + 1);
}

/* Length, argument count, arguments, working directory, environment. */
static int build_message(struct message *m, int argc, char **argv)
{
    char count[16];
    char *cwd = getcwd(NULL, 0);
    uint32_t length = 0;
    int failed = !cwd || append(m, &length, sizeof length) != 0;
    snprintf(count, sizeof count, "%d", argc);
    failed = failed || append_field(m, count) != 0;
    for (int i = 0; i < argc && !failed; i++)
        failed = append_field(m, argv[i]) != 0;
    failed = failed || append_field(m, cwd) != 0;
    for (char **e = environ; *e && !failed; e++)
        failed = append_field(m, *e) != 0;
    free(cwd);
    if (failed || m->len - sizeof length > UINT32_MAX)
        return -1;
    length = (uint32_t)(m->len - sizeof length);
    memcpy(m->data, &length, sizeof length);
    return 0;
}

static int connect_server(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path)
        return -1;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends the message, descriptors 0, 1 and 2 with its first bytes. */
static int send_message(int fd, const struct message *m)
{
    int fds[3] = { 0, 1, 2 };
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = m->data, .iov_len = m->len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    ssize_t sent;
    do
        sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent <= 0)
        return -1;
    for (size_t done = (size_t)sent; done < m->len;) {
        ssize_t w = send(fd, m->data + done, m->len - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* One 4-byte integer; -1 at the end of the connection. */
static int read_int(int fd, int32_t *value)
{
    char *p = (char *)value;
    size_t got = 0;
    while (got < sizeof *value) {
        ssize_t r = read(fd, p + got, sizeof *value - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void pass_on(int sig)
{
    if (program_pid > 0 && kill((pid_t)program_pid, sig) == 0)
        signal_passed_on = sig;
}

static void pass_on_signals(void)
{
    static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    struct sigaction sa = { .sa_handler = pass_on }, old;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(signals[i], &sa, NULL);
}

/* The program's exit status, or -1 when it did not start (the caller then
 * runs it with the real python3). */
static int run_forked(const char *socket_path, int argc, char **argv)
{
    struct message m = { 0 };
    int fd = build_message(&m, argc, argv) == 0 ? connect_server(socket_path) : -1;
    int started = 0, status = -1;
    int32_t value;
    if (fd >= 0 && send_message(fd, &m) == 0 && read_int(fd, &value) == 0 && value > 0) {
        started = 1;
        program_pid = value;
        pass_on_signals();
        if (read_int(fd, &value) == 0)
            status = value & 0xFF;
    }
    free(m.data);
    if (fd >= 0)
        close(fd);
    if (started && status < 0) {
        if (signal_passed_on) {
            /* the signal ended the program: end as it did, for the shell */
            signal(signal_passed_on, SIG_DFL);
            raise(signal_passed_on);
        }
        fprintf(stderr, "forkpy: the program ended without a status\n");
        return EXIT_LOST;
    }
    return status;
}

static int inline_program(int argc, char **argv)
{
    return (argc >= 3 && strcmp(argv[1], "-c") == 0) || (argc >= 2 && strcmp(argv[1], "-") == 0);
}

int main(int argc, char **argv)
{
    const char *python = getenv("FORKPY_PYTHON");
    const char *socket_path = getenv("FORKPY_SOCKET");
    if (!python || !*python)
        python = "/usr/bin/python3";
    if (socket_path && *socket_path && inline_program(argc, argv)) {
        int status = run_forked(socket_path, argc - 1, argv + 1);
        if (status >= 0)
            return status;
    }
    argv[0] = (char *)python;
    execv(python, argv);
    fprintf(stderr, "forkpy: %s: %s\n", python, strerror(errno));
    return EXIT_NO_PYTHON;
}
