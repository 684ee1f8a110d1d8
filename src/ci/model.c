/* ci/model: see model.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/model.h"
#include "core/err.h"

int ci_state_final(enum ci_state s)
{
    return s == CI_SUCCESS || s == CI_NEUTRAL || s == CI_SKIPPED || s == CI_FAILURE ||
           s == CI_CANCELLED;
}

int ci_state_failed(enum ci_state s)
{
    return s == CI_FAILURE || s == CI_CANCELLED;
}

static void job_release(struct ci_job *j)
{
    for (size_t i = 0; i < j->nsteps; i++) {
        free(j->steps[i].name);
        free(j->steps[i].status);
        free(j->steps[i].type);
        free(j->steps[i].error);
    }
    free(j->steps);
    free(j->name);
    free(j->status);
    free(j->error);
}

void ci_run_release(struct ci_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->njobs; i++)
        job_release(&r->jobs[i]);
    free(r->jobs);
    free(r->workflow);
    free(r->status);
    free(r->event);
    free(r->branch);
    free(r->sha);
    free(r->message);
    free(r->url);
    free(r->author);
    free(r->ref);
    free(r->error);
    free(r->waiting_for);
    for (size_t i = 0; i < r->nvars; i++) {
        free(r->vars[i].name);
        free(r->vars[i].value);
    }
    free(r->vars);
    *r = (struct ci_run){ 0 };
}

void ci_runset_release(struct ci_runset *s)
{
    for (size_t i = 0; i < s->n; i++)
        ci_run_release(&s->runs[i]);
    free(s->runs);
    s->runs = NULL;
    s->n = 0;
}

/* A failure decides at once; then a person; then all must have passed. */
int ci_verdict(const struct ci_runset *s, int wait_person)
{
    int undecided = s->n == 0, person = 0;
    for (size_t i = 0; i < s->n; i++) {
        enum ci_state st = s->runs[i].state;
        if (ci_state_failed(st))
            return EXIT_FAILED;
        if (st == CI_NEEDS_PERSON)
            person = 1;
        else if (!ci_state_final(st))
            undecided = 1;
    }
    if (person && !wait_person)
        return EXIT_NEEDS_PERSON;
    if (person || undecided)
        return -1;
    return 0;
}

const struct ci_job *ci_run_failed_job(const struct ci_run *r)
{
    for (size_t i = 0; i < r->njobs; i++)
        if (ci_state_failed(r->jobs[i].state) && r->jobs[i].state != CI_CANCELLED)
            return &r->jobs[i];
    for (size_t i = 0; i < r->njobs; i++)
        if (ci_state_failed(r->jobs[i].state))
            return &r->jobs[i];
    return NULL;
}

const struct ci_step *ci_job_failed_step(const struct ci_job *j)
{
    for (size_t i = 0; i < j->nsteps; i++)
        if (j->steps[i].state == CI_FAILURE)
            return &j->steps[i];
    for (size_t i = 0; i < j->nsteps; i++)
        if (ci_state_failed(j->steps[i].state))
            return &j->steps[i];
    return NULL;
}

/* ---- text for people ---- */

void ci_format_duration(long long s, char *out, size_t outlen)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(out, outlen, "%llds", s);
    else if (s < 3600)
        snprintf(out, outlen, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, outlen, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf(out, outlen, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
}

void ci_first_line(const char *msg, size_t max, char *out, size_t outlen)
{
    if (!outlen)
        return;
    if (!msg)
        msg = "";
    size_t n = strcspn(msg, "\r\n");
    if (n > max)
        n = max;
    if (n >= outlen)
        n = outlen - 1;
    /* do not cut a UTF-8 sequence in half */
    while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
        n--;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)msg[i];
        out[i] = (char)((ch < 0x20 || ch == 0x7f) ? ' ' : ch);
    }
    out[n] = '\0';
}

long long ci_elapsed(long long started, long long finished, long long now)
{
    if (!started)
        return 0;
    long long end = finished ? finished : now;
    return end > started ? end - started : 0;
}
