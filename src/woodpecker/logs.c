/*
 * logs: see logs.h for the contract.
 *
 * The decoder is two layers. A byte-level state machine walks the top of
 * the body (`[`, `,`, `]`, `null`, whitespace) and, inside an element,
 * tracks only strings, escapes and nesting depth to find where the
 * element ends; that scan is cheap enough to run over every byte. Each
 * complete element is then parsed: the usual shape by a small in-place
 * parser (parse_fast), anything else by jansson. An element that lies
 * whole inside one chunk is parsed where it lies; only one cut by a chunk
 * boundary is copied, into a capped buffer.
 */
#include "woodpecker/logs.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/sanitize.h"

enum decoder_state {
    ST_START,   /* before the body's first token */
    ST_NULL,    /* inside a top-level `null` */
    ST_FIRST,   /* after `[`: an element or `]` */
    ST_ELEMENT, /* inside an element */
    ST_AFTER,   /* after an element: `,` or `]` */
    ST_NEXT,    /* after `,`: an element */
    ST_END,     /* after `]` or `null`: only whitespace */
    ST_STOPPED, /* the callback asked to stop */
    ST_FAILED,
};

/* Bytes that end a run inside a JSON string. */
static const unsigned char string_special[256] = {['"'] = 1, ['\\'] = 1};

static int is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int get_int(json_t *o, const char *key, long long *out, struct err *e)
{
    json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return err_set(e, EXIT_UNAVAILABLE, "\"%s\" is not an integer", key);
    *out = json_integer_value(v);
    return 0;
}

/* Fills `entry` from a parsed entry object, decoding data into `data`. */
static int entry_from_json(json_t *o, struct log_entry *entry, struct buf *data, struct err *e)
{
    long long type;
    if (!json_is_object(o))
        return err_set(e, EXIT_UNAVAILABLE, "not an object");
    if (get_int(o, "line", &entry->line, e) < 0 || get_int(o, "time", &entry->time, e) < 0 ||
        get_int(o, "step_id", &entry->step_id, e) < 0 || get_int(o, "type", &type, e) < 0)
        return -1;
    if (type < INT_MIN || type > INT_MAX)
        return err_set(e, EXIT_UNAVAILABLE, "\"type\" out of range");
    entry->type = (int)type;
    buf_reset(data);
    json_t *d = json_object_get(o, "data");
    if (json_is_string(d) &&
        base64_decode_buf(data, json_string_value(d), json_string_length(d)) < 0)
        return err_set(e, EXIT_UNAVAILABLE, "\"data\" is not valid base64");
    if (d && !json_is_string(d) && !json_is_null(d))
        return err_set(e, EXIT_UNAVAILABLE, "\"data\" is not a string");
    entry->data = data->data;
    entry->len = data->len;
    return 0;
}

/*
 * The fast path. jansson builds a hash table and copies every string
 * byte by byte, which made it most of the cost of a large log (about
 * 60 MB/s in total). Entries from Woodpecker have one shape: a flat
 * object of integers, null and escape-free ASCII strings. That shape is
 * parsed here, in place; anything else (escapes, non-ASCII, reals,
 * nesting, booleans, duplicate keys, bad base64, bad syntax) returns 0
 * and goes to jansson, which accepts it or produces the error. So this
 * never accepts what jansson would reject, and errors come from one place.
 */
struct cursor {
    const unsigned char *p, *end;
};

enum entry_key { K_ID, K_STEP_ID, K_TIME, K_LINE, K_DATA, K_TYPE, K_OTHER };

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && is_ws((char)*c->p))
        c->p++;
}

/* An escape-free printable-ASCII string; *s and *n get its contents. */
static int fast_string(struct cursor *c, const char **s, size_t *n)
{
    if (c->p == c->end || *c->p != '"')
        return 0;
    const unsigned char *start = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p < 0x20 || *c->p >= 0x7f || *c->p == '\\')
            return 0;
        c->p++;
    }
    if (c->p == c->end)
        return 0;
    *s = (const char *)start;
    *n = (size_t)(c->p++ - start);
    return 1;
}

/* -?(0|[1-9][0-9]*) of at most 18 digits, so it cannot overflow. */
static int fast_int(struct cursor *c, long long *v)
{
    int neg = 0, digits = 0;
    long long x = 0;
    if (c->p < c->end && *c->p == '-')
        neg = 1, c->p++;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if ((digits == 1 && x == 0) || digits == 18)
            return 0; /* leading zero, or too long to be sure it fits */
        x = x * 10 + (*c->p++ - '0');
        digits++;
    }
    if (!digits)
        return 0;
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
        return 0;
    *v = neg ? -x : x;
    return 1;
}

static int fast_null(struct cursor *c)
{
    if (c->end - c->p < 4 || memcmp(c->p, "null", 4) != 0)
        return 0;
    c->p += 4;
    return 1;
}

static enum entry_key key_of(const char *s, size_t n)
{
    static const struct {
        const char *name;
        size_t len;
    } keys[] = {{"id", 2}, {"step_id", 7}, {"time", 4}, {"line", 4}, {"data", 4}, {"type", 4}};
    for (int k = 0; k < K_OTHER; k++)
        if (keys[k].len == n && memcmp(keys[k].name, s, n) == 0)
            return (enum entry_key)k;
    return K_OTHER;
}

/* One "key": value member; fills the entry or notes where data is. */
static int fast_member(struct cursor *c, unsigned *seen, struct log_entry *entry,
                       const char **b64, size_t *b64_len)
{
    const char *s;
    size_t n;
    long long v = 0;
    if (!fast_string(c, &s, &n))
        return 0;
    enum entry_key k = key_of(s, n);
    if (k != K_OTHER && (*seen & 1u << k))
        return 0;
    *seen |= 1u << k;
    skip_ws(c);
    if (c->p == c->end || *c->p++ != ':')
        return 0;
    skip_ws(c);
    if (c->p < c->end && *c->p == '"') {
        if (!fast_string(c, &s, &n) || (k != K_DATA && k != K_ID && k != K_OTHER))
            return 0;
        if (k == K_DATA)
            *b64 = s, *b64_len = n;
        return 1;
    }
    int is_null = fast_null(c);
    if (!is_null && !fast_int(c, &v))
        return 0;
    if (k == K_DATA && !is_null)
        return 0; /* an integer where the data string belongs */
    if (k == K_LINE)
        entry->line = v;
    else if (k == K_TIME)
        entry->time = v;
    else if (k == K_STEP_ID)
        entry->step_id = v;
    else if (k == K_TYPE) {
        if (v < INT_MIN || v > INT_MAX)
            return 0;
        entry->type = (int)v;
    }
    return 1;
}

/* 1 when json[0..len) was the common shape and `entry` is filled, else 0. */
static int parse_fast(const char *json, size_t len, struct log_entry *entry, struct buf *data)
{
    struct cursor c = {(const unsigned char *)json, (const unsigned char *)json + len};
    const char *b64 = NULL;
    size_t b64_len = 0;
    unsigned seen = 0;
    memset(entry, 0, sizeof(*entry));
    skip_ws(&c);
    if (c.p == c.end || *c.p++ != '{')
        return 0;
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            if (!fast_member(&c, &seen, entry, &b64, &b64_len))
                return 0;
            skip_ws(&c);
            if (c.p == c.end)
                return 0;
            if (*c.p == '}') {
                c.p++;
                break;
            }
            if (*c.p++ != ',')
                return 0;
            skip_ws(&c);
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        return 0;
    buf_reset(data);
    if (b64 && base64_decode_buf(data, b64, b64_len) < 0)
        return 0;
    entry->data = data->data;
    entry->len = data->len;
    return 1;
}

/* log_entry_parse() without the context in error messages. */
static int parse_entry(const char *json, size_t len, struct log_entry *entry, struct buf *data,
                       struct err *e)
{
    json_error_t jerr;
    if (parse_fast(json, len, entry, data))
        return 0;
    json_t *o = json_loadb(json, len, 0, &jerr);
    if (!o)
        return err_set(e, EXIT_UNAVAILABLE, "%s (column %d)", jerr.text, jerr.column);
    int rc = entry_from_json(o, entry, data, e);
    json_decref(o);
    return rc;
}

int log_entry_parse(const char *json, size_t len, struct log_entry *entry, struct buf *data,
                    struct err *e)
{
    if (parse_entry(json, len, entry, data, e) < 0)
        return err_wrap(e, "log entry");
    return 0;
}

/* Enters the failed state, remembering e's message for later calls. */
static int set_failed(struct log_decoder *d, const struct err *e)
{
    d->state = ST_FAILED;
    snprintf(d->failure, sizeof(d->failure), "%s", e->msg);
    return -1;
}

static int fail(struct log_decoder *d, struct err *e, const char *why)
{
    if (d->entries)
        err_set(e, EXIT_UNAVAILABLE, "reading step log: %s (after entry %lld)", why,
                d->entries);
    else
        err_set(e, EXIT_UNAVAILABLE, "reading step log: %s", why);
    return set_failed(d, e);
}

static int too_big(struct log_decoder *d, struct err *e)
{
    err_set_kind(e, ERR_TOO_LARGE, EXIT_UNAVAILABLE,
                 "reading step log: entry %lld is larger than %zu bytes", d->entries + 1,
                 d->max_element);
    d->oversize = 1;
    return set_failed(d, e);
}

static int failed_before(const struct log_decoder *d, struct err *e)
{
    return err_set(e, EXIT_UNAVAILABLE, "%s", d->failure);
}

/* Parses one complete element and hands it to the callback. */
static int on_element(struct log_decoder *d, const char *json, size_t len, struct err *e)
{
    struct log_entry entry;
    if (parse_entry(json, len, &entry, &d->data, e) < 0) {
        err_wrap(e, "reading step log: entry %lld", d->entries + 1);
        return set_failed(d, e);
    }
    d->entries++;
    d->state = ST_AFTER;
    if (d->on_entry(d->ctx, &entry)) {
        d->state = ST_STOPPED;
        return 1;
    }
    return 0;
}

/*
 * Advances the element scan over p[j..len); returns the index of the
 * brace that closes the element, or len when it goes on past the chunk.
 */
static size_t scan_element(struct log_decoder *d, const unsigned char *p, size_t j, size_t len)
{
    while (j < len) {
        if (d->in_string) {
            if (d->escaped) {
                d->escaped = 0;
                j++;
                continue;
            }
            while (j < len && !string_special[p[j]])
                j++;
            if (j == len)
                break;
            if (p[j] == '\\')
                d->escaped = 1;
            else
                d->in_string = 0;
        } else if (p[j] == '"') {
            d->in_string = 1;
        } else if (p[j] == '{' || p[j] == '[') {
            d->depth++;
        } else if (p[j] == '}' || p[j] == ']') {
            if (--d->depth == 0)
                return j;
        }
        j++;
    }
    return len;
}

/* In ST_ELEMENT: consumes chunk[*i..), up to the element's end. */
static int feed_element(struct log_decoder *d, const char *chunk, size_t len, size_t *i,
                        struct err *e)
{
    size_t start = *i;
    size_t end = scan_element(d, (const unsigned char *)chunk, start, len);
    if (end == len) {
        *i = len;
        if (buf_add(&d->element, chunk + start, len - start) < 0)
            return too_big(d, e);
        return 0;
    }
    *i = end + 1;
    if (!d->element.len) {
        if (end + 1 - start > d->max_element)
            return too_big(d, e);
        return on_element(d, chunk + start, end + 1 - start, e);
    }
    if (buf_add(&d->element, chunk + start, end + 1 - start) < 0)
        return too_big(d, e);
    int rc = on_element(d, d->element.data, d->element.len, e);
    buf_reset(&d->element);
    return rc;
}

static void start_element(struct log_decoder *d)
{
    d->state = ST_ELEMENT;
    d->depth = 0;
    d->in_string = 0;
    d->escaped = 0;
}

/* One byte outside any element. */
static int feed_structure(struct log_decoder *d, char c, struct err *e)
{
    if (d->state == ST_NULL) {
        if (c != "null"[d->literal])
            return fail(d, e, "invalid JSON");
        if (++d->literal == 4)
            d->state = ST_END;
        return 0;
    }
    if (is_ws(c))
        return 0;
    switch (d->state) {
    case ST_START:
        if (c == '[')
            d->state = ST_FIRST;
        else if (c == 'n')
            d->state = ST_NULL, d->literal = 1;
        else
            return fail(d, e, "body is not a JSON array");
        return 0;
    case ST_FIRST:
    case ST_NEXT:
        if (c == ']' && d->state == ST_FIRST)
            d->state = ST_END;
        else if (c == '{')
            start_element(d);
        else
            return fail(d, e, "invalid JSON: expected an entry object");
        return 0;
    case ST_AFTER:
        if (c == ',')
            d->state = ST_NEXT;
        else if (c == ']')
            d->state = ST_END;
        else
            return fail(d, e, "invalid JSON: expected ',' or ']'");
        return 0;
    default:
        return fail(d, e, "unexpected data after the log array");
    }
}

int log_decoder_feed(struct log_decoder *d, const char *chunk, size_t len, struct err *e)
{
    size_t i = 0;
    if (d->state == ST_STOPPED)
        return 1;
    if (d->state == ST_FAILED)
        return failed_before(d, e);
    d->bytes += len;
    while (i < len) {
        int rc;
        if (d->state == ST_ELEMENT) {
            rc = feed_element(d, chunk, len, &i, e);
        } else {
            /* '{' is not consumed here: the element scan starts on it */
            rc = feed_structure(d, chunk[i], e);
            if (d->state != ST_ELEMENT)
                i++;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int log_decoder_finish(struct log_decoder *d, struct err *e)
{
    switch (d->state) {
    case ST_END:
    case ST_STOPPED:
        return 0;
    case ST_FAILED:
        return failed_before(d, e);
    case ST_START:
        return fail(d, e, "empty body");
    default:
        return fail(d, e, "truncated body");
    }
}

void log_decoder_init(struct log_decoder *d, size_t max_element, log_entry_fn *on_entry,
                      void *ctx)
{
    memset(d, 0, sizeof(*d));
    d->on_entry = on_entry;
    d->ctx = ctx;
    d->max_element = max_element ? max_element : LOG_MAX_ELEMENT;
    d->state = ST_START;
    buf_init(&d->element, d->max_element);
    buf_init(&d->data, 0);
}

void log_decoder_release(struct log_decoder *d)
{
    buf_release(&d->element);
    buf_release(&d->data);
}

enum ci_log_kind wp_log_kind(int type)
{
    switch (type) {
    case LOG_EXIT_CODE:
        return CI_LOG_EXIT_CODE;
    case LOG_METADATA:
        return CI_LOG_META;
    case LOG_PROGRESS:
        return CI_LOG_PROGRESS;
    default: /* stdout, stderr, and a type a newer server may add */
        return CI_LOG_OUTPUT;
    }
}

void wp_log_entry_neutral(const struct log_entry *en, struct ci_log_entry *out)
{
    out->line = en->line;
    out->time = en->time;
    out->kind = wp_log_kind(en->type);
    out->data = en->data;
    out->len = en->len;
    out->own_time = 0;
    out->stamp = 0;
}
