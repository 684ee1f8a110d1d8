/*
 * fuzz_model: decoding Woodpecker pipeline, workflow, step and repo JSON
 * (woodpecker/model.h) as the ci verbs do, and rendering the result
 * (cmd/ci_common.h: summary line, step tree; cmd/ci_view.h: JSON of the
 * run the model makes of it).
 *
 * Input: one option byte (bit 0: colour; the rest picks the clock), then
 * a JSON document: a list page (array of pipelines), a pipeline detail,
 * a repo, or a stream event {"repo":…,"pipeline":…}. It is parsed the way
 * core/http parses API bodies. Properties: nothing a server sends makes
 * the rendered text unsafe for a terminal (no control bytes, no escape
 * sequences but our own colours, valid UTF-8), and the decoders' status
 * helpers stay consistent.
 */
#include "fuzz.h"

#include <jansson.h>

#include "cmd/ci_common.h"
#include "cmd/ci_view.h"
#include "woodpecker/model.h"
#include "woodpecker/provider.h"

static void check_text(const struct buf *b, int color, const char *what)
{
    size_t at = fuzz_unsafe_at(b->data, b->len, color);
    FUZZ_CHECK(at == b->len, "%s: unsafe byte 0x%02x at %zu in \"%s\"", what,
               (unsigned char)b->data[at], at, b->data);
}

static void check_status(const char *s)
{
    int code = wp_status_exit_code(s);
    FUZZ_CHECK(code == -1 || code == 0 || code == 1 || code == 4, "exit code %d", code);
    /* DESIGN.md: no state but success is ever reported as success */
    if (code == 0)
        FUZZ_CHECK(!strcmp(s, "success"), "'%s' counted as success", s);
    if (wp_status_failed(s))
        FUZZ_CHECK(wp_status_terminal(s) && code == 1, "failed but not terminal");
}

static void render(const struct wp_pipeline *p, long long now, int color)
{
    struct buf b;
    buf_init(&b, 0);
    ci_summary_line(p, now, &b);
    FUZZ_CHECK(!memchr(b.data, '\n', b.len), "newline in the summary line");
    check_text(&b, 0, "summary line");
    buf_reset(&b);
    ci_render_tree(p, now, color, &b);
    check_text(&b, color, "step tree");
    buf_release(&b);

    /* the pipeline as the verbs show it: through the model */
    struct ci_run r;
    wp_pipeline_to_run(p, &r);
    for (size_t i = 0; i < r.nvars; i++)
        FUZZ_CHECK(r.vars[i].name && r.vars[i].value, "variable %zu lost in the model", i);
    json_t *j = ci_view_pipeline_json(&r);
    ci_run_release(&r);
    FUZZ_CHECK(j != NULL, "ci_view_pipeline_json returned NULL");
    char *s = json_dumps(j, JSON_COMPACT);
    FUZZ_CHECK(s != NULL, "pipeline JSON does not serialise");
    free(s);
    json_decref(j);

    check_status(p->status);
    for (size_t i = 0; i < p->nworkflows; i++) {
        check_status(p->workflows[i].state);
        for (size_t k = 0; k < p->workflows[i].nsteps; k++)
            check_status(p->workflows[i].steps[k].state);
    }
    char line[80];
    wp_first_line(p->message, 72, line, sizeof(line));
    FUZZ_CHECK(strlen(line) <= 72, "first line too long");
    (void)wp_commit_matches(p->commit, "9fceb02");
    (void)wp_commit_matches(p->commit, p->commit);
}

static void pipeline(json_t *j, long long now, int color)
{
    struct wp_pipeline p;
    if (wp_pipeline_from_json(j, &p) == 0) {
        FUZZ_CHECK(p.number > 0 && p.status && p.commit && p.branch, "decoded badly");
        render(&p, now, color);
    }
    wp_pipeline_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt = fuzz_take(&data, &size);
    int color = opt & 1;
    /* the clock is ours, not the server's: plausible values only */
    static const long long clocks[] = { 1760000000LL, 1700000000LL, 1900000000LL, 4102444800LL };
    long long now = clocks[(opt >> 1) % (sizeof(clocks) / sizeof(clocks[0]))];

    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j)
        return 0;
    if (json_is_array(j)) {
        size_t i;
        json_t *it;
        json_array_foreach(j, i, it)
            pipeline(it, now, color);
    } else {
        struct wp_repo r;
        (void)wp_repo_from_json(j, &r);
        FUZZ_CHECK(!json_is_object(j) || (r.full_name && r.default_branch), "repo decode");
        wp_repo_release(&r);
        json_t *ev_repo = json_object_get(j, "repo");
        json_t *ev_pipeline = json_object_get(j, "pipeline");
        if (ev_repo || ev_pipeline) {
            (void)wp_repo_from_json(ev_repo, &r);
            wp_repo_release(&r);
            pipeline(ev_pipeline, now, color);
        } else {
            pipeline(j, now, color);
        }
    }
    json_decref(j);
    return 0;
}
