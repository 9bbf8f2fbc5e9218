/* Two library contexts over a socketpair, one thread per side: each side's
 * connection and handshake result, fds open for the case to use. Shared by
 * the handshake tests of both backends. Needs fixture.h first. */
#ifndef DTP_PAIR_H
#define DTP_PAIR_H

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "fixture.h"

struct side {
    dtp_ctx *ctx;
    int fd;
    dtp_conn *conn;
    int rc;
};

static inline void *server_thread(void *arg)
{
    struct side *s = arg;
    s->conn = dtp_conn_new(s->ctx, s->fd, NULL);
    s->rc = s->conn ? dtp_conn_handshake(s->conn) : DTP_R_INTERNAL;
    if (s->rc != DTP_OK)
        shutdown(s->fd, SHUT_RDWR);
    return NULL;
}

/* The name the client addresses the server by (SNI, Q9); NULL: none. */
static const char *client_peer_name;

static inline int run_pair(dtp_ctx *cctx, dtp_ctx *sctx, struct side *c, struct side *s)
{
    int sv[2];
    if (!cctx || !sctx || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        dtp_ctx_free(cctx);
        dtp_ctx_free(sctx);
        return -1;
    }
    *c = (struct side){cctx, sv[0], NULL, -1};
    *s = (struct side){sctx, sv[1], NULL, -1};
    pthread_t t;
    pthread_create(&t, NULL, server_thread, s);
    c->conn = dtp_conn_new(cctx, c->fd, NULL);
    if (c->conn && client_peer_name)
        dtp_conn_set_peer_name(c->conn, client_peer_name);
    c->rc = c->conn ? dtp_conn_handshake(c->conn) : DTP_R_INTERNAL;
    if (c->rc != DTP_OK)
        shutdown(c->fd, SHUT_RDWR);
    pthread_join(t, NULL);
    return 0;
}

static inline void done(struct side *c, struct side *s)
{
    dtp_conn_free(c->conn);
    dtp_conn_free(s->conn);
    close(c->fd);
    close(s->fd);
    dtp_ctx_free(c->ctx);
    dtp_ctx_free(s->ctx);
}

static inline dtp_ctx *mk(struct fx f)
{
    struct dtp_error e;
    dtp_ctx *c = fx_ctx(f, &e);
    if (!c)
        fprintf(stderr, "context (%s): reason %d %s\n", f.backend ? f.backend : "openssl", e.code, e.detail);
    return c;
}

/* The weak-DH peer (B5, E5): a bcp195 server, relaxed, with a 1024-bit DH
 * group and only DHE, in TLS 1.2. NULL if it cannot be made. */
static inline dtp_ctx *weak_dh_server(void)
{
    struct fx sf = SERVER("bcp195", "rsa");
    sf.dh = "dh1024.pem";
    sf.relax = true;
    dtp_ctx *sctx = mk(sf);
    if (sctx) {
        SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(sctx), "DHE-RSA-AES128-GCM-SHA256");
        SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(sctx), TLS1_2_VERSION);
    }
    return sctx;
}

#define DETAIL(side) dtp_conn_error((side).conn)->detail
#endif
