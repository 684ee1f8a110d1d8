/* signal: see signal.h. */
#include "core/signal.h"

#include <signal.h>
#include <string.h>

#include "core/proc.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    if (caught) {
        /* A second ^C while cleaning up: stop at once. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    caught = sig;
    proc_kill_all();
}

void signal_catch(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() and sleeps return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int signal_interrupted(void)
{
    return caught;
}

void signal_reset(void)
{
    caught = 0;
}
