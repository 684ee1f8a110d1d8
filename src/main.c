/*
 * homelab: did my change land, pass CI, and go live?
 *
 * This file holds the one command table and the dispatcher. `manifest`,
 * `help` and `VERB --help` are generated from the table, so a verb exists
 * for users exactly when it has a row here. The dispatcher does the shared
 * set-up (flags, configuration, output mode) once, runs the handler, prints
 * its error if any, and makes sure stdout was really written before
 * returning the handler's exit code.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/cli.h"
#include "core/term.h"

static struct global_opts G;

const struct opt global_opts_table[] = {
    { "server", OPT_STRING, &G.server, "URL", "Woodpecker base URL (ci.server)" },
    { "dial", OPT_STRING, &G.dial, "HOST[:PORT]", "connect here instead of resolving the server (ci.dial)" },
    { "cacert", OPT_STRING, &G.cacert, "FILE", "extra CA bundle (ci.cacert)" },
    { "repo", OPT_STRING, &G.repo, "OWNER/NAME", "the repo of the CI provider in use (ci.repo, github.repo)" },
    { "provider", OPT_STRING, &G.provider, "NAME", "CI provider: woodpecker or github (ci.provider)" },
    { "remote", OPT_STRING, &G.remote, "NAME", "the git remote to use (ci.remote)" },
    { "kubectl", OPT_STRING, &G.kubectl, "PATH", "the kubectl to run (deploy.kubectl)" },
    { "context", OPT_STRING, &G.context, "NAME", "kube context (deploy.context)" },
    { "timeout", OPT_DURATION, &G.timeout, "DURATION", "bound every wait: 90s, 20m, 1h" },
    { "json", OPT_BOOL, &G.json, NULL, "JSON on stdout" },
    { "color", OPT_STRING, &G.color, "WHEN", "colour: auto (a terminal, NO_COLOR unset), always, never" },
    { "no-color", OPT_BOOL, &G.no_color, NULL, "no colour (--color never; also NO_COLOR)" },
    { "quiet", OPT_BOOL, &G.quiet, NULL, "no live view or progress lines; results and errors only" },
    { "verbose", OPT_BOOL, &G.verbose, NULL, "trace requests to stderr (token redacted)" },
    { "help", OPT_BOOL, &G.help, NULL, "show help for the verb" },
    OPT_END,
};

static const struct opt no_opts[] = { OPT_END };

static int cmd_manifest(struct cmd_ctx *ctx);
static int cmd_help(struct cmd_ctx *ctx);
static int cmd_version(struct cmd_ctx *ctx);

static const struct command commands[] = {
    { "ci status", "read", "[REV|#N]", "the pipeline for HEAD (or REV, or #N): status, workflows, steps",
      ci_status_opts, cmd_ci_status, 0 },
    { "ci list", "read", "", "recent pipelines of the repo", ci_list_opts, cmd_ci_list, 0 },
    { "ci watch", "read", "[REV|#N]", "follow that commit's pipeline to the end; the exit code is the verdict",
      ci_watch_opts, cmd_ci_watch, 30 * 60 },
    { "ci logs", "read", "[REV|#N]", "step logs, escaped for the terminal: the failing steps, else every step",
      ci_logs_opts, cmd_ci_logs, 60 * 60 },
    { "ci restart", "write", "[REV|#N]", "restart the pipeline (GitHub: re-run the failed runs), then follow it as ci watch",
      ci_restart_opts, cmd_ci_restart, 30 * 60 },
    { "ci approve", "write", "[REV|#N]", "approve a pipeline (GitHub: deployment review) awaiting approval, then follow it",
      ci_approve_opts, cmd_ci_approve, 30 * 60 },
    { "ci decline", "write", "[REV|#N]", "decline a pipeline blocked awaiting approval",
      ci_decline_opts, cmd_ci_decline, 0 },
    { "ci cancel", "write", "[REV|#N]", "cancel a running, pending or blocked pipeline; waits until it stopped",
      ci_cancel_opts, cmd_ci_cancel, 30 },
    { "ci run", "write", "", "start a manual pipeline (GitHub: dispatch a workflow) on a branch, then follow it",
      ci_run_opts, cmd_ci_run, 30 * 60 },
    { "deploy wait", "read", "NS/NAME", "wait until the workload runs the commit, rolled out and healthy",
      deploy_wait_opts, cmd_deploy_wait, 600 },
    { "deploy status", "read", "NS/NAME", "the rollout of the workload: image, replicas, failing pods",
      deploy_status_opts, cmd_deploy_status, 0 },
    { "work start", "write", "TOPIC", "a worktree and branch off the remote's default branch; prints its path",
      work_start_opts, cmd_work_start, 0 },
    { "work land", "write", "", "merge the default branch in, verify, push to it, then watch CI (and --deploy)",
      work_land_opts, cmd_work_land, 30 * 60 },
    { "work clean", "write", "TOPIC", "remove the topic's worktree and branch once merged",
      work_clean_opts, cmd_work_clean, 0 },
    { "ship watch", "read", "[REV]", "follow the commit through every stage to live: build, deploy pipeline, rollout",
      ship_watch_opts, cmd_ship_watch, 60 * 60 },
    { "ship status", "read", "[REV]", "each stage of the commit's way to live, once",
      ship_status_opts, cmd_ship_status, 0 },
    { "doctor", "read", "", "check configuration, token, server, repo, stream, kubectl and git",
      doctor_opts_table, cmd_doctor, 0 },
    { "manifest", "read", "", "every verb with its tier and one-line summary", no_opts, cmd_manifest, 0 },
    { "version", "read", "", "print the version", no_opts, cmd_version, 0 },
    { "help", "read", "[VERB]", "show help for homelab or for one verb", no_opts, cmd_help, 0 },
};
static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

/* ---- help and manifest, generated from the table ---- */

static void usage_line(const struct command *c, struct buf *out)
{
    buf_addf(out, "homelab %s%s%s", c->path, c->usage[0] ? " " : "", c->usage);
    if (c->opts[0].name)
        buf_adds(out, " [flags]");
    buf_addc(out, '\n');
}

static void general_help(struct buf *out)
{
    buf_adds(out, "homelab: did my change land, pass CI, and go live?\n\n"
                  "usage: homelab [global flags] VERB [ARGS] [flags]\n\nverbs:\n");
    for (size_t i = 0; i < ncommands; i++)
        buf_addf(out, "  %-12s %-6s %s\n", commands[i].path, commands[i].tier,
                 commands[i].summary);
    buf_adds(out, "\nglobal flags:\n");
    cli_describe(global_opts_table, out);
    buf_adds(out, "\nexit codes: 0 success, 1 failed, 2 usage, 3 timed out, 4 needs a person,\n"
                  "5 not found, 6 unavailable, 7 refused, 130 interrupted\n"
                  "'homelab help VERB' or 'homelab VERB --help' for one verb.\n");
}

static void verb_help(const struct command *c, struct buf *out)
{
    buf_adds(out, "usage: ");
    usage_line(c, out);
    buf_addf(out, "\n%s (%s)\n", c->summary, c->tier);
    if (c->opts[0].name) {
        buf_adds(out, "\nflags:\n");
        cli_describe(c->opts, out);
    }
    buf_adds(out, "\nglobal flags:\n");
    cli_describe(global_opts_table, out);
}

static int cmd_manifest(struct cmd_ctx *ctx)
{
    if (ctx->mode == OUTPUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < ncommands; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "verb",
                                                 commands[i].path, "tier", commands[i].tier,
                                                 "usage", commands[i].usage, "summary",
                                                 commands[i].summary));
        json_dumpf(arr, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(arr);
        return EXIT_OK;
    }
    for (size_t i = 0; i < ncommands; i++)
        printf("%-12s %-6s %s\n", commands[i].path, commands[i].tier, commands[i].summary);
    return EXIT_OK;
}

static const struct command *find_command(const char *path)
{
    for (size_t i = 0; i < ncommands; i++)
        if (!strcmp(commands[i].path, path))
            return &commands[i];
    return NULL;
}

/* `help ci`: the verbs of a group; returns 0 when `group` is none. */
static int group_help(const char *group, struct buf *out)
{
    size_t len = strlen(group);
    int n = 0;
    for (size_t i = 0; i < ncommands; i++) {
        if (strncmp(commands[i].path, group, len) || commands[i].path[len] != ' ')
            continue;
        if (!n++)
            buf_addf(out, "homelab %s: its verbs (homelab help VERB for one)\n\n", group);
        buf_addf(out, "  %-12s %-6s %s\n", commands[i].path, commands[i].tier,
                 commands[i].summary);
    }
    return n > 0;
}

static int cmd_help(struct cmd_ctx *ctx)
{
    struct buf out;
    buf_init(&out, 0);
    if (ctx->npos == 0) {
        general_help(&out);
    } else {
        struct buf path;
        buf_init(&path, 0);
        for (size_t i = 0; i < ctx->npos; i++)
            buf_addf(&path, "%s%s", i ? " " : "", ctx->pos[i]);
        const struct command *c = find_command(path.data);
        if (!c && group_help(path.data, &out)) {
            buf_release(&path);
            fputs(out.data, stdout);
            buf_release(&out);
            return EXIT_OK;
        }
        if (!c) {
            err_set(&ctx->err, EXIT_USAGE, "no verb '%s'; 'homelab help' lists them", path.data);
            buf_release(&path);
            buf_release(&out);
            return EXIT_USAGE;
        }
        buf_release(&path);
        verb_help(c, &out);
    }
    fputs(out.data, stdout);
    buf_release(&out);
    return EXIT_OK;
}

static int cmd_version(struct cmd_ctx *ctx)
{
    if (ctx->mode == OUTPUT_JSON)
        printf("{\"version\":\"%s\"}\n", HOMELAB_VERSION);
    else
        printf("homelab %s\n", HOMELAB_VERSION);
    return EXIT_OK;
}


/* ---- dispatch ---- */

/* Matches argv against the table: the longest verb path wins. */
static const struct command *match_command(int argc, char **argv, int *used)
{
    const struct command *best = NULL;
    for (size_t i = 0; i < ncommands; i++) {
        const char *p = commands[i].path;
        int n = 0;
        while (n < argc) {
            size_t len = strlen(argv[n]);
            if (strncmp(p, argv[n], len) || (p[len] != ' ' && p[len] != '\0'))
                break;
            n++;
            p += len;
            if (*p == '\0') {
                if (!best || n > *used) {
                    best = &commands[i];
                    *used = n;
                }
                break;
            }
            p++;
        }
    }
    return best;
}

static int unknown_verb(int argc, char **argv, struct err *e)
{
    struct buf tried;
    buf_init(&tried, 0);
    buf_adds(&tried, argv[0]);
    if (argc > 1 && argv[1][0] != '-')
        buf_addf(&tried, " %s", argv[1]);
    /* A group name alone ("ci") lists its verbs. */
    struct buf group;
    buf_init(&group, 0);
    for (size_t i = 0; i < ncommands; i++) {
        size_t len = strlen(argv[0]);
        if (!strncmp(commands[i].path, argv[0], len) && commands[i].path[len] == ' ')
            buf_addf(&group, "%s'%s'", group.len ? ", " : "", commands[i].path);
    }
    const char *near = NULL;
    size_t best = (size_t)-1;
    for (size_t i = 0; i < ncommands; i++) {
        size_t d = cli_edit_distance(tried.data, commands[i].path);
        if (d < best) {
            best = d;
            near = commands[i].path;
        }
    }
    if (near && best <= 3)
        err_set(e, EXIT_USAGE, "unknown verb '%s' (did you mean '%s'?)", tried.data, near);
    else if (group.len)
        err_set(e, EXIT_USAGE, "unknown verb '%s' (%s has: %s)", tried.data, argv[0], group.data);
    else
        err_set(e, EXIT_USAGE, "unknown verb '%s'; 'homelab help' lists them", tried.data);
    buf_release(&tried);
    buf_release(&group);
    return EXIT_USAGE;
}

/* A flag before the verb that is not global: say where it goes. */
static int not_global(const char *flag, struct err *e)
{
    struct buf verbs;
    buf_init(&verbs, 0);
    const char *first = NULL;
    for (size_t i = 0; i < ncommands; i++) {
        const struct opt *const verb[] = { commands[i].opts, NULL };
        char *one[] = { (char *)flag };
        if (cli_flag_words(verb, 1, one, 0) > 0) {
            buf_addf(&verbs, "%s'%s'", verbs.len ? ", " : "", commands[i].path);
            first = first ? first : commands[i].path;
        }
    }
    const char *more = strlen(flag) > 40 ? "..." : "";
    if (first) {
        err_set(e, EXIT_USAGE, "'%.40s%s' is a flag of %s, not a global flag", flag, more,
                verbs.data);
        err_hint(e, "put it after the verb: homelab %s %.40s%s ...", first, flag, more);
    } else {
        err_set(e, EXIT_USAGE, "unknown flag '%.40s%s' before the verb", flag, more);
        err_hint(e, "only global flags may come before the verb; 'homelab help' lists them");
    }
    buf_release(&verbs);
    return -1;
}

/*
 * Global flags before the verb (`homelab --json ci status`, `homelab -R x
 * ci watch`), taken as git and gh take them. Returns how many words of argv
 * they are, or -1 with e filled for a flag that is not global (a verb's own
 * flag must follow the verb: several verbs share names with other meanings).
 */
static int leading_flags(int argc, char **argv, struct err *e)
{
    const struct opt *const globals[] = { global_opts_table, NULL };
    int i = 0;
    while (i < argc && argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--")) {
        int n = cli_flag_words(globals, argc, argv, i);
        if (n == 0)
            return not_global(argv[i], e);
        i += n;
    }
    if (i == argc)
        return err_set(e, EXIT_USAGE, "no verb after the flags; 'homelab help' lists them");
    return i;
}

static int choose_output(struct cmd_ctx *ctx)
{
    const char *when = ctx->g.color ? ctx->g.color : "auto";
    if (strcmp(when, "auto") && strcmp(when, "always") && strcmp(when, "never"))
        return err_set(&ctx->err, EXIT_USAGE, "--color wants auto, always or never, not "
                       "'%.40s%s'", when, strlen(when) > 40 ? "..." : "");
    int never = ctx->g.no_color || !strcmp(when, "never"), always = !strcmp(when, "always");
    ctx->stdout_tty = isatty(STDOUT_FILENO);
    ctx->mode = ctx->g.json ? OUTPUT_JSON
                : term_capable(STDERR_FILENO) && !ctx->g.quiet ? OUTPUT_TTY : OUTPUT_PLAIN;
    ctx->color = !never && (always || term_color_wanted(STDERR_FILENO, 0));
    ctx->stdout_color = !never && (always || term_color_wanted(STDOUT_FILENO, 0));
    term_set_quiet(ctx->g.quiet);
    return 0;
}

/* A full disk or closed pipe must not end in exit 0. */
static int finish_stdout(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (code == EXIT_OK)
            code = EXIT_FAILED;
        fputs("homelab: cannot write to standard output\n", stderr);
    }
    return code;
}

static int run_command(const struct command *c, int argc, char **argv)
{
    struct cmd_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.cmd = c;
    struct strvec pos = STRVEC_INIT;
    const struct opt *tables[] = { c->opts, global_opts_table, NULL };
    int code;
    if (cli_parse(tables, argc, argv, &pos, &ctx.err) < 0) {
        err_hint(&ctx.err, "'homelab %s --help' lists its flags", c->path);
        err_print(&ctx.err);
        strvec_clear(&pos);
        return EXIT_USAGE;
    }
    ctx.g = G;
    ctx.pos = pos.v;
    ctx.npos = pos.n;
    if (choose_output(&ctx) < 0) {
        err_print(&ctx.err);
        strvec_clear(&pos);
        return EXIT_USAGE;
    }
    if (G.help) {
        struct buf out;
        buf_init(&out, 0);
        verb_help(c, &out);
        fputs(out.data, stdout);
        buf_release(&out);
        strvec_clear(&pos);
        return finish_stdout(EXIT_OK);
    }
    struct config_flags flags = { G.server, G.dial, G.cacert, G.repo,
                                  G.remote, G.kubectl, G.context, NULL, G.provider };
    if (config_load(&ctx.cfg, &flags, &ctx.err) < 0)
        code = ctx.err.code;
    else
        code = c->run(&ctx);
    /* the terminal echoed "^C" where the cursor was: start a new line */
    if (code == EXIT_INTERRUPTED && ctx.mode == OUTPUT_TTY)
        fputc('\n', stderr);
    if (ctx.err.code && code != EXIT_OK)
        err_print(&ctx.err);
    config_release(&ctx.cfg);
    strvec_clear(&pos);
    return finish_stdout(code);
}

int main(int argc, char **argv)
{
    /* A closed stdout pipe should end us through a write error, not SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        struct buf out;
        buf_init(&out, 0);
        general_help(&out);
        fputs(out.data, stderr);
        buf_release(&out);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        argv[1] = "help";
    if (!strcmp(argv[1], "--version"))
        argv[1] = "version";
    struct err e;
    err_clear(&e);
    int lead = leading_flags(argc - 1, argv + 1, &e);
    if (lead < 0) {
        err_print(&e);
        return EXIT_USAGE;
    }
    int used = 0;
    const struct command *c = match_command(argc - 1 - lead, argv + 1 + lead, &used);
    if (!c) {
        int code = unknown_verb(argc - 1 - lead, argv + 1 + lead, &e);
        err_print(&e);
        return code;
    }
    /* the flags before the verb, then everything after it */
    int n = argc - 1 - used;
    char **args = xcalloc((size_t)n + 1, sizeof(*args));
    memcpy(args, argv + 1, (size_t)lead * sizeof(*args));
    memcpy(args + lead, argv + 1 + lead + used, (size_t)(n - lead) * sizeof(*args));
    int code = run_command(c, n, args);
    free(args);
    return code;
}
