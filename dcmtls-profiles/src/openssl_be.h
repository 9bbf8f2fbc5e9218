/* The OpenSSL backend's private types, shared by openssl.c and warmup.c. */
#ifndef DTP_OPENSSL_BE_H
#define DTP_OPENSSL_BE_H

#include "internal.h"

#include <openssl/ssl.h>

struct dtp_ossl_ctx {
    SSL_CTX *ssl_ctx;
    BIO_METHOD *sock_method; /* socket BIO that never raises SIGPIPE */
    /* OpenSSL's own security callback, which ours consults after the
     * profile's minimums (B5, E5). */
    int (*default_security_cb)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);
    SSL_SESSION *session; /* client: the session to offer next */
    bool session_unsaved; /* client: session is newer than the file */
    struct dtp_ossl_tickets *tickets; /* server: session-ticket keys (R37; openssl.c) */
};

static inline struct dtp_ossl_ctx *OC(const dtp_ctx *ctx) { return (struct dtp_ossl_ctx *)ctx->be_ctx; }

/* The stock socket BIO with send(MSG_NOSIGNAL) as its writer: a vanished
 * peer is an error, never SIGPIPE (the backend's sockets and the probes'). */
BIO_METHOD *dtp__ossl_nosig_method(void);

/* One full and one resumed handshake of a server context with itself. */
int dtp__ossl_warm_up(dtp_ctx *ctx);

#endif
