/*
 * Warming a server context up before the listener forks (OpenSSL backend).
 *
 * OpenSSL 3 fetches algorithm implementations and fills its caches on
 * first use, per process. A listener that forks one process per
 * association would pay that in every association process; a handshake
 * done once in the parent, before the first fork, leaves the caches filled
 * for all of them.
 */
#include "openssl_be.h"

#include <openssl/err.h>

/* Drives both ends over a memory BIO pair until neither makes progress. */
static bool pump(SSL *client, SSL *server)
{
    for (int i = 0; i < 32; i++) {
        int c = SSL_do_handshake(client);
        int s = SSL_do_handshake(server);
        if (c == 1 && s == 1)
            return true;
        if ((c != 1 && SSL_get_error(client, c) != SSL_ERROR_WANT_READ) ||
            (s != 1 && SSL_get_error(server, s) != SSL_ERROR_WANT_READ))
            return false;
    }
    return false;
}

/* One connection: handshake (resuming *session if set), one application
 * record each way, and the client's session (ticket) for the next round. */
static bool one_round(SSL_CTX *client_ctx, SSL_CTX *server_ctx, SSL_SESSION **session)
{
    SSL *c = SSL_new(client_ctx);
    SSL *s = SSL_new(server_ctx);
    BIO *cb = NULL, *sb = NULL;
    bool ok = c && s && BIO_new_bio_pair(&cb, 0, &sb, 0) == 1;
    if (ok) {
        SSL_set_bio(c, cb, cb);
        SSL_set_bio(s, sb, sb);
        /* The peer is ourselves: no client certificate is asked for. */
        SSL_set_verify(s, SSL_VERIFY_NONE, NULL);
        SSL_set_connect_state(c);
        SSL_set_accept_state(s);
        if (*session)
            SSL_set_session(c, *session);
        ok = pump(c, s);
    } else {
        BIO_free(cb);
        BIO_free(sb);
    }
    unsigned char byte = 0x55, got = 0;
    size_t n = 0;
    ok = ok && SSL_write_ex(s, &byte, 1, &n) == 1 && SSL_read_ex(c, &got, 1, &n) == 1; /* reads the tickets too */
    ok = ok && SSL_write_ex(c, &byte, 1, &n) == 1 && SSL_read_ex(s, &got, 1, &n) == 1;
    if (ok) {
        SSL_SESSION_free(*session);
        *session = SSL_get1_session(c);
    }
    SSL_free(c);
    SSL_free(s);
    return ok;
}

int dtp__ossl_warm_up(dtp_ctx *ctx)
{
    SSL_CTX *server_ctx = OC(ctx)->ssl_ctx;
    SSL_CTX *client_ctx = SSL_CTX_new(TLS_client_method());
    if (!client_ctx)
        return DTP_R_INTERNAL;
    /* Same versions as the profile's server, OpenSSL's default suites and
     * groups: the server picks what it would pick for a real peer. */
    SSL_CTX_set_min_proto_version(client_ctx, SSL_CTX_get_min_proto_version(server_ctx));
    SSL_CTX_set_max_proto_version(client_ctx, SSL_CTX_get_max_proto_version(server_ctx));
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(client_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);

    SSL_SESSION *session = NULL;
    bool full = one_round(client_ctx, server_ctx, &session);
    bool resumed = full && one_round(client_ctx, server_ctx, &session);
    SSL_SESSION_free(session);
    SSL_CTX_free(client_ctx);
    ERR_clear_error();
    dtp__log(ctx, DTP_LOG_DEBUG, "warm-up handshakes: full %s, resumed %s", full ? "done" : "failed",
             resumed ? "done" : "failed");
    return DTP_OK;
}
