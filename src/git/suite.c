/*
 * suite: finding a repository's own check suite by looking at its files.
 *
 * Reading a Makefile instead of asking `make -n TARGET` is deliberate:
 * make evaluates $(shell …) while parsing, and says "'test' is up to date"
 * (status 0) for any target that is merely a file or directory, such as a
 * tests/ directory in a repository with no test rule at all.
 */
#include "git/suite.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"

/* ---- Makefile reading ---- */

/*
 * Calls fn for each logical line of a Makefile: continuations joined,
 * comments removed, recipe lines (leading tab) and define…endef bodies
 * skipped. Stops when fn returns non-zero and returns that.
 */
static int each_line(const char *text, int (*fn)(const char *line, void *ud), void *ud)
{
    struct buf line;
    buf_init(&line, 0);
    int in_define = 0, rc = 0;
    const char *p = text;
    while (*p && !rc) {
        buf_reset(&line);
        int recipe = *p == '\t';
        for (;;) {
            size_t n = strcspn(p, "\n");
            int cont = n && p[n - 1] == '\\';
            buf_add(&line, p, cont ? n - 1 : n);
            p += n;
            if (*p)
                p++;
            if (!cont || !*p)
                break;
            buf_addc(&line, ' ');
        }
        if (recipe)
            continue;
        /* comments: an unescaped '#' */
        for (size_t i = 0; i < line.len; i++)
            if (line.data[i] == '#' && (i == 0 || line.data[i - 1] != '\\')) {
                line.data[i] = '\0';
                line.len = i;
                break;
            }
        const char *s = line.data + strspn(line.data, " \t");
        if (!strncmp(s, "define", 6) && (s[6] == ' ' || s[6] == '\t' || s[6] == '\0')) {
            in_define = 1;
            continue;
        }
        if (in_define) {
            if (!strncmp(s, "endef", 5))
                in_define = 0;
            continue;
        }
        rc = fn(s, ud);
    }
    buf_release(&line);
    return rc;
}

struct target_query {
    const char *target;
};

static int line_defines(const char *s, void *ud)
{
    const struct target_query *q = ud;
    const char *colon = strchr(s, ':');
    if (!colon)
        return 0;
    /* "X = a:b", "X ?= a:b": an assignment whose value has a colon */
    if (memchr(s, '=', (size_t)(colon - s)))
        return 0;
    const char *rest = colon + 1;
    if (*rest == ':')
        rest++;
    if (*rest == '=' || (rest[0] == ':' && rest[1] == '=')) /* ":=", "::=", ":::=" */
        return 0;
    size_t deps = strcspn(rest, ";");
    if (memchr(rest, '=', deps)) /* "check: VAR = x": a target-specific variable */
        return 0;
    size_t tlen = strlen(q->target);
    for (const char *w = s; w < colon;) {
        w += strspn(w, " \t");
        size_t n = strcspn(w, " \t:");
        if (w + n > colon)
            n = (size_t)(colon - w);
        if (n == tlen && !strncmp(w, q->target, tlen))
            return 1;
        w += n ? n : 1;
    }
    return 0;
}

int suite_makefile_has_target(const char *text, const char *target)
{
    struct target_query q = { target };
    return each_line(text, line_defines, &q) == 1;
}

static int line_includes(const char *s, void *ud)
{
    struct strvec *names = ud;
    size_t kw = !strncmp(s, "include", 7) ? 7 : !strncmp(s, "-include", 8) ? 8
              : !strncmp(s, "sinclude", 8) ? 8 : 0;
    if (!kw || (s[kw] != ' ' && s[kw] != '\t'))
        return 0;
    for (const char *w = s + kw; *w;) {
        w += strspn(w, " \t");
        size_t n = strcspn(w, " \t");
        if (n && !memchr(w, '$', n) && !memchr(w, '*', n) && !memchr(w, '?', n)) {
            char *name = xstrndup(w, n);
            strvec_push(names, name);
            free(name);
        }
        w += n;
    }
    return 0;
}

void suite_makefile_includes(const char *text, struct strvec *names)
{
    each_line(text, line_includes, names);
}

/* ---- package.json ---- */

int suite_package_json_has_test(const char *text)
{
    json_t *root = json_loads(text, 0, NULL);
    const char *test = json_string_value(json_object_get(json_object_get(root, "scripts"), "test"));
    int yes = test && test[strspn(test, " \t")] && !strstr(test, "no test specified");
    json_decref(root);
    return yes;
}

/* ---- detection ---- */

/* Reads top/name into b: 1 read, 0 absent, -1 error (e filled). */
static int read_in(const char *top, const char *name, struct buf *b, struct err *e)
{
    struct buf path;
    buf_init(&path, 0);
    buf_addf(&path, "%s/%s", top, name);
    FILE *f = fopen(path.data, "r");
    int rc = 1;
    if (!f) {
        rc = errno == ENOENT || errno == ENOTDIR ? 0
             : err_set(e, EXIT_FAILED, "cannot read '%s': %s", path.data, strerror(errno));
    } else {
        char chunk[8192];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            if (buf_add(b, chunk, n) < 0)
                break; /* capped: what we have is enough to look at */
        fclose(f);
    }
    buf_release(&path);
    return rc;
}

static int exists(const char *top, const char *name, int want_dir)
{
    struct buf path;
    buf_init(&path, 0);
    buf_addf(&path, "%s/%s", top, name);
    struct stat st;
    int yes = stat(path.data, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
    buf_release(&path);
    return yes;
}

static void found(struct suite *s, const char *label, ...)
{
    va_list ap;
    va_start(ap, label);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        strvec_push(&s->argv, a);
    va_end(ap);
    s->label = xstrdup(label);
}

/* The Makefile's text plus that of the files it includes by name. */
static int makefile_text(const char *top, struct buf *text, struct err *e)
{
    static const char *const names[] = { "GNUmakefile", "makefile", "Makefile" };
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++)
        rc = read_in(top, names[i], text, e);
    if (rc <= 0)
        return rc;
    struct strvec inc = STRVEC_INIT;
    suite_makefile_includes(text->data, &inc);
    for (size_t i = 0; i < inc.n && i < 32; i++) {
        buf_addc(text, '\n');
        struct err ignored;
        err_clear(&ignored);
        read_in(top, inc.v[i], text, &ignored); /* "-include" of a missing file is fine */
    }
    strvec_clear(&inc);
    return 1;
}

int suite_detect(const char *top, struct suite *s, struct err *e)
{
    memset(s, 0, sizeof(*s));
    struct buf text;
    buf_init(&text, 16u << 20);
    int rc = makefile_text(top, &text, e);
    if (rc < 0)
        goto out;
    if (text.len && suite_makefile_has_target(text.data, "check")) {
        found(s, "make check", "make", "check", NULL);
    } else if (text.len && suite_makefile_has_target(text.data, "test")) {
        found(s, "make test", "make", "test", NULL);
    } else if (exists(top, "go.mod", 0)) {
        found(s, "go test ./...", "go", "test", "./...", NULL);
    } else if (exists(top, "Cargo.toml", 0)) {
        found(s, "cargo test", "cargo", "test", NULL);
    } else {
        buf_reset(&text);
        rc = read_in(top, "package.json", &text, e);
        if (rc < 0)
            goto out;
        if (text.len && suite_package_json_has_test(text.data))
            found(s, "npm test", "npm", "test", NULL);
        else if (exists(top, "build/meson-private", 1))
            found(s, "meson test -C build", "meson", "test", "-C", "build", NULL);
    }
    rc = s->label ? 1 : 0;
out:
    buf_release(&text);
    return rc;
}

void suite_release(struct suite *s)
{
    strvec_clear(&s->argv);
    free(s->label);
    s->label = NULL;
}
