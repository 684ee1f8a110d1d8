/*
 * transport: kubectl as the HTTP client for the Kubernetes API. See
 * transport.h for the two shapes (one-shot and watch) and why watches get
 * no --request-timeout. kubectl's failures all exit 1; only its stderr
 * says what went wrong, so kube_classify() reads it:
 *
 *   Error from server (NotFound): ...                       -> 5
 *   error: You must be logged in to the server (Unauthorized) -> 7
 *   Error from server (Forbidden): ...                      -> 7
 *   Unable to connect to the server: ... x509: ...          -> 7
 *   The connection to the server ... was refused ...        -> 6, retried
 *   ... connection reset by peer / Client.Timeout / EOF     -> 6, retried
 *   Error from server (InternalError): ...                  -> 6, retried
 *   Error from server (ServiceUnavailable|TooManyRequests)  -> 6 (kubectl
 *                                  already retried ten times on Retry-After)
 */
#include "kube/transport.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/signal.h"

#define BODY_CAP (64u << 20)
#define EVENT_CAP (8u << 20)

void kube_client_init(struct kube_client *kc, const char *kubectl, const char *context)
{
    memset(kc, 0, sizeof(*kc));
    kc->kubectl = kubectl && *kubectl ? kubectl : "kubectl";
    kc->context = context && *context ? context : NULL;
    kc->request_timeout = 10;
    /* transient failures (5xx, resets, cut-off bodies) are retried for about
     * 25 s in all, as the Woodpecker client does for its own server */
    kc->retries = 8;
}

/* ---- names and paths ---- */

int kube_valid_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && i > 0 && i < n - 1))
            return 0;
    }
    return 1;
}

int kube_valid_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    char label[254];
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > 63)
            return 0;
        memcpy(label, p, len);
        label[len] = '\0';
        if (!kube_valid_label(label))
            return 0;
        if (!dot)
            return 1;
        p = dot + 1;
    }
}

void kube_escape(struct buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            buf_addc(out, (char)c);
        else
            buf_addf(out, "%%%02X", c);
    }
}

void kube_quote(char *dst, size_t n, const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    size_t i = 0;
    for (; i < 80 && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            buf_addf(&b, "\\x%02x", c);
        else
            buf_addc(&b, (char)c);
    }
    if (s[i])
        buf_adds(&b, "...");
    snprintf(dst, n, "%s", b.data);
    buf_release(&b);
}

static const struct {
    const char *word;
    enum kube_kind kind;
} kinds[] = {
    { "deployment", KUBE_DEPLOYMENT },   { "deployments", KUBE_DEPLOYMENT },
    { "deploy", KUBE_DEPLOYMENT },       { "statefulset", KUBE_STATEFULSET },
    { "statefulsets", KUBE_STATEFULSET }, { "sts", KUBE_STATEFULSET },
    { "daemonset", KUBE_DAEMONSET },     { "daemonsets", KUBE_DAEMONSET },
    { "ds", KUBE_DAEMONSET },
};

int kube_parse_target(const char *arg, struct kube_target *t, struct err *e)
{
    char shown[400];
    memset(t, 0, sizeof(*t));
    t->kind = KUBE_DEPLOYMENT;
    const char *parts[3];
    size_t lens[3], n = 0;
    const char *p = arg;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (n == 3)
            goto bad;
        parts[n] = p;
        lens[n] = slash ? (size_t)(slash - p) : strlen(p);
        n++;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (n < 2)
        goto bad;
    size_t first = 0;
    if (n == 3) {
        size_t k = 0;
        for (; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (strlen(kinds[k].word) == lens[0] && !strncmp(kinds[k].word, parts[0], lens[0]))
                break;
        if (k == sizeof(kinds) / sizeof(kinds[0]))
            goto bad;
        t->kind = kinds[k].kind;
        first = 1;
    }
    if (lens[first] >= sizeof(t->ns) || lens[first + 1] >= sizeof(t->name))
        goto bad;
    memcpy(t->ns, parts[first], lens[first]);
    memcpy(t->name, parts[first + 1], lens[first + 1]);
    if (!kube_valid_label(t->ns)) {
        kube_quote(shown, sizeof(shown), t->ns);
        return err_set(e, EXIT_USAGE, "'%s' is not a valid namespace (lower-case letters, digits and '-')",
                       shown);
    }
    if (!kube_valid_subdomain(t->name)) {
        kube_quote(shown, sizeof(shown), t->name);
        return err_set(e, EXIT_USAGE,
                       "'%s' is not a valid workload name (lower-case letters, digits, '-' and '.')",
                       shown);
    }
    return 0;
bad:
    kube_quote(shown, sizeof(shown), arg);
    err_set(e, EXIT_USAGE, "malformed target '%s'", shown);
    err_hint(e, "want NS/NAME, deployment/NS/NAME, statefulset/NS/NAME or daemonset/NS/NAME");
    return -1;
}

const char *kube_resource(enum kube_kind k)
{
    switch (k) {
    case KUBE_DEPLOYMENT: return "deployments";
    case KUBE_STATEFULSET: return "statefulsets";
    case KUBE_DAEMONSET: return "daemonsets";
    }
    return "deployments";
}

void kube_collection_path(const struct kube_target *t, struct buf *out)
{
    buf_adds(out, "/apis/apps/v1/namespaces/");
    kube_escape(out, t->ns);
    buf_addf(out, "/%s", kube_resource(t->kind));
}

void kube_label_selector(const json_t *selector, struct buf *out)
{
    const json_t *labels = json_object_get(selector, "matchLabels");
    const char *k;
    const json_t *v;
    struct buf sel;
    buf_init(&sel, 0);
    json_object_foreach((json_t *)labels, k, v) {
        if (!json_is_string(v))
            continue;
        buf_addf(&sel, "%s%s=%s", sel.len ? "," : "", k, json_string_value(v));
    }
    kube_escape(out, sel.data);
    buf_release(&sel);
}

/* ---- kubectl ---- */

void kube_argv(const struct kube_client *kc, const char *path, int watch, struct strvec *argv)
{
    strvec_push(argv, kc->kubectl);
    if (kc->context)
        strvec_pushf(argv, "--context=%s", kc->context);
    if (!watch)
        strvec_pushf(argv, "--request-timeout=%ds",
                     kc->request_timeout >= 1 ? (int)kc->request_timeout : 1);
    strvec_pushl(argv, "get", "--raw", path, NULL);
}

static int has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

int kube_classify(const char *text, int *transient, char *line, size_t n)
{
    /* kubectl's message: the first line that is not a warning. */
    const char *p = text, *start = NULL;
    size_t len = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        while (l && isspace((unsigned char)*p)) {
            p++;
            l--;
        }
        if (l && strncmp(p, "Warning:", 8)) {
            start = p;
            len = l;
            break;
        }
        p = nl ? nl + 1 : p + l;
    }
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; start && i < len && i < 600; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c == '\r' || c == '\t')
            buf_addc(&b, ' ');
        else if (c < 0x20 || c == 0x7f)
            buf_addf(&b, "\\x%02x", c);
        else
            buf_addc(&b, (char)c);
    }
    while (b.len && isspace((unsigned char)b.data[b.len - 1]))
        b.data[--b.len] = '\0';
    snprintf(line, n, "%s", b.len ? b.data : "kubectl failed without a message");
    buf_release(&b);

    *transient = 0;
    const char *t = text;
    if (has(t, "(NotFound)"))
        return EXIT_NOT_FOUND;
    if (has(t, "(Unauthorized)") || has(t, "(Forbidden)") || has(t, "must be logged in"))
        return EXIT_REFUSED;
    if (has(t, "context was not found") || (has(t, "context \"") && has(t, "does not exist")))
        return EXIT_USAGE;
    if (has(t, "(TooManyRequests)") || has(t, "(ServiceUnavailable)"))
        return EXIT_UNAVAILABLE;
    if (has(t, "refused") || has(t, "connection reset") || has(t, "Client.Timeout") ||
        has(t, "deadline exceeded") || has(t, "EOF") || has(t, "i/o timeout") ||
        has(t, "handshake timeout") || has(t, "no such host") || has(t, "unreachable") ||
        has(t, "broken pipe") || has(t, "(InternalError)") || has(t, "(Timeout)") ||
        has(t, "(ServerTimeout)") || has(t, "an error on the server") ||
        has(t, "(BadGateway)") || has(t, "(GatewayTimeout)")) {
        *transient = 1;
        return EXIT_UNAVAILABLE;
    }
    if (has(t, "x509") || has(t, "tls:") || has(t, "certificate"))
        return EXIT_REFUSED;
    return EXIT_UNAVAILABLE;
}

static void trace_argv(const struct kube_client *kc, const struct strvec *argv)
{
    if (!kc->verbose)
        return;
    fputs("homelab: run", stderr);
    for (size_t i = 0; i < argv->n; i++)
        fprintf(stderr, " %s", argv->v[i]);
    fputc('\n', stderr);
}

/* Starts `kubectl get --raw PATH` (see kube_argv). 0, or -1 with e. */
static int kubectl_start(const struct kube_client *kc, const char *path, int watch,
                         struct proc_stream *ps, struct err *e)
{
    struct strvec argv = STRVEC_INIT;
    kube_argv(kc, path, watch, &argv);
    trace_argv(kc, &argv);
    int rc = proc_stream_start(ps, (const char *const *)argv.v, NULL, e);
    strvec_clear(&argv);
    return rc < 0 ? -1 : 0;
}

/* One attempt: 0 with the body, or -1 with e (transient noted). */
static int get_once(const struct kube_client *kc, const char *path, struct buf *out,
                    int *transient, struct err *e)
{
    struct proc_stream ps;
    *transient = 0;
    if (kubectl_start(kc, path, 0, &ps, e) < 0)
        return -1;
    double deadline = clock_now() + kc->request_timeout + 15;
    int overflow = 0, timed_out = 0;
    while (ps.out_fd >= 0 || ps.err_fd >= 0) {
        if (signal_interrupted())
            break;
        if (clock_now() > deadline) {
            timed_out = 1;
            break;
        }
        struct pollfd p[2] = { { ps.out_fd, POLLIN, 0 }, { ps.err_fd, POLLIN, 0 } };
        if (poll(p, 2, 100) < 0 && errno != EINTR)
            break;
        if (p[0].revents) {
            char chunk[65536];
            ssize_t n = read(ps.out_fd, chunk, sizeof(chunk));
            if (n > 0) {
                if (out->len + (size_t)n > BODY_CAP)
                    overflow = 1;
                else
                    buf_add(out, chunk, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(ps.out_fd);
                ps.out_fd = -1;
            }
        }
        if (p[1].revents)
            proc_stream_read_stderr(&ps);
    }
    int status = proc_stream_stop(&ps);
    int code = 0;
    if (signal_interrupted()) {
        code = err_set(e, EXIT_INTERRUPTED, "interrupted");
    } else if (timed_out) {
        *transient = 1;
        code = err_set(e, EXIT_UNAVAILABLE, "kubectl: no answer within %.0f s",
                       kc->request_timeout + 15);
    } else if (overflow) {
        code = err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE,
                            "kubectl: reply larger than %u bytes", BODY_CAP);
    } else if (status == 127 && !ps.errbuf.len) {
        /* exec failed after the fork, so posix_spawn had no error to hand
         * back (as under valgrind, where deploy_errors.sh's "kubectl
         * missing" check takes this path): 127 is the child's "could not
         * run" */
        code = err_set(e, EXIT_UNAVAILABLE, "cannot run '%s': it exited 127 without a message "
                       "(not found or not executable)", kc->kubectl);
    } else if (status != 0) {
        char line[700];
        int ec = kube_classify(ps.errbuf.data, transient, line, sizeof(line));
        code = err_set(e, ec, "kubectl: %s", line);
    }
    buf_release(&ps.errbuf);
    return code;
}

/* A factor in [0.5, 1): jitter so a crowd of clients does not retry in step. */
static double jitter(void)
{
    static unsigned long long x;
    if (!x)
        x = (unsigned long long)(clock_wall() * 1e6) ^ ((unsigned long long)getpid() << 32) ^ 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return 0.5 + (double)(x % 1000000) / 2e6;
}

/*
 * One GET with retries. When `json` is given, a body that does not parse
 * (empty, or cut off by a dropped connection: kubectl still exits 0) is as
 * transient as a 503 and is retried the same way, not taken as an answer.
 */
static int get_retrying(const struct kube_client *kc, const char *path, struct buf *out,
                        json_t **json, struct err *e)
{
    double backoff = 0.3;
    for (int attempt = 0;; attempt++) {
        int transient = 0;
        buf_reset(out);
        if (get_once(kc, path, out, &transient, e) == 0) {
            if (!json)
                return 0;
            json_error_t jerr;
            *json = json_loadb(out->data, out->len, 0, &jerr);
            if (*json)
                return 0;
            err_set(e, EXIT_UNAVAILABLE, "the API answered %s with malformed JSON: %s (line %d)",
                    path, jerr.text, jerr.line);
            transient = 1;
        }
        if (!transient || attempt >= kc->retries)
            return -1;
        double wait = backoff * jitter(); /* NOLINT(cert-msc30-c,cert-msc50-cpp): spread, not secrecy */
        if (clock_sleep(wait) < 0 && signal_interrupted())
            return err_set(e, EXIT_INTERRUPTED, "interrupted");
        backoff = backoff * 2 > 5 ? 5 : backoff * 2;
    }
}

int kube_get_raw(const struct kube_client *kc, const char *path, struct buf *out, struct err *e)
{
    return get_retrying(kc, path, out, NULL, e);
}

int kube_get_json(const struct kube_client *kc, const char *path, json_t **out, struct err *e)
{
    struct buf body;
    buf_init(&body, 0);
    *out = NULL;
    int rc = get_retrying(kc, path, &body, out, e);
    buf_release(&body);
    return rc;
}

/* ---- line splitting and events ---- */

void kube_lines_init(struct kube_lines *l, size_t cap)
{
    memset(l, 0, sizeof(*l));
    buf_init(&l->pending, 0);
    l->cap = cap;
}

void kube_lines_release(struct kube_lines *l)
{
    buf_release(&l->pending);
}

void kube_lines_feed(struct kube_lines *l, const char *data, size_t len, kube_line_fn fn, void *arg)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (!l->skipping) {
            if (l->pending.len + take > l->cap) {
                l->skipping = 1;
                l->dropped++;
                buf_reset(&l->pending);
            } else {
                buf_add(&l->pending, data, take);
            }
        }
        if (!nl)
            return;
        if (!l->skipping && l->pending.len)
            fn(arg, l->pending.data, l->pending.len);
        buf_reset(&l->pending);
        l->skipping = 0;
        data += take + 1;
        len -= take + 1;
    }
}

int kube_event_parse(const char *line, size_t len, struct kube_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    json_t *root = json_loadb(line, len, 0, NULL);
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *obj = json_object_get(root, "object");
    static const struct {
        const char *name;
        enum kube_event_type type;
    } types[] = { { "ADDED", KUBE_ADDED }, { "MODIFIED", KUBE_MODIFIED },
                  { "DELETED", KUBE_DELETED }, { "BOOKMARK", KUBE_BOOKMARK },
                  { "ERROR", KUBE_ERROR } };
    int rc = -1;
    for (size_t i = 0; type && json_is_object(obj) && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(type, types[i].name)) {
            ev->type = types[i].type;
            ev->object = json_incref(obj);
            if (ev->type == KUBE_ERROR)
                ev->code = (long)json_integer_value(json_object_get(obj, "code"));
            rc = 0;
        }
    json_decref(root);
    return rc;
}

void kube_event_release(struct kube_event *ev)
{
    json_decref(ev->object);
    ev->object = NULL;
}

/* ---- the watch ---- */

void kube_name_selector(struct buf *out, const char *name)
{
    buf_adds(out, "fieldSelector=metadata.name%3D");
    kube_escape(out, name);
}

void kube_watch_init(struct kube_watch *w, const struct kube_client *kc, const char *collection,
                     const char *selector)
{
    memset(w, 0, sizeof(*w));
    w->kc = kc;
    w->collection = xstrdup(collection);
    w->selector = xstrdup(selector ? selector : "");
    w->timeout_seconds = 60;
    w->idle_limit = 75;
    w->ps.pid = -1;
    w->ps.out_fd = w->ps.err_fd = -1;
    kube_lines_init(&w->lines, EVENT_CAP);
}

void kube_watch_path(const struct kube_watch *w, struct buf *out)
{
    buf_addf(out, "%s?watch=1", w->collection);
    if (*w->selector)
        buf_addf(out, "&%s", w->selector);
    if (w->rv) {
        buf_adds(out, "&resourceVersion=");
        kube_escape(out, w->rv);
    }
    buf_addf(out, "&allowWatchBookmarks=true&timeoutSeconds=%d", w->timeout_seconds);
}

static void set_rv(struct kube_watch *w, const char *rv)
{
    if (!rv || !*rv)
        return;
    free(w->rv);
    w->rv = xstrdup(rv);
}

static void enqueue(struct kube_watch *w, const struct kube_event *ev)
{
    if (w->nq == w->aq) {
        w->aq = w->aq ? w->aq * 2 : 8;
        w->q = xrealloc(w->q, w->aq * sizeof(*w->q));
    }
    w->q[w->nq++] = *ev;
}

json_t *kube_find_item(const json_t *items, const char *name)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        const char *n = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
        if (n && !strcmp(n, name))
            return it;
    }
    return NULL;
}

int kube_watch_list(struct kube_watch *w, json_t **items, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    buf_adds(&path, w->collection);
    if (*w->selector)
        buf_addf(&path, "?%s", w->selector);
    json_t *list = NULL;
    *items = NULL;
    int rc = kube_get_json(w->kc, path.data, &list, e);
    buf_release(&path);
    if (rc < 0)
        return -1;
    json_t *arr = json_object_get(list, "items");
    if (json_is_null(arr) || !arr) /* an empty list may say "items": null */
        arr = json_array();
    else if (json_is_array(arr))
        json_incref(arr);
    else {
        json_decref(list);
        return err_set(e, EXIT_UNAVAILABLE, "the API answered a list without items");
    }
    set_rv(w, json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion")));
    *items = arr;
    json_decref(list);
    return 0;
}

int kube_watch_fd(const struct kube_watch *w)
{
    return w->running ? w->ps.out_fd : -1;
}

static int watch_start(struct kube_watch *w, double now, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    kube_watch_path(w, &path);
    int rc = kubectl_start(w->kc, path.data, 1, &w->ps, e);
    buf_release(&path);
    if (rc < 0)
        return -1;
    w->running = 1;
    w->last_data = now;
    w->started_at = now;
    buf_reset(&w->lines.pending);
    w->lines.skipping = 0;
    return 0;
}

/* Stops the child; returns its status. */
static int watch_stop(struct kube_watch *w)
{
    if (!w->running)
        return 0;
    int status = proc_stream_stop(&w->ps);
    w->running = 0;
    return status;
}

static void schedule_retry(struct kube_watch *w, double now)
{
    w->failures++;
    double wait = 0.25;
    for (int i = 1; i < w->failures && wait < 5; i++)
        wait *= 2;
    w->start_at = now + (wait > 5 ? 5 : wait);
}

struct feed_ctx {
    struct kube_watch *w;
    int expired;  /* ERROR 410 seen */
    int error;    /* another ERROR seen */
};

static void on_line(void *arg, const char *line, size_t len)
{
    struct feed_ctx *fc = arg;
    struct kube_event ev;
    if (kube_event_parse(line, len, &ev) < 0)
        return;
    if (ev.type == KUBE_ERROR) {
        if (ev.code == 410)
            fc->expired = 1;
        else
            fc->error = 1;
        kube_event_release(&ev);
        return;
    }
    set_rv(fc->w, json_string_value(
                      json_object_get(json_object_get(ev.object, "metadata"), "resourceVersion")));
    if (ev.type == KUBE_BOOKMARK) {
        kube_event_release(&ev);
        return;
    }
    enqueue(fc->w, &ev);
}

static int relist(struct kube_watch *w, struct err *e)
{
    json_t *items = NULL;
    free(w->rv);
    w->rv = NULL;
    if (kube_watch_list(w, &items, e) < 0)
        return -1;
    struct kube_event ev = { KUBE_RELISTED, items, 0 };
    enqueue(w, &ev);
    w->relists++;
    return 0;
}

int kube_watch_pump(struct kube_watch *w, double now, struct err *e)
{
    struct feed_ctx fc = { w, 0, 0 };
    int ended = 0;
    if (w->running) {
        char chunk[65536];
        for (int rounds = 0; rounds < 64; rounds++) {
            ssize_t n = read(w->ps.out_fd, chunk, sizeof(chunk));
            if (n > 0) {
                w->last_data = now;
                kube_lines_feed(&w->lines, chunk, (size_t)n, on_line, &fc);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            ended = 1; /* EOF or a read error: the child is done */
            break;
        }
        proc_stream_read_stderr(&w->ps);
    }
    if (fc.expired || fc.error) {
        watch_stop(w);
        buf_release(&w->ps.errbuf);
        if (fc.expired) {
            if (relist(w, e) < 0) {
                if (e->code != EXIT_UNAVAILABLE)
                    return -1;
                snprintf(w->last_error, sizeof(w->last_error), "%s", e->msg);
                err_clear(e);
                schedule_retry(w, now);
                return 0;
            }
            w->failures = 0;
            w->start_at = now;
        } else {
            snprintf(w->last_error, sizeof(w->last_error), "the watch answered an ERROR event");
            schedule_retry(w, now);
        }
    } else if (ended) {
        int status = watch_stop(w);
        if (status == 0 && now - w->started_at >= 1) {
            w->failures = 0; /* timeoutSeconds ran out: start again at once */
            w->start_at = now;
        } else if (status == 0) {
            /* Ended as soon as it began: not a watch (a proxy that ignores
             * watch=1?). Back off rather than spin. */
            snprintf(w->last_error, sizeof(w->last_error),
                     "the watch on %s ended as soon as it started", w->collection);
            schedule_retry(w, now);
        } else {
            int transient = 0;
            int code = kube_classify(w->ps.errbuf.data, &transient, w->last_error,
                                     sizeof(w->last_error));
            if (code == EXIT_REFUSED || code == EXIT_NOT_FOUND || code == EXIT_USAGE) {
                buf_release(&w->ps.errbuf);
                return err_set(e, code, "kubectl: %s", w->last_error);
            }
            schedule_retry(w, now);
        }
        buf_release(&w->ps.errbuf);
    } else if (w->running && now - w->last_data > w->idle_limit) {
        /* Silent past the server's own bound: the connection is dead. */
        watch_stop(w);
        buf_release(&w->ps.errbuf);
        w->start_at = now;
    }
    if (!w->running && now >= w->start_at && !signal_interrupted()) {
        if (w->started)
            w->restarts++;
        w->started = 1;
        if (watch_start(w, now, e) < 0)
            return -1;
    }
    return 0;
}

int kube_watch_next(struct kube_watch *w, struct kube_event *ev)
{
    if (!w->nq)
        return 0;
    *ev = w->q[0];
    memmove(w->q, w->q + 1, (w->nq - 1) * sizeof(*w->q));
    w->nq--;
    return 1;
}

void kube_watch_release(struct kube_watch *w)
{
    watch_stop(w);
    buf_release(&w->ps.errbuf);
    for (size_t i = 0; i < w->nq; i++)
        kube_event_release(&w->q[i]);
    free(w->q);
    free(w->collection);
    free(w->selector);
    free(w->rv);
    kube_lines_release(&w->lines);
    memset(w, 0, sizeof(*w));
    w->ps.pid = -1;
    w->ps.out_fd = w->ps.err_fd = -1;
}
