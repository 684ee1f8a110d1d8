/*
 * suite: the check suite `work land` runs when nobody configured one.
 *
 * Found the way a person would look, in this order, in the work tree's top
 * directory: `make check`, then `make test`, when the Makefile (GNUmakefile,
 * makefile or Makefile, plus the files it includes by literal name) has a
 * rule for that target; `go test ./...` with go.mod; `cargo test` with
 * Cargo.toml; `npm test` when package.json has a real scripts.test (npm
 * init's "no test specified" placeholder does not count); `meson test -C
 * build` when build/meson-private exists. Nothing is run to find out.
 */
#ifndef HOMELAB_SUITE_H
#define HOMELAB_SUITE_H

#include "core/err.h"
#include "core/proc.h"

struct suite {
    struct strvec argv; /* the command, run without a shell */
    char *label;        /* "make check", for messages */
};

/*
 * Looks in `top`. Returns 1 with s filled, 0 when nothing was found (s
 * empty), -1 when a file could not be read (e filled).
 */
int suite_detect(const char *top, struct suite *s, struct err *e);
void suite_release(struct suite *s);

/*
 * Whether Makefile text has a rule for `target` (explicit rules only:
 * "check:", "all check::", continuation lines joined; not variable
 * assignments, target-specific variables, recipes or comments). Pure.
 */
int suite_makefile_has_target(const char *text, const char *target);

/* The files a Makefile includes by literal name ("include a.mk b.mk", "-include", "sinclude"). */
void suite_makefile_includes(const char *text, struct strvec *names);

/* Whether package.json text has a scripts.test other than npm's placeholder. Pure. */
int suite_package_json_has_test(const char *text);

#endif
