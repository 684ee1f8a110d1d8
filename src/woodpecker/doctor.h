/*
 * woodpecker/doctor: `doctor`'s checks of the Woodpecker provider (the
 * diagnose op of ci/provider.h), in the order a setup is built: the token
 * (environment, config or Vault), the server (TLS, dial, its version), the
 * token accepted (its user), the repo (active), the event stream (a proxy
 * may buffer it: a warning, since ci watch then polls). Without a token the
 * server is not contacted but still listed; a check that cannot run
 * because an earlier one failed is listed as skipped.
 */
#ifndef HOMELAB_WP_DOCTOR_H
#define HOMELAB_WP_DOCTOR_H

#include "ci/provider.h"

int wp_diagnose(const struct ci_diagnosis *d);

#endif
