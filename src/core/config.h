/*
 * config: the effective configuration, resolved once per run.
 *
 * Precedence for every key: command-line flag, then environment, then the
 * config file, then the default (DESIGN.md, "Configuration"). The file is
 * $HOMELAB_CONFIG, else $XDG_CONFIG_HOME/homelab/config, else
 * ~/.config/homelab/config, in git-config style, read with inih.
 *
 * The repository file `.homelab` at the top of the work tree (the nearest
 * directory at or above the current one that holds `.git`) is read first,
 * then the user's file, so the user's file wins key by key. The repository
 * file is untrusted input (a clone chooses it): it may set only ship.stages,
 * the stage keys, ci.provider, ci.repo, github.repo and work.verify; any
 * other key (server URLs, dials, CA bundles, tokens, Vault, kubectl, kube
 * context, unknown keys) fails config_load() with EXIT_USAGE naming the key
 * and the file, before the caller has made any request or run any program.
 *
 * The config owns every string it points to; config_release() frees them
 * and wipes the token.
 */
#ifndef HOMELAB_CONFIG_H
#define HOMELAB_CONFIG_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Values given on the command line; NULL when absent. */
struct config_flags {
    const char *server;
    const char *dial;
    const char *cacert;
    const char *repo;
    const char *remote;
    const char *kubectl;
    const char *context;
    const char *verify_cmd;
    const char *provider;  /* --provider */
};

/*
 * One [stage "NAME"] section (ship). Values are as written; ship/stages
 * validates them. NULL when absent.
 */
struct config_stage {
    char *name;
    char *provider, *repo, *event, *appear_timeout, *match, *workload, *container;
};

struct config {
    char *server;        /* ci.server, without a trailing slash */
    char *dial;          /* ci.dial: HOST[:PORT] */
    char *cacert;        /* ci.cacert */
    char *repo;          /* ci.repo: OWNER/NAME */
    char *remote;        /* ci.remote */
    char *file_token;    /* ci.token from the file */
    char *vault_path;    /* vault.path, default secret/ci/global */
    char *vault_field;   /* vault.field, default woodpecker_api_token */
    char *kubectl;       /* deploy.kubectl, default kubectl */
    char *context;       /* deploy.context */
    char *verify;        /* work.verify */
    char *branch_prefix; /* work.branch-prefix */
    /* GitHub Actions (a second CI provider; see ci/provider.h) */
    char *provider;      /* ci.provider / HOMELAB_CI_PROVIDER / --provider */
    char *github_api;    /* github.api / HOMELAB_GITHUB_API, default https://api.github.com */
    char *github_dial;   /* github.dial / HOMELAB_GITHUB_DIAL */
    char *github_repo;   /* github.repo / HOMELAB_GITHUB_REPO; --repo applies too */
    char *github_vault_path;  /* github.vault-path */
    char *github_vault_field; /* github.vault-field, default github_token */
    int repo_from_flag;  /* --repo was given: it names the repo of either provider */

    char *ship_stages;   /* ship.stages: stage names in order */
    struct config_stage *stages; /* every [stage "NAME"] seen, in order */
    size_t nstages;

    char *path;          /* the config file consulted */
    char *repo_file;     /* the .homelab read, NULL when there was none */
    int file_found;      /* 1 when that file existed and was read */
    int file_insecure;   /* holds a token and is readable by others */
};

/*
 * Loads the file (a missing file is fine; a malformed one is an error naming
 * its path and line), then applies environment and flags. Returns 0 or -1.
 */
int config_load(struct config *c, const struct config_flags *flags, struct err *e);
void config_release(struct config *c);

/*
 * The file-parsing step of config_load() on its own, for tests and fuzzing:
 * reads config file text[0..len) into `c` (zeroed, or holding values that
 * later keys replace; c->path, when set, names the file in messages).
 * Unknown keys append a warning line to `warnings`. Touches neither the
 * environment nor the filesystem. Returns 0, or -1 with e naming the line
 * that cannot be parsed (EXIT_USAGE); values read before it stay in `c`.
 */
int config_parse_text(struct config *c, const char *text, size_t len, struct buf *warnings,
                      struct err *e);

/*
 * config_parse_text() for the repository file: the same syntax, but a key
 * outside the allowed set fails with EXIT_USAGE naming the key and `file`.
 */
int config_parse_repo_text(struct config *c, const char *file, const char *text, size_t len,
                           struct err *e);

/* Whether `key` ("ci.server", "stage.build.repo") may be set by .homelab. */
int config_key_repo_allowed(const char *key);

/* The stage named `name`, or NULL. */
const struct config_stage *config_stage_find(const struct config *c, const char *name);

/*
 * The .homelab path of the work tree around the current directory (caller
 * frees), or NULL when not inside one. Looks for `.git` upwards; runs no
 * program.
 */
char *config_repo_file_path(void);

/* The config file path that config_load() would read (caller frees). */
char *config_default_path(void);

#endif
