/* The GnuTLS backend: real TLS handshakes over a socketpair, GnuTLS with
 * GnuTLS and with the OpenSSL backend both ways, every profile, RSA and EC
 * certificates; the Camellia-GCM suites OpenSSL lacks (E3, K3, M21); the
 * same reason rows as the OpenSSL backend for the same failures (C6). */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "pair.h"

static const char *const all_profiles[] = {"bcp195",      "bcp195-nd",       "bcp195-ex", "cryptrec",
                                           "bcp195-8996", "bcp195-8996-mod", NULL};

#define GT "gnutls"
#define OS "openssl"

static struct fx with(struct fx f, const char *backend)
{
    f.backend = backend;
    return f;
}

static struct fx keyed(struct fx f, const char *role, const char *keytype)
{
    static char names[8][64];
    static int next;
    char *c = names[next++ % 8], *k = names[next++ % 8];
    snprintf(c, 64, "%s-%s.pem", role, keytype);
    snprintf(k, 64, "%s-%s.key", role, keytype);
    f.cert = c;
    f.key = k;
    return f;
}

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* One handshake under profile p, both sides' backends given; checks what
 * every successful session must show and copies the client's view. */
static int pair_ok(const char *p, const char *keytype, const char *cbe, const char *sbe, struct dtp_session_info *out)
{
    struct side c, s;
    CHECK(run_pair(mk(with(keyed(CLIENT(p, "rsa"), "client", keytype), cbe)),
                   mk(with(keyed(SERVER(p, "rsa"), "server", keytype), sbe)), &c, &s) == 0);
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    const struct dtp_session_info *ci = dtp_conn_info(c.conn), *si = dtp_conn_info(s.conn);
    char line[512];
    printf("%s %s %s -> %s: %s\n", p, keytype, cbe, sbe, dtp_session_format(ci, line, sizeof line));
    const struct dtp_profile *pr = dtp_profile_find(p, NULL);
    CHECK(ci->version == si->version && strcmp(ci->suite, si->suite) == 0);
    CHECK(ci->version == pr->max_version);
    CHECK(in_list(ci->version == DTP_TLS1_3 ? pr->tls13_suites : pr->tls12_suites, ci->suite));
    CHECK(!ci->downgraded && !si->downgraded);
    CHECK(strstr(ci->peer_subject, "CN=localhost") != NULL);
    CHECK(strstr(si->peer_subject, "dtp test client") != NULL);
    CHECK(strcmp(ci->peer_key_type, strcmp(keytype, "ec") == 0 ? "EC" : "RSA") == 0);
    CHECK(strcmp(si->peer_key_type, ci->peer_key_type) == 0 && si->peer_key_bits == ci->peer_key_bits);
    CHECK(ci->kx_bits >= pr->min_ecdhe_bits && ci->group[0]);
    CHECK(strcmp(ci->group, si->group) == 0 && in_list(pr->groups, ci->group));
    CHECK(ci->ems && si->ems);
    CHECK(strcmp(ci->alpn, pr->alpn ? pr->alpn : "") == 0 && strcmp(si->alpn, ci->alpn) == 0);
    /* data both ways */
    char buf[32];
    CHECK(dtp_conn_write(c.conn, "ping", 4) == 4);
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
    CHECK(dtp_conn_write(s.conn, "pong!", 5) == 5);
    ssize_t got = dtp_conn_read(c.conn, buf, sizeof buf);
    if (got != 5)
        fprintf(stderr, "client read %zd: %d %s\n", got, dtp_conn_error(c.conn)->code, DETAIL(c));
    CHECK(got == 5 && memcmp(buf, "pong!", 5) == 0);
    CHECK(dtp_conn_close_notify(c.conn) == DTP_OK);
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 0);
    if (out)
        *out = *ci;
    done(&c, &s);
    return 0;
}

/* Every profile, RSA and EC: the client backend cbe against both server
 * backends must agree on version and suite (the GnuTLS priority string
 * keeps the profile's preference, R25). */
static int matrix(const char *cbe, const char *sbe)
{
    static const char *const keys[] = {"rsa", "ec"};
    for (size_t i = 0; all_profiles[i]; i++)
        for (size_t k = 0; k < 2; k++) {
            /* B1: bcp195 lists no ECDSA suite; EC certificates meet in TLS 1.3 only */
            struct dtp_session_info got, ref;
            CHECK(pair_ok(all_profiles[i], keys[k], cbe, sbe, &got) == 0);
            CHECK(pair_ok(all_profiles[i], keys[k], OS, OS, &ref) == 0);
            if (got.version != ref.version || strcmp(got.suite, ref.suite) != 0)
                fprintf(stderr, "%s %s: %s -> %s negotiated %s, openssl pair %s\n", all_profiles[i], keys[k], cbe, sbe,
                        got.suite, ref.suite);
            CHECK(got.version == ref.version && strcmp(got.suite, ref.suite) == 0);
        }
    return 0;
}

static int gnutls_gnutls_every_profile(void) { return matrix(GT, GT); }
static int openssl_client_gnutls_server(void) { return matrix(OS, GT); }
static int gnutls_client_openssl_server(void) { return matrix(GT, OS); }

static const char *const camellia[] = {
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",   "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",     "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"};

/* A client row of profile p restricted to one TLS 1.2 suite (as
 * test_handshake.c's b13_tls12_ecdsa_ccm8). */
static struct dtp_profile only_suite(const char *p, const char *const *one)
{
    struct dtp_profile cp = *dtp_profile_find(p, NULL);
    cp.max_version = DTP_TLS1_2;
    cp.tls13_suites = NULL;
    cp.tls12_suites = one;
    cp.tls12_client_order = NULL;
    return cp;
}

static int camellia_gcm_each_suite(void)
{
    /* E3, K3: all six under bcp195-ex and cryptrec; M21: the four ECDHE
     * ones under bcp195-8996-mod (M25/Q7: no DHE there). */
    static const char *const profiles[] = {"bcp195-ex", "cryptrec", "bcp195-8996-mod"};
    for (size_t pi = 0; pi < 3; pi++)
        for (size_t i = 0; i < 6; i++) {
            if (!in_list(dtp_profile_find(profiles[pi], NULL)->tls12_suites, camellia[i]))
                continue;
            CHECK(dtp_backend_suite_available(GT, camellia[i]));
            CHECK(!dtp_backend_suite_available(OS, camellia[i]));
            const char *one[] = {camellia[i], NULL};
            struct dtp_profile cp = only_suite(profiles[pi], one);
            const char *kt = strstr(camellia[i], "ECDSA") ? "ec" : "rsa";
            struct fx cf = with(keyed(CLIENT(NULL, "rsa"), "client", kt), GT);
            cf.p = &cp;
            struct side c, s;
            CHECK(run_pair(mk(cf), mk(with(keyed(SERVER(profiles[pi], "rsa"), "server", kt), GT)), &c, &s) == 0);
            CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
            CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
            const struct dtp_session_info *ci = dtp_conn_info(c.conn), *si = dtp_conn_info(s.conn);
            char line[512];
            printf("%s: %s\n", profiles[pi], dtp_session_format(si, line, sizeof line));
            CHECK(ci->version == DTP_TLS1_2 && si->version == DTP_TLS1_2);
            CHECK(strcmp(ci->suite, camellia[i]) == 0 && strcmp(si->suite, camellia[i]) == 0);
            CHECK(ci->ems && si->ems);
            if (strstr(camellia[i], "DHE_RSA") == camellia[i] + 4) /* TLS_DHE_... */
                CHECK(ci->kx_finite_field && ci->kx_bits >= 2048);
            else
                CHECK(!ci->kx_finite_field && ci->kx_bits >= 256 && strcmp(ci->group, "x25519") != 0);
            char buf[8];
            CHECK(dtp_conn_write(c.conn, "cam", 3) == 3 && dtp_conn_read(s.conn, buf, sizeof buf) == 3);
            done(&c, &s);
        }
    return 0;
}

static int camellia_only_client_vs_openssl_server(void)
{
    /* OpenSSL 3.0 has no Camellia-GCM: its server finds no shared suite
     * and says so with an alert (202 / 209). */
    static const char *const one[] = {"TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", NULL};
    struct dtp_profile cp = only_suite("bcp195-ex", one);
    struct fx cf = with(CLIENT(NULL, "rsa"), GT);
    cf.p = &cp;
    struct side c, s;
    CHECK(run_pair(mk(cf), mk(SERVER("bcp195-ex", "rsa")), &c, &s) == 0);
    printf("client: %s\nserver: %s\n", DETAIL(c), DETAIL(s));
    CHECK_REASON(DTP_R_NO_SHARED_SUITE, s.rc, DETAIL(s));
    CHECK_REASON(DTP_R_PEER_ALERT, c.rc, DETAIL(c));
    CHECK(strstr(DETAIL(c), "handshake_failure") != NULL);
    done(&c, &s);
    return 0;
}

static int expect_fail(struct fx cf, struct fx sf, int creason, int sreason)
{
    struct side c, s;
    CHECK(run_pair(mk(cf), mk(sf), &c, &s) == 0);
    printf("client %s: %d %s (%s)\nserver %s: %d %s (%s)\n", cf.backend ? cf.backend : OS, c.rc,
           check_reason_name(c.rc), DETAIL(c), sf.backend ? sf.backend : OS, s.rc, check_reason_name(s.rc), DETAIL(s));
    CHECK_REASON(creason, c.rc, DETAIL(c));
    CHECK_REASON(sreason, s.rc, DETAIL(s));
    done(&c, &s);
    return 0;
}

/* The backend pairs a failure is checked with: GnuTLS on both sides, and
 * GnuTLS on one side with OpenSSL on the other. */
static const char *const pairs[3][2] = {{GT, GT}, {GT, OS}, {OS, GT}};

static int untrusted_server(void)
{
    for (int i = 0; i < 3; i++) {
        struct fx cf = with(CLIENT("bcp195-nd", "rsa"), pairs[i][0]);
        cf.ca = "other-ca.pem";
        CHECK(expect_fail(cf, with(SERVER("bcp195-nd", "rsa"), pairs[i][1]), DTP_R_PEER_CERT_UNTRUSTED,
                          DTP_R_PEER_ALERT) == 0);
    }
    return 0;
}

static int expired_server(void)
{
    for (int i = 0; i < 3; i++) {
        struct fx sf = with(SERVER("bcp195-nd", "rsa"), pairs[i][1]);
        sf.cert = "expired-server-rsa.pem";
        sf.key = "expired-server-rsa.key";
        CHECK(expect_fail(with(CLIENT("bcp195-nd", "rsa"), pairs[i][0]), sf, DTP_R_PEER_CERT_EXPIRED,
                          DTP_R_PEER_ALERT) == 0);
    }
    return 0;
}

static int revoked_client(void)
{
    for (int i = 0; i < 3; i++) {
        struct fx cf = with(CLIENT("bcp195-ex", "rsa"), pairs[i][0]), sf = with(SERVER("bcp195-ex", "rsa"), pairs[i][1]);
        cf.cert = "revoked-client-rsa.pem";
        cf.key = "revoked-client-rsa.key";
        sf.crl = "crl.pem";
        CHECK(expect_fail(cf, sf, DTP_R_PEER_ALERT, DTP_R_PEER_CERT_REVOKED) == 0);
    }
    return 0;
}

static int weak_peer_cert(void)
{
    /* B5: an RSA-1024 server certificate (relaxed bcp195 server) is refused
     * by a strict bcp195 client during verification. */
    for (int i = 0; i < 3; i++) {
        struct fx sf = with(SERVER("bcp195", "rsa"), pairs[i][1]);
        sf.cert = "rsa1024-server.pem";
        sf.key = "rsa1024-server.key";
        sf.relax = true;
        CHECK(expect_fail(with(CLIENT("bcp195", "rsa"), pairs[i][0]), sf, DTP_R_PEER_CERT_WEAK, DTP_R_PEER_ALERT) == 0);
    }
    return 0;
}

static int client_cert_missing(void)
{
    for (int i = 0; i < 3; i++) {
        struct fx cf = {.profile = "bcp195-nd", .role = DTP_ROLE_CLIENT, .ca = "ca.pem", .backend = pairs[i][0]};
        struct side c, s;
        CHECK(run_pair(mk(cf), mk(with(SERVER("bcp195-nd", "rsa"), pairs[i][1])), &c, &s) == 0);
        CHECK_REASON(DTP_R_PEER_CERT_MISSING, s.rc, DETAIL(s));
        /* TLS 1.3: the client finishes first and meets the alert on its
         * first read, still the handshake's outcome. */
        char buf[16];
        CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
        CHECK(dtp_conn_read(c.conn, buf, sizeof buf) == -1);
        printf("client %s: %s\n", pairs[i][0], DETAIL(c));
        CHECK_REASON(DTP_R_PEER_ALERT, dtp_conn_error(c.conn)->code, DETAIL(c));
        CHECK(strstr(DETAIL(c), "certificate_required") != NULL);
        done(&c, &s);
    }
    return 0;
}

static int weak_dh_refused_in_handshake(void)
{
    /* An OpenSSL server with 1024-bit DH and DHE only: a GnuTLS client of
     * every profile refuses it inside the handshake (B5, E5). */
    static const char *const profiles[] = {"bcp195", "bcp195-nd", "bcp195-ex", "cryptrec"};
    for (size_t i = 0; i < 4; i++) {
        dtp_ctx *sctx = weak_dh_server();
        CHECK(sctx);
        struct side c, s;
        CHECK(run_pair(mk(with(CLIENT(profiles[i], "rsa"), GT)), sctx, &c, &s) == 0);
        printf("%s client: %s / server: %s\n", profiles[i], DETAIL(c), DETAIL(s));
        CHECK_REASON(DTP_R_EPHEMERAL_KEY_WEAK, c.rc, DETAIL(c));
        CHECK_REASON(DTP_R_PEER_ALERT, s.rc, DETAIL(s));
        done(&c, &s);
    }
    return 0;
}

static int version_refused(void)
{
    /* N1: a TLS 1.1-only OpenSSL client against a GnuTLS bcp195-nd server. */
    dtp_ctx *cctx = mk(CLIENT("bcp195", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_1_VERSION);
    struct side c, s;
    CHECK(run_pair(cctx, mk(with(SERVER("bcp195-nd", "rsa"), GT)), &c, &s) == 0);
    printf("client: %s\nserver: %s\n", DETAIL(c), DETAIL(s));
    CHECK_REASON(DTP_R_VERSION_REFUSED, s.rc, DETAIL(s));
    CHECK_REASON(DTP_R_VERSION_REFUSED, c.rc, DETAIL(c));
    done(&c, &s);
    /* and a GnuTLS bcp195-nd client against a TLS 1.1-only OpenSSL server */
    dtp_ctx *sctx = mk(SERVER("bcp195", "rsa"));
    CHECK(sctx);
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(sctx), TLS1_1_VERSION);
    CHECK(run_pair(mk(with(CLIENT("bcp195-nd", "rsa"), GT)), sctx, &c, &s) == 0);
    printf("client: %s\nserver: %s\n", DETAIL(c), DETAIL(s));
    CHECK_REASON(DTP_R_VERSION_REFUSED, c.rc, DETAIL(c));
    CHECK_REASON(DTP_R_VERSION_REFUSED, s.rc, DETAIL(s));
    done(&c, &s);
    return 0;
}

static int no_shared_suite(void)
{
    /* bcp195 EC server (no ECDSA suite in B1) vs TLS 1.2-only Extended client. */
    for (int i = 0; i < 3; i++)
        CHECK(expect_fail(with(CLIENT("bcp195-ex", "rsa"), pairs[i][0]), with(SERVER("bcp195", "ec"), pairs[i][1]),
                          DTP_R_PEER_ALERT, DTP_R_NO_SHARED_SUITE) == 0);
    return 0;
}

static int bcp195_fallback_downgraded(void)
{
    /* B2, B6: a TLS 1.0 peer with the AES profile's suite connects and is
     * flagged downgraded, on the GnuTLS server. */
    dtp_ctx *cctx = mk(CLIENT("bcp195", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_VERSION);
    SSL_CTX_set_security_level(dtp_ctx_ssl_ctx(cctx), 0);
    struct side c, s;
    CHECK(run_pair(cctx, mk(with(SERVER("bcp195", "rsa"), GT)), &c, &s) == 0);
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    const struct dtp_session_info *si = dtp_conn_info(s.conn);
    printf("server: %s %s downgraded=%d\n", dtp_tls_version_name(si->version), si->suite, si->downgraded);
    CHECK(si->version == DTP_TLS1_0 && strcmp(si->suite, "TLS_RSA_WITH_AES_128_CBC_SHA") == 0 && si->downgraded);
    done(&c, &s);
    /* An AES-profile device offering ECDHE-RSA-AES128-SHA first (in the
     * GnuTLS product, not in B1/B2) still gets the fallback suite. */
    cctx = mk(CLIENT("bcp195", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_VERSION);
    SSL_CTX_set_security_level(dtp_ctx_ssl_ctx(cctx), 0);
    SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(cctx), "ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA");
    CHECK(run_pair(cctx, mk(with(SERVER("bcp195", "rsa"), GT)), &c, &s) == 0);
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    si = dtp_conn_info(s.conn);
    CHECK(strcmp(si->suite, "TLS_RSA_WITH_AES_128_CBC_SHA") == 0 && si->downgraded);
    done(&c, &s);
    /* A TLS 1.2 client offering ChaCha20 and static-RSA GCM first (GnuTLS
     * product extras) gets B1's suite, in the server's order. */
    cctx = mk(CLIENT("bcp195", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(cctx),
                            "ECDHE-RSA-CHACHA20-POLY1305:AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384");
    CHECK(run_pair(cctx, mk(with(SERVER("bcp195", "rsa"), GT)), &c, &s) == 0);
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    si = dtp_conn_info(s.conn);
    printf("server: %s\n", si->suite);
    CHECK(strcmp(si->suite, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384") == 0 && !si->downgraded);
    done(&c, &s);
    return 0;
}

static int outside_profile_refused(void)
{
    /* The kx x cipher x MAC product of the bcp195 priority string contains
     * TLS_RSA_WITH_AES_128_GCM_SHA256, which B1 does not list: a client
     * offering only that gets handshake_failure from the GnuTLS server. */
    dtp_ctx *cctx = mk(CLIENT("bcp195-nd", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(cctx), "AES128-GCM-SHA256");
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_2_VERSION);
    struct side c, s;
    CHECK(run_pair(cctx, mk(with(SERVER("bcp195", "rsa"), GT)), &c, &s) == 0);
    printf("client: %s\nserver: %s\n", DETAIL(c), DETAIL(s));
    CHECK_REASON(DTP_R_NO_SHARED_SUITE, s.rc, DETAIL(s));
    CHECK_REASON(DTP_R_PEER_ALERT, c.rc, DETAIL(c));
    CHECK(strstr(DETAIL(c), "handshake_failure") != NULL);
    done(&c, &s);
    /* A GnuTLS client refuses a server's suite outside its profile. */
    dtp_ctx *sctx = mk(SERVER("bcp195", "rsa"));
    CHECK(sctx);
    SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(sctx), "ECDHE-RSA-AES128-SHA");
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(sctx), TLS1_2_VERSION);
    CHECK(run_pair(mk(with(CLIENT("bcp195", "rsa"), GT)), sctx, &c, &s) == 0);
    printf("client: %s\nserver: %s\n", DETAIL(c), DETAIL(s));
    CHECK_REASON(DTP_R_OUTSIDE_PROFILE, c.rc, DETAIL(c));
    CHECK(strstr(DETAIL(c), "suite 0xc013") != NULL); /* TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA */
    done(&c, &s);
    return 0;
}

static int alpn_and_ems(void)
{
    /* R39: a client listing only another protocol gets
     * no_application_protocol; one without ALPN is served. */
    struct dtp_profile http = *dtp_profile_find("bcp195-8996", NULL), none = http;
    http.alpn = "http/1.1";
    none.alpn = NULL;
    struct fx cf = with(CLIENT(NULL, "rsa"), GT);
    cf.p = &http;
    CHECK(expect_fail(cf, with(SERVER("bcp195-8996", "rsa"), GT), DTP_R_ALPN_MISMATCH, DTP_R_ALPN_MISMATCH) == 0);
    cf.p = &none;
    struct side c, s;
    CHECK(run_pair(mk(cf), mk(with(SERVER("bcp195-8996", "rsa"), GT)), &c, &s) == 0);
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    CHECK(dtp_conn_info(s.conn)->alpn[0] == '\0');
    done(&c, &s);
    /* R36: a TLS 1.2 client without extended_master_secret is refused
     * inside the handshake with handshake_failure. */
    dtp_ctx *cctx = mk(CLIENT("bcp195-8996", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_options(dtp_ctx_ssl_ctx(cctx), SSL_OP_NO_EXTENDED_MASTER_SECRET);
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_2_VERSION);
    CHECK(run_pair(cctx, mk(with(SERVER("bcp195-8996", "rsa"), GT)), &c, &s) == 0);
    printf("client: %s\nserver: %s\n", DETAIL(c), DETAIL(s));
    CHECK_REASON(DTP_R_EMS_MISSING, s.rc, DETAIL(s));
    CHECK_REASON(DTP_R_PEER_ALERT, c.rc, DETAIL(c));
    CHECK(strstr(DETAIL(c), "handshake_failure") != NULL);
    done(&c, &s);
    return 0;
}

static int ssl3_hello_gets_protocol_version(void)
{
    /* C2, R7, Q8: an SSL 3.0 ClientHello (no supported_versions). */
    dtp_ctx *sctx = mk(with(SERVER("bcp195-8996", "rsa"), GT));
    CHECK(sctx);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    static const unsigned char hello[] = {
        0x16, 0x03, 0x00, 0x00, 0x2f,                   /* record: handshake, SSL 3.0, 47 bytes */
        0x01, 0x00, 0x00, 0x2b, 0x03, 0x00,             /* ClientHello, 43 bytes, SSL 3.0 */
        1,    2,    3,    4,    5,    6,    7,    8,    9,  10, 11, 12, 13, 14, 15, 16,
        17,   18,   19,   20,   21,   22,   23,   24,   25, 26, 27, 28, 29, 30, 31, 32, /* random */
        0x00,                                           /* session id */
        0x00, 0x04, 0x00, 0x2f, 0x00, 0x35,             /* suites */
        0x01, 0x00};                                    /* compression: null */
    CHECK(write(sv[0], hello, sizeof hello) == (ssize_t)sizeof hello);
    dtp_conn *conn = dtp_conn_new(sctx, sv[1], NULL);
    int rc = dtp_conn_handshake(conn);
    printf("server: %d %s (%s)\n", rc, check_reason_name(rc), dtp_conn_error(conn)->detail);
    CHECK_REASON(DTP_R_VERSION_REFUSED, rc, dtp_conn_error(conn)->detail);
    unsigned char alert[16];
    ssize_t n = read(sv[0], alert, sizeof alert);
    CHECK(n >= 7 && alert[0] == 0x15 && alert[5] == 2 && alert[6] == 70); /* fatal protocol_version */
    dtp_conn_free(conn);
    close(sv[0]);
    close(sv[1]);
    dtp_ctx_free(sctx);
    return 0;
}

static int not_tls_and_timeout(void)
{
    struct fx sf = with(SERVER("bcp195-nd", "rsa"), GT);
    sf.timeout_ms = 300;
    dtp_ctx *sctx = mk(sf);
    CHECK(sctx);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    dtp_conn *conn = dtp_conn_new(sctx, sv[1], NULL);
    CHECK_REASON(DTP_R_HANDSHAKE_TIMEOUT, dtp_conn_handshake(conn), dtp_conn_error(conn)->detail);
    CHECK(strstr(dtp_conn_error(conn)->detail, "sent nothing") != NULL);
    dtp_conn_free(conn);
    close(sv[0]);
    close(sv[1]);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    static const unsigned char rq[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0xcd, 0x00, 0x01, 0x00, 0x00};
    CHECK(write(sv[0], rq, sizeof rq) == (ssize_t)sizeof rq);
    conn = dtp_conn_new(sctx, sv[1], NULL);
    CHECK_REASON(DTP_R_NOT_TLS, dtp_conn_handshake(conn), dtp_conn_error(conn)->detail);
    CHECK(strstr(dtp_conn_error(conn)->detail, "plain DICOM") != NULL);
    dtp_conn_free(conn);
    close(sv[0]);
    close(sv[1]);
    dtp_ctx_free(sctx);
    return 0;
}

static int established(struct side *c, struct side *s, const char *cbe, const char *sbe)
{
    CHECK(run_pair(mk(with(CLIENT("bcp195-nd", "rsa"), cbe)), mk(with(SERVER("bcp195-nd", "rsa"), sbe)), c, s) == 0);
    CHECK_REASON(DTP_OK, c->rc, DETAIL(*c));
    CHECK_REASON(DTP_OK, s->rc, DETAIL(*s));
    return 0;
}

static int io_semantics(void)
{
    for (int i = 0; i < 3; i++) {
        const char *cbe = pairs[i][0], *sbe = pairs[i][1];
        struct side c, s;
        char buf[256];
        /* close_notify, then an orderly end */
        CHECK(established(&c, &s, cbe, sbe) == 0);
        CHECK(dtp_conn_write(c.conn, "hello", 5) == 5);
        CHECK(dtp_conn_close_notify(c.conn) == DTP_OK);
        CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
        CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 0);
        CHECK(dtp_conn_error(s.conn)->code == DTP_OK);
        done(&c, &s);
        /* truncation without close_notify */
        CHECK(established(&c, &s, cbe, sbe) == 0);
        CHECK(dtp_conn_write(c.conn, "hello", 5) == 5);
        shutdown(c.fd, SHUT_RDWR);
        CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 5);
        CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == -1);
        CHECK_REASON(DTP_R_TRUNCATED, dtp_conn_error(s.conn)->code, DETAIL(s));
        done(&c, &s);
        /* pending and wait_readable count decrypted bytes; peek keeps them */
        CHECK(established(&c, &s, cbe, sbe) == 0);
        char msg[100];
        memset(msg, 'x', sizeof msg);
        CHECK(dtp_conn_write(c.conn, msg, sizeof msg) == (ssize_t)sizeof msg);
        CHECK(dtp_conn_wait_readable(s.conn, 1000));
        CHECK(dtp_conn_read(s.conn, buf, 10) == 10);
        CHECK(dtp_conn_pending(s.conn) == 90);
        CHECK(dtp_conn_wait_readable(s.conn, 0));
        CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 90 && buf[89] == 'x');
        /* tickets are not data (TLS 1.3) */
        CHECK(dtp_conn_info(c.conn)->version == DTP_TLS1_3);
        CHECK(!dtp_conn_wait_readable(c.conn, 200));
        CHECK(dtp_conn_write(s.conn, "y", 1) == 1);
        CHECK(dtp_conn_wait_readable(c.conn, 1000));
        CHECK(dtp_conn_read(c.conn, buf, sizeof buf) == 1 && buf[0] == 'y');
        /* coalescing: header and body in one record */
        dtp_conn_set_coalesce(c.conn, true);
        char hdr[12], body[100];
        memset(hdr, 'h', sizeof hdr);
        memset(body, 'b', sizeof body);
        CHECK(dtp_conn_write(c.conn, hdr, sizeof hdr) == (ssize_t)sizeof hdr);
        CHECK(!dtp_conn_wait_readable(s.conn, 50));
        CHECK(dtp_conn_write(c.conn, body, sizeof body) == (ssize_t)sizeof body);
        CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 112);
        CHECK(memcmp(buf, hdr, 12) == 0 && memcmp(buf + 12, body, 100) == 0);
        /* a large write arrives whole */
        static unsigned char big[100000], got[100000];
        for (size_t k = 0; k < sizeof big; k++)
            big[k] = (unsigned char)(k * 7);
        dtp_conn_set_coalesce(c.conn, false);
        CHECK(dtp_conn_write(c.conn, big, 60000) == 60000);
        size_t have = 0;
        while (have < 60000) {
            ssize_t n = dtp_conn_read(s.conn, got + have, sizeof got - have);
            CHECK(n > 0);
            have += (size_t)n;
        }
        CHECK(have == 60000 && memcmp(big, got, have) == 0);
        done(&c, &s);
    }
    return 0;
}

static int resumption_and_session_file(void)
{
    /* TLS 1.3 (tickets) and TLS 1.2 (Extended: tickets): the second
     * connection of a GnuTLS client context resumes, against either server
     * backend; a session file carries it to a new context. */
    static const char *const profiles[] = {"bcp195-nd", "bcp195-ex"};
    char path[600];
    snprintf(path, sizeof path, "%s/gnutls-session-%d.pem", check_argc > 2 ? check_argv[2] : ".", (int)getpid());
    for (size_t i = 0; i < 2; i++)
        for (int sb = 0; sb < 2; sb++) {
            unlink(path);
            dtp_ctx *sctx = mk(with(SERVER(profiles[i], "rsa"), sb ? OS : GT));
            CHECK(sctx);
            for (int round = 0; round < 3; round++) {
                struct dtp_config cfg;
                memset(&cfg, 0, sizeof cfg);
                cfg.profile = dtp_profile_find(profiles[i], NULL);
                cfg.backend = GT;
                cfg.role = DTP_ROLE_CLIENT;
                cfg.cert_file = pki("client-rsa.pem");
                cfg.key_file = pki("client-rsa.key");
                cfg.ca_file = pki("ca.pem");
                cfg.session_file = path;
                struct dtp_error e;
                static dtp_ctx *cctx;
                if (round != 1)
                    cctx = dtp_ctx_new(&cfg, &e); /* round 2: a new context, from the file */
                CHECK(cctx);
                int sv[2];
                CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
                struct side c = {cctx, sv[0], NULL, -1}, s = {sctx, sv[1], NULL, -1};
                pthread_t t;
                pthread_create(&t, NULL, server_thread, &s);
                c.conn = dtp_conn_new(cctx, c.fd, NULL);
                c.rc = dtp_conn_handshake(c.conn);
                pthread_join(t, NULL);
                CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
                CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
                char buf[8];
                CHECK(dtp_conn_write(s.conn, "ok", 2) == 2);
                CHECK(dtp_conn_read(c.conn, buf, sizeof buf) == 2);
                const struct dtp_session_info *ci = dtp_conn_info(c.conn);
                printf("%s server %s round %d: resumed=%d %s\n", profiles[i], sb ? OS : GT, round, ci->resumed,
                       ci->suite);
                CHECK(ci->resumed == (round > 0) && dtp_conn_info(s.conn)->resumed == (round > 0));
                CHECK(strstr(ci->peer_subject, "CN=localhost") != NULL);
                CHECK(strstr(dtp_conn_info(s.conn)->peer_subject, "dtp test client") != NULL);
                dtp_conn_close_notify(c.conn);
                dtp_conn_free(c.conn);
                dtp_conn_free(s.conn);
                close(sv[0]);
                close(sv[1]);
                if (round != 0) {
                    dtp_ctx_free(cctx);
                    cctx = NULL;
                }
                if (round == 1) {
                    struct stat st;
                    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
                }
            }
            dtp_ctx_free(sctx);
        }
    unlink(path);
    return 0;
}

static int sni_and_keylog(void)
{
    /* Q9: a DNS name goes into server_name, an IP literal never. */
    static const char *const names[] = {"localhost", "127.0.0.1", "pacs.example."};
    static const char *const sent[] = {"localhost", "", "pacs.example"};
    for (size_t i = 0; i < 3; i++)
        for (int p = 0; p < 3; p++) {
            client_peer_name = names[i];
            struct side c, s;
            CHECK(run_pair(mk(with(CLIENT("bcp195-8996", "rsa"), pairs[p][0])),
                           mk(with(SERVER("bcp195-8996", "rsa"), pairs[p][1])), &c, &s) == 0);
            client_peer_name = NULL;
            CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
            CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
            CHECK(strcmp(dtp_conn_info(s.conn)->sni, sent[i]) == 0);
            done(&c, &s);
        }
    /* NSS key log: one line per secret, label, client random, secret. */
    char path[600];
    snprintf(path, sizeof path, "%s/gnutls-keylog-%d.txt", check_argc > 2 ? check_argv[2] : ".", (int)getpid());
    unlink(path);
    struct dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = dtp_profile_find("bcp195-nd", NULL);
    cfg.backend = GT;
    cfg.role = DTP_ROLE_CLIENT;
    cfg.ca_file = pki("ca.pem");
    cfg.cert_file = pki("client-rsa.pem");
    cfg.key_file = pki("client-rsa.key");
    cfg.keylog_file = path;
    struct dtp_error e;
    struct side c, s;
    CHECK(run_pair(dtp_ctx_new(&cfg, &e), mk(SERVER("bcp195-nd", "rsa")), &c, &s) == 0);
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    done(&c, &s);
    FILE *f = fopen(path, "r");
    CHECK(f);
    char line[512];
    int lines = 0, traffic = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        traffic += strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0 && strlen(line) == 24 + 64 + 1 + 64 + 1;
    }
    fclose(f);
    unlink(path);
    printf("keylog: %d lines\n", lines);
    CHECK(lines >= 4 && traffic == 1);
    return 0;
}

#define EXPECT_CTX(reason, f)                                                                                          \
    do {                                                                                                               \
        struct dtp_error err_;                                                                                         \
        dtp_ctx *c_ = fx_ctx(f, &err_);                                                                                \
        printf("%s: %d %s\n", #reason, c_ ? 0 : err_.code, c_ ? "" : err_.detail);                                     \
        CHECK_REASON(reason, c_ ? DTP_OK : err_.code, err_.detail);                                                    \
        dtp_ctx_free(c_);                                                                                              \
    } while (0)

static int config_refusals(void)
{
    struct fx f = with(SERVER("bcp195-nd", "rsa"), GT);
    EXPECT_CTX(DTP_OK, f);
    f.cert = "not-pem.pem";
    EXPECT_CTX(DTP_R_CERT_UNREADABLE, f);
    f.cert = "/nonexistent/cert.pem";
    EXPECT_CTX(DTP_R_CERT_UNREADABLE, f);
    f = with(CLIENT("bcp195-nd", "rsa"), GT);
    f.key = "/nonexistent/key.pem";
    EXPECT_CTX(DTP_R_KEY_UNREADABLE, f);
    f.key = "not-pem.pem";
    EXPECT_CTX(DTP_R_KEY_UNREADABLE, f);
    f.key = "client-rsa-enc.key";
    EXPECT_CTX(DTP_R_KEY_PASSWORD, f);
    f.password = "not the password";
    EXPECT_CTX(DTP_R_KEY_PASSWORD, f);
    char spec[1100], pw[256];
    struct dtp_error e = {0};
    snprintf(spec, sizeof spec, "file:%s", pki("key-password.txt"));
    CHECK(dtp_read_password(spec, pw, sizeof pw, &e) == DTP_OK);
    f.password = pw;
    EXPECT_CTX(DTP_OK, f);
    f = with(CLIENT("bcp195-nd", "rsa"), GT);
    f.key = "server-rsa.key";
    EXPECT_CTX(DTP_R_KEY_CERT_MISMATCH, f);
    f = with(SERVER("bcp195-nd", "rsa"), GT);
    f.cert = "rsa1024-server.pem";
    f.key = "rsa1024-server.key";
    EXPECT_CTX(DTP_R_OWN_KEY_WEAK, f);
    f.profile = "bcp195";
    f.relax = true;
    EXPECT_CTX(DTP_OK, f);
    f = with(SERVER("bcp195-nd", "rsa"), GT);
    f.dh = "dh1024.pem";
    EXPECT_CTX(DTP_R_DH_PARAMS, f);
    f.dh = "not-pem.pem";
    EXPECT_CTX(DTP_R_DH_PARAMS, f);
    f.dh = "dh2048.pem";
    EXPECT_CTX(DTP_OK, f);
    f = with(SERVER("bcp195-nd", "rsa"), GT);
    f.ca = "/nonexistent/ca.pem";
    EXPECT_CTX(DTP_R_CA_UNREADABLE, f);
    f = with(SERVER("bcp195-nd", "rsa"), GT);
    f.crl = "not-pem.pem";
    EXPECT_CTX(DTP_R_CRL_UNREADABLE, f);
    f = (struct fx){.profile = "bcp195-nd", .role = DTP_ROLE_CLIENT, .backend = GT};
    EXPECT_CTX(DTP_R_CONFIG_INVALID, f);
    f.verify = DTP_VERIFY_IGNORE;
    EXPECT_CTX(DTP_OK, f);
    /* a profile none of whose suites GnuTLS has */
    static const char *const bogus[] = {"TLS_NOT_A_SUITE", NULL};
    struct dtp_profile p = *dtp_profile_find("bcp195-ex", NULL);
    p.tls12_suites = bogus;
    f = with(CLIENT(NULL, "rsa"), GT);
    f.p = &p;
    EXPECT_CTX(DTP_R_NO_SUITE_AVAILABLE, f);
    return 0;
}

static int dhe_with_file_params(void)
{
    /* A GnuTLS server with DH parameters from a file serves a DHE-only
     * TLS 1.2 OpenSSL client (RFC 7919 groups not offered by it). */
    struct fx sf = with(SERVER("bcp195-ex", "rsa"), GT);
    sf.dh = "dh2048.pem";
    dtp_ctx *cctx = mk(CLIENT("bcp195-ex", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(cctx), "DHE-RSA-AES256-GCM-SHA384");
    struct side c, s;
    CHECK(run_pair(cctx, mk(sf), &c, &s) == 0);
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    const struct dtp_session_info *ci = dtp_conn_info(c.conn);
    char line[512];
    printf("%s\n", dtp_session_format(ci, line, sizeof line));
    CHECK(strcmp(ci->suite, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384") == 0 && ci->kx_finite_field && ci->kx_bits == 2048);
    done(&c, &s);
    return 0;
}

static const struct check_case cases[] = {
    CASE(gnutls_gnutls_every_profile),
    CASE(openssl_client_gnutls_server),
    CASE(gnutls_client_openssl_server),
    CASE(camellia_gcm_each_suite),
    CASE(camellia_only_client_vs_openssl_server),
    CASE(untrusted_server),
    CASE(expired_server),
    CASE(revoked_client),
    CASE(weak_peer_cert),
    CASE(client_cert_missing),
    CASE(weak_dh_refused_in_handshake),
    CASE(version_refused),
    CASE(no_shared_suite),
    CASE(bcp195_fallback_downgraded),
    CASE(outside_profile_refused),
    CASE(alpn_and_ems),
    CASE(ssl3_hello_gets_protocol_version),
    CASE(not_tls_and_timeout),
    CASE(io_semantics),
    CASE(resumption_and_session_file),
    CASE(sni_and_keylog),
    CASE(config_refusals),
    CASE(dhe_with_file_params),
};
CHECK_MAIN(cases)
