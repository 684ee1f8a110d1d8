/*
 * fuzz_gh_logsplit: the GitHub job-log step splitter (github/logsplit.h).
 *
 * Input: one option byte (the step number, low 4 bits; bit 4: a running
 * step with no completion time), 8 bytes for the step's start and length
 * in seconds around the first timestamp found, then the job log. Checked:
 * the section lies within the log and starts and ends on line boundaries;
 * `certain` implies `found`; when nothing is found the section is the
 * whole log; gh_parse_time of any NUL-terminated prefix never crashes.
 */
#include "fuzz.h"

#include "github/logsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt = fuzz_take(&data, &size);
    uint32_t start = 0, len = 0;
    for (int i = 0; i < 4; i++)
        start = start << 8 | fuzz_take(&data, &size);
    for (int i = 0; i < 4; i++)
        len = len << 8 | fuzz_take(&data, &size);
    const char *log = (const char *)data;
    double first = 0, ts;
    size_t text;
    const char *nl = memchr(log, '\n', size);
    if (gh_log_line_time(log, nl ? (size_t)(nl - log) : size, &ts, &text))
        first = ts;
    FUZZ_CHECK(text <= size, "text offset %zu past the line", text);
    double s0 = first + (double)(int32_t)start / 1000.0;
    double s1 = opt & 0x10 ? 0 : s0 + (double)(len % 100000);
    struct gh_split sp;
    gh_log_split(log, size, s0, s1, opt & 0x0f, &sp);
    FUZZ_CHECK(sp.begin <= sp.end && sp.end <= size, "range %zu..%zu of %zu", sp.begin, sp.end,
               size);
    FUZZ_CHECK(!sp.certain || sp.found, "certain without found");
    FUZZ_CHECK(sp.found || (sp.begin == 0 && sp.end == size), "not found but not the whole log");
    FUZZ_CHECK(sp.begin == 0 || log[sp.begin - 1] == '\n', "section starts mid-line");
    FUZZ_CHECK(sp.end == size || log[sp.end - 1] == '\n', "section ends mid-line");
    char *z = malloc(size + 1);
    memcpy(z, data, size);
    z[size] = '\0';
    (void)gh_parse_time(z);
    free(z);
    return 0;
}
