/*
 * replay.c: a main() for the fuzz targets without libFuzzer.
 *
 * `make check` replays each target once over its corpus. Linked against
 * the sanitizer tree's library (build/san: gcc, ASan+UBSan) with this
 * file, a target needs no third build of the library with clang and
 * coverage instrumentation; timed fuzzing (`make fuzz`) still uses the
 * real libFuzzer build in build/fuzz.
 *
 *   fuzz_NAME [-option=value...] FILE|DIR...
 *
 * It does what libFuzzer does with -runs=0: calls LLVMFuzzerInitialize
 * once when the target defines one, runs the empty input, then runs
 * LLVMFuzzerTestOneInput once per file given or found under a directory
 * given (recursively, in name order), each in a heap block of exactly its
 * size so that ASan sees a read past the end. Arguments starting with '-'
 * are libFuzzer options, accepted and ignored, so tests/fuzz/run drives
 * either build the same way. It prints "Running: FILE" before each input
 * (so a crash names its input) and, at the end, libFuzzer's
 * "stat::number_of_executed_units: N" line, which tests/fuzz/run reports.
 *
 * A crash, a sanitizer report (the tree is built with
 * -fno-sanitize-recover), a failed FUZZ_CHECK (abort) or a leak (LSan, at
 * exit) ends the process with a non-zero status; so does a file that
 * cannot be read. An input that takes more than 60 CPU seconds aborts
 * (CPU time, not wall time: a busy machine does not trip it), as
 * libFuzzer's -timeout would.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Weak: null when the target does not define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define INPUT_CPU_SECONDS 60
#define STR(x) STR_(x)
#define STR_(x) #x

static unsigned long executed;

static void on_cpu_limit(int sig)
{
    static const char msg[] = "==replay== ERROR: an input took more than " STR(INPUT_CPU_SECONDS) " CPU seconds\n";
    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to do: abort below reports the failure */
    }
    abort();
}

/* Runs the target once on data[0..size), under a fresh CPU-time limit. */
static void run_one(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        fprintf(stderr, "replay: out of memory for an input of %zu bytes\n", size);
        exit(1);
    }
    if (size)
        memcpy(copy, data, size);
    struct itimerval limit = { { 0, 0 }, { INPUT_CPU_SECONDS, 0 } };
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_PROF, &limit, NULL);
    LLVMFuzzerTestOneInput(copy, size);
    setitimer(ITIMER_PROF, &off, NULL);
    free(copy);
    executed++;
}

/* Reads the whole of path into a new buffer; returns -1 (after saying why) on failure. */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open '%s'\n", path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    while (p) {
        n += fread(p + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = realloc(p, cap * 2);
        if (!bigger) {
            free(p);
            p = NULL;
            break;
        }
        p = bigger;
        cap *= 2;
    }
    int bad = !p || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        free(p);
        return -1;
    }
    *data = p;
    *size = n;
    return 0;
}

static int replay_path(const char *path);

/* Every entry of a directory but . and .., in name order. */
static int replay_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list '%s'\n", dir);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (rc == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *child = malloc(len);
            if (!child) {
                rc = -1;
            } else {
                snprintf(child, len, "%s/%s", dir, name);
                rc = replay_path(child);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: cannot find '%s'\n", path);
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return replay_dir(path);
    uint8_t *data;
    size_t size;
    if (read_file(path, &data, &size) != 0)
        return -1;
    fprintf(stderr, "Running: %s\n", path);
    run_one(data, size);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPROF, on_cpu_limit);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    run_one((const uint8_t *)"", 0);
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        if (replay_path(argv[i]) != 0)
            return 1;
    }
    fprintf(stderr, "stat::number_of_executed_units: %lu\n", executed);
    return 0;
}
