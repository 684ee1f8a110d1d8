/*
 * cred: checks a credential (API token, Vault token) before it is used.
 *
 * Tokens are copied from Vault, files and password managers, and often
 * carry a trailing newline; one with a CR/LF inside would end up as extra
 * HTTP header lines (header injection), other control bytes reach the
 * server as they are. cred_clean() trims surrounding whitespace in place
 * and refuses what is left when it still holds a control character, a
 * space or DEL. The message names where the token came from and the byte
 * offset, never the token itself.
 */
#ifndef HOMELAB_CRED_H
#define HOMELAB_CRED_H

#include "core/err.h"

/*
 * Trims `token` in place; returns 0, or -1 with EXIT_USAGE ("the token from
 * SOURCE ...") when it is empty after trimming or holds a control
 * character, space or DEL.
 */
int cred_clean(char *token, const char *source, struct err *e);

/* The same check without trimming (for a token handed over by others). */
int cred_check(const char *token, const char *source, struct err *e);

#endif
