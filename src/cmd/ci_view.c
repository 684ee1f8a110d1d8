/* ci_view: see ci_view.h. */
#include "cmd/ci_view.h"

#include <stdlib.h>
#include <string.h>

#include "ci/logrender.h"
#include "ci/steps.h"
#include "core/clock.h"
#include "core/sanitize.h"
#include "woodpecker/model.h"

/*
 * At most `max` bytes of a server's text, cut on a UTF-8 boundary: the
 * commit and branch come from the server, and "%.7s" could end a line in
 * half a character (found by tests/fuzz/fuzz_model).
 */
static const char *cut(const char *s, size_t max, char *dst, size_t n)
{
    ci_first_line(s ? s : "", max, dst, n);
    return dst;
}

const char *ci_view_word(const char *s)
{
    return s ? s : "unknown";
}

const char *ci_view_workflow(const struct ci_run *r)
{
    return r->workflow ? r->workflow : "pipeline";
}

enum term_color ci_view_tone(enum ci_state s)
{
    switch (s) {
    case CI_SUCCESS: case CI_NEUTRAL: case CI_SKIPPED:
        return ci_status_tone("success");
    case CI_FAILURE: case CI_CANCELLED:
        return ci_status_tone("failure");
    case CI_NEEDS_PERSON:
        return ci_status_tone("blocked");
    case CI_RUNNING:
        return ci_status_tone("running");
    default:
        return ci_status_tone("pending");
    }
}

/* "CI #12 failure push main 3cc04da (run 30000000301, attempt 2)" */
void ci_view_run_line(const struct ci_run *r, struct buf *out)
{
    char sha[16];
    buf_addf(out, "%s #%lld %s %s %s %s (run %lld", ci_view_workflow(r), r->number,
             ci_view_word(r->status), r->event ? r->event : "-", r->branch ? r->branch : "-",
             cut(r->sha, 7, sha, sizeof(sha)), r->id);
    if (r->attempt > 1)
        buf_addf(out, ", attempt %d", r->attempt);
    buf_addf(out, ")");
}

void ci_view_tree(const struct ci_run *r, int color, struct buf *out)
{
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        buf_addf(out, "  ");
        term_paint(out, color, ci_view_tone(j->state), ci_view_word(j->status));
        buf_addf(out, " %s\n", j->name);
        for (size_t k = 0; k < j->nsteps; k++) {
            buf_addf(out, "    ");
            term_paint(out, color, ci_view_tone(j->steps[k].state), ci_view_word(j->steps[k].status));
            buf_addf(out, " %s\n", j->steps[k].name);
        }
    }
}

json_t *ci_view_run_json(const struct ci_run *r)
{
    json_t *jobs = json_array();
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        json_t *steps = json_array();
        for (size_t k = 0; k < j->nsteps; k++)
            json_array_append_new(steps, json_pack("{s:i, s:s, s:s}", "number",
                                                   j->steps[k].number, "name", j->steps[k].name,
                                                   "status", ci_view_word(j->steps[k].status)));
        json_array_append_new(jobs, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)j->id,
                                              "name", j->name, "status", ci_view_word(j->status),
                                              "steps", steps));
    }
    json_t *o = json_pack("{s:I, s:I, s:i, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:o}", "id",
                          (json_int_t)r->id, "run_number", (json_int_t)r->number, "attempt",
                          r->attempt, "workflow", ci_view_workflow(r), "status", ci_view_word(r->status),
                          "event", r->event, "branch", r->branch, "sha", r->sha, "url", r->url,
                          "jobs", jobs);
    if (r->waiting_for)
        json_object_set_new(o, "waiting_for", json_string(r->waiting_for));
    return o;
}

json_t *ci_view_runs_json(const struct ci_runset *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, ci_view_run_json(&s->runs[i]));
    return a;
}

const char *ci_view_verdict_word(int code)
{
    switch (code) {
    case 0: return "success";
    case EXIT_FAILED: return "failure";
    case EXIT_NEEDS_PERSON: return "needs_person";
    case EXIT_TIMEOUT: return "timeout";
    case EXIT_NOT_FOUND: return "not_found";
    default: return "error";
    }
}

/* ---- the pipeline layout (one run per commit: Woodpecker's contract) ---- */

static const char *s_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

/* "1m57s" when finished, the time so far while running, else "queued 12s". */
static void timing(const struct ci_run *r, long long now, char *out, size_t outlen)
{
    char d[32];
    if (r->finished && r->started) {
        wp_format_duration(r->finished - r->started, d, sizeof(d));
        snprintf(out, outlen, "%s", d);
    } else if (r->started) {
        /* the status word before it already says running */
        wp_format_duration(now - r->started, d, sizeof(d));
        snprintf(out, outlen, "%s", d);
    } else {
        wp_format_duration(now - r->created, d, sizeof(d));
        snprintf(out, outlen, "queued %s", d);
    }
}

void ci_view_pipeline_line(const struct ci_run *r, long long now, struct buf *out)
{
    char t[48], msg[80], sha[16];
    timing(r, now, t, sizeof(t));
    wp_first_line(s_or(r->message, ""), 72, msg, sizeof(msg));
    buf_addf(out, "#%lld %s %s %s %s %s %s", r->number, ci_view_word(r->status),
             s_or(r->event, ""), r->branch && *r->branch ? r->branch : "-",
             cut(r->sha, 7, sha, sizeof(sha)), t, msg);
    while (out->len && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
}

/* The start of a row of the tree: indented name, status, duration so far. */
static void tree_row(struct buf *out, int indent, const char *name, const char *status,
                     long long started, long long finished, long long now, int color)
{
    char d[32] = "";
    if (started)
        wp_format_duration(wp_elapsed(started, finished, now), d, sizeof(d));
    buf_addf(out, "%*s%-*s ", indent, "", 28 - indent, s_or(name, ""));
    ci_paint_status(out, color, ci_view_word(status), 8);
    buf_addf(out, " %6s", d);
}

static void step_row(const struct ci_step *st, long long now, int color, struct buf *out)
{
    tree_row(out, 4, st->name, st->status, st->started, st->finished, now, color);
    if (ci_state_failed(st->state) && st->exit_code > 0)
        buf_addf(out, "  exit %d", st->exit_code);
    if (st->error) {
        char e[120];
        wp_first_line(st->error, 100, e, sizeof(e));
        buf_addf(out, "  %s", e);
    }
    buf_addc(out, '\n');
}

void ci_view_pipeline_tree(const struct ci_run *r, long long now, int color, struct buf *out)
{
    if (r->error) {
        char e[200];
        wp_first_line(r->error, 180, e, sizeof(e));
        buf_addf(out, "  error: %s\n", e);
    }
    for (size_t i = 0; i < r->njobs; i++) {
        const struct ci_job *j = &r->jobs[i];
        tree_row(out, 2, j->name, j->status, j->started, j->finished, now, color);
        buf_addc(out, '\n');
        for (size_t k = 0; k < j->nsteps; k++)
            step_row(&j->steps[k], now, color, out);
    }
}

static json_t *pipeline_step_json(const struct ci_step *st)
{
    return json_pack("{s:I, s:i, s:s, s:s, s:i, s:s, s:I, s:I, s:s}", "id", (json_int_t)st->id,
                     "pid", st->number, "name", s_or(st->name, ""), "state",
                     s_or(st->status, ""), "exit_code", st->exit_code, "error",
                     s_or(st->error, ""), "started", (json_int_t)st->started, "finished",
                     (json_int_t)st->finished, "type", s_or(st->type, ""));
}

static json_t *pipeline_workflow_json(const struct ci_job *j)
{
    json_t *steps = json_array();
    for (size_t k = 0; k < j->nsteps; k++)
        json_array_append_new(steps, pipeline_step_json(&j->steps[k]));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "name", s_or(j->name, ""), "state",
                     s_or(j->status, ""), "error", s_or(j->error, ""), "started",
                     (json_int_t)j->started, "finished", (json_int_t)j->finished, "steps", steps);
}

json_t *ci_view_pipeline_json(const struct ci_run *r)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}",
                          "number", (json_int_t)r->number, "status", s_or(r->status, ""),
                          "event", s_or(r->event, ""), "branch", s_or(r->branch, ""), "commit",
                          s_or(r->sha, ""), "message", s_or(r->message, ""), "author",
                          s_or(r->author, ""), "ref", s_or(r->ref, ""), "parent",
                          (json_int_t)r->parent, "created", (json_int_t)r->created, "started",
                          (json_int_t)r->started, "finished", (json_int_t)r->finished, "url",
                          s_or(r->url, ""));
    if (r->error)
        json_object_set_new(j, "error", json_string(r->error));
    /* Woodpecker leaves "workflows" out of a pipeline that has none */
    if (r->has_jobs && r->njobs) {
        json_t *wfs = json_array();
        for (size_t i = 0; i < r->njobs; i++)
            json_array_append_new(wfs, pipeline_workflow_json(&r->jobs[i]));
        json_object_set_new(j, "workflows", wfs);
    }
    return j;
}

/* "#61    failure   push         main                 07febff  3m       1m57s    Fix …" */
static void pipeline_list_row(const struct ci_run *r, long long now, int color, struct buf *out)
{
    char age[32], dur[32] = "-", msg[64], branch[32], sha[16];
    wp_format_duration(now - r->created, age, sizeof(age));
    if (r->started)
        wp_format_duration(wp_elapsed(r->started, r->finished, now), dur, sizeof(dur));
    wp_first_line(s_or(r->message, ""), 50, msg, sizeof(msg));
    buf_addf(out, "%-6lld ", r->number);
    ci_paint_status(out, color, ci_view_word(r->status), 9);
    buf_addf(out, " %-12s %-20s %-8s %-8s %-8s %s\n", s_or(r->event, ""),
             cut(r->branch, 20, branch, sizeof(branch)), cut(r->sha, 7, sha, sizeof(sha)), age,
             dur, msg);
}

/* ---- both layouts ---- */

/* One JSON document on stdout (a whole answer, not a JSON Lines event:
 * no stage tag, no flush); takes j. */
static void print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(j);
}

/* A line a run on stdout; with trees, each run's tree follows on stderr
 * (stdout flushed first, so the two stay in order). */
static void print_runs(const struct ci_provider *p, const struct ci_runset *s, int trees,
                       int color)
{
    long long now = (long long)clock_wall();
    struct buf out;
    buf_init(&out, 0);
    for (size_t i = 0; i < s->n; i++) {
        buf_reset(&out);
        if (p->ops->layout == CI_LAYOUT_PIPELINE)
            ci_view_pipeline_line(&s->runs[i], now, &out);
        else
            ci_view_run_line(&s->runs[i], &out);
        puts(out.data);
        if (!trees)
            continue;
        buf_reset(&out);
        if (p->ops->layout == CI_LAYOUT_PIPELINE)
            ci_view_pipeline_tree(&s->runs[i], now, color, &out);
        else
            ci_view_tree(&s->runs[i], color, &out);
        fflush(stdout);
        fputs(out.data, stderr);
    }
    buf_release(&out);
}

void ci_view_status(struct cmd_ctx *ctx, const struct ci_provider *p, const struct ci_target *t,
                    const struct ci_runset *s)
{
    if (ctx->mode != OUTPUT_JSON) {
        print_runs(p, s, ctx->mode == OUTPUT_TTY, ctx->color);
    } else if (p->ops->layout == CI_LAYOUT_PIPELINE) {
        print_json(json_pack("{s:{s:I, s:s}, s:o}", "repo", "id", (json_int_t)p->repo_id,
                             "full_name", p->repo, "pipeline",
                             ci_view_pipeline_json(&s->runs[0])));
    } else {
        int v = ci_verdict(s, 0);
        print_json(json_pack("{s:s, s:s, s:s?, s:o, s:s}", "provider", p->ops->name, "repo",
                             p->repo, "sha", t->sha, "runs", ci_view_runs_json(s), "verdict",
                             v < 0 ? "pending" : ci_view_verdict_word(v)));
    }
}

void ci_view_list(struct cmd_ctx *ctx, const struct ci_provider *p, const struct ci_runset *s)
{
    int pipelines = p->ops->layout == CI_LAYOUT_PIPELINE;
    if (ctx->mode == OUTPUT_JSON) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->n; i++)
            json_array_append_new(a, pipelines ? ci_view_pipeline_json(&s->runs[i])
                                               : ci_view_run_json(&s->runs[i]));
        print_json(a);
        return;
    }
    if (!pipelines) {
        print_runs(p, s, 0, ctx->color);
        return;
    }
    long long now = (long long)clock_wall();
    struct buf out;
    buf_init(&out, 0);
    buf_addf(&out, "%-6s %-9s %-12s %-20s %-8s %-8s %-8s %s\n", "#", "STATUS", "EVENT",
             "BRANCH", "COMMIT", "AGE", "TOOK", "MESSAGE");
    for (size_t i = 0; i < s->n; i++)
        pipeline_list_row(&s->runs[i], now, ctx->color && ctx->stdout_tty, &out);
    fputs(out.data, stdout);
    buf_release(&out);
}

/* ---- reading ---- */

/* The runs of the target (one for #ID, through the provider's poll_run when
 * it has one); 0 with s->n == 0 when none yet. */
int ci_view_read_runs(struct ci_provider *p, const struct ci_target *t,
                      const struct ci_filter *f, struct ci_runset *s, int *changed,
                      struct err *e)
{
    if (t->number) {
        struct ci_run r;
        int ch = 1; /* without poll_run: the run endpoint is conditional too */
        if ((p->ops->poll_run ? p->ops->poll_run(p, t->number, &r, &ch, e)
                              : p->ops->run_by_id(p, t->number, &r, e)) < 0)
            return -1;
        *changed = ch;
        if (!ch)
            return 0;
        ci_runset_release(s);
        s->runs = xcalloc(1, sizeof(*s->runs));
        s->runs[0] = r;
        s->n = 1;
        return 0;
    }
    return ci_runs_of_commit(p, t->sha, f, s, changed, e);
}

int ci_view_read_target(struct cmd_ctx *ctx, struct ci_provider *p, const struct ci_target *t,
                        const struct ci_filter *f, struct ci_runset *s)
{
    int ch;
    if (ci_view_read_runs(p, t, f, s, &ch, &ctx->err) < 0)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        if (!s->runs[i].has_jobs && ci_load_jobs(p, &s->runs[i], &ch, &ctx->err) < 0)
            return -1;
    if (s->n == 0) {
        p->ops->no_runs(p, t->label, f, "", &ctx->err);
        return -1;
    }
    return 0;
}

int ci_view_load_all_jobs(struct ci_provider *p, struct ci_runset *s, struct err *e)
{
    for (size_t i = 0; i < s->n; i++) {
        int ch;
        if (ci_load_jobs(p, &s->runs[i], &ch, e) < 0)
            return -1;
    }
    return 0;
}

/* ---- ci logs ---- */

static void add_safe(struct buf *out, const char *s)
{
    s = ci_view_word(s);
    sanitize_append(out, s, strlen(s), 0);
}

void ci_view_log_label(const struct ci_provider *p, const struct ci_run *r,
                       const struct ci_job *j, const struct ci_step *st, struct buf *out)
{
    int pipeline = p->ops->layout == CI_LAYOUT_PIPELINE;
    if (!pipeline) {
        add_safe(out, ci_view_workflow(r));
        buf_adds(out, " / ");
    }
    add_safe(out, j->name);
    if (st) {
        buf_adds(out, pipeline ? "/" : " / ");
        add_safe(out, st->name);
    }
}

void ci_view_log_header(const struct ci_provider *p, const char *label, const struct ci_job *j,
                        const struct ci_step *st, int color, int first, struct buf *out)
{
    if (p->ops->layout != CI_LAYOUT_PIPELINE) {
        buf_addf(out, "==> %s <==\n", label);
        return;
    }
    if (!first)
        buf_addc(out, '\n');
    buf_addf(out, "==> %s ", label);
    /* the provider's word, decoded clean by the provider */
    ci_paint_status(out, color, ci_view_word(st ? st->status : j->status), 0);
    if (st && ci_state_final(st->state) && ci_step_ran(st))
        buf_addf(out, " exit %d", st->exit_code);
    long long started = st ? st->started : j->started, finished = st ? st->finished : j->finished;
    if (started) {
        char d[32];
        ci_format_duration(ci_elapsed(started, finished, (long long)clock_wall()), d, sizeof(d));
        buf_addf(out, " %s", d);
    }
    const char *error = st ? st->error : j->error;
    if (error) {
        char e[160];
        ci_first_line(error, 120, e, sizeof(e));
        buf_adds(out, " (");
        sanitize_append(out, e, strlen(e), 0);
        buf_addc(out, ')');
    }
    buf_adds(out, " <==\n");
}

void ci_view_run_name(const struct ci_provider *p, const struct ci_run *r, struct buf *out)
{
    if (p->ops->layout == CI_LAYOUT_PIPELINE) {
        buf_addf(out, "pipeline #%lld", r->number);
        return;
    }
    add_safe(out, ci_view_workflow(r));
    buf_addf(out, " '#%lld'", r->id);
}

/* One log line made safe: timestamp stripped (unless asked), escapes shown. */
static void clean_line(struct ci_lines *L, const char *line, size_t len, size_t text,
                       struct buf *out)
{
    if (L->timestamps)
        text = 0;
    if (L->raw)
        buf_add(out, line + text, len - text);
    else
        sanitize_append(out, line + text, len - text, SANITIZE_DROP_SGR);
}

int ci_lines_on_line(void *ctx, const char *line, size_t len, double ts, size_t text)
{
    (void)ts;
    struct ci_lines *L = ctx;
    if (L->seen++ < L->skip)
        return 0;
    buf_reset(&L->tmp);
    clean_line(L, line, len, text, &L->tmp);
    if (L->tailing) {
        buf_addf(&L->tmp, "\n");
        line_ring_add(&L->ring, L->tmp.data, L->tmp.len);
        return 0;
    }
    fprintf(L->to, "%s\n", L->tmp.data);
    L->printed++;
    return ferror(L->to) ? 1 : 0;
}

void ci_lines_init(struct ci_lines *L, FILE *to, long tail, int timestamps, int raw)
{
    memset(L, 0, sizeof(*L));
    L->to = to;
    L->timestamps = timestamps;
    L->raw = raw;
    L->tailing = tail >= 0;
    line_ring_init(&L->ring, tail >= 0 ? (size_t)tail : 0);
    buf_init(&L->tmp, 0);
}

void ci_lines_flush(struct ci_lines *L, const char *indent)
{
    for (size_t i = 0; L->tailing && i < L->ring.count; i++) {
        size_t n;
        const char *s = line_ring_get(&L->ring, i, &n);
        fprintf(L->to, "%s%.*s\n", indent, (int)n, s);
        L->printed++;
    }
    line_ring_reset(&L->ring);
}

void ci_lines_release(struct ci_lines *L)
{
    line_ring_release(&L->ring);
    buf_release(&L->tmp);
}

/* ---- the failure report ---- */

/* ---- a step's log tail, from numbered entries ---- */

struct step_tail {
    struct ci_log_render render;
    struct buf text;
    struct line_ring ring;
    long long entries;
};

static int step_tail_entry(void *ctx, const struct ci_log_entry *entry)
{
    struct step_tail *t = ctx;
    t->entries++;
    buf_reset(&t->text);
    ci_log_render_entry(&t->render, entry, &t->text);
    line_ring_add(&t->ring, t->text.data, t->text.len);
    return 0;
}

int ci_view_step_tail(struct ci_provider *p, const struct ci_run *r, const struct ci_step *st,
                      size_t n, int keep_color, struct strvec *lines, struct err *e)
{
    struct step_tail t = { .entries = 0 };
    ci_log_render_init(&t.render, keep_color ? CI_LOG_RENDER_COLOR : CI_LOG_RENDER_NO_COLOR);
    buf_init(&t.text, 0);
    line_ring_init(&t.ring, n);
    struct ci_log_sink sink = { .on_entry = step_tail_entry, .ctx = &t };
    err_clear(e);
    int rc = ci_read_log(p, r, NULL, st, &sink, e);
    if (rc == 0 && t.entries > 0) {
        buf_reset(&t.text);
        ci_log_render_flush(&t.render, &t.text);
        line_ring_add(&t.ring, t.text.data, t.text.len);
        line_ring_finish(&t.ring);
        for (size_t i = 0; i < t.ring.count; i++) {
            size_t len;
            strvec_push(lines, line_ring_get(&t.ring, i, &len)); /* rendered: no NUL */
        }
    }
    line_ring_release(&t.ring);
    buf_release(&t.text);
    ci_log_render_release(&t.render);
    return rc < 0 ? -1 : 0;
}

int ci_view_failed_step(struct ci_provider *p, const struct ci_run *r, const struct ci_job *j,
                        const struct ci_step *st, size_t n, int keep_color, struct strvec *lines,
                        struct buf *out, struct err *e)
{
    const char *error = st->error ? st->error : "";
    buf_addf(out, "failed: %s/%s (%s, exit code %d)%s%s\n", j->name, st->name, st->status,
             st->exit_code, *error ? ": " : "", error);
    return ci_view_step_tail(p, r, st, n, keep_color, lines, e);
}

void ci_view_step_changes(const struct ci_run *old, const struct ci_run *cur,
                          void (*each)(void *ctx, const struct ci_job *j,
                                       const struct ci_step *st),
                          void *ctx)
{
    int same = old && old->number == cur->number;
    for (size_t i = 0; i < cur->njobs; i++) {
        const struct ci_job *j = &cur->jobs[i];
        for (size_t k = 0; k < j->nsteps; k++) {
            const struct ci_step *st = &j->steps[k];
            const char *before = NULL;
            if (same && i < old->njobs && k < old->jobs[i].nsteps)
                before = s_or(old->jobs[i].steps[k].status, "");
            if (before && !strcmp(before, s_or(st->status, "")))
                continue;
            if (!before && (st->state == CI_PENDING || st->state == CI_NEEDS_PERSON))
                continue;
            each(ctx, j, st);
        }
    }
}

int ci_view_step_reported(const struct ci_step *st)
{
    return ci_state_failed(st->state) && strcmp(ci_view_word(st->status), "canceled");
}

json_t *ci_view_tail_lines(const struct strvec *lines, struct buf *out)
{
    json_t *tail = json_array();
    for (size_t l = 0; l < lines->n; l++) {
        buf_addf(out, "  %s\n", lines->v[l]);
        json_array_append_new(tail, json_string(lines->v[l]));
    }
    return tail;
}

static void report_run(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_run *r,
                       long log_lines)
{
    const struct ci_job *j = ci_run_failed_job(r);
    if (!j) {
        int startup = !strcmp(ci_view_word(r->status), "startup_failure");
        fprintf(stderr, "\nfailed: %s #%lld %s before any job ran%s\n", ci_view_workflow(r),
                r->number, ci_view_word(r->status),
                startup ? " (likely a workflow file issue)" : "");
        if (r->url && *r->url)
            fprintf(stderr, "view: %s\n", r->url);
        return;
    }
    const struct ci_step *st = ci_job_failed_step(j);
    fprintf(stderr, "\nfailed: %s / %s / %s (%s)\n", ci_view_workflow(r), j->name,
            st ? st->name : "-", ci_view_word(st ? st->status : j->status));
    struct ci_lines L;
    ci_lines_init(&L, stderr, log_lines > 0 ? log_lines : 30, 0, 0);
    struct ci_log_sink sink = { .on_line = ci_lines_on_line, .ctx = &L };
    struct err e;
    err_clear(&e);
    int rc = ci_read_log(p, r, j, st, &sink, &e);
    if (rc < 0)
        fprintf(stderr, "  (log not available: %s)\n", e.msg);
    else if (rc == 0)
        fprintf(stderr, "  (%s has no log for this job yet)\n", p->ops->title);
    else if (st && p->log_cut_uncertain)
        fprintf(stderr, "  (could not tell this step's lines apart for sure: the job log's "
                        "last lines follow)\n");
    ci_lines_flush(&L, "  ");
    ci_lines_release(&L);
    struct buf cmd;
    buf_init(&cmd, 0);
    buf_addf(&cmd, "homelab ci logs '#%lld' --step ", r->id);
    struct buf js;
    buf_init(&js, 0);
    buf_addf(&js, "%s/%s", j->name, st ? st->name : "");
    ci_shell_quote(&cmd, st ? js.data : j->name, 1);
    ci_hint_flags(ctx, &cmd);
    fprintf(stderr, "full log: %s\n", cmd.data);
    if (r->url && *r->url)
        fprintf(stderr, "view: %s\n", r->url);
    buf_release(&js);
    buf_release(&cmd);
}

void ci_view_failure_report(struct cmd_ctx *ctx, struct ci_provider *p, struct ci_runset *s,
                            long log_lines)
{
    for (size_t i = 0; i < s->n; i++) {
        struct ci_run *r = &s->runs[i];
        if (!ci_state_failed(r->state))
            continue;
        int ch;
        struct err e;
        err_clear(&e);
        if (!r->has_jobs && ci_load_jobs(p, r, &ch, &e) < 0)
            continue;
        report_run(ctx, p, r, log_lines);
    }
}
