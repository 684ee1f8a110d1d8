/*
 * woodpecker/provider: Woodpecker behind the ci/provider.h interface.
 * A pipeline is a run (id = its number, as '#N' names it), a workflow a
 * job, a step a step. runs_of_commit reads the newest pipeline of the
 * commit (the server has no conditional requests: *changed compares the
 * states read); wait_change waits on the event stream's hints
 * (woodpecker/hints.h), polling every 3 s while it cannot be relied on.
 * list_runs reads the pipeline list page by page; check_filter refuses a
 * status or event word Woodpecker does not know (it would answer an
 * empty list); no_runs names the repo's newest pipeline. read_log hands
 * a step's stored log (woodpecker/logread.h: its retries, size cap and
 * empty-answer policy) to the sink as numbered entries when it takes
 * them, else as lines; live_open/poll/close are a running step's log
 * stream (woodpecker/logstream.h). newest_run and commit_runs walk the
 * pipeline list (as far as needed); feed_wait/feed_missed/feed_close are
 * the event stream (woodpecker/hints.h) as a change feed; transport is
 * the client's HTTP side. Every ci verb, ci watch and ship's Woodpecker
 * stage included, comes through here. act and describe are the write
 * verbs' (woodpecker/act.h, over woodpecker/write.h).
 */
#ifndef HOMELAB_WP_PROVIDER_H
#define HOMELAB_WP_PROVIDER_H

#include "ci/provider.h"
#include "core/buf.h"
#include "woodpecker/client.h"
#include "woodpecker/model.h"

extern const struct ci_provider_ops wp_provider_ops;

/* Opens the client and looks up `repo_full_name` (p->repo is then the
 * server's spelling of it); p->impl owns both. `deadline` (clock_now()
 * time, 0 none) bounds every request, the lookup's included. */
int wp_provider_open(struct ci_provider *p, const struct config *cfg, const char *repo_full_name,
                     int verbose, double deadline, struct err *e);

/* A pipeline's page on the server: SERVER/repos/ID/pipeline/N. */
void wp_pipeline_page(const struct wp_client *c, long long repo_id, long long number,
                      struct buf *out);

/* 0 when the provider has write `a`; else -1 with EXIT_USAGE and a hint
 * (restart --failed: Woodpecker restarts whole pipelines). Asks no server,
 * so a verb can say it before connecting. */
int wp_act_supported(enum ci_action a, struct err *e);

/* The neutral class of a Woodpecker status word. `pipeline_level`: a
 * pipeline that is "skipped" ran nothing, which is a failure. */
enum ci_state wp_state_class(const char *status, int pipeline_level);

/* Converts a pipeline (with its workflows when loaded) into a run. */
void wp_pipeline_to_run(const struct wp_pipeline *pl, struct ci_run *r);

#endif
