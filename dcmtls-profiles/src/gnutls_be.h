/* The GnuTLS backend's helpers shared with the GnuTLS probes
 * (probe_gnutls.c). Only built with the GnuTLS backend. */
#ifndef DTP_GNUTLS_BE_H
#define DTP_GNUTLS_BE_H

#include <stddef.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

/* "/C=../O=../CN=.." (OpenSSL's one-line order) from an RFC 4514 DN, so
 * both backends name a peer the same way. */
void dtp__gt_oneline_dn(const char *rfc, char *out, size_t len);

/* send(2)/recv(2) for GnuTLS's transport callbacks: EINTR retried, never
 * SIGPIPE; a failure's errno is kept in *io_errno (which tells a reset
 * from an EOF, C6) and handed to GnuTLS; recv clears *io_errno on success. */
ssize_t dtp__gt_send(gnutls_session_t s, int fd, const void *buf, size_t len, int *io_errno);
ssize_t dtp__gt_recv(gnutls_session_t s, int fd, void *buf, size_t len, int *io_errno);

#endif
