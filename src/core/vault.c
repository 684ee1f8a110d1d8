#include "core/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cred.h"
#include "core/http.h"

/* The Vault token: VAULT_TOKEN, else the first line of ~/.vault-token. */
static char *vault_token(void)
{
    const char *env = getenv("VAULT_TOKEN");
    if (env && *env)
        return xstrdup(env);
    const char *home = getenv("HOME");
    if (!home)
        return NULL;
    struct buf path;
    buf_init(&path, 0);
    buf_addf(&path, "%s/.vault-token", home);
    FILE *f = fopen(path.data, "r");
    buf_release(&path);
    if (!f)
        return NULL;
    char line[4096];
    char *tok = NULL;
    if (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (*line)
            tok = xstrdup(line);
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    return tok;
}

static void strip_slashes(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '/')
        s[--n] = '\0';
}

/* Asks Vault which mount `path` lives on and its KV version. */
static void detect_mount(struct http_client *c, const char *path, char **mount, int *version)
{
    struct buf url;
    buf_init(&url, 0);
    buf_adds(&url, "/v1/sys/internal/ui/mounts/");
    http_escape_path(&url, path);
    json_t *j = NULL;
    long status;
    struct err ignored;
    err_clear(&ignored);
    if (http_get_json(c, url.data, &j, &status, &ignored) == 0) {
        const char *mp = json_string_value(json_object_get(json_object_get(j, "data"), "path"));
        json_t *opts = json_object_get(json_object_get(j, "data"), "options");
        const char *v = json_string_value(json_object_get(opts, "version"));
        if (mp) {
            *mount = xstrdup(mp);
            strip_slashes(*mount);
            *version = v && !strcmp(v, "2") ? 2 : 1;
        }
    }
    json_decref(j);
    buf_release(&url);
}

/* The API path of the secret: v2 puts "data/" after the mount. */
static void secret_url(struct buf *url, const char *path, const char *mount, int version)
{
    buf_adds(url, "/v1/");
    size_t ml = strlen(mount);
    if (version == 2 && !strncmp(path, mount, ml) && path[ml] == '/') {
        http_escape_path(url, mount);
        buf_adds(url, "/data/");
        http_escape_path(url, path + ml + 1);
    } else {
        http_escape_path(url, path);
    }
}

static int read_field(struct http_client *c, const char *path, const char *mount, int version,
                      const char *field, char **value, long *status, struct err *e)
{
    struct buf url;
    buf_init(&url, 0);
    secret_url(&url, path, mount, version);
    json_t *j = NULL;
    int rc = http_get_json(c, url.data, &j, status, e);
    buf_release(&url);
    if (rc < 0)
        return -1;
    json_t *data = json_object_get(j, "data");
    if (version == 2)
        data = json_object_get(data, "data");
    const char *v = json_string_value(json_object_get(data, field));
    if (v && *v)
        *value = xstrdup(v);
    json_decref(j);
    return *value ? 0 : -1;
}

int vault_read(const char *path, const char *field, int verbose, char **value, struct err *e)
{
    const char *addr = getenv("VAULT_ADDR");
    *value = NULL;
    if (!addr || !*addr)
        return err_set(e, EXIT_REFUSED, "VAULT_ADDR is not set");
    const char *env_token = getenv("VAULT_TOKEN");
    const char *source = env_token && *env_token ? "VAULT_TOKEN" : "~/.vault-token";
    char *token = vault_token();
    if (!token)
        return err_set(e, EXIT_REFUSED, "no Vault token (VAULT_TOKEN or ~/.vault-token)");
    if (cred_clean(token, source, e) < 0) {
        explicit_bzero(token, strlen(token));
        free(token);
        return -1;
    }
    struct http_client c;
    /* a local Vault agent or dev server listens on plain http; loopback
     * traffic never leaves the machine */
    struct http_opts o = { .base_url = addr, .cacert = getenv("VAULT_CACERT"),
                           .token = token, .verbose = verbose, .retry_budget = 20,
                           .allow_loopback_http = 1 };
    int rc = http_init(&c, &o, e);
    explicit_bzero(token, strlen(token));
    free(token);
    if (rc < 0)
        return -1;

    char *clean = xstrdup(path);
    strip_slashes(clean);
    char *mount = NULL;
    int version = 0;
    detect_mount(&c, clean, &mount, &version);
    long status = 0;
    struct err attempt;
    err_clear(&attempt);
    if (version) {
        rc = read_field(&c, clean, mount, version, field, value, &status, &attempt);
    } else {
        /* mount unknown: the first path component is the usual mount */
        char *first = xstrndup(clean, strcspn(clean, "/"));
        rc = read_field(&c, clean, first, 2, field, value, &status, &attempt);
        if (rc < 0 && !attempt.code)
            rc = read_field(&c, clean, first, 1, field, value, &status, &attempt);
        free(first);
    }
    if (rc < 0) {
        if (attempt.code)
            *e = attempt;
        else if (status == 403 || status == 401)
            err_set(e, EXIT_REFUSED, "Vault refused to read %s (HTTP %ld)", clean, status);
        else
            err_set(e, EXIT_REFUSED, "Vault has no field '%s' at %s", field, clean);
    }
    free(mount);
    free(clean);
    http_release(&c);
    return rc;
}
