/* Unit tests for kube/image: the image-reference matcher (DESIGN.md, "Image references"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kube/image.h"

#define SHA40 "3f9c2e1a7b4d5e6f708192a3b4c5d6e7f8091a2b"

struct row {
    const char *image;
    const char *sha;
    enum image_match want;
};

static const struct row table[] = {
    /* the tag is the sha, or a prefix of it */
    { "web:3f9c2e1", SHA40, IMAGE_MATCH },
    { "web:3f9c2e1a", SHA40, IMAGE_MATCH },
    { "web:" SHA40, SHA40, IMAGE_MATCH },
    { "web:3F9C2E1A", SHA40, IMAGE_MATCH },
    { "web:3f9c2e1a", "3f9c2e1", IMAGE_MATCH },  /* short sha given: prefix of the tag */
    { "web:" SHA40, "3f9c2e1", IMAGE_MATCH },
    { "web:3f9c2e1f", SHA40, IMAGE_OTHER },       /* 8th character differs */
    /* parts split on - . _ */
    { "web:sha-3f9c2e1", "3f9c2e1", IMAGE_MATCH },
    { "web:main-3f9c2e1", SHA40, IMAGE_MATCH },
    { "web:3f9c2e1-arm64", SHA40, IMAGE_MATCH },
    { "web:build_3f9c2e1a7b", SHA40, IMAGE_MATCH },
    { "web:1.4.0.3f9c2e1", SHA40, IMAGE_MATCH },
    { "web:v1.4.0-12-g3f9c2e1", "3f9c2e1", IMAGE_MATCH }, /* git describe */
    { "web:v1.4.0-12-g3f9c2e1", SHA40, IMAGE_MATCH },
    { "web:v1.4.0-12-gabcdef0", SHA40, IMAGE_OTHER },
    /* inside a token, too short */
    { "web:x3f9c2e1", "3f9c2e1", IMAGE_UNKNOWN },
    { "web:3f9c2e", "3f9c2e1", IMAGE_UNKNOWN },
    { "web:sha3f9c2e1", SHA40, IMAGE_UNKNOWN },
    /* another commit */
    { "web:sha-abcdef0", SHA40, IMAGE_OTHER },
    { "registry.lan:5000/team/web:main-0123abc", SHA40, IMAGE_OTHER },
    /* the digest and the path never match */
    { "web@sha256:3f9c2e1a7b4d5e6f708192a3b4c5d6e7f8091a2b3f9c2e1a7b4d5e6f70819200", "3f9c2e1",
      IMAGE_UNKNOWN },
    { "3f9c2e1.example/web:latest", "3f9c2e1", IMAGE_UNKNOWN },
    { "registry.lan/3f9c2e1/web:v2", SHA40, IMAGE_UNKNOWN },
    { "web:3f9c2e1@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "3f9c2e1", IMAGE_MATCH },
    { "web:abcdef0@sha256:3f9c2e1a84c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "3f9c2e1", IMAGE_OTHER },
    /* no tag, a port, a mutable tag: cannot tell */
    { "registry.lan:5000/web", SHA40, IMAGE_UNKNOWN },
    { "localhost:5000/web", SHA40, IMAGE_UNKNOWN },
    { "web", SHA40, IMAGE_UNKNOWN },
    { "nginx:latest", SHA40, IMAGE_UNKNOWN },
    { "web:v1.4.0", SHA40, IMAGE_UNKNOWN },
    { "docker.io/library/web:1.25", SHA40, IMAGE_UNKNOWN },
    /* all-digit tokens: match when they are the prefix, never "another commit" */
    { "web:20240101", SHA40, IMAGE_UNKNOWN },
    { "web:1234567", "1234567abc", IMAGE_MATCH },
    /* an invalid sha or reference never matches */
    { "web:3f9c2e1", "3f9c2e", IMAGE_UNKNOWN },
    { "web:3f9c2e1", "3f9c2eg", IMAGE_UNKNOWN },
    { "web:", SHA40, IMAGE_UNKNOWN },
    { "web:-3f9c2e1", SHA40, IMAGE_UNKNOWN },
    { "web:3f9c2e1 ", SHA40, IMAGE_UNKNOWN },
    { "", SHA40, IMAGE_UNKNOWN },
};

static void test_image__table(void **state)
{
    (void)state;
    size_t n = sizeof(table) / sizeof(table[0]);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        enum image_match got = image_match_sha(table[i].image, table[i].sha);
        if (got != table[i].want)
            fail_msg("%s vs %s: got %s, want %s", table[i].image, table[i].sha,
                     image_match_name(got), image_match_name(table[i].want));
    }
}

static void test_image__parse(void **state)
{
    (void)state;
    struct image_ref r;
    const char *s = "registry.lan:5000/team/web:v1@sha256:abcd";
    assert_int_equal(image_parse(s, &r), 0);
    assert_int_equal(r.name_len, strlen("registry.lan:5000/team/web"));
    assert_int_equal(r.tag_len, 2);
    assert_memory_equal(s + r.tag_off, "v1", 2);
    assert_int_equal(r.digest_len, strlen("sha256:abcd"));

    s = "registry.lan:5000/web";
    assert_int_equal(image_parse(s, &r), 0);
    assert_int_equal(r.name_len, strlen(s));
    assert_int_equal(r.tag_len, 0);
    assert_int_equal(r.digest_len, 0);

    assert_int_equal(image_parse("", &r), -1);
    assert_int_equal(image_parse(":tag", &r), -1);
    assert_int_equal(image_parse("web:a/b", &r), 0); /* '/' after ':' makes it a path */
}

static void test_image__same_repo(void **state)
{
    (void)state;
    assert_true(image_same_repo("reg/web:a", "reg/web:b"));
    assert_true(image_same_repo("reg/web", "reg/web@sha256:00"));
    assert_false(image_same_repo("reg/web:a", "reg/webx:a"));
    assert_false(image_same_repo("reg/web:a", "other/web:a"));
}

static void test_image__sha_valid(void **state)
{
    (void)state;
    assert_true(image_sha_valid("3f9c2e1"));
    assert_true(image_sha_valid(SHA40));
    assert_false(image_sha_valid("3f9c2e"));
    assert_false(image_sha_valid(SHA40 "0"));
    assert_false(image_sha_valid("3f9c2ez"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image__table),
        cmocka_unit_test(test_image__parse),
        cmocka_unit_test(test_image__same_repo),
        cmocka_unit_test(test_image__sha_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
