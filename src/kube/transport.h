/*
 * transport: reading the cluster through `kubectl get --raw`.
 *
 * kubectl is the transport so every kubeconfig auth method keeps working;
 * homelab parses the API's JSON itself. Two shapes:
 *
 *   - one-shot: `kubectl [--context=C] --request-timeout=Ns get --raw PATH`,
 *     stdout is the body. Failures are recognised from kubectl's stderr
 *     (kube_classify()) and retried when transient;
 *   - watch: one long-lived `kubectl [--context=C] get --raw PATH?watch=1&...`
 *     child per resource, WITHOUT --request-timeout (it would cut the whole
 *     stream); the server bounds it with timeoutSeconds and a local
 *     watchdog restarts a silent one. Its stdout is split into events
 *     incrementally (an event may span reads; a read may hold several).
 *     The watch restarts itself when the child exits, re-listing on
 *     ERROR 410 Gone.
 *
 * Children run through core/proc (argv only, never a shell) as registered
 * streams, so a signal handler's proc_kill_all() ends them; one-shot reads
 * also return early once signal_interrupted() is set.
 *
 * Every namespace and name is validated (DNS-1123) before it is used and
 * percent-encoded in paths; the context reaches kubectl as one
 * `--context=VALUE` argument, so no value can become a flag.
 */
#ifndef HOMELAB_KUBE_TRANSPORT_H
#define HOMELAB_KUBE_TRANSPORT_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/proc.h"
#include "kube/eval.h"

struct kube_client {
    const char *kubectl;     /* the program ("kubectl") */
    const char *context;     /* kube context, or NULL for the current one */
    double request_timeout;  /* seconds per one-shot GET (10) */
    int retries;             /* extra attempts on transient failures (8: about 25 s) */
    int verbose;             /* trace argv to stderr */
};

void kube_client_init(struct kube_client *kc, const char *kubectl, const char *context);

/* ---- targets, names and paths ---- */

struct kube_target {
    enum kube_kind kind;
    char ns[64];
    char name[254];
};

/*
 * Parses NS/NAME (a Deployment), deployment/NS/NAME, statefulset/NS/NAME or
 * daemonset/NS/NAME (also deploy/, sts/, ds/ and the plurals). Returns 0,
 * or -1 with EXIT_USAGE when the shape is wrong or a part is not a
 * DNS-1123 name.
 */
int kube_parse_target(const char *arg, struct kube_target *t, struct err *e);

/* DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
int kube_valid_label(const char *s);
/* DNS-1123 subdomain: labels joined by '.', at most 253. */
int kube_valid_subdomain(const char *s);

/* Appends s percent-encoded: everything but A-Z a-z 0-9 - . _ ~ */
void kube_escape(struct buf *out, const char *s);

/* Copies s for a message: control and non-ASCII bytes as \xNN, cut at 80. */
void kube_quote(char *dst, size_t n, const char *s);

/* "deployments", "statefulsets", "daemonsets". */
const char *kube_resource(enum kube_kind k);
/* /apis/apps/v1/namespaces/NS/RESOURCE */
void kube_collection_path(const struct kube_target *t, struct buf *out);
/* "k1=v1,k2=v2" from a selector's matchLabels (borrowed), percent-encoded
 * for a query; empty when there are none. */
void kube_label_selector(const json_t *selector, struct buf *out);

/* ---- kubectl ---- */

/*
 * The argv for one `get --raw PATH`: one-shot (with --request-timeout) or
 * watch (without). Pushed onto argv.
 */
void kube_argv(const struct kube_client *kc, const char *path, int watch, struct strvec *argv);

/*
 * What kubectl's stderr means: returns an exit code (EXIT_NOT_FOUND,
 * EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE for an unknown context) and
 * sets *transient when another attempt may succeed. `line` receives
 * kubectl's message on one line (Warning: lines skipped, controls escaped).
 */
int kube_classify(const char *stderr_text, int *transient, char *line, size_t n);

/*
 * GET path; the body into `out` (capped at 64 MiB). Transient failures
 * are retried (kc->retries, with backoff). Returns 0, or -1 with e filled
 * ("kubectl: <kubectl's message>"); EXIT_INTERRUPTED when a signal came.
 */
int kube_get_raw(const struct kube_client *kc, const char *path, struct buf *out, struct err *e);
/* The same, parsed as JSON (a new reference in *out). */
int kube_get_json(const struct kube_client *kc, const char *path, json_t **out, struct err *e);

/* ---- watch streams ---- */

/* An incremental line splitter with a cap on one line. */
struct kube_lines {
    struct buf pending;
    size_t cap;      /* a longer line is dropped whole */
    int skipping;    /* inside a dropped line */
    size_t dropped;  /* lines dropped so far */
};

typedef void (*kube_line_fn)(void *arg, const char *line, size_t len);

void kube_lines_init(struct kube_lines *l, size_t cap);
/* Calls fn for every complete line (without its '\n'); keeps the rest. */
void kube_lines_feed(struct kube_lines *l, const char *data, size_t len, kube_line_fn fn, void *arg);
void kube_lines_release(struct kube_lines *l);

enum kube_event_type {
    KUBE_ADDED,
    KUBE_MODIFIED,
    KUBE_DELETED,
    KUBE_BOOKMARK,
    KUBE_ERROR,
    KUBE_RELISTED, /* synthetic: after a re-list, `object` is the list's items */
};

struct kube_event {
    enum kube_event_type type;
    json_t *object; /* owned: the object, an ERROR's Status, or RELISTED's items array */
    long code;      /* ERROR: Status.code (410 = the resourceVersion expired) */
};

/* Parses one watch line; returns 0, or -1 when it is not a watch event. */
int kube_event_parse(const char *line, size_t len, struct kube_event *ev);
void kube_event_release(struct kube_event *ev);

struct kube_watch {
    const struct kube_client *kc;
    char *collection;        /* /apis/apps/v1/namespaces/NS/deployments */
    char *selector;          /* "fieldSelector=…" or "labelSelector=…" (encoded), or "" */
    char *rv;                /* where the next watch starts */
    int timeout_seconds;     /* server-side bound on one watch (60) */
    double idle_limit;       /* restart a child silent this long (timeout + 15) */

    struct proc_stream ps;
    int running;
    int started;             /* a child was started before */
    struct kube_lines lines;
    double last_data;        /* clock_now() of the last byte or start */
    double started_at;       /* clock_now() when the child started */
    double start_at;         /* clock_now() before which not to restart */
    int failures;            /* consecutive failed runs */
    int restarts;            /* children started after the first */
    int relists;             /* re-lists after 410 */
    char last_error[700];    /* kubectl's message from the last failed run */

    struct kube_event *q;    /* events not yet taken */
    size_t nq, aq;
};

/*
 * `selector` is the query that picks the objects, already percent-encoded:
 * "fieldSelector=metadata.name%3Dweb" for one workload (kube_name_selector()),
 * "labelSelector=app%3Dweb" for its pods, or "" for the whole collection.
 */
void kube_watch_init(struct kube_watch *w, const struct kube_client *kc, const char *collection,
                     const char *selector);
/* "fieldSelector=metadata.name%3DNAME" into out. */
void kube_name_selector(struct buf *out, const char *name);
/*
 * LIST the collection with the selector (a consistent read: no
 * resourceVersion): *items is the list's items (new reference); the
 * list's resourceVersion becomes the watch's starting point.
 */
int kube_watch_list(struct kube_watch *w, json_t **items, struct err *e);
/* The item named `name` in an items array (borrowed), or NULL. */
json_t *kube_find_item(const json_t *items, const char *name);
/* The fd to poll() for input, or -1 while no child runs. */
int kube_watch_fd(const struct kube_watch *w);
/*
 * Does the work due at time `now` (clock_now()): reads what the child
 * wrote, queues events, restarts an ended, failed, silent or expired
 * watch (with backoff), re-lists after 410. Returns 0, or -1 when the
 * watch cannot go on (401/403, NotFound, kubectl missing).
 */
int kube_watch_pump(struct kube_watch *w, double now, struct err *e);
/* Takes the oldest queued event (the caller releases it); 0 when none. */
int kube_watch_next(struct kube_watch *w, struct kube_event *ev);
/* Kills and reaps the child; frees everything. */
void kube_watch_release(struct kube_watch *w);

/* The path of one watch request, for tests and traces. */
void kube_watch_path(const struct kube_watch *w, struct buf *out);

#endif
