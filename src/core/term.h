/*
 * term: the one module that draws on the terminal, for every waiting verb
 * (`ci watch`, `deploy wait`).
 *
 * Three output shapes, matching DESIGN.md "Output":
 *
 *   - A live region on a terminal (stderr): the verb renders its whole view
 *     as text (lines separated by '\n', colour from term_paint()) and hands
 *     it to term_live(). The region is replaced in one write(): carriage
 *     return, cursor up over the previous frame (CSI n A), clear to the end
 *     of the screen (CSI J), the new frame; wrapped in synchronized-output
 *     marks (CSI ? 2026 h/l) that terminals without support ignore. Lines
 *     are cut to the terminal width so nothing wraps (wrapping would break
 *     the cursor arithmetic); a frame taller than the terminal keeps its
 *     first rows and ends with "… N more lines". Redraws are rate-limited
 *     (100 ms) and identical frames are skipped, so calling term_live() on
 *     every loop iteration is fine. term_live_done() draws the last frame
 *     and leaves it on screen.
 *   - Plain lines when not a terminal: term_plain_line() prints a line only
 *     when it differs from the previous one.
 *   - JSON Lines on stdout: term_json_line().
 *
 * Frame text is trusted: callers escape anything that came from a server
 * (names, messages, logs) before putting it into a frame.
 *
 * Sequences emitted: CR, CSI n A (cursor up), CSI J (erase below),
 * CSI ? 25 l / h (hide/show cursor), CSI ? 2026 h / l (synchronized output),
 * SGR (CSI n m) colours from term_paint().
 *
 * Signals live in core/signal.h; loops that draw here clean up
 * (term_live_done()) when signal_interrupted() says so.
 */
#ifndef HOMELAB_TERM_H
#define HOMELAB_TERM_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/signal.h"

enum term_color {
    TERM_PLAIN = 0, /* no styling */
    TERM_BOLD,
    TERM_DIM,
    TERM_RED,
    TERM_GREEN,
    TERM_YELLOW,
    TERM_BLUE,
    TERM_MAGENTA,
    TERM_CYAN,
};

struct term {
    int fd;              /* where the live region goes (stderr) */
    int color;           /* 1 = SGR colours allowed */
    int utf8;            /* 1 = the locale is UTF-8: braille spinner, '…' */
    int rows, cols;      /* terminal size; refreshed by term_live() on a tty */
    size_t drawn;        /* lines of the frame currently on screen */
    int cursor_hidden;
    double interval;     /* minimum seconds between redraws (0.1) */
    double last_draw;    /* clock_now() of the last write, 0 = never */
    struct buf shown;    /* the frame on screen */
    struct buf want;     /* the latest frame asked for */
};

/* Sets up for `fd`; reads the locale and (when fd is a tty) the size. */
void term_init(struct term *t, int fd, int color);
/* Frees the buffers; does not touch the screen (see term_live_done()). */
void term_release(struct term *t);

/*
 * Appends to `out` the bytes that replace the frame on screen (t->drawn
 * lines) with `frame`, cut to t->rows x t->cols, and sets t->drawn. Pure
 * apart from t->drawn: this is what term_live() writes, and what unit
 * tests look at.
 */
void term_render(struct term *t, const char *frame, struct buf *out);

/*
 * Asks for `frame` to be shown. Writes at most every t->interval seconds
 * (`now` from clock_now()) unless `force`; an identical frame is not
 * redrawn. Returns 1 when it wrote, 0 when not, -1 on a write error.
 */
int term_live(struct term *t, const char *frame, double now, int force);
/* Draws the latest frame if pending, shows the cursor; the frame stays. */
void term_live_done(struct term *t);
/* Erases the live region (to print something above it, then redraw). */
void term_live_clear(struct term *t);

/*
 * The one place that decides about terminals and colour. term_capable():
 * fd is a terminal that takes escape sequences (TERM is not "dumb").
 * term_color_wanted(): term_capable(fd), and colour not turned off by
 * `no_color` (--no-color) or a non-empty NO_COLOR.
 */
int term_capable(int fd);
int term_color_wanted(int fd, int no_color);

/* Appends `s` in colour `c` (no escapes at all when `color` is 0). */
void term_paint(struct buf *out, int color, enum term_color c, const char *s);
void term_paintf(struct buf *out, int color, enum term_color c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The spinner glyph for time `now` (seconds): braille when utf8, else |/-\. */
const char *term_spinner(int utf8, double now);

/* Visible columns of s[0..len): SGR sequences count 0, a UTF-8 character 1. */
size_t term_width(const char *s, size_t len);

/* "850ms", "12s", "3m04s", "1h02m". */
void term_fmt_duration(char *dst, size_t n, double seconds);

/* Plain mode: one line per change. */
struct term_plain {
    char *last; /* the last line printed, NULL before the first */
};
#define TERM_PLAIN_INIT {0}
/* Prints line + '\n' to `f` unless it equals the previous one or progress
 * is off (term_set_quiet); returns 1 when printed. */
int term_plain_line(struct term_plain *p, FILE *f, const char *line);
/* --quiet: term_plain_line() prints nothing from now on. */
void term_set_quiet(int quiet);
void term_plain_release(struct term_plain *p);

/*
 * Prints `obj` (borrowed) as one compact JSON line on stdout and flushes
 * (reals with at most 9 significant digits: 2.348, not 2.3479999999999999).
 * Returns 0, or -1 when stdout cannot be written.
 */
int term_json_line(const json_t *obj);

/*
 * The stage a verb is running as, inside `ship` ("" outside it). While set,
 * term_plain_line() prefixes each line with "NAME: ", and term_json_line()
 * adds "stage": NAME to each object that has no "stage" and renames its
 * "event": "result" to "stage-result" (the result line of `ship` is its
 * own). So `ci` and `deploy` code runs unchanged as a stage of `ship`.
 */
void term_set_stage(const char *name);
const char *term_stage(void);
/* Appends "NAME: " while a stage is set, else nothing. */
void term_stage_prefix(struct buf *out);

/*
 * The signal functions' former names, kept while callers move to
 * core/signal.h (the verbs outside deploy, core/http).
 */
#define term_catch_signals signal_catch
#define term_interrupted signal_interrupted
#define term_interrupt_reset signal_reset

#endif
