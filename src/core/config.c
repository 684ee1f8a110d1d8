#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
};

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
        const struct config_key *k = &config_keys[i];
        if (!strcasecmp(section, k->section) && !strcasecmp(name, k->name)) {
            char **dst = field(st->c, k->offset);
            free(*dst);
            *dst = unquote(value);
            return 1;
        }
    }
    buf_addf(st->warnings, "homelab: warning: %s: unknown key '%s.%s'\n",
             st->c->path ? st->c->path : "config", section, name);
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

int config_parse_text(struct config *c, const char *text, size_t len, struct buf *warnings,
                      struct err *e)
{
    struct buf copy;
    buf_init(&copy, 0);
    buf_add(&copy, text, len);
    unindent(&copy);
    struct parse_state st = { c, warnings };
    int line = ini_parse_string(copy.data, on_ini_entry, &st);
    buf_release(&copy);
    if (line > 0) {
        err_set(e, EXIT_USAGE, "%s:%d: cannot parse this line of the config file",
                c->path ? c->path : "config", line);
        err_hint(e, "the file is git-config style: a [section] line, then 'key = value' lines");
        return -1;
    }
    return 0;
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
    if (load_file(c, e) < 0)
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
    free(c->path);
    memset(c, 0, sizeof(*c));
}
