/*
 * image: the tag-based matcher between image references and git commits.
 * See image.h for the rule and DESIGN.md ("Image references") for why.
 */
#include "kube/image.h"

#include <ctype.h>
#include <string.h>

static int is_hex(int c)
{
    return isxdigit((unsigned char)c);
}

static int is_tag_char(int c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

int image_parse(const char *ref, struct image_ref *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(ref);
    if (len == 0)
        return -1;
    const char *at = strchr(ref, '@');
    size_t left = at ? (size_t)(at - ref) : len;
    if (at) {
        out->digest_off = left + 1;
        out->digest_len = len - left - 1;
    }
    /* The tag separator is the last ':' after the last '/'. */
    size_t slash = 0;
    int has_slash = 0;
    for (size_t i = 0; i < left; i++)
        if (ref[i] == '/') {
            slash = i;
            has_slash = 1;
        }
    size_t colon = left;
    for (size_t i = has_slash ? slash + 1 : 0; i < left; i++)
        if (ref[i] == ':')
            colon = i;
    out->name_len = colon;
    if (colon < left) {
        out->tag_off = colon + 1;
        out->tag_len = left - colon - 1;
        if (out->tag_len == 0 || out->tag_len > 128 || ref[out->tag_off] == '.' ||
            ref[out->tag_off] == '-')
            return -1;
        for (size_t i = 0; i < out->tag_len; i++)
            if (!is_tag_char(ref[out->tag_off + i]))
                return -1;
    }
    return out->name_len ? 0 : -1;
}

int image_sha_valid(const char *sha)
{
    size_t n = strlen(sha);
    if (n < 7 || n > 40)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_hex(sha[i]))
            return 0;
    return 1;
}

/* One token of a tag: returns IMAGE_MATCH, IMAGE_OTHER or IMAGE_UNKNOWN. */
static enum image_match match_token(const char *t, size_t n, const char *sha, size_t shalen)
{
    if (n >= 8 && (t[0] == 'g' || t[0] == 'G')) {
        size_t i = 1;
        while (i < n && is_hex(t[i]))
            i++;
        if (i == n) {
            t++;
            n--;
        }
    }
    int letters = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_hex(t[i]))
            return IMAGE_UNKNOWN;
        if (!isdigit((unsigned char)t[i]))
            letters = 1;
    }
    if (n < 7)
        return IMAGE_UNKNOWN;
    size_t k = n < shalen ? n : shalen;
    if (k >= 7) {
        size_t i = 0;
        while (i < k && tolower((unsigned char)t[i]) == tolower((unsigned char)sha[i]))
            i++;
        if (i == k)
            return IMAGE_MATCH;
    }
    return letters ? IMAGE_OTHER : IMAGE_UNKNOWN;
}

/* The token rule over a whole tag: the best answer of its tokens. */
static enum image_match match_tag(const char *tag, size_t len, const char *sha)
{
    size_t shalen = strlen(sha);
    enum image_match best = IMAGE_UNKNOWN;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && tag[i] != '-' && tag[i] != '_' && tag[i] != '.')
            continue;
        if (i > start) {
            enum image_match m = match_token(tag + start, i - start, sha, shalen);
            if (m == IMAGE_MATCH)
                return IMAGE_MATCH;
            if (m == IMAGE_OTHER)
                best = IMAGE_OTHER;
        }
        start = i + 1;
    }
    return best;
}

enum image_match image_match_sha(const char *ref, const char *sha)
{
    struct image_ref r;
    if (!image_sha_valid(sha) || image_parse(ref, &r) < 0 || r.tag_len == 0)
        return IMAGE_UNKNOWN;
    return match_tag(ref + r.tag_off, r.tag_len, sha);
}

enum image_match image_tag_match_sha(const char *tag, const char *sha)
{
    size_t len = strlen(tag);
    if (!image_sha_valid(sha) || len == 0 || len > 128 || tag[0] == '.' || tag[0] == '-')
        return IMAGE_UNKNOWN;
    for (size_t i = 0; i < len; i++)
        if (!is_tag_char(tag[i]))
            return IMAGE_UNKNOWN;
    return match_tag(tag, len, sha);
}

int image_same_repo(const char *a, const char *b)
{
    struct image_ref ra, rb;
    if (image_parse(a, &ra) < 0 || image_parse(b, &rb) < 0)
        return 0;
    return ra.name_len == rb.name_len && !memcmp(a, b, ra.name_len);
}

const char *image_match_name(enum image_match m)
{
    switch (m) {
    case IMAGE_MATCH: return "match";
    case IMAGE_OTHER: return "another commit";
    case IMAGE_UNKNOWN: break;
    }
    return "cannot tell";
}
