#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

/* Where each file key lands in struct config. */
struct config_key {
    const char *section;
    const char *name;
    size_t offset;
};

#define KEY(s, n, field) { s, n, offsetof(struct config, field) }
static const struct config_key config_keys[] = {
    KEY("ci", "server", server),
    KEY("ci", "dial", dial),
    KEY("ci", "cacert", cacert),
    KEY("ci", "repo", repo),
    KEY("ci", "remote", remote),
    KEY("ci", "token", file_token),
    KEY("vault", "path", vault_path),
    KEY("vault", "field", vault_field),
    KEY("deploy", "kubectl", kubectl),
    KEY("deploy", "context", context),
    KEY("work", "verify", verify),
    KEY("work", "branch-prefix", branch_prefix),
    KEY("ci", "provider", provider),
    KEY("github", "api", github_api),
    KEY("github", "dial", github_dial),
    KEY("github", "repo", github_repo),
    KEY("github", "vault-path", github_vault_path),
    KEY("github", "vault-field", github_vault_field),
    KEY("ship", "stages", ship_stages),
};

/* The keys of a [stage "NAME"] section. */
#define STAGE_KEY(n, field) { "stage", n, offsetof(struct config_stage, field) }
static const struct config_key stage_keys[] = {
    STAGE_KEY("provider", provider), STAGE_KEY("repo", repo),
    STAGE_KEY("event", event),       STAGE_KEY("appear-timeout", appear_timeout),
    STAGE_KEY("match", match),       STAGE_KEY("workload", workload),
    STAGE_KEY("container", container),
};
#define NSTAGE_KEYS (sizeof(stage_keys) / sizeof(stage_keys[0]))

/*
 * What a repository's .homelab may set: which stages run and what they
 * follow, which CI repo is meant, and the verify command (used only by
 * `work land`, which runs the repository's own checks anyway). Nothing
 * that chooses where a token goes or which program runs.
 */
static const char *const repo_allowed[] = {
    "ship.stages", "ci.provider", "ci.repo", "github.repo", "work.verify",
};

static char **field(struct config *c, size_t offset)
{
    return (char **)((char *)c + offset);
}

static void set_str(char **dst, const char *val)
{
    free(*dst);
    *dst = val ? xstrdup(val) : NULL;
}

/* git-config allows a value in double quotes; keep what is inside. */
static char *unquote(const char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        return xstrndup(v + 1, n - 2);
    return xstrdup(v);
}

struct parse_state {
    struct config *c;
    struct buf *warnings;
    const char *file;    /* for messages */
    int untrusted;       /* the repository file */
    char refused[200];   /* the first key it may not set */
};

/*
 * inih hands over the section line as written: `stage "build"`. The
 * subsection name is case-sensitive and quoted, as in git-config; returns
 * the name (in `out`) or 0 when `section` is not a stage section.
 */
static int stage_section(const char *section, char *out, size_t outlen)
{
    if (strncasecmp(section, "stage", 5) || (section[5] != ' ' && section[5] != '\t'))
        return 0;
    const char *p = section + 5;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    if (n < 3 || p[0] != '"' || p[n - 1] != '"' || n - 2 >= outlen)
        return 0;
    memcpy(out, p + 1, n - 2);
    out[n - 2] = '\0';
    return strchr(out, '"') == NULL;
}

static struct config_stage *stage_get(struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nstages; i++)
        if (!strcmp(c->stages[i].name, name))
            return &c->stages[i];
    struct config_stage *n = realloc(c->stages, (c->nstages + 1) * sizeof(*n));
    if (!n)
        abort();
    c->stages = n;
    memset(&n[c->nstages], 0, sizeof(*n));
    n[c->nstages].name = xstrdup(name);
    return &n[c->nstages++];
}

const struct config_stage *config_stage_find(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nstages; i++)
        if (!strcmp(c->stages[i].name, name))
            return &c->stages[i];
    return NULL;
}

int config_key_repo_allowed(const char *key)
{
    for (size_t i = 0; i < sizeof(repo_allowed) / sizeof(repo_allowed[0]); i++)
        if (!strcasecmp(key, repo_allowed[i]))
            return 1;
    if (strncasecmp(key, "stage.", 6))
        return 0;
    const char *dot = strrchr(key, '.');
    if (dot == key + 5)
        return 0;
    for (size_t i = 0; i < NSTAGE_KEYS; i++)
        if (!strcasecmp(dot + 1, stage_keys[i].name))
            return 1;
    return 0;
}

static void refuse(struct parse_state *st, const char *key)
{
    if (!st->refused[0])
        snprintf(st->refused, sizeof(st->refused), "%s", key);
}

static int on_stage_entry(struct parse_state *st, const char *stage, const char *name,
                          const char *value)
{
    for (size_t i = 0; i < NSTAGE_KEYS; i++) {
        if (strcasecmp(name, stage_keys[i].name))
            continue;
        char **dst = (char **)((char *)stage_get(st->c, stage) + stage_keys[i].offset);
        free(*dst);
        *dst = unquote(value);
        return 1;
    }
    if (st->untrusted) {
        char key[200];
        snprintf(key, sizeof(key), "stage.%s.%s", stage, name);
        refuse(st, key);
        return 0;
    }
    buf_addf(st->warnings, "homelab: warning: %s: unknown key '%s' in [stage \"%s\"]\n",
             st->file, name, stage);
    return 1;
}

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    char stage[128];
    if (stage_section(section, stage, sizeof(stage)))
        return on_stage_entry(st, stage, name, value);
    char key[200];
    snprintf(key, sizeof(key), "%s.%s", section, name);
    if (st->untrusted && !config_key_repo_allowed(key)) {
        refuse(st, key);
        return 0;
    }
    for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
        const struct config_key *k = &config_keys[i];
        if (!strcasecmp(section, k->section) && !strcasecmp(name, k->name)) {
            char **dst = field(st->c, k->offset);
            free(*dst);
            *dst = unquote(value);
            return 1;
        }
    }
    /* allowed in .homelab but read by no verb of this build: nothing to do */
    if (st->untrusted)
        return 1;
    buf_addf(st->warnings, "homelab: warning: %s: unknown key '%s.%s'\n", st->file, section,
             name);
    return 1;
}

char *config_default_path(void)
{
    struct buf b;
    buf_init(&b, 0);
    const char *p = getenv("HOMELAB_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (p && *p)
        buf_adds(&b, p);
    else if (xdg && *xdg)
        buf_addf(&b, "%s/homelab/config", xdg);
    else
        buf_addf(&b, "%s/.config/homelab/config", home ? home : "");
    return buf_detach(&b);
}

/*
 * git-config files indent keys (git itself writes a tab), but inih reads an
 * indented line as the continuation of the previous value. Dropping leading
 * blanks first keeps git-config's meaning and inih's line numbers.
 */
static void unindent(struct buf *text)
{
    size_t w = 0;
    int at_line_start = 1;
    for (size_t r = 0; r < text->len; r++) {
        char ch = text->data[r];
        if (at_line_start && (ch == ' ' || ch == '\t'))
            continue;
        at_line_start = ch == '\n';
        text->data[w++] = ch;
    }
    text->len = w;
    text->data[w] = '\0';
}

static int read_whole(FILE *f, struct buf *text)
{
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_add(text, chunk, n) < 0)
            return -1;
    return ferror(f) ? -1 : 0;
}

static int parse_text(struct parse_state *st, const char *text, size_t len, struct err *e)
{
    struct buf copy;
    buf_init(&copy, 0);
    buf_add(&copy, text, len);
    unindent(&copy);
    int line = ini_parse_string(copy.data, on_ini_entry, st);
    buf_release(&copy);
    if (st->refused[0]) {
        err_set(e, EXIT_USAGE, "%s: the repository file may not set '%s'", st->file,
                st->refused);
        err_hint(e, "a repository's .homelab may set only ship.stages, [stage \"NAME\"] keys, "
                    "ci.provider, ci.repo, github.repo and work.verify; anything else "
                    "belongs in your own config file");
        return -1;
    }
    if (line > 0) {
        err_set(e, EXIT_USAGE, "%s:%d: cannot parse this line of the config file", st->file,
                line);
        err_hint(e, "the file is git-config style: a [section] line, then 'key = value' lines");
        return -1;
    }
    return 0;
}

int config_parse_text(struct config *c, const char *text, size_t len, struct buf *warnings,
                      struct err *e)
{
    struct parse_state st = { c, warnings, c->path ? c->path : "config", 0, "" };
    return parse_text(&st, text, len, e);
}

int config_parse_repo_text(struct config *c, const char *file, const char *text, size_t len,
                           struct err *e)
{
    struct buf warnings;
    buf_init(&warnings, 0);
    struct parse_state st = { c, &warnings, file, 1, "" };
    int rc = parse_text(&st, text, len, e);
    buf_release(&warnings);
    return rc;
}

char *config_repo_file_path(void)
{
    char dir[PATH_MAX];
    if (!getcwd(dir, sizeof(dir)))
        return NULL;
    for (;;) {
        struct buf probe;
        buf_init(&probe, 0);
        buf_addf(&probe, "%s/.git", strcmp(dir, "/") ? dir : "");
        struct stat sb;
        int found = lstat(probe.data, &sb) == 0;
        buf_release(&probe);
        if (found) {
            struct buf p;
            buf_init(&p, 0);
            buf_addf(&p, "%s/.homelab", strcmp(dir, "/") ? dir : "");
            return buf_detach(&p);
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return NULL;
        *slash = '\0';
    }
}

/*
 * Reads the repository file: only a regular file (not a symlink, FIFO or
 * device a clone could plant), at most 1 MiB.
 */
static int load_repo_file(struct config *c, struct err *e)
{
    char *path = config_repo_file_path();
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int missing = errno == ENOENT || errno == ENOTDIR;
        if (!missing)
            err_set(e, EXIT_USAGE, "%s: cannot read the repository file (%s)", path,
                    errno == ELOOP ? "a symbolic link" : strerror(errno));
        free(path);
        return missing ? 0 : -1;
    }
    struct stat sb;
    FILE *f = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? fdopen(fd, "r") : NULL;
    if (!f) {
        close(fd);
        err_set(e, EXIT_USAGE, "%s: the repository file is not a regular file", path);
        free(path);
        return -1;
    }
    c->repo_file = path;
    struct buf text;
    buf_init(&text, 1 << 20);
    int rd = read_whole(f, &text);
    fclose(f);
    if (rd < 0) {
        buf_release(&text);
        return err_set(e, EXIT_USAGE, "cannot read %s (or it is over 1 MiB)", path);
    }
    int rc = config_parse_repo_text(c, path, text.data, text.len, e);
    buf_release(&text);
    return rc;
}

/*
 * Reads the config file into `text`. Only a file that does not exist is
 * "no configuration"; one that exists but cannot be used (unreadable, a
 * directory, too big, binary) is an error naming the file and why, since
 * running on defaults would hide the user's settings.
 */
static int read_config_file(struct config *c, struct buf *text, int *shared, struct err *e)
{
    FILE *f = fopen(c->path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0; /* no file is a normal state */
        return err_set(e, EXIT_USAGE, "cannot read config file %s: %s", c->path,
                       strerror(errno));
    }
    c->file_found = 1;
    struct stat sb;
    int have_stat = fstat(fileno(f), &sb) == 0;
    *shared = have_stat && (sb.st_mode & 077);
    if (have_stat && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return err_set(e, EXIT_USAGE, "config file %s is a directory", c->path);
    }
    int rd = read_whole(f, text);
    int read_errno = errno;
    int failed = ferror(f);
    fclose(f);
    if (rd < 0 && !failed)
        return err_set(e, EXIT_USAGE, "config file %s is over the %zu-byte limit", c->path,
                       text->cap);
    if (rd < 0)
        return err_set(e, EXIT_USAGE, "cannot read config file %s: %s", c->path,
                       strerror(read_errno));
    if (memchr(text->data, '\0', text->len))
        return err_set(e, EXIT_USAGE, "config file %s is not a text file (it holds NUL "
                       "bytes)", c->path);
    return 1;
}

static int load_file(struct config *c, struct err *e)
{
    struct buf text;
    buf_init(&text, 1 << 20);
    int shared = 0;
    int rc = read_config_file(c, &text, &shared, e);
    if (rc <= 0) {
        buf_release(&text);
        return rc;
    }
    struct buf warnings;
    buf_init(&warnings, 0);
    rc = config_parse_text(c, text.data, text.len, &warnings, e);
    buf_release(&text);
    if (rc == 0)
        fputs(warnings.data, stderr); /* after a parse error they are noise */
    buf_release(&warnings);
    if (rc < 0)
        return -1;
    c->file_insecure = shared && c->file_token;
    if (c->file_insecure)
        fprintf(stderr, "homelab: warning: %s holds ci.token and is readable by others; "
                        "run: chmod 600 %s\n", c->path, c->path);
    return 0;
}

static void apply_env(char **dst, const char *var)
{
    const char *v = getenv(var);
    if (v && *v)
        set_str(dst, v);
}

static void apply_flag(char **dst, const char *flag)
{
    if (flag)
        set_str(dst, flag);
}

static void strip_trailing_slashes(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
}

int config_load(struct config *c, const struct config_flags *flags, struct err *e)
{
    memset(c, 0, sizeof(*c));
    c->path = config_default_path();
    /* the repository's file first: the user's own file wins key by key */
    if (load_repo_file(c, e) < 0 || load_file(c, e) < 0)
        return -1;

    apply_env(&c->server, "WOODPECKER_SERVER");
    apply_env(&c->dial, "HOMELAB_WP_IP");
    apply_env(&c->cacert, "HOMELAB_CACERT");
    apply_env(&c->repo, "HOMELAB_REPO");
    apply_env(&c->vault_path, "HOMELAB_VAULT_PATH");
    apply_env(&c->kubectl, "HOMELAB_KUBECTL");
    apply_env(&c->provider, "HOMELAB_CI_PROVIDER");
    apply_env(&c->github_api, "HOMELAB_GITHUB_API");
    apply_env(&c->github_dial, "HOMELAB_GITHUB_DIAL");
    apply_env(&c->github_repo, "HOMELAB_GITHUB_REPO");

    apply_flag(&c->server, flags->server);
    apply_flag(&c->dial, flags->dial);
    apply_flag(&c->cacert, flags->cacert);
    apply_flag(&c->repo, flags->repo);
    apply_flag(&c->remote, flags->remote);
    apply_flag(&c->kubectl, flags->kubectl);
    apply_flag(&c->context, flags->context);
    apply_flag(&c->verify, flags->verify_cmd);
    apply_flag(&c->provider, flags->provider);
    apply_flag(&c->github_repo, flags->repo);
    c->repo_from_flag = flags->repo != NULL;

    if (!c->vault_path)
        c->vault_path = xstrdup("secret/ci/global");
    if (!c->vault_field)
        c->vault_field = xstrdup("woodpecker_api_token");
    if (!c->kubectl)
        c->kubectl = xstrdup("kubectl");
    if (!c->github_api)
        c->github_api = xstrdup("https://api.github.com");
    if (!c->github_vault_field)
        c->github_vault_field = xstrdup("github_token");
    strip_trailing_slashes(c->server);
    strip_trailing_slashes(c->github_api);
    if (c->repo && (!strchr(c->repo, '/') || c->repo[0] == '/' ||
                    c->repo[strlen(c->repo) - 1] == '/'))
        return err_set(e, EXIT_USAGE, "ci.repo '%.80s%s' is not OWNER/NAME", c->repo,
                       strlen(c->repo) > 80 ? "..." : "");
    return 0;
}

void config_release(struct config *c)
{
    if (c->file_token)
        explicit_bzero(c->file_token, strlen(c->file_token));
    for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
        set_str(field(c, config_keys[i].offset), NULL);
    for (size_t i = 0; i < c->nstages; i++) {
        set_str(&c->stages[i].name, NULL);
        for (size_t k = 0; k < NSTAGE_KEYS; k++)
            set_str((char **)((char *)&c->stages[i] + stage_keys[k].offset), NULL);
    }
    free(c->stages);
    free(c->path);
    free(c->repo_file);
    memset(c, 0, sizeof(*c));
}
