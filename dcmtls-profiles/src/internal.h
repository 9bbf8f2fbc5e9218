/* Internal declarations shared by the OpenSSL glue files. */
#ifndef DTP_INTERNAL_H
#define DTP_INTERNAL_H

#include "dtp/dtp.h"

#include <openssl/ssl.h>

struct dtp_ctx {
    SSL_CTX *ssl_ctx;
    BIO_METHOD *sock_method; /* socket BIO that never raises SIGPIPE */
    /* OpenSSL's own security callback, which ours consults after the
     * profile's minimums (B5, E5). */
    int (*default_security_cb)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);
    const struct dtp_profile *profile;
    int role;
    int verify;
    bool relax_key_sizes;
    bool allow_no_ems;
    int handshake_timeout_ms;
    char keylog_file[512];
    SSL_SESSION *session;     /* client: the session to offer next */
    char session_file[512];   /* client: where it persists, "" if nowhere */
    bool session_unsaved;     /* client: session is newer than the file */
    dtp_log_fn log;
    void *log_user;
};

/* printf-style logging through the context's callback (no-op without one). */
void dtp__log(const dtp_ctx *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Sets err (may be NULL) and returns code. Appends OpenSSL's queued error
 * text to the detail when with_openssl is true. */
int dtp__fail(struct dtp_error *err, int code, bool with_openssl, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Applies a profile's versions, suites, groups, security level and
 * options to an SSL_CTX (no credentials). */
int dtp__apply_profile(SSL_CTX *ssl_ctx, const struct dtp_profile *profile, int role, struct dtp_error *err);

/* Called by the server's ClientHello callback (ctx.c) when it refuses a
 * hello: the connection reports code instead of OpenSSL's generic
 * "callback failed". */
void dtp__conn_refuse_hello(SSL *ssl, int code);

/* Key-size minimum for an own or peer certificate key of this profile;
 * 0 when the type has none. */
int dtp__min_cert_bits(const struct dtp_profile *profile, const EVP_PKEY *key);
/* Nominal size of a key in bits (X25519 counts as 256, X448 as 448). */
int dtp__key_bits(const EVP_PKEY *key);
const char *dtp__key_type(const EVP_PKEY *key);

#endif
