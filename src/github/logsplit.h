/*
 * logsplit: finding one step's part of a GitHub Actions job log. Pure.
 *
 * A job log is plain text, one line per output line, each starting with a
 * UTC timestamp "YYYY-MM-DDTHH:MM:SS.fffffffZ " (the first line after a
 * UTF-8 BOM). GitHub does not mark step boundaries (reference §5.3), so
 * the section of a step is cut by time: lines with started <= t <
 * completed + 1 s (the API's step times have whole seconds). The
 * `##[group]Run ...` line that begins every run:/uses: step is the
 * cross-check: a group line inside the widened last second starts the
 * next step and ends the section there. The result says how sure it is;
 * when unsure, callers show the job log's tail and say so.
 *
 * Hostile input: any bytes; lines without a timestamp belong to the
 * section of the line before them; nothing is assumed sorted.
 */
#ifndef HOMELAB_GH_LOGSPLIT_H
#define HOMELAB_GH_LOGSPLIT_H

#include <stddef.h>

/*
 * Parses the timestamp at the start of a line (after an optional BOM).
 * Returns 1 with *ts (unix seconds, fractional) and *text (offset of the
 * text after the timestamp and its space), 0 when the line has none
 * (then *text skips only a BOM).
 */
int gh_log_line_time(const char *line, size_t len, double *ts, size_t *text);

/* "2026-01-02T03:04:05Z" (any fraction, Z or ±HH:MM) → unix seconds; -1 if malformed. */
double gh_parse_time(const char *s);

struct gh_split {
    size_t begin, end;   /* byte range of the section in the log */
    long long lines;     /* lines in it */
    int found;           /* 1: some line fell inside the step's times */
    int certain;         /* 1: found, and a ##[group] boundary agrees (or the step is 1) */
};

/*
 * Cuts the section of the step that ran from `started` to `completed`
 * (unix seconds; completed 0 = still running: to the end). `number` is the
 * step's number (1 = "Set up job", which has no group line). When no line
 * falls inside, the result is the whole log with found = certain = 0.
 */
void gh_log_split(const char *log, size_t len, double started, double completed, int number,
                  struct gh_split *out);

#endif
