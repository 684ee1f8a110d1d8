/*
 * signal: SIGINT and SIGTERM for every long wait (HTTP retries, kubectl
 * watches, log streams, the live region).
 *
 * signal_catch() installs handlers that only record the signal and
 * terminate streaming children (proc_kill_all()); loops poll
 * signal_interrupted(), clean up (redraw, reap children) and exit 130. A
 * second signal while cleaning up ends the process at once. No
 * SA_RESTART, so poll() and sleeps return EINTR.
 *
 * Its own module so that code which waits (kube/, core/http) does not
 * depend on the terminal module for it.
 */
#ifndef HOMELAB_SIGNAL_H
#define HOMELAB_SIGNAL_H

void signal_catch(void);
/* The signal caught (SIGINT, SIGTERM) or 0. */
int signal_interrupted(void);
/* Forgets a caught signal (tests; a verb run from another verb). */
void signal_reset(void);

#endif
