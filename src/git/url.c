/*
 * git/url: pure parsing of what remotes and users name: remote URLs into
 * OWNER/NAME, `git remote -v` listings, commit ids, topic names. No git
 * runs here, so the unit tests and fuzz_git_url feed it hostile text.
 */
#include "git/git.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sanitize.h"
#include "git/internal.h"

int git_parse_remote_v(const char *text, struct buf *names, struct strvec *urls)
{
    int n = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        const char *tab = memchr(p, '\t', len);
        if (tab && tab > p) {
            size_t nlen = (size_t)(tab - p);
            const char *u = tab + 1;
            size_t ulen = len - nlen - 1;
            int fetch = ulen >= 8 && !memcmp(u + ulen - 8, " (fetch)", 8);
            /* a remote without a URL is listed as "name\t" alone */
            int bare = ulen == 0;
            if (fetch || bare) {
                buf_add(names, p, nlen);
                buf_addc(names, '\n');
                char *url = fetch ? xstrndup(u, ulen - 8) : xstrndup(p, nlen);
                strvec_push(urls, url);
                free(url);
                n++;
            }
        }
        p += len;
        if (*p)
            p++;
    }
    return n;
}

/* The path part of a remote URL, or NULL when it has no host part. */
static const char *url_path(const char *url)
{
    const char *scheme = strstr(url, "://");
    if (scheme) {
        for (const char *p = url; p < scheme; p++)
            if (!isalnum((unsigned char)*p) && !strchr("+-.", *p))
                return NULL; /* "./a://b" is a path, not a scheme */
        if (scheme == url || !strncasecmp(url, "file://", 7))
            return NULL;
        const char *host = scheme + 3;
        const char *slash = strchr(host, '/');
        if (!slash || slash == host || slash[-1] == '@')
            return NULL;
        return slash + 1;
    }
    /* scp-like [user@]host:path, [user@][v6]:path; not a path with a colon later */
    const char *start = strchr(url, '@');
    const char *slash = strchr(url, '/');
    if (start && slash && slash < start)
        start = NULL;
    start = start ? start + 1 : url;
    const char *colon;
    if (*start == '[') {
        const char *close = strchr(start, ']');
        if (!close || close[1] != ':')
            return NULL;
        colon = close + 1;
    } else {
        colon = strchr(start, ':');
    }
    if (!colon || colon == start || (slash && slash < colon))
        return NULL;
    return colon + 1;
}

/* owner/name with at least two components, none empty, "." or "..". */
static int full_name_ok(const char *name)
{
    if (!strchr(name, '/'))
        return 0;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
            return 0;
        p += n;
        if (*p == '/' && !*++p)
            return 0;
    }
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ' || *p == '\\')
            return 0;
    return 1;
}

int git_remote_full_name(const char *url, char **full_name)
{
    *full_name = NULL;
    if (!url || !*url)
        return -1;
    const char *path = url_path(url);
    if (!path)
        return -1;
    size_t n = strcspn(path, "?#");
    while (n && path[n - 1] == '/')
        n--;
    if (n >= 4 && !strncmp(path + n - 4, ".git", 4))
        n -= 4;
    while (n && *path == '/') {
        path++;
        n--;
    }
    if (n >= 2 && path[0] == '~' && path[1] != '/') {
        /* ssh://host/~user/repo: the user's home, not an owner we can name */
        return -1;
    }
    char *name = xstrndup(path, n);
    if (!full_name_ok(name)) {
        free(name);
        return -1;
    }
    *full_name = name;
    return 0;
}

int git_is_hex_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return 0;
    return n >= 7 && n <= 64;
}


int git_check_topic(const char *t, struct err *e)
{
#define BAD(...) err_set(e, EXIT_USAGE, __VA_ARGS__)
    size_t n = strlen(t);
    if (n == 0)
        return BAD("the topic is empty");
    if (n > 200)
        return BAD("the topic is longer than 200 bytes");
    for (const char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            return BAD("the topic contains a control character (byte 0x%02x)", c);
        if (c == ' ')
            return BAD("the topic contains a space");
        if (strchr("~^:?*[\\", c))
            return BAD("the topic contains '%c', which git does not allow in branch names", c);
    }
    if (t[0] == '-')
        return BAD("the topic starts with '-'");
    if (strstr(t, ".."))
        return BAD("the topic contains '..'");
    if (strstr(t, "@{") || !strcmp(t, "@"))
        return BAD("the topic is or contains git revision syntax ('@', '@{')");
    if (t[0] == '/' || t[n - 1] == '/' || strstr(t, "//"))
        return BAD("the topic has a leading, trailing or doubled '/'");
    for (const char *p = t; *p;) {
        size_t len = strcspn(p, "/");
        if (p[0] == '.')
            return BAD("a part of the topic starts with '.'");
        if (p[len - 1] == '.')
            return BAD("a part of the topic ends with '.'");
        if (len >= 5 && !strncmp(p + len - 5, ".lock", 5))
            return BAD("a part of the topic ends with '.lock'");
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
#undef BAD
}
