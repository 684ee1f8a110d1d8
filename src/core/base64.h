/*
 * base64: strict decoding of the standard alphabet (RFC 4648 section 4)
 * with '=' padding, as Go's encoding/json writes []byte fields.
 *
 * Rejected: a length that is not a multiple of 4, characters outside the
 * alphabet (whitespace and line breaks included), padding anywhere but at
 * the end, more than two '=', and non-zero bits left over in the last
 * group (a non-canonical encoding). An empty input decodes to nothing.
 */
#ifndef HOMELAB_BASE64_H
#define HOMELAB_BASE64_H

#include <stddef.h>

#include "core/buf.h"

/* The most bytes `len` characters of base64 can decode to. */
size_t base64_decoded_max(size_t len);

/*
 * Decodes in[0..len) into out[], which has room for
 * base64_decoded_max(len) bytes, and sets *out_len. Returns 0, or -1 on
 * invalid input (out[] then holds garbage).
 */
int base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);

/*
 * Appends the decoded bytes to `b`. Returns 0, or -1 on invalid input or
 * when b's cap would be exceeded; b's contents are unchanged on failure.
 * (The cap is checked against the upper bound, so a buffer within two
 * bytes of its cap may refuse input that would just fit.)
 */
int base64_decode_buf(struct buf *b, const char *in, size_t len);

#endif
