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

static int print_pick(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                      const struct pick *pk, const struct ci_logs_view *v, int header,
                      struct ci_lines *L)
{
    struct ci_run *r = &s->runs[pk->run];
    const struct ci_job *j = &r->jobs[pk->job];
    const struct ci_step *st = pk->step >= 0 ? &j->steps[pk->step] : NULL;
    if (header)
        printf("==> %s / %s%s%s <==\n", ci_view_workflow(r), j->name, st ? " / " : "",
               st ? st->name : "");
    struct ci_log_sink sink = { ci_lines_on_line, L };
    struct err e;
    err_clear(&e);
    int rc = ci_read_log(p, r, j, st, &sink, &e);
    if (rc < 0) {
        ctx->err = e;
        return e.code ? e.code : EXIT_UNAVAILABLE;
    }
    if (rc == 0 && !v->follow)
        fprintf(stderr, "homelab: %s has no log for %s yet (%s)\n", p->ops->title, j->name,
                ci_view_word(j->status));
    if (rc > 0 && st && p->log_cut_uncertain)
        fprintf(stderr, "homelab: could not tell the lines of step '%s' apart for sure; "
                        "showing the whole job log\n", st->name);
    ci_lines_flush(L, "");
    fflush(stdout);
    return 0;
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
        int code = print_pick(ctx, p, s, pk, v, 0, L);
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
    for (size_t i = 0; !v.follow && i < ps.n && !code; i++)
        code = print_pick(ctx, p, s, &ps.v[i], &v, ps.n > 1 || !what, &L);
    ci_lines_release(&L);
    return code;
}
