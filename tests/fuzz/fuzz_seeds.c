/*
 * fuzz_seeds OUTDIR -- writes the seed corpora of the fuzz harnesses, made
 * fresh at test time (no binary blobs in the repository):
 *
 *   OUTDIR/server/  inputs for fuzz_handshake (a client's bytes)
 *   OUTDIR/client/  inputs for fuzz_handshake_client (a server's bytes)
 *   OUTDIR/password/ inputs for fuzz_password
 *
 * Handshake seeds are real: a client and a server context (PKI fixture in
 * $DTP_PKI) complete a handshake -- or fail one -- through a relay that
 * records each direction; the client then sends an A-ASSOCIATE-RQ and
 * close_notify. Each recording becomes a seed with the selector byte of
 * the context that received it (fuzz_common.h), once whole and once cut
 * after its first TLS record (e.g. the bare ClientHello). Hand-made ones:
 * a plain DICOM A-ASSOCIATE-RQ, an HTTP request, an SSLv2-style hello,
 * TLS alerts, a truncated record, random bytes (fixed seed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "fuzz_common.h"

static const char *outdir;
static int nseeds;

static void write_seed(const char *sub, const char *name, unsigned char sel, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || (sel != 0xff && fputc(sel, f) == EOF) || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    nseeds++;
}

/* Length of the first TLS record in buf (header + body), or len. */
static size_t first_record(const unsigned char *buf, size_t len)
{
    if (len < 5)
        return len;
    size_t n = 5 + ((size_t)buf[3] << 8 | buf[4]);
    return n < len ? n : len;
}

/* ---- a recorded handshake --------------------------------------------- */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

struct side {
    dtp_ctx *ctx;
    int fd;
    int rc;
};

/* A minimal A-ASSOCIATE-RQ (PS3.8 9.3.2): header, called/calling AE,
 * application context, one presentation context (Verification, implicit
 * little endian), user information with the maximum length. */
static size_t make_associate_rq(unsigned char *out)
{
    static const char app_ctx[] = "1.2.840.10008.3.1.1.1";
    static const char verification[] = "1.2.840.10008.1.1";
    static const char implicit_le[] = "1.2.840.10008.1.2";
    unsigned char *p = out + 6;
    *p++ = 0x00, *p++ = 0x01, *p++ = 0, *p++ = 0;                   /* protocol version, reserved */
    memcpy(p, "DTP-STORESCP    ", 16), p += 16;                     /* called AE */
    memcpy(p, "DTP-STORESCU    ", 16), p += 16;                     /* calling AE */
    memset(p, 0, 32), p += 32;                                      /* reserved */
    *p++ = 0x10, *p++ = 0, *p++ = 0, *p++ = (unsigned char)strlen(app_ctx); /* application context */
    memcpy(p, app_ctx, strlen(app_ctx)), p += strlen(app_ctx);
    size_t as = strlen(verification), ts = strlen(implicit_le);
    size_t pc = 4 + (4 + as) + (4 + ts);
    *p++ = 0x20, *p++ = 0, *p++ = 0, *p++ = (unsigned char)pc; /* presentation context */
    *p++ = 1, *p++ = 0, *p++ = 0, *p++ = 0;
    *p++ = 0x30, *p++ = 0, *p++ = 0, *p++ = (unsigned char)as;
    memcpy(p, verification, as), p += as;
    *p++ = 0x40, *p++ = 0, *p++ = 0, *p++ = (unsigned char)ts;
    memcpy(p, implicit_le, ts), p += ts;
    *p++ = 0x50, *p++ = 0, *p++ = 0, *p++ = 8; /* user information: max length 16384 */
    *p++ = 0x51, *p++ = 0, *p++ = 0, *p++ = 4;
    *p++ = 0, *p++ = 0, *p++ = 0x40, *p++ = 0;
    size_t body = (size_t)(p - out) - 6;
    out[0] = 0x01, out[1] = 0;
    out[2] = (unsigned char)(body >> 24), out[3] = (unsigned char)(body >> 16);
    out[4] = (unsigned char)(body >> 8), out[5] = (unsigned char)body;
    return (size_t)(p - out);
}

static void *client_side(void *arg)
{
    struct side *s = arg;
    dtp_conn *c = dtp_conn_new(s->ctx, s->fd, NULL);
    s->rc = c ? dtp_conn_handshake(c) : DTP_R_INTERNAL;
    if (s->rc == DTP_OK) {
        unsigned char rq[512];
        size_t n = make_associate_rq(rq);
        dtp_conn_write(c, rq, n);
        dtp_conn_close_notify(c);
    }
    shutdown(s->fd, SHUT_WR);
    char sink[4096]; /* until the server is done: its tickets, its alert */
    while (c && dtp_conn_read(c, sink, sizeof sink) > 0)
        ;
    dtp_conn_free(c);
    return NULL;
}

static void *server_side(void *arg)
{
    struct side *s = arg;
    dtp_conn *c = dtp_conn_new(s->ctx, s->fd, NULL);
    s->rc = c ? dtp_conn_handshake(c) : DTP_R_INTERNAL;
    if (s->rc == DTP_OK) {
        char sink[4096];
        while (dtp_conn_read(c, sink, sizeof sink) > 0)
            ;
        dtp_conn_close_notify(c);
    }
    shutdown(s->fd, SHUT_WR);
    dtp_conn_free(c);
    return NULL;
}

/* client <-> a[0] | a[1] <-relay-> b[1] | b[0] <-> server */
static void record(dtp_ctx *cctx, dtp_ctx *sctx, struct buf *c2s, struct buf *s2c, int *crc, int *src)
{
    int a[2], b[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, b) != 0)
        abort();
    struct side cs = {cctx, a[0], -1}, ss = {sctx, b[0], -1};
    pthread_t ct, st;
    pthread_create(&ct, NULL, client_side, &cs);
    pthread_create(&st, NULL, server_side, &ss);
    bool a_eof = false, b_eof = false;
    while (!a_eof || !b_eof) {
        struct pollfd p[2] = {{a_eof ? -1 : a[1], POLLIN, 0}, {b_eof ? -1 : b[1], POLLIN, 0}};
        if (poll(p, 2, 10000) <= 0)
            break; /* stuck: keep what we have */
        unsigned char tmp[16384];
        if (p[0].revents) {
            ssize_t n = read(a[1], tmp, sizeof tmp);
            if (n <= 0) {
                a_eof = true;
                shutdown(b[1], SHUT_WR);
            } else {
                buf_add(c2s, tmp, (size_t)n);
                send(b[1], tmp, (size_t)n, MSG_NOSIGNAL);
            }
        }
        if (p[1].revents) {
            ssize_t n = read(b[1], tmp, sizeof tmp);
            if (n <= 0) {
                b_eof = true;
                shutdown(a[1], SHUT_WR);
            } else {
                buf_add(s2c, tmp, (size_t)n);
                send(a[1], tmp, (size_t)n, MSG_NOSIGNAL);
            }
        }
    }
    shutdown(a[1], SHUT_RDWR);
    shutdown(b[1], SHUT_RDWR);
    pthread_join(ct, NULL);
    pthread_join(st, NULL);
    *crc = cs.rc;
    *src = ss.rc;
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

/* One end of a recorded handshake. Unset fields: as the harness's context
 * for the selector (fuzz_make_ctx); the others change what that end sends
 * (an older version, a weak key, an untrusted certificate, ...). */
struct end {
    unsigned sel;          /* profile, key type; client: bit 3 = no certificate */
    const char *cert, *key; /* PKI fixture names instead of the selector's */
    const char *dh;        /* server DH parameters */
    bool relax;            /* B5: relaxed key sizes (bcp195 only) */
    int version;           /* only this protocol version (0: the profile's) */
    const char *ciphers;   /* TLS 1.2 cipher list override */
};

static dtp_ctx *make_end(int role, const struct end *e)
{
    if (!e->cert && !e->dh && !e->relax)
        return fuzz_make_ctx(role, e->sel, NULL, NULL);
    char cert[1024], key[1024], ca[1024], dh[1024], name[64];
    const char *who = role == DTP_ROLE_SERVER ? "server" : "client";
    const char *kt = SEL_EC(e->sel) ? "ec" : "rsa";
    struct dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = dtp_profile_find(fuzz_profiles[SEL_PROFILE(e->sel)], NULL);
    cfg.role = role;
    snprintf(name, sizeof name, "%s-%s.pem", who, kt);
    cfg.cert_file = fuzz_path(cert, sizeof cert, e->cert ? e->cert : name);
    snprintf(name, sizeof name, "%s-%s.key", who, kt);
    cfg.key_file = fuzz_path(key, sizeof key, e->key ? e->key : name);
    cfg.ca_file = fuzz_path(ca, sizeof ca, "ca.pem");
    cfg.dh_file = e->dh ? fuzz_path(dh, sizeof dh, e->dh) : NULL;
    cfg.relax_key_sizes = e->relax;
    cfg.handshake_timeout_ms = 5000;
    struct dtp_error err;
    memset(&err, 0, sizeof err);
    dtp_ctx *ctx = dtp_ctx_new(&cfg, &err);
    if (!ctx) {
        char line[1024];
        fprintf(stderr, "fuzz_seeds: %s context: %s\n", who, dtp_error_format(&err, line, sizeof line));
        exit(1);
    }
    return ctx;
}

static void adjust(dtp_ctx *ctx, const struct end *e)
{
    SSL_CTX *sc = dtp_ctx_ssl_ctx(ctx);
    if (e->version) {
        if (e->version < TLS1_2_VERSION) { /* an old client, as the e2e old-versions test */
            SSL_CTX_set_security_level(sc, 0);
            SSL_CTX_set_cipher_list(sc, "DEFAULT:@SECLEVEL=0");
        }
        SSL_CTX_set_min_proto_version(sc, e->version);
        SSL_CTX_set_max_proto_version(sc, e->version);
    }
    if (e->ciphers)
        SSL_CTX_set_cipher_list(sc, e->ciphers);
}

/* Records a handshake between the ends c and s and writes four seeds: what
 * the client sent (for fuzz_handshake, selector s->sel) and what the server
 * sent (for fuzz_handshake_client, selector c->sel), each whole and cut
 * after its first record. */
static void capture(const char *name, struct end c, struct end s)
{
    dtp_ctx *cctx = make_end(DTP_ROLE_CLIENT, &c);
    dtp_ctx *sctx = make_end(DTP_ROLE_SERVER, &s);
    adjust(cctx, &c);
    adjust(sctx, &s);
    unsigned char csel = (unsigned char)c.sel, ssel = (unsigned char)(s.sel & ~8u);
    struct buf c2s = {0}, s2c = {0};
    int crc, src;
    record(cctx, sctx, &c2s, &s2c, &crc, &src);
    char fname[256];
    snprintf(fname, sizeof fname, "%s-full", name);
    write_seed("server", fname, ssel, c2s.p, c2s.len);
    snprintf(fname, sizeof fname, "%s-first-record", name);
    write_seed("server", fname, ssel, c2s.p, first_record(c2s.p, c2s.len));
    snprintf(fname, sizeof fname, "%s-full", name);
    write_seed("client", fname, csel, s2c.p, s2c.len);
    snprintf(fname, sizeof fname, "%s-first-record", name);
    write_seed("client", fname, csel, s2c.p, first_record(s2c.p, s2c.len));
    printf("  %-26s client %-9s -> server %-9s: client %3d, server %3d; %5zu bytes c->s, %5zu s->c\n", name,
           fuzz_profiles[SEL_PROFILE(c.sel)], fuzz_profiles[SEL_PROFILE(s.sel)], crc, src, c2s.len, s2c.len);
    free(c2s.p);
    free(s2c.p);
    dtp_ctx_free(cctx);
    dtp_ctx_free(sctx);
}

/* ---- hand-made seeds ----------------------------------------------------- */

static uint32_t rng = 0x2545f491u; /* fixed: the same corpus every time */
static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void handmade(void)
{
    unsigned char rq[512];
    size_t n = make_associate_rq(rq);
    for (unsigned p = 0; p < FUZZ_PROFILES; p++) {
        char name[64];
        snprintf(name, sizeof name, "plain-associate-rq-%s", fuzz_profiles[p]);
        write_seed("server", name, SEL_MAKE(p, 0, 0, 0), rq, n);
    }
    write_seed("server", "plain-associate-rq-header-only", SEL_MAKE(1, 0, 1, 0), rq, 6);
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    write_seed("server", "http-get", SEL_MAKE(1, 0, 0, 0), http, strlen(http));
    /* SSLv2-format ClientHello header (old clients' compatible hello). */
    static const unsigned char sslv2[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
                                          0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x00, 0x00, 0x0a, 0x00, 0x00,
                                          0x05, 0x00, 0x00, 0x04, 0x00, 0x00, 0xff, 0x01, 0x02, 0x03, 0x04,
                                          0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    write_seed("server", "sslv2-hello", SEL_MAKE(0, 0, 0, 0), sslv2, sizeof sslv2);
    /* Half a ClientHello: a record announcing 512 bytes, 45 of them sent. */
    unsigned char half[50] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    for (size_t i = 11; i < sizeof half; i++)
        half[i] = (unsigned char)next_random();
    write_seed("server", "half-client-hello", SEL_MAKE(1, 0, 0, 0), half, sizeof half);
    /* Fatal alerts: handshake_failure, protocol_version, bad_record_mac. */
    static const unsigned char alerts[][7] = {{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40},
                                              {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 70},
                                              {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 20}};
    for (size_t i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "alert-%u", alerts[i][6]);
        write_seed("server", name, SEL_MAKE((unsigned)i, 0, 0, 0), alerts[i], 7);
        write_seed("client", name, SEL_MAKE((unsigned)i, 0, 0, 0), alerts[i], 7);
    }
    /* A plain DICOM SCP answering with A-ABORT / A-ASSOCIATE-RJ. */
    static const unsigned char abort_pdu[] = {0x07, 0, 0, 0, 0, 4, 0, 0, 2, 0};
    static const unsigned char rj_pdu[] = {0x03, 0, 0, 0, 0, 4, 0, 1, 1, 1};
    write_seed("client", "plain-a-abort", SEL_MAKE(1, 0, 0, 0), abort_pdu, sizeof abort_pdu);
    write_seed("client", "plain-associate-rj", SEL_MAKE(2, 1, 0, 0), rj_pdu, sizeof rj_pdu);
    for (int k = 0; k < 3; k++) {
        unsigned char rnd[256];
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)next_random();
        char name[64];
        snprintf(name, sizeof name, "random-%d", k);
        write_seed("server", name, 0xff, rnd, sizeof rnd); /* its own selector */
        write_seed("client", name, 0xff, rnd, sizeof rnd);
    }
    write_seed("server", "empty", SEL_MAKE(1, 0, 0, 0), NULL, 0);
    write_seed("client", "empty", SEL_MAKE(1, 0, 0, 0), NULL, 0);

    /* fuzz_password: mode byte, then text (fuzz_password.c). */
    static const struct {
        const char *name, *text;
    } pw[] = {{"pass", "\x00pass:secret"},
              {"env", "\x01secret"},
              {"file", "\x02secret\nsecond line"},
              {"file-crlf", "\x02secret\r\n"},
              {"raw-bogus", "\x03hunter2"},
              {"raw-env-unset", "\x03" "env:DTP_FUZZ_UNSET_VARIABLE"},
              {"format", "\x04\xca\x00detail text %s %n"}};
    for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++) {
        size_t len = 1 + strlen(pw[i].text + 1);
        if (i == sizeof pw / sizeof pw[0] - 1)
            len = 1 + 2 + strlen(pw[i].text + 3);
        write_seed("password", pw[i].name, 0xff, pw[i].text, len);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR   (PKI fixture in $DTP_PKI)\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    static const char *const subs[] = {"", "/server", "/client", "/password"};
    for (size_t i = 0; i < 4; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", outdir, subs[i]);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "fuzz_seeds: mkdir %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    printf("recorded handshakes:\n");
    /* Same profile both sides, RSA and EC: TLS 1.3 (TLS 1.2 for -ex). */
    for (unsigned p = 0; p < FUZZ_PROFILES; p++)
        for (unsigned ec = 0; ec < 2; ec++) {
            char name[64];
            snprintf(name, sizeof name, "%s-%s", fuzz_profiles[p], ec ? "ec" : "rsa");
            capture(name, (struct end){.sel = SEL_MAKE(p, ec, 0, 0)}, (struct end){.sel = SEL_MAKE(p, ec, 0, 0)});
        }
    const unsigned B = 0, ND = 1, EX = 2, CR = 3;
    capture("nd-client-ex-server", (struct end){.sel = ND}, (struct end){.sel = EX}); /* TLS 1.2 */
    capture("cryptrec-client-nd-server", (struct end){.sel = CR}, (struct end){.sel = ND});
    /* Refused: no shared suite (202), old versions (B2 accepted, N1 refused). */
    capture("ex-client-bcp195-server-ec", (struct end){.sel = SEL_MAKE(EX, 1, 0, 0)},
            (struct end){.sel = SEL_MAKE(B, 1, 0, 0)});
    capture("tls10-client-bcp195", (struct end){.sel = B, .version = TLS1_VERSION}, (struct end){.sel = B});
    capture("tls11-client-nd", (struct end){.sel = ND, .version = TLS1_1_VERSION}, (struct end){.sel = ND});
    capture("tls12-client-nd", (struct end){.sel = ND, .version = TLS1_2_VERSION}, (struct end){.sel = ND});
    /* TLS 1.2, where certificates and key exchange travel in plaintext and
     * a replay reaches the checks that refuse them: the client's flight
     * (server seeds) with a missing, expired, untrusted or weak client
     * certificate; the server's flight (client seeds) with an expired,
     * untrusted or weak server certificate, or 1024-bit DH. */
    capture("tls12-client-no-cert", (struct end){.sel = SEL_MAKE(EX, 0, 1, 0)}, (struct end){.sel = EX});
    capture("tls12-client-expired", (struct end){.sel = EX, .cert = "expired-client-rsa.pem", .key = "expired-client-rsa.key"},
            (struct end){.sel = EX});
    capture("tls12-client-untrusted", (struct end){.sel = EX, .cert = "other-client-rsa.pem", .key = "other-client-rsa.key"},
            (struct end){.sel = EX});
    capture("tls12-client-rsa1024",
            (struct end){.sel = B, .cert = "rsa1024-client.pem", .key = "rsa1024-client.key", .relax = true,
                         .version = TLS1_2_VERSION},
            (struct end){.sel = B});
    capture("tls12-server-expired", (struct end){.sel = EX},
            (struct end){.sel = EX, .cert = "expired-server-rsa.pem", .key = "expired-server-rsa.key"});
    capture("tls12-server-untrusted", (struct end){.sel = EX},
            (struct end){.sel = EX, .cert = "other-server-rsa.pem", .key = "other-server-rsa.key"});
    capture("tls12-server-rsa1024", (struct end){.sel = B, .version = TLS1_2_VERSION},
            (struct end){.sel = B, .cert = "rsa1024-server.pem", .key = "rsa1024-server.key", .relax = true});
    capture("tls12-server-dh1024", (struct end){.sel = B, .version = TLS1_2_VERSION},
            (struct end){.sel = B, .dh = "dh1024.pem", .relax = true, .version = TLS1_2_VERSION,
                         .ciphers = "DHE-RSA-AES128-GCM-SHA256"});
    handmade();
    printf("fuzz_seeds: %d seeds in %s\n", nseeds, outdir);
    return 0;
}
