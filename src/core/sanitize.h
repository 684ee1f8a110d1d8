/*
 * sanitize: make untrusted text (CI log lines, server messages) safe to
 * print on a terminal.
 *
 * Nothing a server sends may move the cursor, retitle the window, write
 * the clipboard (OSC 52), plant hyperlinks (OSC 8), switch screens or hide
 * text. So every byte that is not plainly printable is shown in a visible,
 * unambiguous escaped form instead of being passed to the terminal.
 *
 * Notation: an escaped byte is `\xHH`, a backslash, `x` and two lower-case
 * hex digits (ESC is `\x1b`). Backslashes in the input are shown as they
 * are, except one directly followed by `x`, which becomes `\x5c`; so every
 * `\x` on screen is an escape and the original bytes can be recovered.
 *
 * What is escaped, byte by byte:
 *   - C0 controls except tab and newline, and DEL (0x7f);
 *   - ESC, and with it every escape sequence (CSI, OSC, DCS, APC, PM,
 *     SOS...): once its ESC is shown as `\x1b` the rest of the sequence is
 *     ordinary text, and any control inside it (an OSC's BEL terminator,
 *     ST's ESC) is escaped in turn, so nothing executes;
 *   - C1 controls, both as raw bytes 0x80-0x9f and as U+0080-U+009F
 *     encoded in UTF-8 (`\xc2\x9b`);
 *   - invalid UTF-8: stray continuation bytes, overlong forms, surrogates,
 *     code points above U+10FFFF, sequences cut short.
 * Valid UTF-8 other than C1 passes unchanged.
 *
 * Carriage return: terminals use it to overwrite a line, which would let a
 * log hide text. CRs at the end of the input (or right before a newline,
 * as in CRLF) are dropped; any other CR is shown as `\x0d`.
 *
 * SANITIZE_KEEP_SGR keeps colour sequences (CSI params m) whose params are
 * only digits, ';' and ':' (at most 64 bytes), except those that turn on
 * conceal (SGR 8), which hides text. If any colour was kept and the input
 * does not end with a reset, `ESC[0m` is appended so colour cannot bleed
 * into what is printed after the line. Set the flag only when the output
 * is a terminal and colour is on.
 *
 * SANITIZE_DROP_SGR removes those same colour sequences instead of showing
 * them escaped: for output to a pipe or with colour off, where
 * `\x1b[32m` on every line of a colourful log is noise. Ignored when
 * SANITIZE_KEEP_SGR is set. Other sequences are still shown escaped.
 *
 * The input is one complete log line per call: sequences and UTF-8 are not
 * carried over between calls, so a sequence cut by the caller is escaped.
 */
#ifndef HOMELAB_SANITIZE_H
#define HOMELAB_SANITIZE_H

#include <stddef.h>

#include "core/buf.h"

enum sanitize_flags {
    SANITIZE_KEEP_SGR = 1 << 0,
    SANITIZE_DROP_SGR = 1 << 1,
};

/*
 * Appends the sanitized form of in[0..len) to `out`. Returns 0, or -1 when
 * the buffer's cap would be exceeded (then `out` holds a prefix of the
 * result, cut at a character boundary).
 */
int sanitize_append(struct buf *out, const char *in, size_t len, unsigned flags);

/*
 * The sanitized form of in[0..len) (no flags) in dst[n], its longest
 * prefix that fits, cut before a character: for server text kept in a
 * fixed-size field. `in` may be `dst`.
 */
void sanitize_into(char *dst, size_t n, const char *in, size_t len);

#endif
