/*
 * vault: read one field of a secret over Vault's HTTP API.
 *
 * Uses VAULT_ADDR, VAULT_CACERT, and VAULT_TOKEN or ~/.vault-token. The KV
 * engine version is detected through sys/internal/ui/mounts/<path>, so the
 * same `path` (e.g. "secret/ci/global") works on KV v1 and v2 mounts. When
 * that endpoint is not allowed, v2 then v1 are tried.
 */
#ifndef HOMELAB_VAULT_H
#define HOMELAB_VAULT_H

#include "core/err.h"

/*
 * Returns 0 and a new string in *value (caller wipes and frees), or -1:
 * EXIT_REFUSED when Vault is not configured, refuses us, or the field is
 * missing; EXIT_UNAVAILABLE when it cannot be reached.
 */
int vault_read(const char *path, const char *field, int verbose, char **value, struct err *e);

#endif
