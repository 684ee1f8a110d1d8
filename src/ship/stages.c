/*
 * stages: the plan of `ship` from configuration, and which Woodpecker
 * pipeline belongs to a stage. See stages.h.
 */
#include "ship/stages.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/cli.h"
#include "kube/image.h"
#include "woodpecker/model.h"

static const char example[] =
    "# .homelab at the top of the repository (git-config style), e.g.:\n"
    "[ship]\n"
    "    stages = build deploy live\n"
    "[stage \"build\"]\n"
    "    provider = github            ; or woodpecker\n"
    "    repo = acme/web\n"
    "[stage \"deploy\"]\n"
    "    provider = woodpecker\n"
    "    repo = acme/web\n"
    "    match = variable IMAGE_TAG   ; default: match = commit\n"
    "[stage \"live\"]\n"
    "    workload = apps/web          ; anything 'deploy wait' takes\n"
    "    container = web              ; optional\n";

const char *ship_example_text(void)
{
    return example;
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

static int parse_match(struct ship_stage *st, const char *m, struct err *e)
{
    if (!m || !strcmp(m, "commit")) {
        st->match = SHIP_MATCH_COMMIT;
        return 0;
    }
    if (!strncmp(m, "variable", 8) && (m[8] == ' ' || m[8] == '\t')) {
        const char *v = m + 9;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strlen(v);
        int ok = n > 0 && n < sizeof(st->variable) && (isalpha((unsigned char)v[0]) || v[0] == '_');
        for (size_t i = 0; ok && i < n; i++)
            ok = isalnum((unsigned char)v[i]) || v[i] == '_';
        if (ok && st->provider == SHIP_WOODPECKER) {
            st->match = SHIP_MATCH_VARIABLE;
            memcpy(st->variable, v, n + 1);
            return 0;
        }
        if (ok)
            return err_set(e, EXIT_USAGE, "stage '%s': match = variable works with provider "
                           "woodpecker only", st->name);
    }
    return err_set(e, EXIT_USAGE, "stage '%s': match must be 'commit' or 'variable NAME'",
                   st->name);
}

static int load_ci(struct ship_stage *st, const struct config_stage *cs, const char *default_repo,
                   struct err *e)
{
    st->kind = SHIP_CI;
    if (!strcasecmp(cs->provider, "woodpecker"))
        st->provider = SHIP_WOODPECKER;
    else if (!strcasecmp(cs->provider, "github"))
        st->provider = SHIP_GITHUB;
    else
        return err_set(e, EXIT_USAGE, "stage '%s': provider must be woodpecker or github",
                       st->name);
    st->repo = cs->repo ? cs->repo : st->provider == SHIP_WOODPECKER ? default_repo : NULL;
    if (!st->repo || !strchr(st->repo, '/'))
        return err_set(e, EXIT_USAGE, "stage '%s': repo = OWNER/NAME is needed", st->name);
    st->event = cs->event && strcmp(cs->event, "any") ? cs->event : NULL;
    st->appear_timeout = SHIP_DEFAULT_APPEAR;
    if (cs->appear_timeout && (cli_parse_duration(cs->appear_timeout, &st->appear_timeout) < 0 ||
                               st->appear_timeout <= 0))
        return err_set(e, EXIT_USAGE, "stage '%s': appear-timeout '%s' is not a duration "
                       "(90s, 10m, 1h)", st->name, cs->appear_timeout);
    if (cs->workload || cs->container)
        return err_set(e, EXIT_USAGE, "stage '%s' has both provider and workload/container: "
                       "a CI stage or a rollout stage, not both", st->name);
    return parse_match(st, cs->match, e);
}

static int load_stage(struct ship_stage *st, const struct config_stage *cs,
                      const char *default_repo, struct err *e)
{
    if (cs->provider)
        return load_ci(st, cs, default_repo, e);
    if (!cs->workload)
        return err_set(e, EXIT_USAGE, "stage '%s' has neither provider nor workload", st->name);
    if (cs->repo || cs->match || cs->event || cs->appear_timeout)
        return err_set(e, EXIT_USAGE, "stage '%s' is a rollout stage (workload): repo, match, "
                       "event and appear-timeout belong to CI stages", st->name);
    st->kind = SHIP_LIVE;
    st->workload = cs->workload;
    st->container = cs->container;
    return 0;
}

int ship_plan_load(const struct config *c, const char *default_repo, struct ship_plan *p,
                   struct err *e)
{
    memset(p, 0, sizeof(*p));
    const char *s = c->ship_stages ? c->ship_stages : "";
    while (*s) {
        size_t n = strcspn(s, " \t,");
        if (n == 0) {
            s++;
            continue;
        }
        if (!valid_name(s, n))
            return err_set(e, EXIT_USAGE, "ship.stages: '%.*s' is not a stage name "
                           "(letters, digits, - and _)", (int)(n > 40 ? 40 : n), s);
        if (p->n == SHIP_MAX_STAGES)
            return err_set(e, EXIT_USAGE, "ship.stages: more than %d stages", SHIP_MAX_STAGES);
        const struct config_stage *cs = NULL;
        for (size_t i = 0; i < c->nstages && !cs; i++)
            if (strlen(c->stages[i].name) == n && !memcmp(c->stages[i].name, s, n))
                cs = &c->stages[i];
        if (!cs)
            return err_set(e, EXIT_USAGE, "ship.stages names '%.*s' but there is no "
                           "[stage \"%.*s\"] section", (int)n, s, (int)n, s);
        for (size_t i = 0; i < p->n; i++)
            if (!strcmp(p->stages[i].name, cs->name))
                return err_set(e, EXIT_USAGE, "ship.stages names '%s' twice", cs->name);
        struct ship_stage *st = &p->stages[p->n++];
        st->name = cs->name;
        if (load_stage(st, cs, default_repo, e) < 0)
            return -1;
        s += n;
    }
    if (p->n == 0)
        return err_set(e, EXIT_USAGE, "no stages configured (ship.stages in .homelab or your "
                       "config file)");
    return 0;
}

static int variable_matches(const char *value, const char *sha)
{
    /* an image reference (registry/app:tag) or a bare tag */
    if (strpbrk(value, "/:@"))
        return image_match_sha(value, sha) == IMAGE_MATCH;
    return image_tag_match_sha(value, sha) == IMAGE_MATCH;
}

/* The rule of ship_wp_matches over a pipeline's event, commit and the
 * value of the stage's variable (each NULL when it has none). */
static int run_matches(const struct ship_stage *st, const char *ev, const char *commit,
                       const char *value, const char *sha)
{
    if (st->event && (!ev || strcmp(ev, st->event)))
        return 0;
    if (st->match == SHIP_MATCH_COMMIT)
        return commit && wp_commit_matches(commit, sha);
    return value && variable_matches(value, sha);
}

int ship_wp_matches(const struct ship_stage *st, json_t *pipeline, const char *sha)
{
    json_t *vars = json_object_get(pipeline, "variables");
    return run_matches(st, json_string_value(json_object_get(pipeline, "event")),
                       json_string_value(json_object_get(pipeline, "commit")),
                       json_string_value(json_object_get(vars, st->variable)), sha);
}

int ship_run_matches(const struct ship_stage *st, const struct ci_run *r, const char *sha)
{
    const char *value = NULL;
    for (size_t i = 0; i < r->nvars; i++)
        if (!strcmp(r->vars[i].name, st->variable))
            value = r->vars[i].value;
    return run_matches(st, r->event, r->sha, value, sha);
}
