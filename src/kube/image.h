/*
 * image: does a container image reference name a given git commit?
 *
 * The rule (written out in DESIGN.md, "Image references"):
 *
 *   - Only the tag is examined: never the repository path (a host such as
 *     3f9c2e1.example must not match) and never the digest (hex prefixes of
 *     a 64-hex sha256 would match by accident and mean nothing).
 *   - The tag is the part after the last ':' that follows the last '/',
 *     before any '@'. `registry.lan:5000/web` has no tag (':5000' is a port).
 *   - The tag is split on '-', '_' and '.' into tokens. A token that is 'g'
 *     followed by at least 7 hex digits loses the 'g' (git describe:
 *     v1.4.0-12-g3f9c2e1).
 *   - A token matches when it is all hex, k = min(len(token), len(sha)) is
 *     at least 7, and the first k characters agree (case-insensitively):
 *     the tag may carry the full sha, a short prefix of it, or (when the
 *     user gave a short sha) a longer id that starts with it. A token that
 *     merely contains the sha ("x3f9c2e1") does not match.
 *   - Otherwise, a tag with a hex token of at least 7 characters that has
 *     a letter a-f in it names another commit (IMAGE_OTHER); a tag with no
 *     such token (latest, v1.4.0, 20240101, no tag at all, digest only)
 *     cannot tell (IMAGE_UNKNOWN). All-digit tokens still match when they
 *     are a prefix of the sha, but never count as "another commit": they
 *     are far more often dates and build numbers.
 *
 * Pure functions; nothing here allocates.
 */
#ifndef HOMELAB_KUBE_IMAGE_H
#define HOMELAB_KUBE_IMAGE_H

#include <stddef.h>

enum image_match {
    IMAGE_MATCH,   /* the tag references the sha */
    IMAGE_OTHER,   /* the tag references some other commit */
    IMAGE_UNKNOWN, /* the tag carries no commit id: cannot tell */
};

/* The parts of a reference, as offsets into the string it was parsed from. */
struct image_ref {
    size_t name_len;   /* [domain/]path: ref[0 .. name_len) */
    size_t tag_off;    /* tag, when tag_len > 0 */
    size_t tag_len;
    size_t digest_off; /* after '@', when digest_len > 0 */
    size_t digest_len;
};

/*
 * Splits `ref` into name, tag and digest. Returns 0, or -1 when the
 * reference is empty or its tag is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}).
 */
int image_parse(const char *ref, struct image_ref *out);

/* Whether `sha` is 7 to 40 hex digits (either case). */
int image_sha_valid(const char *sha);

/* Matches a reference against a sha (7-40 hex). */
enum image_match image_match_sha(const char *ref, const char *sha);

/*
 * The same rule applied to a bare tag ("3f9c2e1a", "v1.2.0-4-g3f9c2e1"), as
 * a deploy pipeline's IMAGE_TAG variable carries it. A string that is not
 * a valid tag cannot tell.
 */
enum image_match image_tag_match_sha(const char *tag, const char *sha);

/* Whether two references name the same repository (tags and digests ignored). */
int image_same_repo(const char *a, const char *b);

/* "match", "another commit", "cannot tell". */
const char *image_match_name(enum image_match m);

#endif
