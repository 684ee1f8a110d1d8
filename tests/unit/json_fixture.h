/* JSON fixtures for unit tests: J("{'a': 1}") parses text written with
 * single quotes (turned into double quotes first, so fixtures read well in
 * C strings); Jf formats first. A fixture that does not parse fails the
 * test with jansson's message. Include after <cmocka.h>. */
#ifndef HOMELAB_TEST_JSON_FIXTURE_H
#define HOMELAB_TEST_JSON_FIXTURE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline json_t *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t err;
    json_t *v = json_loads(s, 0, &err);
    if (!v)
        fail_msg("fixture: %s at %d: %s", err.text, err.position, s);
    free(s);
    return v;
}

static inline json_t *Jf(const char *fmt, ...)
{
    char text[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return J(text);
}

#endif
