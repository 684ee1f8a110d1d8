#include "core/cred.h"

#include <string.h>

static int is_blank(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

int cred_check(const char *token, const char *source, struct err *e)
{
    if (!*token)
        return err_set(e, EXIT_USAGE, "the token from %s is empty", source);
    for (size_t i = 0; token[i]; i++) {
        unsigned char ch = (unsigned char)token[i];
        if (ch <= ' ' || ch == 0x7f) {
            err_set(e, EXIT_USAGE, "the token from %s holds a %s at byte %zu; not using it",
                    source, ch == ' ' ? "space" : "control character", i + 1);
            err_hint(e, "a token is one word of printable characters: copy it again");
            return -1;
        }
    }
    return 0;
}

int cred_clean(char *token, const char *source, struct err *e)
{
    size_t n = strlen(token), start = 0;
    while (n && is_blank((unsigned char)token[n - 1]))
        token[--n] = '\0';
    while (start < n && is_blank((unsigned char)token[start]))
        start++;
    if (start) {
        memmove(token, token + start, n - start + 1);
        explicit_bzero(token + n - start + 1, start);
    }
    return cred_check(token, source, e);
}
