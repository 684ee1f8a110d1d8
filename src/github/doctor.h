/*
 * github/doctor: `doctor`'s checks of the GitHub provider (the diagnose op
 * of ci/provider.h): the token and where it came from, the API reachable
 * and accepting it (its user), the rate limit left (a warning under a
 * tenth: other tools share it), the repo visible to the token.
 */
#ifndef HOMELAB_GH_DOCTOR_H
#define HOMELAB_GH_DOCTOR_H

#include "ci/provider.h"

int gh_diagnose(const struct ci_diagnosis *d);

#endif
