/*
 * fuzz_image: the image reference matcher (kube/image.h).
 *
 * Input: up to three newline-separated strings: an image reference, a
 * sha, and a second reference. Properties: image_parse() offsets stay
 * inside the reference and describe a valid tag; matching ignores the
 * sha's case and any digest; a MATCH needs a valid sha and a tag;
 * image_same_repo() is symmetric and reflexive for parsable references.
 */
#include "fuzz.h"

#include <ctype.h>

#include "kube/image.h"

static char *field(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *s = fuzz_strndup((const uint8_t *)*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return s;
}

static void check_parse(const char *ref)
{
    struct image_ref r;
    size_t len = strlen(ref);
    if (image_parse(ref, &r) < 0)
        return;
    FUZZ_CHECK(r.name_len > 0 && r.name_len <= len, "name_len %zu of %zu", r.name_len, len);
    if (r.tag_len) {
        FUZZ_CHECK(r.tag_off + r.tag_len <= len && r.tag_len <= 128, "tag out of range");
        FUZZ_CHECK(ref[r.tag_off - 1] == ':', "tag not after ':'");
        for (size_t i = 0; i < r.tag_len; i++) {
            char c = ref[r.tag_off + i];
            FUZZ_CHECK(isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-',
                       "tag byte 0x%02x", (unsigned char)c);
        }
        FUZZ_CHECK(!memchr(ref + r.tag_off, '/', r.tag_len), "tag holds '/'");
    }
    if (r.digest_len)
        FUZZ_CHECK(r.digest_off + r.digest_len == len && ref[r.digest_off - 1] == '@',
                   "digest out of range");
    FUZZ_CHECK(image_same_repo(ref, ref), "'%s' is not its own repo", ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *ref = field(&p, end);
    char *sha = field(&p, end);
    char *other = field(&p, end);

    check_parse(ref);
    check_parse(other);

    enum image_match m = image_match_sha(ref, sha);
    FUZZ_CHECK(m == IMAGE_MATCH || m == IMAGE_OTHER || m == IMAGE_UNKNOWN, "match %d", (int)m);
    FUZZ_CHECK(image_match_name(m) != NULL, "no name");
    if (m == IMAGE_MATCH) {
        struct image_ref r;
        FUZZ_CHECK(image_sha_valid(sha) && image_parse(ref, &r) == 0 && r.tag_len > 0,
                   "match without a valid sha and tag");
    }

    /* the sha's case does not matter */
    char *upper = strdup(sha);
    for (char *q = upper; *q; q++)
        *q = (char)toupper((unsigned char)*q);
    FUZZ_CHECK(image_match_sha(ref, upper) == m, "case changed the match of '%s'", ref);
    free(upper);

    /* nor does a digest added to a reference that has none */
    if (!strchr(ref, '@')) {
        size_t n = strlen(ref);
        char *pinned = malloc(n + 80);
        memcpy(pinned, ref, n);
        strcpy(pinned + n, "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        FUZZ_CHECK(image_match_sha(pinned, sha) == m, "a digest changed the match of '%s'", ref);
        free(pinned);
    }

    FUZZ_CHECK(image_same_repo(ref, other) == image_same_repo(other, ref), "not symmetric");
    free(ref);
    free(sha);
    free(other);
    return 0;
}
