/*
 * clock: monotonic time in seconds and interruptible sleeps.
 */
#ifndef HOMELAB_CLOCK_H
#define HOMELAB_CLOCK_H

/* Seconds on a monotonic clock (not wall time). */
double clock_now(void);
/* Wall-clock unix time in seconds. */
double clock_wall(void);
/* Sleeps; returns early (-1) when a signal arrives, e.g. SIGINT. */
int clock_sleep(double seconds);

#endif
