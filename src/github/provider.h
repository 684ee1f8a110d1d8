/*
 * github/provider: GitHub Actions behind ci/provider.h.
 *
 * runs_of_commit polls GET /repos/R/actions/runs?head_sha=SHA&per_page=100&
 * exclude_pull_requests=true[&event=E] conditionally (a 304 costs no rate
 * limit), or while one of those runs is in_progress the same list by
 * status, reading it in full only when that disagrees (github/runwatch.h);
 * a waiting run's pending_deployments tell a reviewer (a person)
 * from a wait timer. poll_run (`ci watch #ID`) reads /actions/runs/ID
 * once, then follows that run through its commit's runs (its event) like
 * runs_of_commit, and by its id only when the list does not hold it.
 * load_jobs reads /actions/runs/ID/jobs?per_page=100.
 * read_log fetches the job log (redirect without the token) and, for a
 * step, hands over only that step's section (github/logsplit.h); when the
 * cut is uncertain it hands over the whole log and sets
 * p->log_cut_uncertain. Lines go to the sink as numbered entries (0 = the
 * section's first line) carrying their own stamps (ci_log_entry's
 * own_time), or as lines to a sink without on_entry; it returns 1 when
 * GitHub had the log, 0 when it has none yet. `ci logs` chooses logs by
 * GitHub's rule (ci/steps.h ci_logs_choose_jobs); logs are kept per job
 * (ops->log_per_job). There is no live log: --follow reads the job log
 * again.
 */
#ifndef HOMELAB_GH_PROVIDER_H
#define HOMELAB_GH_PROVIDER_H

#include "ci/provider.h"
#include "github/client.h"

extern const struct ci_provider_ops gh_provider_ops;

int gh_provider_open(struct ci_provider *p, const struct config *cfg, const char *repo,
                     int verbose, struct err *e);

/* The client, for doctor and for the rate-limit callback. */
struct gh_client *gh_provider_client(struct ci_provider *p);

/* The cap on a job log (64 MiB, or $HOMELAB_MAX_LOG bytes). */
size_t gh_log_cap(void);

#endif
