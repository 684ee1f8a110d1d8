/*
 * git/crypt: repositories that use git-crypt. homelab never decrypts: it
 * passes filter flags that keep encrypted blobs as they are (see
 * git_crypt_config in git/git.h) and detects whether they are needed.
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

const char *const git_crypt_config[] = {
    "filter.git-crypt.smudge=cat",
    "filter.git-crypt.clean=cat",
    "filter.git-crypt.required=false",
    NULL,
};


/* ---- git-crypt ---- */

int git_attributes_use_crypt(const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        const char *q = p, *end = p + n;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < end && *q != '#') {
            /* skip the pattern (possibly "quoted"), then look at each attribute */
            if (*q == '"') {
                for (q++; q < end && *q != '"'; q++)
                    if (*q == '\\' && q + 1 < end)
                        q++;
                if (q < end)
                    q++;
            } else {
                while (q < end && *q != ' ' && *q != '\t')
                    q++;
            }
            while (q < end) {
                while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
                    q++;
                const char *a = q;
                while (q < end && *q != ' ' && *q != '\t' && *q != '\r')
                    q++;
                if (q - a == 16 && !strncmp(a, "filter=git-crypt", 16))
                    return 1;
            }
        }
        p = end;
        if (*p)
            p++;
    }
    return 0;
}

/* `git grep` for the attribute in .gitattributes files: matching lines only. */
static int grep_attributes(const struct git *g, const char *rev, struct buf *out, struct err *e)
{
    const char *args[] = { "grep", "--no-color", "-h", "-I", "-F", "-e", "filter=git-crypt",
                           rev ? rev : "--", rev ? "--" : ":(glob)**/.gitattributes",
                           rev ? ":(glob)**/.gitattributes" : NULL, NULL };
    /* status 1 is "no match" */
    return git_run_upto(g, args, out, 1, EXIT_FAILED, e) < 0 ? -1 : 0;
}

int git_detect_crypt(const struct git *g, const char *const *revs, int *uses, struct err *e)
{
    /* the detection itself never runs a filter, so plain git will do */
    struct git plain = { g ? g->dir : NULL, 0 };
    struct buf found;
    buf_init(&found, 0);
    *uses = 0;
    int rc = grep_attributes(&plain, NULL, &found, e);
    for (size_t i = 0; rc == 0 && revs && revs[i]; i++) {
        struct err ignored;
        err_clear(&ignored);
        char *oid = NULL;
        if (git_rev_parse(&plain, revs[i], &oid, &ignored) < 0)
            continue;
        rc = grep_attributes(&plain, oid, &found, e);
        free(oid);
    }
    char *common = NULL;
    if (rc == 0 && git_common_dir(&plain, &common, e) == 0) {
        struct buf path;
        buf_init(&path, 0);
        buf_addf(&path, "%s/info/attributes", common);
        git_read_file(path.data, &found);
        buf_release(&path);
        free(common);
    } else {
        rc = -1;
    }
    if (rc == 0)
        *uses = git_attributes_use_crypt(found.data);
    buf_release(&found);
    return rc;
}
