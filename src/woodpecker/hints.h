/*
 * woodpecker/hints: the event stream as a source of *hints* that a
 * pipeline of one repo changed. Woodpecker's stream is fast but
 * unreliable: it silently drops private repos for a bad token, reorders,
 * never replays, and proxies may buffer it; so a hint only says "worth
 * asking the detail endpoint now", never what the verdict is.
 *
 * wp_hints owns the connection's life: it opens the stream (with
 * backoff), notices a dead, silent (no ": ping" within 45 s) or buffered
 * (no first byte within 5 s) stream and one that was refused (a 4xx, an
 * HTML page: retried only after a minute), and tells whether it can be
 * relied on (wp_hints_usable). The owner reports with wp_hints_blind()
 * when a reconcile found a change no event announced: the stream cannot
 * see this repo, and is not relied on again. Each pipeline event of the
 * repo goes to on_pipeline, which may take it (move it out and leave it
 * zeroed); what is left is released after the call.
 */
#ifndef HOMELAB_WP_HINTS_H
#define HOMELAB_WP_HINTS_H

#include "woodpecker/model.h"
#include "woodpecker/stream.h"

struct wp_hints {
    struct wp_client *client;
    long long repo_id;
    int verbose;
    double poll_every;       /* for the --verbose line: "polling every Ns" */
    struct wp_stream stream;
    int healthy;             /* bytes flowing and not blind */
    int blind;               /* a reconcile caught it missing a change */
    int attempts;
    double retry_at;
    void (*on_pipeline)(void *ud, struct wp_pipeline *p);
    void *ud;
};

void wp_hints_init(struct wp_hints *h, struct wp_client *c, long long repo_id, int verbose,
                   double poll_every, void (*on_pipeline)(void *ud, struct wp_pipeline *p),
                   void *ud);
/* Opens the stream now (a failure schedules a retry with backoff). */
void wp_hints_open(struct wp_hints *h);
/* Notices a dead, silent or buffered stream, and (re)opens one when due. */
void wp_hints_check(struct wp_hints *h, double now);
/* Waits at most `seconds` for stream data (or just sleeps when closed). */
void wp_hints_wait(struct wp_hints *h, double seconds);
/* Whether hints can be relied on (else: poll). A new stream gets a few
 * seconds to send its first ": ping". */
int wp_hints_usable(const struct wp_hints *h, double now);
/* A reconcile found a change no event announced. */
void wp_hints_blind(struct wp_hints *h);
void wp_hints_close(struct wp_hints *h);

#endif
