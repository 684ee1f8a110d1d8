/* logsplit: see logsplit.h. */
#include "github/logsplit.h"

#include <string.h>
#include <time.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), no timegm() needed. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parses at most `len` bytes; *used gets the length of the timestamp. */
static double parse_time_n(const char *s, size_t len, size_t *used)
{
    int y, mo, d, h, mi, se;
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    size_t i = 19;
    double frac = 0, scale = 0.1;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 12) {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return -1;
    }
    long long off = 0;
    if (i < len && s[i] == 'Z') {
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om))
            return -1;
        off = (oh * 3600LL + om * 60LL) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return -1;
    }
    *used = i;
    return (double)(days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + se - off) + frac;
}

double gh_parse_time(const char *s)
{
    size_t used;
    if (!s)
        return -1;
    size_t len = strlen(s);
    double t = parse_time_n(s, len, &used);
    return t >= 0 && used == len ? t : -1;
}

int gh_log_line_time(const char *line, size_t len, double *ts, size_t *text)
{
    size_t off = 0;
    if (len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
        off = 3;
    size_t used = 0;
    double t = parse_time_n(line + off, len - off, &used);
    if (t < 0 || (off + used < len && line[off + used] != ' ')) {
        *text = off;
        return 0;
    }
    *ts = t;
    *text = off + used + (off + used < len);
    return 1;
}

static int is_group(const char *text, size_t len)
{
    return len >= 9 && !memcmp(text, "##[group]", 9);
}

void gh_log_split(const char *log, size_t len, double started, double completed, int number,
                  struct gh_split *out)
{
    memset(out, 0, sizeof(*out));
    double until = completed > 0 ? completed + 1 : 1e18;
    int inside = 0, group_at_start = 0, cut_by_group = 0;
    double last_ts = -1;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(log + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - log) + 1 : len;
        double ts;
        size_t text;
        int has = gh_log_line_time(log + pos, end - pos, &ts, &text);
        if (has)
            last_ts = ts;
        int in = last_ts >= started && last_ts < until;
        const char *body = log + pos + text;
        size_t blen = end - pos - text;
        if (in && inside && has && ts >= completed && completed > 0 && is_group(body, blen)) {
            in = 0; /* the next step's group line in the widened second */
            cut_by_group = 1;
        }
        if (in && !inside && !out->found) {
            out->begin = pos;
            out->found = 1;
            group_at_start = is_group(body, blen);
        }
        if (in && out->found && !cut_by_group) {
            out->end = end;
            out->lines++;
        }
        inside = in && !cut_by_group;
        if (cut_by_group)
            break;
        pos = end;
    }
    if (!out->found) {
        out->begin = 0;
        out->end = len;
        out->lines = 0;
        return;
    }
    out->certain = group_at_start || number == 1;
}
