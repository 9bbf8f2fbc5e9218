/* The GnuTLS backend's helpers shared with the GnuTLS probes
 * (probe_gnutls.c). Only built with the GnuTLS backend. */
#ifndef DTP_GNUTLS_BE_H
#define DTP_GNUTLS_BE_H

#include <stddef.h>

/* "/C=../O=../CN=.." (OpenSSL's one-line order) from an RFC 4514 DN, so
 * both backends name a peer the same way. */
void dtp__gt_oneline_dn(const char *rfc, char *out, size_t len);

#endif
