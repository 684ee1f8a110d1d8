/*
 * term: live region, colours, spinner, plain lines, JSON Lines, and the
 * interrupt flag. See term.h for the contract and the sequences used.
 *
 * A frame looks like this on screen (deploy wait, colour stripped):
 *
 *   ⠹ deployment apps/web  3f9c2e1  rolling  14s
 *     image    registry.lan:5000/web:sha-3f9c2e1
 *     rollout  2 of 3 updated, 2 available, 1 old pod terminating
 *
 * and is replaced in place by the next one.
 */
#include "core/term.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/proc.h"

/* ---- writing ---- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int locale_is_utf8(void)
{
    const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strstr(v, "UTF-8") || strstr(v, "utf8") || strstr(v, "UTF8") ||
                   strstr(v, "utf-8");
    }
    return 0;
}

static void read_size(struct term *t)
{
    struct winsize ws;
    if (isatty(t->fd) && ioctl(t->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
        t->rows = ws.ws_row;
        t->cols = ws.ws_col;
    }
}

void term_init(struct term *t, int fd, int color)
{
    memset(t, 0, sizeof(*t));
    t->fd = fd;
    t->color = color;
    t->utf8 = locale_is_utf8();
    t->interval = 0.1;
    buf_init(&t->shown, 0);
    buf_init(&t->want, 0);
    read_size(t);
}

void term_release(struct term *t)
{
    buf_release(&t->shown);
    buf_release(&t->want);
}

/* ---- measuring and cutting lines ---- */

/* Length of the escape sequence at s (ESC [ params final), 0 if none. */
static size_t escape_len(const char *s, size_t len)
{
    if (len < 2 || s[0] != '\x1b' || s[1] != '[')
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e)
            return i + 1;
    return len;
}

size_t term_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        size_t esc = escape_len(s + i, len - i);
        if (esc) {
            i += esc;
            continue;
        }
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            w++;
        i++;
    }
    return w;
}

/* Appends line[0..len) cut to `cols` visible columns, closing any colour. */
static void add_cut_line(struct buf *out, const char *line, size_t len, size_t cols, int utf8)
{
    if (term_width(line, len) <= cols) {
        buf_add(out, line, len);
        return;
    }
    size_t keep = cols > 1 ? cols - 1 : 0, w = 0;
    int styled = 0;
    size_t i = 0;
    while (i < len) {
        size_t esc = escape_len(line + i, len - i);
        if (esc) {
            buf_add(out, line + i, esc);
            styled = 1;
            i += esc;
            continue;
        }
        if (((unsigned char)line[i] & 0xc0) != 0x80) {
            if (w == keep)
                break;
            w++;
        }
        buf_addc(out, line[i]);
        i++;
    }
    if (styled)
        buf_adds(out, "\x1b[0m");
    if (cols > 0)
        buf_adds(out, utf8 ? "\xe2\x80\xa6" : "~");
}

/* ---- the live region ---- */

void term_render(struct term *t, const char *frame, struct buf *out)
{
    size_t rows = t->rows > 0 ? (size_t)t->rows : 24;
    size_t cols = t->cols > 0 ? (size_t)t->cols : 80;
    /* The last column stays empty: writing there leaves some terminals in
     * a pending-wrap state that shifts the next line. */
    size_t width = cols > 1 ? cols - 1 : 1;
    size_t max = rows > 1 ? rows - 1 : 1;

    size_t nlines = 0;
    for (const char *p = frame; *p;) {
        const char *nl = strchr(p, '\n');
        nlines++;
        p = nl ? nl + 1 : p + strlen(p);
    }
    size_t show = nlines, more = 0;
    if (nlines > max) {
        show = max > 1 ? max - 1 : 0;
        more = nlines - show;
    }

    buf_adds(out, "\x1b[?2026h\r");
    if (t->drawn)
        buf_addf(out, "\x1b[%zuA", t->drawn);
    buf_adds(out, "\x1b[J");
    const char *p = frame;
    for (size_t i = 0; i < show; i++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        add_cut_line(out, p, len, width, t->utf8);
        buf_addc(out, '\n');
        p += len + (nl ? 1 : 0);
    }
    if (more) {
        struct buf note;
        buf_init(&note, 0);
        term_paintf(&note, t->color, TERM_DIM, "%s %zu more line%s", t->utf8 ? "\xe2\x80\xa6" : "...",
                    more, more == 1 ? "" : "s");
        add_cut_line(out, note.data, note.len, width, t->utf8);
        buf_addc(out, '\n');
        buf_release(&note);
    }
    buf_adds(out, "\x1b[?2026l");
    t->drawn = show + (more ? 1 : 0);
}

static int draw(struct term *t, const char *frame, double now)
{
    struct buf out;
    buf_init(&out, 0);
    read_size(t);
    if (!t->cursor_hidden) {
        buf_adds(&out, "\x1b[?25l");
        t->cursor_hidden = 1;
    }
    term_render(t, frame, &out);
    int rc = write_all(t->fd, out.data, out.len);
    buf_release(&out);
    if (frame != t->shown.data) {
        buf_reset(&t->shown);
        buf_adds(&t->shown, frame);
    }
    t->last_draw = now > 0 ? now : 1e-9;
    return rc < 0 ? -1 : 1;
}

int term_live(struct term *t, const char *frame, double now, int force)
{
    if (frame != t->want.data) {
        buf_reset(&t->want);
        buf_adds(&t->want, frame);
    }
    if (t->last_draw > 0 && !strcmp(frame, t->shown.data))
        return 0;
    if (!force && t->last_draw > 0 && now - t->last_draw < t->interval)
        return 0;
    return draw(t, t->want.data, now);
}

void term_live_done(struct term *t)
{
    if (t->last_draw == 0 && t->want.len == 0)
        return;
    if (t->last_draw == 0 || strcmp(t->want.data, t->shown.data))
        draw(t, t->want.data, t->last_draw + t->interval);
    if (t->cursor_hidden) {
        write_all(t->fd, "\x1b[?25h", 6);
        t->cursor_hidden = 0;
    }
    /* What follows goes below the last frame, which stays on screen. */
    t->drawn = 0;
    buf_reset(&t->shown);
    buf_reset(&t->want);
    t->last_draw = 0;
}

void term_live_clear(struct term *t)
{
    if (t->drawn == 0)
        return;
    struct buf out;
    buf_init(&out, 0);
    term_render(t, "", &out);
    write_all(t->fd, out.data, out.len);
    buf_release(&out);
    buf_reset(&t->shown);
}

/* ---- colours and glyphs ---- */

static const char *sgr(enum term_color c)
{
    switch (c) {
    case TERM_BOLD: return "\x1b[1m";
    case TERM_DIM: return "\x1b[2m";
    case TERM_RED: return "\x1b[31m";
    case TERM_GREEN: return "\x1b[32m";
    case TERM_YELLOW: return "\x1b[33m";
    case TERM_BLUE: return "\x1b[34m";
    case TERM_MAGENTA: return "\x1b[35m";
    case TERM_CYAN: return "\x1b[36m";
    case TERM_PLAIN: break;
    }
    return NULL;
}

int term_capable(int fd)
{
    const char *term = getenv("TERM");
    return isatty(fd) && !(term && !strcmp(term, "dumb"));
}

int term_color_wanted(int fd, int no_color)
{
    const char *off = getenv("NO_COLOR");
    return term_capable(fd) && !no_color && !(off && *off);
}

void term_paint(struct buf *out, int color, enum term_color c, const char *s)
{
    const char *on = color ? sgr(c) : NULL;
    if (on)
        buf_adds(out, on);
    buf_adds(out, s);
    if (on)
        buf_adds(out, "\x1b[0m");
}

void term_paintf(struct buf *out, int color, enum term_color c, const char *fmt, ...)
{
    struct buf text;
    buf_init(&text, 0);
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&text, fmt, ap);
    va_end(ap);
    term_paint(out, color, c, text.data);
    buf_release(&text);
}

const char *term_spinner(int utf8, double now)
{
    static const char *const braille[] = { "\xe2\xa0\x8b", "\xe2\xa0\x99", "\xe2\xa0\xb9",
                                           "\xe2\xa0\xb8", "\xe2\xa0\xbc", "\xe2\xa0\xb4",
                                           "\xe2\xa0\xa6", "\xe2\xa0\xa7", "\xe2\xa0\x87",
                                           "\xe2\xa0\x8f" };
    static const char *const ascii[] = { "|", "/", "-", "\\" };
    long tick = now > 0 ? (long)(now * 10) : 0;
    return utf8 ? braille[tick % 10] : ascii[tick % 4];
}

void term_fmt_duration(char *dst, size_t n, double s)
{
    if (s < 0)
        s = 0;
    if (s < 1)
        snprintf(dst, n, "%dms", (int)(s * 1000));
    else if (s < 60)
        snprintf(dst, n, "%ds", (int)s);
    else if (s < 3600)
        snprintf(dst, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(dst, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

/* ---- plain lines and JSON Lines ---- */

/* The stage `ship` is following, or "" (see term_set_stage()). */
static char stage_name[64];

void term_set_stage(const char *name)
{
    snprintf(stage_name, sizeof(stage_name), "%s", name ? name : "");
}

const char *term_stage(void)
{
    return stage_name;
}

void term_stage_prefix(struct buf *out)
{
    if (stage_name[0])
        buf_addf(out, "%s: ", stage_name);
}

static int quiet_progress;

void term_set_quiet(int quiet)
{
    quiet_progress = quiet;
}

int term_plain_line(struct term_plain *p, FILE *f, const char *line)
{
    if (quiet_progress || (p->last && !strcmp(p->last, line)))
        return 0;
    free(p->last);
    p->last = xstrdup(line);
    if (stage_name[0])
        fprintf(f, "%s: ", stage_name);
    fputs(line, f);
    fputc('\n', f);
    fflush(f);
    return 1;
}

void term_plain_release(struct term_plain *p)
{
    free(p->last);
    p->last = NULL;
}

static int json_line(const json_t *obj)
{
    if (json_dumpf(obj, stdout, JSON_COMPACT | JSON_REAL_PRECISION(9)) < 0 || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0)
        return -1;
    return 0;
}

int term_json_line(const json_t *obj)
{
    if (!stage_name[0] || !json_is_object(obj) || json_object_get(obj, "stage"))
        return json_line(obj);
    json_t *copy = json_copy((json_t *)obj);
    json_object_set_new(copy, "stage", json_string(stage_name));
    const char *ev = json_string_value(json_object_get(copy, "event"));
    if (ev && !strcmp(ev, "result"))
        json_object_set_new(copy, "event", json_string("stage-result"));
    int rc = json_line(copy);
    json_decref(copy);
    return rc;
}
