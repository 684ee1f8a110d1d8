/*
 * github/runwatch: which list of a commit's runs to poll, so that following
 * a run costs rate limit only when something that can move the verdict
 * changed. Pure: no I/O (github/provider.c sends the requests).
 *
 * Why: whether a run's `updated_at` (so the commit's runs list, its ETag)
 * moves with every finished step or only with the run's status is not
 * documented. If it moves with every step, each poll of the full list
 * after a step costs a unit whatever the interval. The same list filtered
 * by `status=` (GitHub's list-workflow-runs filter, status or conclusion,
 * combinable with head_sha) changes only when a run enters or leaves that
 * status, so its conditional polls stay 304s (free) while steps move.
 *
 * The watch keeps a summary (id, attempt, status, conclusion) of the last
 * full answer for the commit. Once that answer changed with no run's
 * status changing (so the server moves a run with its steps: one unit
 * spent to learn it), and while one of those runs is `in_progress`, the
 * poller reads the lists filtered by `completed` (a run finished: the
 * verdicts 0, 1, and 4 through action_required) and `waiting` (a
 * deployment waits: 4, or a timer) every turn, and `queued` every
 * QUEUED_EVERY turns (a new run or a re-run attempt, for the view: the
 * verdict never rests on it, since every run ends up in `completed`), and
 * reads the full list only when one of them disagrees with the summary.
 * Otherwise the full list is as quiet as the filtered ones and is polled
 * alone, one request a turn (gh_runwatch_by_status() = 0); so it is for
 * good once a list by status holds a run of another status (a server that
 * ignores the filter would make every list change with every step).
 */
#ifndef HOMELAB_GH_RUNWATCH_H
#define HOMELAB_GH_RUNWATCH_H

#include <stddef.h>

#include <jansson.h>

#define GH_RUNWATCH_LISTS 3

struct gh_seen_run {
    long long id;
    int attempt;
    char status[24], conclusion[24];
};

struct gh_runwatch {
    char *path;               /* the full list (API path) the summary is of; NULL none */
    struct gh_seen_run *runs;
    size_t n;
    unsigned gen;             /* bumped whenever the summary's content changes */
    unsigned turns;           /* turns polled by status */
    unsigned checked[GH_RUNWATCH_LISTS]; /* gen + 1 each list was last checked against; 0 never */
    int steps_move;           /* the full answer changed with the summary unchanged */
    int unfiltered;           /* a list by status held a run of another status: the
                               * server ignores the filter, poll the full list */
};

/* The statuses polled, by slot: "completed", "waiting", "queued". */
extern const char *const gh_runwatch_status[GH_RUNWATCH_LISTS];

/* Takes a full list answer ({workflow_runs: [...]}) of `path` as the
 * summary; `changed`: it was a 200, not a 304. 1 when the summary is new
 * (another path, or a run appeared, left or changed attempt, status or
 * conclusion), 0 when it is the same. */
int gh_runwatch_note(struct gh_runwatch *w, const char *path, json_t *list, int changed);

/* 1 when the next poll of `path` should go by status: the summary is of
 * that path, its answer has changed without a status changing, and one
 * of its runs is in_progress. */
int gh_runwatch_by_status(const struct gh_runwatch *w, const char *path);

/* The slots to poll this turn (into out, at most GH_RUNWATCH_LISTS); counts the turn. */
size_t gh_runwatch_turn(struct gh_runwatch *w, size_t *out);

/*
 * Whether the answer of the list of slot `slot` (`changed`: a 200, not a
 * 304) says something the summary does not: a run on it unknown or with
 * another attempt, status or conclusion, or a run of that status missing.
 * An answer already checked against the same summary is no news (so a
 * list that lags the full one, or a commit with more runs than a page,
 * costs one full read, not one per turn).
 */
int gh_runwatch_news(struct gh_runwatch *w, size_t slot, json_t *list, int changed);

void gh_runwatch_release(struct gh_runwatch *w);

#endif
