/*
 * cmd: what every verb handler receives, and the handlers themselves.
 *
 * main.c owns the command table (path, tier, summary, usage, options,
 * handler) and does the shared set-up once: parse global and verb flags,
 * load the configuration, decide the output mode. A handler parses nothing
 * itself; it reads its positional arguments and option values, calls the
 * modules, renders, and returns an exit code (enum exit_code). On failure it
 * fills ctx->err; the dispatcher prints it.
 */
#ifndef HOMELAB_CMD_H
#define HOMELAB_CMD_H

#include "core/cli.h"
#include "core/config.h"
#include "core/err.h"

enum output_mode {
    OUTPUT_PLAIN, /* not a terminal: one plain line per change */
    OUTPUT_TTY,   /* stderr is a terminal: live view */
    OUTPUT_JSON,  /* --json: JSON on stdout */
};

struct global_opts {
    const char *server, *dial, *cacert, *repo, *remote, *kubectl, *context;
    const char *provider; /* --provider woodpecker|github */
    double timeout;  /* seconds; 0 = the verb's default */
    int json;
    int no_color;
    const char *color; /* --color always|never|auto (NULL: auto) */
    int quiet;       /* -q: no live view or progress lines */
    int verbose;
    int help;
};

struct cmd_ctx {
    const struct command *cmd;
    struct config cfg;
    struct global_opts g;
    enum output_mode mode;
    int color;           /* colour on stderr (and stdout when it is a tty) */
    int stdout_tty;
    int stdout_color;    /* colour on stdout (a capable terminal, colour not off) */
    char **pos;          /* positional arguments after the verb */
    size_t npos;
    struct err err;
};

typedef int (*cmd_fn)(struct cmd_ctx *ctx);

struct command {
    const char *path;     /* "ci status" */
    const char *tier;     /* "read" or "write" */
    const char *usage;    /* "[REV|#N]" */
    const char *summary;  /* one line */
    const struct opt *opts;
    cmd_fn run;
    double default_timeout; /* seconds, for waiting verbs; 0 = none */
};

/* Verb handlers and their option tables (one file per verb group). */
extern const struct opt ci_status_opts[], ci_list_opts[];
int cmd_ci_status(struct cmd_ctx *ctx);
int cmd_ci_list(struct cmd_ctx *ctx);
extern const struct opt ci_watch_opts[];
int cmd_ci_watch(struct cmd_ctx *ctx);
/* Watches the pipeline of `sha` (any REV) to a verdict; for work land. */
int ci_watch_sha(struct cmd_ctx *ctx, const char *sha);
extern const struct opt ci_logs_opts[];
int cmd_ci_logs(struct cmd_ctx *ctx);
/* The write verbs (ci_act.c). */
extern const struct opt ci_restart_opts[], ci_approve_opts[], ci_decline_opts[],
    ci_cancel_opts[], ci_run_opts[];
int cmd_ci_restart(struct cmd_ctx *ctx);
int cmd_ci_approve(struct cmd_ctx *ctx);
int cmd_ci_decline(struct cmd_ctx *ctx);
int cmd_ci_cancel(struct cmd_ctx *ctx);
int cmd_ci_run(struct cmd_ctx *ctx);

extern const struct opt deploy_wait_opts[], deploy_status_opts[];
int cmd_deploy_wait(struct cmd_ctx *ctx);
int cmd_deploy_status(struct cmd_ctx *ctx);
/*
 * Waits for `target` (NS/NAME, deployment/NS/NAME, statefulset/NS/NAME,
 * daemonset/NS/NAME) to run `sha` (NULL = HEAD) and be rolled out and
 * healthy, rendering in ctx's output mode; for work land --deploy.
 * Returns the exit code (ctx->err filled on errors).
 */
int deploy_wait_target(struct cmd_ctx *ctx, const char *target, const char *sha);
/*
 * For `ship`'s rollout stage: deploy_wait_target() and `deploy status` of
 * `target` at `sha`, checking only `container` when not NULL (as
 * --container).
 */
int deploy_stage_wait(struct cmd_ctx *ctx, const char *target, const char *sha,
                      const char *container);
int deploy_stage_status(struct cmd_ctx *ctx, const char *target, const char *sha,
                        const char *container);

extern const struct opt ship_watch_opts[], ship_status_opts[];
int cmd_ship_watch(struct cmd_ctx *ctx);
int cmd_ship_status(struct cmd_ctx *ctx);
/* Whether stages are configured (ship.stages is set); for work land. */
int ship_configured(const struct cmd_ctx *ctx);
/* ship watch of `rev` (a commit id); for work land. */
int ship_watch_sha(struct cmd_ctx *ctx, const char *rev);

extern const struct opt work_start_opts[], work_land_opts[], work_clean_opts[];
int cmd_work_start(struct cmd_ctx *ctx);
int cmd_work_land(struct cmd_ctx *ctx);
int cmd_work_clean(struct cmd_ctx *ctx);

extern const struct opt doctor_opts_table[];
int cmd_doctor(struct cmd_ctx *ctx);

/* The global options table, shared so help can print it. */
extern const struct opt global_opts_table[];

/* Returns the effective timeout in seconds (flag, else the verb's default). */
double cmd_timeout(const struct cmd_ctx *ctx);

#endif
