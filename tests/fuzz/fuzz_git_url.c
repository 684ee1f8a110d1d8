/*
 * fuzz_git_url: the git remote URL parser (git/git.h,
 * git_remote_full_name) and the pure name checks next to it.
 *
 * Input: a remote URL (up to the first NUL, as git prints it).
 * Properties: an accepted URL gives an owner/name of at least two
 * components, none empty, "." or "..", without control characters,
 * spaces or backslashes, that appears verbatim in the URL; a rejected one
 * leaves the result NULL. git_check_topic() never accepts a topic that
 * could become an option (leading '-') or hold a control character.
 */
#include "fuzz.h"

#include "git/git.h"

static void check_name(const char *url, const char *name)
{
    FUZZ_CHECK(*name && strchr(name, '/'), "'%s' from '%s': not owner/name", name, url);
    FUZZ_CHECK(strstr(url, name) != NULL, "'%s' is not part of '%s'", name, url);
    const char *p = name;
    for (;;) {
        size_t n = strcspn(p, "/");
        FUZZ_CHECK(n > 0, "empty component in '%s'", name);
        FUZZ_CHECK(!(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.'),
                   "dot component in '%s'", name);
        if (!p[n])
            break;
        p += n + 1;
    }
    for (p = name; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f && *p != ' ' && *p != '\\',
                   "byte 0x%02x in '%s'", (unsigned char)*p, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_strndup(data, size);
    char *name = (char *)"unset";
    if (git_remote_full_name(url, &name) == 0) {
        FUZZ_CHECK(name != NULL, "accepted without a name");
        check_name(url, name);
        free(name);
    } else {
        FUZZ_CHECK(name == NULL, "rejected but the name is set");
    }

    (void)git_is_hex_id(url);
    struct err e;
    err_clear(&e);
    if (git_check_topic(url, &e) == 0) {
        FUZZ_CHECK(url[0] != '-' && url[0] != '.', "topic '%s' accepted", url);
        for (const char *p = url; *p; p++)
            FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f, "topic with byte 0x%02x",
                       (unsigned char)*p);
    } else {
        FUZZ_CHECK(e.code == EXIT_USAGE, "topic rejected with code %d", e.code);
    }
    free(url);
    return 0;
}
