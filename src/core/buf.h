/*
 * buf: a growable byte buffer with an optional size cap.
 *
 * After buf_init() `data` is never NULL and always NUL-terminated, so a
 * buffer can be handed to string functions directly; `len` excludes the NUL.
 * A cap (0 = none) bounds what hostile peers can make us allocate: appends
 * that would exceed it fail with -1 and leave the buffer unchanged.
 * Allocation failure aborts the process (there is nothing sensible to do).
 */
#ifndef HOMELAB_BUF_H
#define HOMELAB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* maximum len, 0 = unlimited */
};

#define BUF_INIT {0}

void buf_init(struct buf *b, size_t cap);
/* Frees the contents; the buffer may be reused after buf_init(). */
void buf_release(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Appends; 0 on success, -1 when the cap would be exceeded. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Ensures room for `extra` more bytes (plus NUL) without changing len. */
int buf_grow(struct buf *b, size_t extra);
/* Removes the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Hands the string to the caller (free() it); the buffer is re-initialised. */
char *buf_detach(struct buf *b);

/* Allocation helpers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
