/*
 * runs N CMD [ARGS...]: runs CMD N times (stdout and stderr to /dev/null) and
 * prints "median min max" wall milliseconds and the median peak RSS in KB.
 * runs -e CMD [ARGS...]: runs CMD once (its stdout goes to our stderr, its
 * stderr stays) and prints the unix time
 * (CLOCK_REALTIME, microseconds) at which it was reaped and its exit status,
 * for latencies measured against another process's clock.
 *
 * Wall time is the child's whole life, fork to reaped (CLOCK_MONOTONIC);
 * peak RSS is wait4()'s ru_maxrss, the number `/usr/bin/time -f %M` prints.
 * Used by the benchmark scripts, where /usr/bin/time's %e (10 ms steps) is
 * too coarse. A tiny forking parent keeps the child's RSS its own.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: runs N CMD [ARGS...] | runs -e CMD [ARGS...]\n");
        return 2;
    }
    if (!strcmp(argv[1], "-e")) {
        int status = 0;
        pid_t pid = fork();
        if (pid == 0) {
            dup2(2, 1);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0) {
            perror("runs");
            return 1;
        }
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        printf("%lld.%06ld %d\n", (long long)t.tv_sec, t.tv_nsec / 1000,
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 0;
    }
    int n = atoi(argv[1]);
    if (n < 1)
        n = 1;
    double *wall = calloc((size_t)n, sizeof(*wall)), *rss = calloc((size_t)n, sizeof(*rss));
    for (int i = 0; i < n; i++) {
        struct timespec t0, t1;
        struct rusage ru;
        int status = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 1);
            dup2(null, 2);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
            perror("runs");
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (status)
            fprintf(stderr, "# %s: exit status %d\n", argv[2], WEXITSTATUS(status));
        wall[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        rss[i] = (double)ru.ru_maxrss;
    }
    qsort(wall, (size_t)n, sizeof(*wall), cmp);
    qsort(rss, (size_t)n, sizeof(*rss), cmp);
    printf("%.2f %.2f %.2f %.0f\n", median(wall, n), wall[0], wall[n - 1], median(rss, n));
    return 0;
}
