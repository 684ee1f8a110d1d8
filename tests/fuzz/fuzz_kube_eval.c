/*
 * fuzz_kube_eval: the workload evaluator (kube/eval.h) and its time parser.
 *
 * Input: one option byte (bits 0-1: kind, bit 2: with a sha, bit 3: only
 * container "web", bit 4: with a memo over three evaluations, bits 5-7:
 * the clock), then a JSON document {"workload": OBJ, "replicasets": [...],
 * "pods": [...]} as deploy wait assembles it from the API (a document
 * without "workload" is the workload itself).
 *
 * Properties: no crash, leak or undefined behaviour on any object; the
 * verdict is one of the phases, its counts and failures are in range and
 * every string in it is NUL-terminated inside its array; the same input
 * evaluated twice without a memo gives the same verdict (pure function).
 */
#include "fuzz.h"

#include <jansson.h>
#include <math.h>

#include "kube/eval.h"

#define TERMINATED(arr) (memchr((arr), '\0', sizeof(arr)) != NULL)

static void check_verdict(const struct eval_verdict *v)
{
    FUZZ_CHECK(v->phase >= EVAL_WAITING_IMAGE && v->phase <= EVAL_SUPERSEDED, "phase %d",
               (int)v->phase);
    FUZZ_CHECK(eval_phase_name(v->phase) != NULL, "phase without a name");
    FUZZ_CHECK(TERMINATED(v->reason) && TERMINATED(v->image) && TERMINATED(v->revision),
               "unterminated verdict string");
    FUZZ_CHECK(v->image_match == IMAGE_MATCH || v->image_match == IMAGE_OTHER ||
                   v->image_match == IMAGE_UNKNOWN,
               "image match %d", (int)v->image_match);
    FUZZ_CHECK(v->nfailures <= EVAL_MAX_FAILURES, "%zu failures", v->nfailures);
    for (size_t i = 0; i < v->nfailures; i++) {
        const struct eval_failure *f = &v->failures[i];
        FUZZ_CHECK(TERMINATED(f->pod) && TERMINATED(f->container) && TERMINATED(f->reason) &&
                       TERMINATED(f->message) && TERMINATED(f->last_reason),
                   "unterminated failure string");
        FUZZ_CHECK(f->logs == EVAL_LOGS_NONE || f->logs == EVAL_LOGS_CURRENT ||
                       f->logs == EVAL_LOGS_PREVIOUS,
                   "logs %d", (int)f->logs);
    }
    if (v->phase == EVAL_COMPLETE)
        FUZZ_CHECK(v->nfailures == 0, "complete with failures");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt = fuzz_take(&data, &size);
    /* the clock is ours, not the server's: only plausible values */
    static const double clocks[] = { 1800000000.0, 1800000000.5, 1700000000.0, 1800000030.0,
                                     1800000100.0, 1800003600.0, 2500000000.0, 4102444800.0 };
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!doc)
        return 0;
    const json_t *workload = json_object_get(doc, "workload");

    struct eval_input in;
    eval_input_init(&in);
    in.kind = (enum kube_kind)((opt & 3) % 3);
    in.workload = workload ? workload : doc;
    in.replicasets = json_object_get(doc, "replicasets");
    in.pods = json_object_get(doc, "pods");
    in.sha = (opt & 4) ? "65d15d6cfe589cd4b76dd80c228dd3d5fce1677b" : NULL;
    in.container = (opt & 8) ? "web" : NULL;
    in.now = clocks[(opt >> 5) & 7];

    struct eval_verdict a, b;
    eval_workload(&in, &a);
    check_verdict(&a);
    eval_workload(&in, &b);
    FUZZ_CHECK(a.phase == b.phase && !strcmp(a.reason, b.reason), "not a pure function");

    if (opt & 16) {
        struct eval_memo memo = EVAL_MEMO_INIT;
        in.memo = &memo;
        for (int i = 0; i < 3; i++) {
            eval_workload(&in, &a);
            check_verdict(&a);
            in.now += 45;
        }
        eval_memo_release(&memo);
    }

    /* the RFC 3339 parser, on every string that looks like a time */
    const char *s = json_string_value(json_object_get(doc, "time"));
    double t = eval_parse_time(s);
    FUZZ_CHECK(t == -1 || (s && !isnan(t)), "time parser");
    json_decref(doc);
    return 0;
}
