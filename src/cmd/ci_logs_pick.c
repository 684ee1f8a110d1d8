/* ci_logs_pick: see ci_logs_pick.h. */
#include "cmd/ci_logs_pick.h"

#include <stdio.h>
#include <string.h>

#include "cmd/ci_view.h"
#include "core/clock.h"
#include "core/term.h"

/* --follow re-reads the job log this often (the provider may wait longer) */
#define FOLLOW_EVERY 3.0

struct pick {
    size_t run, job;
    long step;  /* -1: the whole job */
};

struct picks {
    struct pick v[64];
    size_t n, total;
};

static void add_pick(struct picks *ps, size_t r, size_t j, long st)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].run == r && ps->v[i].job == j && ps->v[i].step == st)
            return;
    ps->total++;
    if (ps->n < sizeof(ps->v) / sizeof(ps->v[0]))
        ps->v[ps->n++] = (struct pick){ r, j, st };
}

/* Jobs named `job` (NULL = any) with a step named `step` (NULL = the whole job). */
static void match(const struct ci_runset *s, const char *job, size_t joblen, const char *step,
                  struct picks *ps)
{
    for (size_t r = 0; r < s->n; r++)
        for (size_t j = 0; j < s->runs[r].njobs; j++) {
            const struct ci_job *jb = &s->runs[r].jobs[j];
            if (job && (strlen(jb->name) != joblen || strncmp(jb->name, job, joblen)))
                continue;
            if (!step) {
                add_pick(ps, r, j, -1);
                continue;
            }
            for (size_t k = 0; k < jb->nsteps; k++)
                if (!strcmp(jb->steps[k].name, step))
                    add_pick(ps, r, j, (long)k);
        }
}

/* --job/--step: every split of "JOB/STEP" is tried (job names may hold " / "). */
/* No --job/--step: the failing steps when a run failed, else every job. */
static void default_picks(const struct ci_runset *s, struct picks *ps)
{
    for (size_t r = 0; r < s->n; r++) {
        const struct ci_job *j = ci_run_failed_job(&s->runs[r]);
        const struct ci_step *st = j ? ci_job_failed_step(j) : NULL;
        if (j)
            add_pick(ps, r, (size_t)(j - s->runs[r].jobs),
                     st ? (long)(st - j->steps) : -1);
    }
    if (!ps->total)
        match(s, NULL, 0, NULL, ps);
}

static void resolve(const struct ci_runset *s, const char *job, const char *step,
                    struct picks *ps)
{
    memset(ps, 0, sizeof(*ps));
    if (!job && !step) {
        default_picks(s, ps);
        return;
    }
    if (job || !step) {
        match(s, job, job ? strlen(job) : 0, step, ps);
        return;
    }
    match(s, NULL, 0, step, ps);
    for (const char *sl = strchr(step, '/'); sl; sl = strchr(sl + 1, '/'))
        match(s, step, (size_t)(sl - step), sl + 1, ps);
}

static int pick_error(struct cmd_ctx *ctx, const struct ci_runset *s, const struct picks *ps,
                      const char *what)
{
    if (ps->total == 0) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "no job or step named '%s' in the runs of this commit",
                what);
        return EXIT_NOT_FOUND;
    }
    fprintf(stderr, "homelab: '%s' names %zu steps or jobs:\n", what, ps->total);
    for (size_t i = 0; i < ps->n; i++) {
        const struct ci_job *j = &s->runs[ps->v[i].run].jobs[ps->v[i].job];
        fprintf(stderr, "  --job '%s'%s%s%s\n", j->name, ps->v[i].step >= 0 ? " --step '" : "",
                ps->v[i].step >= 0 ? j->steps[ps->v[i].step].name : "",
                ps->v[i].step >= 0 ? "'" : "");
    }
    err_set(&ctx->err, EXIT_USAGE, "'%s' is ambiguous; name the job with --job", what);
    return EXIT_USAGE;
}

/* A header that waits for the log's first line: a job with no log yet
 * gets no header (its absence is said once, by no_logs()). */
struct held_header {
    struct ci_lines *L;
    const struct ci_run *r;
    const struct ci_job *j;
    const struct ci_step *st;
    int pending;
};

static void held_header_print(struct held_header *h)
{
    if (!h->pending)
        return;
    h->pending = 0;
    printf("==> %s / %s%s%s <==\n", ci_view_workflow(h->r), h->j->name, h->st ? " / " : "",
           h->st ? h->st->name : "");
}

static int held_header_line(void *ctx, const char *line, size_t len, double ts, size_t text)
{
    struct held_header *h = ctx;
    held_header_print(h);
    return ci_lines_on_line(h->L, line, len, ts, text);
}

static void no_log_note(const struct ci_provider *p, const struct ci_job *j, const char *how)
{
    fprintf(stderr, "homelab: %s has no log for %s yet (%s)%s\n", p->ops->title, j->name,
            ci_view_word(j->status), how);
}

/* Prints one pick's log. *nolog is set when the provider has none yet;
 * with headers the caller says so (no_logs()), else it is noted here. */
static int print_pick(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                      const struct pick *pk, const struct ci_logs_view *v, int header,
                      struct ci_lines *L, int *nolog)
{
    struct ci_run *r = &s->runs[pk->run];
    const struct ci_job *j = &r->jobs[pk->job];
    const struct ci_step *st = pk->step >= 0 ? &j->steps[pk->step] : NULL;
    struct held_header h = { L, r, j, st, header };
    struct ci_log_sink sink = { .on_line = held_header_line, .ctx = &h };
    struct err e;
    err_clear(&e);
    int rc = ci_read_log(p, r, j, st, &sink, &e);
    if (rc < 0) {
        ctx->err = e;
        return e.code ? e.code : EXIT_UNAVAILABLE;
    }
    *nolog = rc == 0;
    if (rc > 0)
        held_header_print(&h); /* an empty log still gets its header */
    if (rc == 0 && !v->follow && !header)
        no_log_note(p, j, "");
    if (rc > 0 && st && p->log_cut_uncertain)
        fprintf(stderr, "homelab: could not tell the lines of step '%s' apart for sure; "
                        "showing the whole job log\n", st->name);
    ci_lines_flush(L, "");
    fflush(stdout);
    return 0;
}

/* Without --follow, with headers: the picks in `none` had no log yet.
 * When none had one, says so once (exit 5, as Woodpecker's side does);
 * else notes each that had none. */
static int no_logs(struct cmd_ctx *ctx, const struct ci_provider *p, const struct ci_runset *s,
                   const struct picks *ps, const int *none, size_t nnone)
{
    if (nnone < ps->n) {
        for (size_t i = 0; i < ps->n; i++)
            if (none[i])
                no_log_note(p, &s->runs[ps->v[i].run].jobs[ps->v[i].job], "");
        return 0;
    }
    int final = 1;
    for (size_t i = 0; i < s->n; i++)
        final = final && ci_state_final(s->runs[i].state);
    const char *more = final ? "" : "; --follow waits for them";
    if (s->n == 1)
        err_set(&ctx->err, EXIT_NOT_FOUND, "no job of %s '#%lld' (%s) has a log yet%s",
                ci_view_workflow(&s->runs[0]), s->runs[0].id, ci_view_word(s->runs[0].status),
                more);
    else
        err_set(&ctx->err, EXIT_NOT_FOUND, "no job of the %zu runs of this commit has a log "
                "yet%s", s->n, more);
    return EXIT_NOT_FOUND;
}

/* --follow: re-fetches the job log every few seconds and prints new lines. */
static int follow_pick(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                       const struct pick *pk, const struct ci_logs_view *v, struct ci_lines *L)
{
    double deadline = clock_now() + cmd_timeout(ctx);
    int said = 0;
    for (;;) {
        L->seen = 0;
        L->skip = L->printed;
        int nolog;
        int code = print_pick(ctx, p, s, pk, v, 0, L, &nolog);
        if (code)
            return code;
        const struct ci_job *j = &s->runs[pk->run].jobs[pk->job];
        if (ci_state_final(j->state))
            return 0;
        if (!L->printed && !said) {
            fprintf(stderr, "homelab: %s has no log for %s yet (%s); waiting\n",
                    p->ops->title, j->name,
                    ci_view_word(j->status));
            said = 1;
        }
        if (clock_now() >= deadline) {
            err_set(&ctx->err, EXIT_TIMEOUT, "timed out following %s", j->name);
            return EXIT_TIMEOUT;
        }
        p->ops->wait_change(p, FOLLOW_EVERY);
        if (term_interrupted())
            return EXIT_INTERRUPTED;
        int ch;
        if (ci_load_jobs(p, &s->runs[pk->run], &ch, &ctx->err) < 0)
            return ctx->err.code;
        if (pk->job >= s->runs[pk->run].njobs) {
            err_set(&ctx->err, EXIT_NOT_FOUND, "the job is gone from the run");
            return EXIT_NOT_FOUND;
        }
    }
}

int ci_logs_print(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                  const char *job, const struct ci_logs_view *vp)
{
    struct ci_logs_view v = *vp;
    struct picks ps;
    resolve(s, job, v.step, &ps);
    const char *what = v.step ? v.step : job;
    if (!what && ps.total == 0) {
        err_set(&ctx->err, EXIT_NOT_FOUND, "the runs of this commit have no jobs, so there "
                "are no logs");
        return EXIT_NOT_FOUND;
    }
    if (what && ps.total != 1)
        return pick_error(ctx, s, &ps, what);
    struct ci_lines L;
    ci_lines_init(&L, stdout, v.follow ? -1 : v.tail, v.timestamps, v.raw);
    int code = 0;
    if (v.follow)
        code = follow_pick(ctx, p, s, &ps.v[0], &v, &L);
    int header = ps.n > 1 || !what, none[64] = { 0 };
    size_t nnone = 0;
    for (size_t i = 0; !v.follow && i < ps.n && !code; i++) {
        code = print_pick(ctx, p, s, &ps.v[i], &v, header, &L, &none[i]);
        nnone += (size_t)none[i];
    }
    if (!v.follow && header && !code && nnone)
        code = no_logs(ctx, p, s, &ps, none, nnone);
    ci_lines_release(&L);
    return code;
}
