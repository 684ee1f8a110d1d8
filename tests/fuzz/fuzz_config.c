/*
 * fuzz_config: the config file parser (core/config.h, config_parse_text:
 * inih with git-config indentation and quoting).
 *
 * Input: a config file's bytes. Properties: no crash or leak; a parse
 * either succeeds or names a line (EXIT_USAGE); every value read is a
 * C string without a newline (inih reads line by line); release wipes
 * everything.
 */
#include "fuzz.h"

#include "core/buf.h"
#include "core/config.h"

static void check_value(const char *v, const char *key)
{
    if (v)
        FUZZ_CHECK(!strchr(v, '\n'), "newline in %s", key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    struct buf warnings;
    struct err e;
    memset(&c, 0, sizeof(c));
    buf_init(&warnings, 0);
    err_clear(&e);
    int rc = config_parse_text(&c, (const char *)data, size, &warnings, &e);
    if (rc < 0)
        FUZZ_CHECK(e.code == EXIT_USAGE && strstr(e.msg, "cannot parse"), "error: %s", e.msg);
    else
        FUZZ_CHECK(rc == 0 && e.code == 0, "rc %d", rc);
    check_value(c.server, "server");
    check_value(c.dial, "dial");
    check_value(c.cacert, "cacert");
    check_value(c.repo, "repo");
    check_value(c.remote, "remote");
    check_value(c.file_token, "token");
    check_value(c.kubectl, "kubectl");
    check_value(c.context, "context");
    check_value(c.verify, "verify");
    /* a second file over the first: values are replaced, not leaked */
    (void)config_parse_text(&c, (const char *)data, size, &warnings, &e);
    config_release(&c);
    FUZZ_CHECK(c.server == NULL && c.file_token == NULL && c.path == NULL, "release");
    buf_release(&warnings);
    return 0;
}
