/*
 * fakectl: the tests' client for a fake's control API (/__fake/...), which
 * each fake also serves in plain HTTP on a loopback port of its own
 * (tests/fakes/fakehttp.py, listen_control). One request, the answer's body
 * on stdout:
 *
 *     fakectl PORT METHOD PATH [JSON | @FILE]
 *
 * A body of @FILE is that file's content, as curl's --data takes it (a
 * body too large for an argument).
 * Exit status as `curl -sS --fail` gives it: 0 on a 2xx answer, 22 on any
 * other (the status on stderr, the body not printed), 7 when nothing
 * answers on the port, 2 on bad usage or a malformed answer.
 *
 * Why not curl: a curl costs about 40 ms of CPU here (some 40 shared
 * libraries to map and a TLS handshake), the suite makes hundreds of these
 * calls, and its CPU is what bounds `make check`'s wall time. This costs a
 * process start and a socket. The API the client under test talks to stays
 * TLS only: the control port answers nothing outside /__fake/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* A control answer is at most a fake's whole request log or state; a
 * request body, a scenario's worth of pipelines. */
#define MAX_ANSWER (64u << 20)

enum { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_NO_SERVER = 7, EXIT_HTTP = 22 };

/* A request body or an answer, NUL-terminated. */
struct bytes {
    char *data;
    size_t len, cap;
};

static int die(int code, const char *what)
{
    fprintf(stderr, "fakectl: %s\n", what);
    return code;
}

static int connect_loopback(const char *port_text)
{
    char *end;
    long port = strtol(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || port < 1 || port > 65535)
        return -1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_request(int fd, const char *method, const char *path,
                        const struct bytes *body)
{
    char head[4096];
    int n = body
        ? snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   method, path, body->len)
        : snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                   method, path);
    if (n < 0 || (size_t)n >= sizeof head)
        return -1;
    if (write_all(fd, head, (size_t)n) != 0)
        return -1;
    return body ? write_all(fd, body->data, body->len) : 0;
}

/* Reads fd to its end (a file, or the answer of a server the request asked
 * to close). */
static int read_all(int fd, struct bytes *a)
{
    for (;;) {
        if (a->cap - a->len < 65536) {
            size_t cap = a->cap ? a->cap * 2 : 65536;
            if (cap > MAX_ANSWER + 65536)
                return -1;
            char *p = realloc(a->data, cap + 1);
            if (!p)
                return -1;
            a->data = p;
            a->cap = cap;
        }
        ssize_t r = read(fd, a->data + a->len, a->cap - a->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        a->len += (size_t)r;
    }
    a->data[a->len] = '\0';
    return 0;
}

/* The value of header NAME in the head [head, end), or NULL. */
static const char *header(const char *head, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line + 2 < end;
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (!strncasecmp(h, name, n) && h[n] == ':') {
            h += n + 1;
            while (*h == ' ')
                h++;
            return h;
        }
    }
    return NULL;
}

/* Decodes a chunked body in place; its new length, or -1. */
static long dechunk(char *body, size_t len)
{
    char *in = body, *out = body, *end = body + len;
    for (;;) {
        char *stop;
        unsigned long size = strtoul(in, &stop, 16);
        char *eol = strstr(in, "\r\n");
        if (stop == in || !eol || eol >= end)
            return -1;
        in = eol + 2;
        if (size == 0)
            return out - body;
        if (size > (unsigned long)(end - in))
            return -1;
        memmove(out, in, size);
        out += size;
        in += size + 2;
        if (in > end)
            return -1;
    }
}

/* Prints the body of a 2xx answer; the exit status for the answer. */
static int print_answer(struct bytes *a, const char *method, const char *path)
{
    char *end = strstr(a->data, "\r\n\r\n");
    int status = 0;
    if (!end || sscanf(a->data, "HTTP/1.%*d %3d", &status) != 1)
        return die(EXIT_USAGE, "not an HTTP answer");
    char *content = end + 4;
    size_t len = a->len - (size_t)(content - a->data);
    const char *te = header(a->data, end, "Transfer-Encoding");
    if (te && !strncasecmp(te, "chunked", 7)) {
        long n = dechunk(content, len);
        if (n < 0)
            return die(EXIT_USAGE, "a malformed chunked answer");
        len = (size_t)n;
    }
    if (status < 200 || status > 299) {
        fprintf(stderr, "fakectl: %s %s: HTTP %d\n", method, path, status);
        return EXIT_HTTP;
    }
    fwrite(content, 1, len, stdout);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5)
        return die(EXIT_USAGE, "usage: fakectl PORT METHOD PATH [JSON | @FILE]");
    const char *method = argv[2], *path = argv[3], *body_arg = argc == 5 ? argv[4] : NULL;
    struct bytes body = { 0 }, a = { 0 };
    int body_from_file = body_arg && body_arg[0] == '@';
    if (body_from_file) {
        int file = open(body_arg + 1, O_RDONLY | O_CLOEXEC);
        int unread = file < 0 || read_all(file, &body) != 0;
        if (file >= 0)
            close(file);
        if (unread)
            return die(EXIT_USAGE, "cannot read the body's file");
    } else if (body_arg) {
        body.data = (char *)body_arg;
        body.len = strlen(body_arg);
    }
    int fd = connect_loopback(argv[1]);
    if (fd < 0)
        return die(EXIT_NO_SERVER, "nothing answers on that port");
    int failed = send_request(fd, method, path, body_arg ? &body : NULL) != 0 ||
                 read_all(fd, &a) != 0;
    close(fd);
    int rc = failed ? die(EXIT_USAGE, "the request or its answer failed")
                    : print_answer(&a, method, path);
    free(a.data);
    if (body_from_file)
        free(body.data);
    return rc;
}
