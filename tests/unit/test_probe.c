/* dtp_probe_run against real servers on 127.0.0.1, no mocks: the library's
 * own server contexts (a profile, both backends) in a thread that accepts
 * and handshakes each connection, and raw TCP servers for what a TLS
 * library would never send (plain text, silence, a close, a canned
 * ServerHello, broken records). Each probe's result is printed. */
#define _POSIX_C_SOURCE 200809L
#include <dtp/check.h>
/* tests/unit/check.h (the test framework) uses the same include guard as
 * <dtp/check.h>: let it in. */
#undef DTP_CHECK_H
#include "fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

/* ---- fixture paths that stay valid (pki() rotates 8 buffers) -------- */

static const char *fp(const char *name)
{
    static char names[24][64], paths[24][1024];
    static int n;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return paths[i];
    if (n == 24)
        return pki(name);
    snprintf(names[n], sizeof names[n], "%s", name);
    snprintf(paths[n], sizeof paths[n], "%s", pki(name));
    return paths[n++];
}

/* ---- servers ---------------------------------------------------------- */

enum srv_mode {
    SRV_TLS,       /* the library's server context: handshake, then read until the client leaves */
    SRV_HTTP,      /* answers "HTTP/1.0 400 Bad Request" */
    SRV_DICOM_RJ,  /* answers an A-ASSOCIATE-RJ PDU (PS3.8 9.3.4) */
    SRV_CLOSE,     /* closes at once */
    SRV_SILENT,    /* reads and says nothing */
    SRV_CANNED,    /* answers a ClientHello with a ServerHello picking its first suite (and DEFLATE if offered) */
    SRV_HUGE_LEN,  /* a handshake record header announcing 65535 bytes */
    SRV_CUT_RECORD /* a record header announcing 48 bytes, 10 of them, then a close */
};

#define SRV_MAX_CONN 16

struct srv {
    int lfd;
    char port[16];
    pthread_t thread;
    atomic_bool stop;
    dtp_ctx *ctx;
    enum srv_mode mode;
    int served;
    int rc[SRV_MAX_CONN];        /* handshake result per TLS connection */
    char sni[SRV_MAX_CONN][64];  /* server name received */
};

static void drain(int fd, int ms)
{
    char buf[4096];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, ms) > 0 && recv(fd, buf, sizeof buf, 0) > 0)
        ;
}

static void serve_tls(struct srv *s, int fd)
{
    dtp_conn *c = dtp_conn_new(s->ctx, fd, NULL);
    int rc = c ? dtp_conn_handshake(c) : DTP_R_INTERNAL;
    if (s->served < SRV_MAX_CONN) {
        s->rc[s->served] = rc;
        snprintf(s->sni[s->served], sizeof s->sni[0], "%.63s", rc == DTP_OK ? dtp_conn_info(c)->sni : "");
    }
    char buf[256];
    /* Reads until the client leaves: a renegotiation is served inside. */
    while (rc == DTP_OK && dtp_conn_wait_readable(c, 3000) && dtp_conn_read(c, buf, sizeof buf) > 0)
        ;
    dtp_conn_free(c);
}

/* Reads one TLS record (ClientHello) into buf; its length, 0 on failure. */
static size_t read_record(int fd, unsigned char *buf, size_t cap)
{
    size_t got = 0, want = 5;
    while (got < want && got < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 3000) <= 0)
            return 0;
        ssize_t n = recv(fd, buf + got, want - got, 0);
        if (n <= 0)
            return 0;
        got += (size_t)n;
        if (got == 5)
            want = 5 + ((size_t)buf[3] << 8 | buf[4]);
    }
    return got == want ? got : 0;
}

/* RFC 5246 7.4.1.3: a ServerHello choosing the hello's first suite, null
 * compression unless DEFLATE (1) was offered, at the hello's version. */
static void serve_canned(int fd)
{
    unsigned char in[4096];
    size_t n = read_record(fd, in, sizeof in);
    if (n < 5 + 4 + 2 + 32 + 1)
        return;
    const unsigned char *h = in + 9; /* client_version */
    size_t at = 2 + 32, sid = h[at];
    at += 1 + sid;
    size_t ns = (size_t)h[at] << 8 | h[at + 1];
    const unsigned char *suite = h + at + 2;
    const unsigned char *comp = suite + ns;
    unsigned char c = 0;
    for (size_t i = 0; i < comp[0]; i++)
        c |= comp[1 + i] == 1;
    unsigned char out[5 + 4 + 38] = {22, h[0], h[1], 0, 42, 2, 0, 0, 38, h[0], h[1]};
    memset(out + 11, 0x5a, 32);
    out[43] = 0; /* session_id */
    out[44] = suite[0];
    out[45] = suite[1];
    out[46] = c;
    if (send(fd, out, sizeof out, MSG_NOSIGNAL) == (ssize_t)sizeof out)
        drain(fd, 1000);
}

static void serve_raw(struct srv *s, int fd)
{
    static const char http[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
    static const unsigned char rj[] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x01, 0x01};
    static const unsigned char huge[] = {22, 3, 3, 0xff, 0xff, 2, 0, 0, 38};
    static const unsigned char cut[] = {22, 3, 3, 0, 48, 2, 0, 0, 44, 3};
    const void *answer = NULL;
    size_t len = 0;
    switch (s->mode) {
    case SRV_HTTP:
        answer = http, len = sizeof http - 1;
        break;
    case SRV_DICOM_RJ:
        answer = rj, len = sizeof rj;
        break;
    case SRV_HUGE_LEN:
        answer = huge, len = sizeof huge;
        break;
    case SRV_CUT_RECORD:
        answer = cut, len = sizeof cut;
        break;
    case SRV_SILENT:
        drain(fd, 3000);
        return;
    case SRV_CANNED:
        serve_canned(fd);
        return;
    default:
        return; /* SRV_CLOSE */
    }
    drain(fd, 200); /* the ClientHello */
    if (send(fd, answer, len, MSG_NOSIGNAL) == (ssize_t)len && s->mode != SRV_CUT_RECORD)
        drain(fd, 1000);
}

static void *srv_thread(void *arg)
{
    struct srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {3, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (s->mode == SRV_TLS)
            serve_tls(s, fd);
        else
            serve_raw(s, fd);
        close(fd);
        s->served++;
    }
    return NULL;
}

/* Listens on 127.0.0.1, port 0; ctx (SRV_TLS) is the server's and freed by srv_stop. */
static int srv_start(struct srv *s, enum srv_mode mode, dtp_ctx *ctx)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->ctx = ctx;
    atomic_init(&s->stop, false);
    if (mode == SRV_TLS && !ctx)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 16) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &alen) != 0)
        return -1;
    snprintf(s->port, sizeof s->port, "%u", ntohs(a.sin_port));
    return pthread_create(&s->thread, NULL, srv_thread, s) == 0 ? 0 : -1;
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    dtp_ctx_free(s->ctx);
    s->ctx = NULL;
}

/* A server context of the library: profile, key ("rsa", "ec", or a fixture
 * name such as "sha1-server-rsa"), backend (NULL: OpenSSL). */
static dtp_ctx *server_ctx(const char *profile, const char *key, const char *backend)
{
    char cert[128], k[128];
    bool plain = strcmp(key, "rsa") == 0 || strcmp(key, "ec") == 0;
    snprintf(cert, sizeof cert, "%s%s.pem", plain ? "server-" : "", key);
    snprintf(k, sizeof k, "%s%s.key", plain ? "server-" : "", key);
    struct fx f = {.profile = profile, .role = DTP_ROLE_SERVER, .cert = cert, .key = k, .ca = "ca.pem",
                   .backend = backend};
    struct dtp_error e;
    dtp_ctx *c = fx_ctx(f, &e);
    if (!c)
        fprintf(stderr, "server context %s %s: %d %s\n", profile, key, e.code, e.detail);
    return c;
}

/* ---- probes ----------------------------------------------------------- */

/* TLS 1.2 + 1.3, a client certificate, trust in the test CA. */
static struct dtp_probe base_probe(void)
{
    struct dtp_probe p;
    memset(&p, 0, sizeof p);
    p.min_version = DTP_TLS1_2;
    p.max_version = DTP_TLS1_3;
    p.cert_file = fp("client-rsa.pem");
    p.key_file = fp("client-rsa.key");
    p.ca_file = fp("ca.pem");
    p.timeout_ms = 5000;
    return p;
}

static void show(const char *what, int rc, const struct dtp_probe_result *r)
{
    printf("%-28s rc=%d %-11s alert=%d %s %s %s/%d ems=%d sr=%d comp=%d reneg=%d creq=%d alpn='%s' chain=%zu "
           "verify=%d %.0fms | %s\n",
           what, rc, dtp_probe_outcome_name(r->outcome), r->alert, dtp_tls_version_name(r->version), r->suite,
           r->group, r->group_bits, r->ems, r->secure_renegotiation, r->compression, r->renegotiated,
           r->cert_requested, r->alpn, r->chain_len, r->verify_result, r->ms, r->detail);
    for (size_t i = 0; i < r->chain_len; i++)
        printf("    [%zu] %s issuer=%s %s/%d %s/%d %lld..%lld%s\n", i, r->chain[i].subject, r->chain[i].issuer,
               r->chain[i].key_type, r->chain[i].key_bits, r->chain[i].sig_hash, r->chain[i].sig_hash_bits,
               r->chain[i].not_before, r->chain[i].not_after, r->chain[i].self_signed ? " self-signed" : "");
}

static int run(const struct srv *s, const struct dtp_probe *p, struct dtp_probe_result *r, const char *what)
{
    int rc = dtp_probe_run("127.0.0.1", s->port, p, r);
    show(what, rc, r);
    return rc;
}

#define CHECK_OUTCOME(r, o)                                                                                            \
    do {                                                                                                               \
        if ((r).outcome != (o)) {                                                                                      \
            fprintf(stderr, "%s:%d: expected outcome %s, got %s (%s)\n", __FILE__, __LINE__,                          \
                    dtp_probe_outcome_name(o), dtp_probe_outcome_name((r).outcome), (r).detail);                      \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

/* A refusal with this alert, named in the detail. */
#define CHECK_REFUSED(r, a)                                                                                            \
    do {                                                                                                               \
        CHECK_OUTCOME(r, DTP_PROBE_REFUSED);                                                                           \
        CHECK((r).alert == (a));                                                                                       \
        char want_[16];                                                                                                \
        snprintf(want_, sizeof want_, "(%d)", (a));                                                                    \
        CHECK(strstr((r).detail, want_) != NULL);                                                                      \
        CHECK((r).version == DTP_TLS_NONE && (r).suite[0] == '\0');                                                    \
    } while (0)

static const char *const *one(const char *suite)
{
    static const char *list[2];
    list[0] = suite;
    list[1] = NULL;
    return list;
}

static bool gnutls_built(void)
{
    for (size_t i = 0; i < dtp_backend_count(); i++)
        if (strcmp(dtp_backend_name(i), "gnutls") == 0)
            return true;
    return false;
}

/* ---- cases -------------------------------------------------------------- */

static int accepted_tls13_default(void)
{
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.alpn = "dicom";
    p.server_name = "localhost";
    struct dtp_probe_result r;
    CHECK(run(&s, &p, &r, "tls13 default") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(r, DTP_PROBE_ACCEPTED);
    CHECK(r.alert == -1 && r.version == DTP_TLS1_3);
    CHECK(strcmp(r.suite, "TLS_AES_256_GCM_SHA384") == 0); /* R25: the server prefers the stronger */
    CHECK(strcmp(r.group, "x25519") == 0 && r.group_bits == 255);
    CHECK(strcmp(r.alpn, "dicom") == 0);
    CHECK(r.cert_requested && r.ems && !r.compression && !r.renegotiated);
    CHECK(r.chain_len == 2); /* the leaf and the CA, as the server sends them */
    CHECK(strcmp(r.chain[0].subject, "/CN=localhost") == 0 && strcmp(r.chain[0].issuer, "/CN=dtp test CA") == 0);
    CHECK(strcmp(r.chain[1].subject, "/CN=dtp test CA") == 0 && r.chain[1].self_signed);
    CHECK(strcmp(r.chain[0].key_type, "RSA") == 0 && r.chain[0].key_bits == 2048);
    CHECK(strcmp(r.chain[0].sig_hash, "SHA256") == 0 && r.chain[0].sig_hash_bits == 256);
    CHECK(r.chain[0].not_before < (long long)time(NULL) && (long long)time(NULL) < r.chain[0].not_after);
    CHECK(!r.chain[0].self_signed);
    CHECK(r.verify_result == 0);
    CHECK(r.ms >= 0 && r.ms < 5000);
    CHECK(strcmp(r.detail, "TLSv1.3 TLS_AES_256_GCM_SHA384 x25519") == 0);
    CHECK(s.served == 1 && s.rc[0] == DTP_OK && strcmp(s.sni[0], "localhost") == 0); /* SNI sent as given */
    return 0;
}

static int accepted_tls12_and_ec(void)
{
    /* TLS 1.2 with the defaults: ECDHE, EMS (R36), RFC 5746 (C5). */
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.max_version = DTP_TLS1_2;
    struct dtp_probe_result r;
    CHECK(run(&s, &p, &r, "tls12 default") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(r, DTP_PROBE_ACCEPTED);
    CHECK(r.version == DTP_TLS1_2 && strcmp(r.suite, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384") == 0);
    CHECK(r.ems && r.secure_renegotiation && r.cert_requested && r.alpn[0] == '\0');
    CHECK(strcmp(r.group, "x25519") == 0 && r.group_bits == 255);
    /* An EC server under B.13: P-256 (no X25519, M17), an EC chain. */
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996-mod", "ec", NULL)) == 0);
    p = base_probe();
    CHECK(run(&s, &p, &r, "tls13 ec b13") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(r, DTP_PROBE_ACCEPTED);
    CHECK(r.version == DTP_TLS1_3 && strcmp(r.group, "secp256r1") == 0 && r.group_bits == 256);
    CHECK(strcmp(r.chain[0].key_type, "EC") == 0 && r.chain[0].key_bits == 256);
    return 0;
}

static int version_refused_tls11(void)
{
    /* N1: a TLS 1.1-only hello gets protocol_version. */
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-nd", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.min_version = p.max_version = DTP_TLS1_1;
    struct dtp_probe_result r, r12;
    CHECK(run(&s, &p, &r, "tls1.1 only") == DTP_OK);
    p.min_version = p.max_version = DTP_TLS1_2;
    CHECK(run(&s, &p, &r12, "tls1.2 only") == DTP_OK);
    srv_stop(&s);
    CHECK_REFUSED(r, 70);
    CHECK(strcmp(r.detail, "protocol_version (70)") == 0);
    CHECK_OUTCOME(r12, DTP_PROBE_ACCEPTED);
    CHECK(r12.version == DTP_TLS1_2);
    return 0;
}

static int suite_refused_and_accepted(void)
{
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.max_version = DTP_TLS1_2;
    struct dtp_probe_result out, in, rc4, chacha;
    p.suites = one("TLS_RSA_WITH_AES_128_GCM_SHA256"); /* R17: static RSA, not listed */
    CHECK(run(&s, &p, &out, "static RSA suite") == DTP_OK);
    p.suites = one("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    CHECK(run(&s, &p, &in, "listed suite") == DTP_OK);
    p.suites = one("TLS_RSA_WITH_RC4_128_SHA"); /* R14; not in OpenSSL: a hand-made hello */
    CHECK(run(&s, &p, &rc4, "RC4 (hand-made hello)") == DTP_OK);
    p.min_version = p.max_version = DTP_TLS1_3;
    p.suites = one("TLS_CHACHA20_POLY1305_SHA256");
    CHECK(run(&s, &p, &chacha, "tls13 chacha only") == DTP_OK);
    srv_stop(&s);
    CHECK_REFUSED(out, 40);
    CHECK(strcmp(out.detail, "handshake_failure (40)") == 0);
    CHECK_OUTCOME(in, DTP_PROBE_ACCEPTED);
    CHECK(strcmp(in.suite, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == 0 && in.ems);
    CHECK_REFUSED(rc4, 40);
    CHECK_OUTCOME(chacha, DTP_PROBE_ACCEPTED);
    CHECK(strcmp(chacha.suite, "TLS_CHACHA20_POLY1305_SHA256") == 0);

    /* TLS 1.2 DHE: the group from the server's parameters (RFC 7919). */
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-nd", "rsa", NULL)) == 0);
    p = base_probe();
    p.max_version = DTP_TLS1_2;
    p.suites = one("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256");
    struct dtp_probe_result dhe;
    CHECK(run(&s, &p, &dhe, "DHE") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(dhe, DTP_PROBE_ACCEPTED);
    CHECK(strcmp(dhe.suite, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256") == 0);
    CHECK(strcmp(dhe.group, "ffdhe2048") == 0 && dhe.group_bits == 2048);
    return 0;
}

static int sha1_sigalgs_refused(void)
{
    /* R32: B.12 signs with SHA-256+ only; BCP195 (security level 0) still
     * signs with SHA-1 for a client that offers nothing else. */
    static const char *const sha1[] = {"rsa_pkcs1_sha1", "ecdsa_sha1", NULL};
    struct dtp_probe p = base_probe();
    p.max_version = DTP_TLS1_2;
    p.sigalgs = sha1;
    struct srv s;
    struct dtp_probe_result b12, old;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    CHECK(run(&s, &p, &b12, "sha1 sigalgs vs B.12") == DTP_OK);
    srv_stop(&s);
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195", "rsa", NULL)) == 0);
    CHECK(run(&s, &p, &old, "sha1 sigalgs vs bcp195") == DTP_OK);
    srv_stop(&s);
    CHECK_REFUSED(b12, 40);
    CHECK_OUTCOME(old, DTP_PROBE_ACCEPTED);
    CHECK(old.version == DTP_TLS1_2);
    return 0;
}

static int sslv3_raw_refused(void)
{
    /* C2, R7, Q8: an SSL 3.0 hello gets protocol_version, also from the
     * profile that still takes TLS 1.0. */
    static const char *const profiles[] = {"bcp195", "bcp195-nd"};
    for (size_t i = 0; i < 2; i++) {
        struct srv s;
        CHECK(srv_start(&s, SRV_TLS, server_ctx(profiles[i], "rsa", NULL)) == 0);
        struct dtp_probe p = base_probe();
        p.min_version = p.max_version = DTP_SSL3_0;
        struct dtp_probe_result r;
        CHECK(run(&s, &p, &r, profiles[i]) == DTP_OK);
        srv_stop(&s);
        CHECK_REFUSED(r, 70);
    }
    return 0;
}

static int scsv(void)
{
    /* RFC 7507 against BCP195, which takes TLS 1.0-1.2: TLS 1.1 with the
     * SCSV is an inappropriate fallback; without it, a downgrade (B2). */
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.min_version = DTP_TLS1_0;
    p.max_version = DTP_TLS1_1;
    p.fallback_scsv = true;
    struct dtp_probe_result with, without;
    CHECK(run(&s, &p, &with, "tls1.1 + scsv") == DTP_OK);
    p.fallback_scsv = false;
    CHECK(run(&s, &p, &without, "tls1.1") == DTP_OK);
    srv_stop(&s);
    CHECK_REFUSED(with, 86);
    CHECK(strcmp(with.detail, "inappropriate_fallback (86)") == 0);
    CHECK_OUTCOME(without, DTP_PROBE_ACCEPTED);
    CHECK(without.version == DTP_TLS1_1 && strcmp(without.suite, "TLS_RSA_WITH_AES_128_CBC_SHA") == 0);
    CHECK(without.group[0] == '\0' && without.group_bits == 0); /* static RSA: no key exchange group */
    return 0;
}

static int no_ems(void)
{
    /* R36: B.12 refuses a TLS 1.2 hello without extended_master_secret. */
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.max_version = DTP_TLS1_2;
    p.no_ems = true;
    struct dtp_probe_result without, with, tls13;
    CHECK(run(&s, &p, &without, "tls12 no ems") == DTP_OK);
    p.max_version = DTP_TLS1_3;
    CHECK(run(&s, &p, &tls13, "tls13 no ems") == DTP_OK);
    p.max_version = DTP_TLS1_2;
    p.no_ems = false;
    CHECK(run(&s, &p, &with, "tls12 ems") == DTP_OK);
    srv_stop(&s);
    CHECK_REFUSED(without, 40);
    CHECK_OUTCOME(with, DTP_PROBE_ACCEPTED);
    CHECK(with.ems && with.version == DTP_TLS1_2);
    CHECK_OUTCOME(tls13, DTP_PROBE_ACCEPTED); /* TLS 1.3 needs no EMS */
    CHECK(tls13.version == DTP_TLS1_3 && tls13.ems);
    return 0;
}

static int no_client_cert_tls13(void)
{
    /* The server requires a client certificate. TLS 1.3: refused after the
     * client's Finished with certificate_required (as test_handshake's
     * client_cert_missing); TLS 1.2: inside the handshake. A certificate the
     * server does not trust is refused the same way. */
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.cert_file = p.key_file = NULL;
    struct dtp_probe_result r13, r12, untrusted;
    CHECK(run(&s, &p, &r13, "tls13 no cert") == DTP_OK);
    p.max_version = DTP_TLS1_2;
    CHECK(run(&s, &p, &r12, "tls12 no cert") == DTP_OK);
    p.max_version = DTP_TLS1_3;
    p.cert_file = fp("other-client-rsa.pem");
    p.key_file = fp("other-client-rsa.key");
    CHECK(run(&s, &p, &untrusted, "tls13 untrusted cert") == DTP_OK);
    srv_stop(&s);
    CHECK_REFUSED(r13, 116);
    CHECK(strcmp(r13.detail, "certificate_required (116) after the handshake") == 0);
    CHECK(r13.cert_requested && r13.chain_len == 2 && r13.verify_result == 0); /* the chain is still seen */
    CHECK_REFUSED(r12, 40);
    CHECK(r12.cert_requested);
    CHECK_REFUSED(untrusted, 48); /* unknown_ca */
    CHECK(strstr(untrusted.detail, "unknown_ca") != NULL);
    return 0;
}

static int alpn_other_refused(void)
{
    /* R39: a client whose ALPN list lacks "dicom" gets no_application_protocol. */
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    p.alpn = "http/1.1";
    struct dtp_probe_result r, none;
    CHECK(run(&s, &p, &r, "alpn http/1.1") == DTP_OK);
    p.alpn = NULL;
    CHECK(run(&s, &p, &none, "no alpn") == DTP_OK);
    srv_stop(&s);
    CHECK_REFUSED(r, 120);
    CHECK_OUTCOME(none, DTP_PROBE_ACCEPTED);
    CHECK(none.alpn[0] == '\0');
    return 0;
}

static int verify_result(void)
{
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-nd", "rsa", NULL)) == 0);
    struct dtp_probe p = base_probe();
    struct dtp_probe_result good, wrong, none;
    CHECK(run(&s, &p, &good, "ca.pem") == DTP_OK);
    p.ca_file = fp("other-ca.pem");
    CHECK(run(&s, &p, &wrong, "other-ca.pem") == DTP_OK);
    p.ca_file = NULL;
    CHECK(run(&s, &p, &none, "no CA") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(good, DTP_PROBE_ACCEPTED);
    CHECK(good.verify_result == 0 && !strstr(good.detail, "certificate:"));
    CHECK_OUTCOME(wrong, DTP_PROBE_ACCEPTED); /* verified, never enforced */
    /* The server sends its root: X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN. */
    CHECK(wrong.verify_result == 19);
    CHECK(strstr(wrong.detail, "; certificate: self-signed certificate in certificate chain (19)") != NULL);
    CHECK_OUTCOME(none, DTP_PROBE_ACCEPTED);
    CHECK(none.verify_result == -1 && none.chain_len == 2);
    return 0;
}

static int chain_fields(void)
{
    /* A SHA-1 signed leaf (M31), a chain with an intermediate, an expired leaf. */
    struct {
        const char *profile, *key;
        struct dtp_probe_result r;
    } c[] = {{"bcp195", "sha1-server-rsa", {0}}, {"bcp195-8996", "int-server-rsa", {0}},
             {"bcp195-nd", "expired-server-rsa", {0}}};
    for (size_t i = 0; i < 3; i++) {
        struct srv s;
        CHECK(srv_start(&s, SRV_TLS, server_ctx(c[i].profile, c[i].key, NULL)) == 0);
        struct dtp_probe p = base_probe();
        CHECK(run(&s, &p, &c[i].r, c[i].key) == DTP_OK);
        srv_stop(&s);
        CHECK_OUTCOME(c[i].r, DTP_PROBE_ACCEPTED);
    }
    CHECK(strcmp(c[0].r.chain[0].sig_hash, "SHA1") == 0 && c[0].r.chain[0].sig_hash_bits == 160);
    CHECK(c[0].r.verify_result == 0);
    const struct dtp_probe_result *ic = &c[1].r;
    CHECK(ic->chain_len == 2 && strcmp(ic->chain[0].subject, "/CN=localhost") == 0); /* leaf + intermediate */
    CHECK(strcmp(ic->chain[0].issuer, ic->chain[1].subject) == 0 && strstr(ic->chain[1].subject, "intermediate"));
    CHECK(strcmp(ic->chain[1].issuer, "/CN=dtp test CA") == 0 && !ic->chain[1].self_signed);
    CHECK(ic->verify_result == 0);
    CHECK(c[2].r.verify_result == 10); /* X509_V_ERR_CERT_HAS_EXPIRED */
    CHECK(c[2].r.chain[0].not_after < (long long)time(NULL));
    CHECK(c[2].r.chain[0].not_before == 1577836800LL && c[2].r.chain[0].not_after == 1577923200LL); /* 2020-01-01..02 */
    CHECK(strstr(c[2].r.detail, "certificate has expired (10)") != NULL);
    return 0;
}

static int not_tls(void)
{
    /* C1: a plain-text port, a plain DICOM port. */
    struct srv http, dicom;
    CHECK(srv_start(&http, SRV_HTTP, NULL) == 0);
    CHECK(srv_start(&dicom, SRV_DICOM_RJ, NULL) == 0);
    struct dtp_probe p = base_probe(), ssl3 = base_probe();
    ssl3.min_version = ssl3.max_version = DTP_SSL3_0;
    struct dtp_probe_result h, d, h3, d3;
    CHECK(run(&http, &p, &h, "HTTP server") == DTP_OK);
    CHECK(run(&dicom, &p, &d, "DICOM server") == DTP_OK);
    CHECK(run(&http, &ssl3, &h3, "HTTP server, ssl3 hello") == DTP_OK);
    CHECK(run(&dicom, &ssl3, &d3, "DICOM server, ssl3 hello") == DTP_OK);
    srv_stop(&http);
    srv_stop(&dicom);
    CHECK_OUTCOME(h, DTP_PROBE_NOT_TLS);
    CHECK(strstr(h.detail, "\"HTTP/\" (HTTP)") != NULL && h.alert == -1);
    CHECK_OUTCOME(d, DTP_PROBE_NOT_TLS);
    CHECK(strstr(d.detail, "A-ASSOCIATE-RJ") != NULL && strstr(d.detail, "03 00 00 00 00") != NULL);
    CHECK_OUTCOME(h3, DTP_PROBE_NOT_TLS);
    CHECK_OUTCOME(d3, DTP_PROBE_NOT_TLS);
    CHECK(strstr(d3.detail, "A-ASSOCIATE-RJ") != NULL);
    return 0;
}

static int closed(void)
{
    struct srv s;
    CHECK(srv_start(&s, SRV_CLOSE, NULL) == 0);
    struct dtp_probe p = base_probe(), ssl3 = base_probe();
    ssl3.min_version = ssl3.max_version = DTP_SSL3_0;
    struct dtp_probe_result r, r3;
    CHECK(run(&s, &p, &r, "closing server") == DTP_OK);
    CHECK(run(&s, &ssl3, &r3, "closing server, ssl3 hello") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(r, DTP_PROBE_CLOSED);
    CHECK(r.alert == -1 && strstr(r.detail, "without an alert") != NULL);
    CHECK_OUTCOME(r3, DTP_PROBE_CLOSED);
    if (gnutls_built()) {
        CHECK(srv_start(&s, SRV_CLOSE, NULL) == 0);
        p.backend = "gnutls";
        CHECK(run(&s, &p, &r, "closing server, gnutls") == DTP_OK);
        srv_stop(&s);
        CHECK_OUTCOME(r, DTP_PROBE_CLOSED);
    }
    return 0;
}

static int timeout(void)
{
    struct srv s;
    CHECK(srv_start(&s, SRV_SILENT, NULL) == 0);
    struct dtp_probe p = base_probe(), ssl3 = base_probe();
    p.timeout_ms = ssl3.timeout_ms = 300;
    ssl3.min_version = ssl3.max_version = DTP_SSL3_0;
    struct dtp_probe_result r, r3;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(run(&s, &p, &r, "silent server") == DTP_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(run(&s, &ssl3, &r3, "silent server, ssl3 hello") == DTP_OK);
    srv_stop(&s);
    double wall = (double)(t1.tv_sec - t0.tv_sec) * 1000 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK_OUTCOME(r, DTP_PROBE_TIMEOUT);
    CHECK(strcmp(r.detail, "no answer within 300 ms") == 0);
    CHECK(r.ms >= 290 && r.ms < 1000 && wall < 1000);
    CHECK_OUTCOME(r3, DTP_PROBE_TIMEOUT);
    CHECK(r3.ms >= 290 && r3.ms < 1000);
    if (gnutls_built()) {
        CHECK(srv_start(&s, SRV_SILENT, NULL) == 0);
        p.backend = "gnutls";
        CHECK(run(&s, &p, &r, "silent server, gnutls") == DTP_OK);
        srv_stop(&s);
        CHECK_OUTCOME(r, DTP_PROBE_TIMEOUT);
        CHECK(r.ms >= 290 && r.ms < 1000);
    }
    return 0;
}

static int unreachable(void)
{
    /* A port nobody listens on, and a name that cannot resolve (RFC 6761). */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
          getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char port[16];
    snprintf(port, sizeof port, "%u", ntohs(a.sin_port));
    close(fd);
    struct dtp_probe p = base_probe();
    struct dtp_probe_result r, n;
    int rc = dtp_probe_run("127.0.0.1", port, &p, &r);
    show("closed port", rc, &r);
    CHECK(rc == DTP_OK);
    CHECK_OUTCOME(r, DTP_PROBE_UNREACHABLE);
    CHECK(strstr(r.detail, "Connection refused") != NULL);
    rc = dtp_probe_run("no-such-host.invalid", "2762", &p, &n);
    show("unresolvable name", rc, &n);
    CHECK(rc == DTP_OK);
    CHECK_OUTCOME(n, DTP_PROBE_UNREACHABLE);
    CHECK(strstr(n.detail, "cannot resolve no-such-host.invalid") != NULL);
    return 0;
}

static int renegotiation(void)
{
    /* C5: OpenSSL 3.0 servers refuse client-initiated renegotiation with a
     * no_renegotiation warning; with it allowed, it completes. */
    struct dtp_probe p = base_probe();
    p.max_version = DTP_TLS1_2;
    p.renegotiate = true;
    struct srv s;
    struct dtp_probe_result refused, done, tls13;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-ex", "rsa", NULL)) == 0);
    CHECK(run(&s, &p, &refused, "renegotiation refused") == DTP_OK);
    srv_stop(&s);
    dtp_ctx *allowing = server_ctx("bcp195-ex", "rsa", NULL);
    CHECK(allowing);
    SSL_CTX_set_options(dtp_ctx_ssl_ctx(allowing), SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
    CHECK(srv_start(&s, SRV_TLS, allowing) == 0);
    CHECK(run(&s, &p, &done, "renegotiation allowed") == DTP_OK);
    srv_stop(&s);
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    p.max_version = DTP_TLS1_3;
    CHECK(run(&s, &p, &tls13, "renegotiation in tls13") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(refused, DTP_PROBE_ACCEPTED);
    CHECK(refused.secure_renegotiation && !refused.renegotiated && refused.alert == -1);
    CHECK(strstr(refused.detail, "renegotiation refused: no_renegotiation (100) warning") != NULL);
    CHECK_OUTCOME(done, DTP_PROBE_ACCEPTED);
    CHECK(done.secure_renegotiation && done.renegotiated && done.alert == -1);
    CHECK(strstr(done.detail, "renegotiation completed") != NULL);
    CHECK_OUTCOME(tls13, DTP_PROBE_ACCEPTED);
    CHECK(tls13.version == DTP_TLS1_3 && !tls13.renegotiated && !tls13.secure_renegotiation);
    CHECK(strstr(tls13.detail, "none in TLS 1.3") != NULL);
    return 0;
}

static int compression_refused(void)
{
    /* C4: DEFLATE offered in a hand-made hello; the library's server picks
     * null, the canned server DEFLATE. */
    struct srv s, canned;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    CHECK(srv_start(&canned, SRV_CANNED, NULL) == 0);
    struct dtp_probe p = base_probe();
    p.compression = true;
    struct dtp_probe_result null, deflate;
    CHECK(run(&s, &p, &null, "compression vs B.12") == DTP_OK);
    CHECK(run(&canned, &p, &deflate, "compression vs canned") == DTP_OK);
    srv_stop(&s);
    srv_stop(&canned);
    CHECK_OUTCOME(null, DTP_PROBE_ACCEPTED);
    CHECK(!null.compression && null.version == DTP_TLS1_2);
    CHECK(strncmp(null.detail, "ServerHello only: TLSv1.2 TLS_ECDHE_", 36) == 0 && strstr(null.detail, "(null)"));
    CHECK_OUTCOME(deflate, DTP_PROBE_ACCEPTED);
    CHECK(deflate.compression && strstr(deflate.detail, "compression method 1 (DEFLATE)") != NULL);
    return 0;
}

static int raw_suite_accepted(void)
{
    /* A server that picks what OpenSSL cannot offer (RC4, 3DES, SSL 3.0):
     * seen from its ServerHello only. */
    struct srv s;
    CHECK(srv_start(&s, SRV_CANNED, NULL) == 0);
    struct dtp_probe p = base_probe();
    p.max_version = DTP_TLS1_2;
    struct dtp_probe_result rc4, tdes, ssl3;
    p.suites = one("TLS_RSA_WITH_RC4_128_SHA");
    CHECK(run(&s, &p, &rc4, "RC4 vs canned") == DTP_OK);
    p.suites = one("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA");
    CHECK(run(&s, &p, &tdes, "3DES vs canned") == DTP_OK);
    p.suites = NULL;
    p.min_version = p.max_version = DTP_SSL3_0;
    CHECK(run(&s, &p, &ssl3, "SSLv3 vs canned") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(rc4, DTP_PROBE_ACCEPTED);
    CHECK(rc4.version == DTP_TLS1_2 && strcmp(rc4.suite, "TLS_RSA_WITH_RC4_128_SHA") == 0);
    CHECK(strcmp(rc4.detail, "ServerHello only: the server chose it; handshake not completed") == 0);
    CHECK_OUTCOME(tdes, DTP_PROBE_ACCEPTED);
    CHECK(strcmp(tdes.suite, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA") == 0);
    CHECK_OUTCOME(ssl3, DTP_PROBE_ACCEPTED);
    CHECK(ssl3.version == DTP_SSL3_0 && strcmp(ssl3.suite, "TLS_RSA_WITH_AES_128_CBC_SHA") == 0);
    CHECK(strncmp(ssl3.detail, "ServerHello only: SSLv3", 23) == 0);
    return 0;
}

static int hostile_answers(void)
{
    /* Broken records: a length past any TLS record, a record cut short. */
    struct srv huge, cut;
    CHECK(srv_start(&huge, SRV_HUGE_LEN, NULL) == 0);
    CHECK(srv_start(&cut, SRV_CUT_RECORD, NULL) == 0);
    struct dtp_probe p = base_probe(), ssl3 = base_probe();
    ssl3.min_version = ssl3.max_version = DTP_SSL3_0;
    struct dtp_probe_result h, h3, c, c3;
    CHECK(run(&huge, &p, &h, "65535-byte record") == DTP_OK);
    CHECK(run(&huge, &ssl3, &h3, "65535-byte record, ssl3") == DTP_OK);
    CHECK(run(&cut, &p, &c, "cut record") == DTP_OK);
    CHECK(run(&cut, &ssl3, &c3, "cut record, ssl3") == DTP_OK);
    srv_stop(&huge);
    srv_stop(&cut);
    CHECK_OUTCOME(h, DTP_PROBE_NOT_TLS);
    CHECK(h.alert == -1 && strstr(h.detail, "(16 03 03 ff ff) gives length 65535") != NULL);
    CHECK_OUTCOME(h3, DTP_PROBE_NOT_TLS);
    CHECK(strcmp(h3.detail, h.detail) == 0);
    CHECK_OUTCOME(c, DTP_PROBE_CLOSED);
    CHECK_OUTCOME(c3, DTP_PROBE_CLOSED);
    if (gnutls_built()) {
        CHECK(srv_start(&huge, SRV_HUGE_LEN, NULL) == 0);
        CHECK(srv_start(&cut, SRV_CUT_RECORD, NULL) == 0);
        p.backend = "gnutls";
        CHECK(run(&huge, &p, &h, "65535-byte record, gnutls") == DTP_OK);
        CHECK(run(&cut, &p, &c, "cut record, gnutls") == DTP_OK);
        srv_stop(&huge);
        srv_stop(&cut);
        CHECK_OUTCOME(h, DTP_PROBE_NOT_TLS);
        CHECK(strstr(h.detail, "gives length 65535") != NULL);
        CHECK_OUTCOME(c, DTP_PROBE_CLOSED);
    }
    return 0;
}

static int local_offers(void)
{
    /* Offers that cannot be made: no connection, LOCAL, DTP_OK. */
    struct srv s;
    CHECK(srv_start(&s, SRV_SILENT, NULL) == 0);
    struct dtp_probe p = base_probe();
    struct dtp_probe_result cam, cert, tls13;
    p.max_version = DTP_TLS1_2;
    p.suites = one("TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256");
    CHECK(run(&s, &p, &cam, "camellia-gcm with openssl") == DTP_OK);
    p.suites = NULL;
    p.cert_file = fp("not-pem.pem");
    CHECK(run(&s, &p, &cert, "unreadable client cert") == DTP_OK);
    p = base_probe();
    p.min_version = DTP_TLS1_3;
    p.suites = one("TLS_RSA_WITH_RC4_128_SHA");
    CHECK(run(&s, &p, &tls13, "rc4 in tls13") == DTP_OK);
    struct dtp_probe_result none;
    p.suites = one("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    CHECK(run(&s, &p, &none, "tls12 suite in tls13") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(none, DTP_PROBE_LOCAL);
    CHECK(strcmp(none.detail, "none of the probe's suites can be offered at TLSv1.3 to TLSv1.3") == 0);
    CHECK_OUTCOME(cam, DTP_PROBE_LOCAL);
    CHECK(strstr(cam.detail, "OpenSSL 3.0 lacks TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256") != NULL);
    CHECK(strstr(cam.detail, "backend gnutls") != NULL);
    CHECK_OUTCOME(cert, DTP_PROBE_LOCAL);
    CHECK(strstr(cert.detail, "cannot use client certificate") != NULL);
    CHECK_OUTCOME(tls13, DTP_PROBE_LOCAL);
    CHECK(s.served == 0); /* none of them connected */
    CHECK(cam.ms == 0 && cam.version == DTP_TLS_NONE && cam.alert == -1);
    return 0;
}

static int malformed_probe(void)
{
    struct dtp_probe p = base_probe();
    struct dtp_probe_result r;
    p.suites = one("TLS_NO_SUCH_SUITE");
    CHECK(dtp_probe_run("127.0.0.1", "1", &p, &r) == DTP_R_CONFIG_INVALID);
    CHECK(strstr(r.detail, "unknown suite name TLS_NO_SUCH_SUITE") != NULL);
    p = base_probe();
    p.min_version = DTP_TLS1_3;
    p.max_version = DTP_TLS1_2;
    CHECK(dtp_probe_run("127.0.0.1", "1", &p, &r) == DTP_R_CONFIG_INVALID);
    p = base_probe();
    p.backend = "wolfssl";
    CHECK(dtp_probe_run("127.0.0.1", "1", &p, &r) == DTP_R_CONFIG_INVALID);
    CHECK(strstr(r.detail, "wolfssl") != NULL);
    p = base_probe();
    p.key_file = NULL;
    CHECK(dtp_probe_run("127.0.0.1", "1", &p, &r) == DTP_R_CONFIG_INVALID);
    static const char *const groups[] = {"no-such-group", NULL};
    p = base_probe();
    p.groups = groups;
    CHECK(dtp_probe_run("127.0.0.1", "1", &p, &r) == DTP_R_CONFIG_INVALID);
    CHECK(strstr(r.detail, "no-such-group") != NULL);
    p = base_probe();
    p.min_version = 0x0200;
    CHECK(dtp_probe_run("127.0.0.1", "1", &p, &r) == DTP_R_CONFIG_INVALID);
    CHECK(dtp_probe_run(NULL, "1", &p, &r) == DTP_R_CONFIG_INVALID);
    CHECK(dtp_probe_run("127.0.0.1", "1", NULL, &r) == DTP_R_CONFIG_INVALID);
    CHECK(dtp_probe_run("127.0.0.1", "1", &p, NULL) == DTP_R_CONFIG_INVALID);
    CHECK(r.outcome == DTP_PROBE_LOCAL);
    /* The outcome names. */
    static const char *const names[] = {"accepted", "refused", "closed", "timeout", "not_tls", "unreachable", "local"};
    for (int i = 0; i < 7; i++)
        CHECK(strcmp(dtp_probe_outcome_name(i), names[i]) == 0);
    CHECK(strcmp(dtp_probe_outcome_name(7), "unknown") == 0 && strcmp(dtp_probe_outcome_name(-1), "unknown") == 0);
    return 0;
}

static int camellia_gnutls(void)
{
    /* E3, K3, M21: a Camellia-GCM-only offer made by GnuTLS against an
     * Extended BCP195 server of the GnuTLS backend; OpenSSL cannot make it. */
    static const char *const suite = "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256";
    struct dtp_probe p = base_probe();
    p.min_version = p.max_version = DTP_TLS1_2;
    p.suites = one(suite);
    p.backend = "gnutls";
    struct dtp_probe_result g, o;
    if (!gnutls_built()) {
        CHECK(dtp_probe_run("127.0.0.1", "1", &p, &g) == DTP_OK);
        show("no gnutls in this build", DTP_OK, &g);
        CHECK_OUTCOME(g, DTP_PROBE_LOCAL);
        CHECK(strcmp(g.detail, "this build has no GnuTLS backend") == 0);
        return 0;
    }
    struct srv s;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-ex", "rsa", "gnutls")) == 0);
    CHECK(run(&s, &p, &g, "camellia gnutls") == DTP_OK);
    p.backend = "openssl";
    CHECK(run(&s, &p, &o, "camellia openssl") == DTP_OK);
    srv_stop(&s);
    CHECK_OUTCOME(g, DTP_PROBE_ACCEPTED);
    CHECK(g.version == DTP_TLS1_2 && strcmp(g.suite, suite) == 0);
    CHECK(strcmp(g.group, "secp256r1") == 0 && g.group_bits == 256); /* E5: no X25519 */
    CHECK(g.ems && g.secure_renegotiation && g.cert_requested && !g.compression);
    CHECK(g.chain_len >= 1 && strcmp(g.chain[0].subject, "/CN=localhost") == 0);
    CHECK(strcmp(g.chain[0].key_type, "RSA") == 0 && g.chain[0].key_bits == 2048);
    CHECK(strcmp(g.chain[0].sig_hash, "SHA256") == 0 && g.chain[0].sig_hash_bits == 256);
    CHECK(g.verify_result == 0);
    CHECK_OUTCOME(o, DTP_PROBE_LOCAL);
    CHECK(strstr(o.detail, "probe it with backend gnutls") != NULL);
    CHECK(s.served == 1 && s.rc[0] == DTP_OK);
    return 0;
}

static int gnutls_probe_fields(void)
{
    /* The GnuTLS probe against OpenSSL servers: TLS 1.3 with ALPN and SNI,
     * the TLS 1.3 refusal after the handshake, a plain-text port, flags it
     * cannot do, an offer wider than asked. */
    if (!gnutls_built())
        return 0;
    struct srv s, http;
    CHECK(srv_start(&s, SRV_TLS, server_ctx("bcp195-8996", "rsa", NULL)) == 0);
    CHECK(srv_start(&http, SRV_HTTP, NULL) == 0);
    struct dtp_probe p = base_probe();
    static const char *const x25519[] = {"x25519", NULL};
    p.backend = "gnutls";
    p.alpn = "dicom";
    p.server_name = "localhost";
    p.groups = x25519;
    struct dtp_probe_result ok, nocert, text, flag, wide, wrongca;
    CHECK(run(&s, &p, &ok, "gnutls tls13") == DTP_OK);
    p.ca_file = fp("other-ca.pem");
    CHECK(run(&s, &p, &wrongca, "gnutls other CA") == DTP_OK);
    p.ca_file = fp("ca.pem");
    p.cert_file = p.key_file = NULL;
    CHECK(run(&s, &p, &nocert, "gnutls tls13 no cert") == DTP_OK);
    CHECK(run(&http, &p, &text, "gnutls vs HTTP") == DTP_OK);
    p.renegotiate = true;
    CHECK(run(&s, &p, &flag, "gnutls renegotiate") == DTP_OK);
    p.renegotiate = false;
    static const char *const two[] = {"TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                                      NULL};
    p.suites = two;
    p.max_version = DTP_TLS1_2;
    CHECK(run(&s, &p, &wide, "gnutls product wider") == DTP_OK);
    srv_stop(&s);
    srv_stop(&http);
    CHECK_OUTCOME(ok, DTP_PROBE_ACCEPTED);
    CHECK(ok.version == DTP_TLS1_3 && strcmp(ok.suite, "TLS_AES_256_GCM_SHA384") == 0);
    CHECK(strcmp(ok.group, "x25519") == 0 && ok.group_bits == 255 && ok.ems);
    CHECK(strcmp(ok.alpn, "dicom") == 0 && ok.cert_requested && ok.verify_result == 0);
    CHECK(strcmp(ok.chain[0].issuer, "/CN=dtp test CA") == 0);
    CHECK(strcmp(s.sni[0], "localhost") == 0);
    CHECK_OUTCOME(wrongca, DTP_PROBE_ACCEPTED);
    CHECK(wrongca.verify_result > 0 && strstr(wrongca.detail, "certificate:") != NULL);
    CHECK_REFUSED(nocert, 116);
    CHECK(strstr(nocert.detail, "after the handshake") != NULL);
    CHECK_OUTCOME(text, DTP_PROBE_NOT_TLS);
    CHECK(strstr(text.detail, "HTTP") != NULL);
    CHECK_OUTCOME(flag, DTP_PROBE_LOCAL);
    CHECK(strcmp(flag.detail, "the gnutls probe cannot renegotiate") == 0);
    CHECK_OUTCOME(wide, DTP_PROBE_LOCAL);
    CHECK(strstr(wide.detail, "would also offer") != NULL);
    CHECK(s.served == 3); /* the LOCAL ones never connected */
    return 0;
}

static const struct check_case cases[] = {
    CASE(accepted_tls13_default), CASE(accepted_tls12_and_ec), CASE(version_refused_tls11),
    CASE(suite_refused_and_accepted), CASE(sha1_sigalgs_refused), CASE(sslv3_raw_refused), CASE(scsv), CASE(no_ems),
    CASE(no_client_cert_tls13), CASE(alpn_other_refused), CASE(verify_result), CASE(chain_fields), CASE(not_tls),
    CASE(closed), CASE(timeout), CASE(unreachable), CASE(renegotiation), CASE(compression_refused),
    CASE(raw_suite_accepted), CASE(hostile_answers), CASE(local_offers), CASE(malformed_probe), CASE(camellia_gnutls),
    CASE(gnutls_probe_fields),
};
CHECK_MAIN(cases)
