/* Real TLS handshakes between two library contexts over a socketpair, one
 * thread per side: what each side negotiates or which reason it reports. */
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "pair.h"

static int expect_ok(const char *cp, const char *sp, const char *keytype, int version, const char *suite)
{
    struct fx cf = CLIENT(cp, "rsa"), sf = SERVER(sp, "rsa");
    char cc[64], ck[64], sc[64], sk[64];
    snprintf(cc, sizeof cc, "client-%s.pem", keytype);
    snprintf(ck, sizeof ck, "client-%s.key", keytype);
    snprintf(sc, sizeof sc, "server-%s.pem", keytype);
    snprintf(sk, sizeof sk, "server-%s.key", keytype);
    cf.cert = cc, cf.key = ck, sf.cert = sc, sf.key = sk;
    struct side c, s;
    CHECK(run_pair(mk(cf), mk(sf), &c, &s) == 0);
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    const struct dtp_session_info *ci = dtp_conn_info(c.conn), *si = dtp_conn_info(s.conn);
    char line[512];
    printf("%s -> %s (%s): %s\n", cp, sp, keytype, dtp_session_format(ci, line, sizeof line));
    CHECK(ci->version == version && si->version == version);
    CHECK(strcmp(ci->suite, suite) == 0 && strcmp(si->suite, suite) == 0);
    CHECK(!ci->downgraded && !si->downgraded);
    CHECK(strstr(ci->peer_subject, "CN=localhost") != NULL);   /* the server's certificate */
    CHECK(strstr(si->peer_subject, "dtp test client") != NULL); /* and the client's */
    CHECK(ci->kx_bits >= 255); /* X25519 counts 255 (E5, M17) */
    /* R39: both B.12/B.13 sides agree on ALPN "dicom"; seeds send none. */
    const struct dtp_profile *cpr = dtp_profile_find(cp, NULL), *spr = dtp_profile_find(sp, NULL);
    CHECK(strcmp(ci->alpn, cpr->alpn && spr->alpn ? "dicom" : "") == 0 && strcmp(si->alpn, ci->alpn) == 0);
    CHECK(ci->ems && si->ems);
    done(&c, &s);
    return 0;
}

static int b12_b13_server_prefers_stronger(void)
{
    /* R25/M21 order on the server: AES-256 although the client offers
     * AES-128 first; TLS 1.3 (R6, M35). */
    return expect_ok("bcp195-8996", "bcp195-8996-mod", "rsa", DTP_TLS1_3, "TLS_AES_256_GCM_SHA384");
}

static int b13_tls12_ecdsa_ccm8(void)
{
    /* M21: a TLS 1.2 client that offers only ECDHE-ECDSA AES-128-CCM_8 gets
     * it, with EMS (R36), ALPN dicom and P-256 (M17, no X25519). */
    static const char *const ccm8[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", NULL};
    struct dtp_profile cp = *dtp_profile_find("bcp195-8996-mod", NULL);
    cp.max_version = DTP_TLS1_2;
    cp.tls13_suites = NULL;
    cp.tls12_suites = cp.tls12_client_order = ccm8;
    struct fx cf = CLIENT(NULL, "ec"), sf = SERVER("bcp195-8996-mod", "ec");
    cf.p = &cp;
    struct side c, s;
    CHECK(run_pair(mk(cf), mk(sf), &c, &s) == 0);
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
    const struct dtp_session_info *ci = dtp_conn_info(c.conn), *si = dtp_conn_info(s.conn);
    char line[512];
    printf("%s\n", dtp_session_format(si, line, sizeof line));
    CHECK(si->version == DTP_TLS1_2 && strcmp(si->suite, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8") == 0);
    CHECK(si->ems && ci->ems && strcmp(si->alpn, "dicom") == 0);
    CHECK(strcmp(ci->group, "secp256r1") == 0 && ci->kx_bits == 256);
    done(&c, &s);
    return 0;
}

static int sni_only_for_dns_names(void)
{
    /* Q9: a DNS name goes into server_name; an IP literal never does. */
    static const char *const names[] = {"localhost", "127.0.0.1", "::1", "[::1]", "pacs.example."};
    static const char *const sent[] = {"localhost", "", "", "", "pacs.example"};
    for (size_t i = 0; i < 5; i++) {
        client_peer_name = names[i];
        struct side c, s;
        CHECK(run_pair(mk(CLIENT("bcp195-8996", "rsa")), mk(SERVER("bcp195-8996", "rsa")), &c, &s) == 0);
        client_peer_name = NULL;
        CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
        CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
        printf("%s -> sni '%s'\n", names[i], dtp_conn_info(s.conn)->sni);
        CHECK(strcmp(dtp_conn_info(s.conn)->sni, sent[i]) == 0);
        CHECK(strcmp(dtp_conn_info(c.conn)->sni, sent[i]) == 0);
        done(&c, &s);
    }
    /* The seeds' profiles send none. */
    client_peer_name = "localhost";
    struct side c, s;
    CHECK(run_pair(mk(CLIENT("bcp195-nd", "rsa")), mk(SERVER("bcp195-nd", "rsa")), &c, &s) == 0);
    client_peer_name = NULL;
    CHECK(c.rc == DTP_OK && dtp_conn_info(s.conn)->sni[0] == '\0');
    done(&c, &s);
    return 0;
}

static int nd_rsa_tls13(void)
{
    return expect_ok("bcp195-nd", "bcp195-nd", "rsa", DTP_TLS1_3, "TLS_AES_128_GCM_SHA256");
}

static int ex_rsa_tls12_only(void)
{
    /* E4: no TLS 1.3 even when the peer offers it. */
    CHECK(expect_ok("bcp195-ex", "bcp195-nd", "rsa", DTP_TLS1_2, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == 0);
    return expect_ok("bcp195-nd", "bcp195-ex", "rsa", DTP_TLS1_2, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

static int ex_ecdsa(void)
{
    /* E3: an EC certificate works through the ECDSA AES-GCM suites. */
    return expect_ok("bcp195-ex", "bcp195-ex", "ec", DTP_TLS1_2, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
}

static int cryptrec_tls13_aes_only(void)
{
    CHECK(expect_ok("cryptrec", "bcp195-nd", "rsa", DTP_TLS1_3, "TLS_AES_128_GCM_SHA256") == 0);
    /* K5: a server that offers only ChaCha20 in TLS 1.3 and nothing in
     * TLS 1.2 finds no suite in common with a CRYPTREC client. */
    struct fx sf = SERVER("bcp195-nd", "rsa");
    dtp_ctx *sctx = mk(sf);
    CHECK(sctx);
    SSL_CTX_set_ciphersuites(dtp_ctx_ssl_ctx(sctx), "TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_min_proto_version(dtp_ctx_ssl_ctx(sctx), TLS1_3_VERSION);
    struct side c, s;
    CHECK(run_pair(mk(CLIENT("cryptrec", "rsa")), sctx, &c, &s) == 0);
    CHECK_REASON(DTP_R_NO_SHARED_SUITE, s.rc, DETAIL(s));
    CHECK_REASON(DTP_R_PEER_ALERT, c.rc, DETAIL(c));
    CHECK(strstr(DETAIL(c), "handshake_failure") != NULL);
    done(&c, &s);
    return 0;
}

static int bcp195_not_downgraded(void)
{
    return expect_ok("bcp195", "bcp195", "rsa", DTP_TLS1_3, "TLS_AES_128_GCM_SHA256");
}

static int expect_fail(struct fx cf, struct fx sf, int creason, int sreason)
{
    struct side c, s;
    CHECK(run_pair(mk(cf), mk(sf), &c, &s) == 0);
    printf("client: %d %s (%s)\nserver: %d %s (%s)\n", c.rc, check_reason_name(c.rc), DETAIL(c), s.rc,
           check_reason_name(s.rc), DETAIL(s));
    CHECK_REASON(creason, c.rc, DETAIL(c));
    CHECK_REASON(sreason, s.rc, DETAIL(s));
    done(&c, &s);
    return 0;
}

static int untrusted_server(void)
{
    struct fx cf = CLIENT("bcp195-nd", "rsa");
    cf.ca = "other-ca.pem";
    return expect_fail(cf, SERVER("bcp195-nd", "rsa"), DTP_R_PEER_CERT_UNTRUSTED, DTP_R_PEER_ALERT);
}

static int expired_server(void)
{
    struct fx sf = SERVER("bcp195-nd", "rsa");
    sf.cert = "expired-server-rsa.pem";
    sf.key = "expired-server-rsa.key";
    return expect_fail(CLIENT("bcp195-nd", "rsa"), sf, DTP_R_PEER_CERT_EXPIRED, DTP_R_PEER_ALERT);
}

static int revoked_client(void)
{
    struct fx cf = CLIENT("bcp195-ex", "rsa"), sf = SERVER("bcp195-ex", "rsa");
    cf.cert = "revoked-client-rsa.pem";
    cf.key = "revoked-client-rsa.key";
    sf.crl = "crl.pem";
    /* TLS 1.2: the server verifies the client before the client finishes. */
    return expect_fail(cf, sf, DTP_R_PEER_ALERT, DTP_R_PEER_CERT_REVOKED);
}

static int client_cert_missing(void)
{
    struct fx cf = {.profile = "bcp195-nd", .role = DTP_ROLE_CLIENT, .ca = "ca.pem"};
    struct side c, s;
    CHECK(run_pair(mk(cf), mk(SERVER("bcp195-nd", "rsa")), &c, &s) == 0);
    CHECK_REASON(DTP_R_PEER_CERT_MISSING, s.rc, DETAIL(s));
    /* In TLS 1.3 the client finishes first and meets the server's alert on
     * its first read; before any application data that is still the
     * handshake's outcome: PEER_ALERT naming certificate_required. */
    char buf[16];
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    CHECK(dtp_conn_read(c.conn, buf, sizeof buf) == -1);
    CHECK_REASON(DTP_R_PEER_ALERT, dtp_conn_error(c.conn)->code, DETAIL(c));
    printf("client: %s\n", DETAIL(c));
    CHECK(strstr(DETAIL(c), "certificate_required") != NULL);
    done(&c, &s);
    return 0;
}

static int version_refused(void)
{
    /* A TLS 1.1-only client against a non-downgrading server (N1). */
    dtp_ctx *cctx = mk(CLIENT("bcp195", "rsa"));
    CHECK(cctx);
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_1_VERSION);
    struct side c, s;
    CHECK(run_pair(cctx, mk(SERVER("bcp195-nd", "rsa")), &c, &s) == 0);
    CHECK_REASON(DTP_R_VERSION_REFUSED, s.rc, DETAIL(s));
    CHECK_REASON(DTP_R_VERSION_REFUSED, c.rc, DETAIL(c));
    done(&c, &s);
    return 0;
}

static int no_shared_suite(void)
{
    /* An EC server under bcp195 has no TLS 1.2 suite for a TLS 1.2-only
     * Extended client with an RSA-only offer... here: bcp195 EC server vs
     * Extended client, which can only meet at TLS 1.2. */
    struct fx sf = SERVER("bcp195", "ec");
    return expect_fail(CLIENT("bcp195-ex", "rsa"), sf, DTP_R_PEER_ALERT, DTP_R_NO_SHARED_SUITE);
}

static int weak_dh_refused_in_handshake(void)
{
    /* A server with 1024-bit DH (possible only relaxed, under bcp195) and
     * DHE only: a bcp195 client refuses it inside the handshake, with an
     * alert the server sees, although its context runs at security level 0
     * (B5; E5 for the other profiles, where OpenSSL's level refuses too). */
    static const char *const profiles[] = {"bcp195", "bcp195-nd", "bcp195-ex", "cryptrec"};
    for (size_t i = 0; i < 4; i++) {
        dtp_ctx *sctx = weak_dh_server();
        CHECK(sctx);
        struct side c, s;
        CHECK(run_pair(mk(CLIENT(profiles[i], "rsa")), sctx, &c, &s) == 0);
        printf("%s client: %s\n", profiles[i], DETAIL(c));
        CHECK_REASON(DTP_R_EPHEMERAL_KEY_WEAK, c.rc, DETAIL(c));
        CHECK_REASON(DTP_R_PEER_ALERT, s.rc, DETAIL(s));
        done(&c, &s);
    }
    return 0;
}

static int weak_peer_cert_refused_in_handshake(void)
{
    /* An RSA-1024 server certificate (relaxed bcp195 server) is refused by
     * a strict bcp195 client during verification (B5), with an alert. */
    struct fx sf = SERVER("bcp195", "rsa");
    sf.cert = "rsa1024-server.pem";
    sf.key = "rsa1024-server.key";
    sf.relax = true;
    return expect_fail(CLIENT("bcp195", "rsa"), sf, DTP_R_PEER_CERT_WEAK, DTP_R_PEER_ALERT);
}

static int outside_profile_refused(void)
{
    /* A server that picks a suite the profile does not list (here forced
     * on both OpenSSL contexts under the profile's back) is refused by the
     * post-handshake check: the profile, not OpenSSL's list, decides. */
    dtp_ctx *cctx = mk(CLIENT("bcp195-nd", "rsa")), *sctx = mk(SERVER("bcp195", "rsa"));
    CHECK(cctx && sctx);
    SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(cctx), "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA256");
    SSL_CTX_set_max_proto_version(dtp_ctx_ssl_ctx(cctx), TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(dtp_ctx_ssl_ctx(sctx), "AES128-SHA256");
    struct side c, s;
    CHECK(run_pair(cctx, sctx, &c, &s) == 0);
    CHECK_REASON(DTP_R_OUTSIDE_PROFILE, c.rc, DETAIL(c));
    CHECK(strstr(DETAIL(c), "TLS_RSA_WITH_AES_128_CBC_SHA256") != NULL);
    done(&c, &s);
    return 0;
}

static int malformed_client_hello(void)
{
    /* A TLS record whose ClientHello is cut short: TLS, but broken. */
    struct dtp_error e;
    dtp_ctx *sctx = fx_ctx(SERVER("bcp195-nd", "rsa"), &e);
    CHECK(sctx);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    static const unsigned char rec[] = {0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0x00, 0x00};
    CHECK(write(sv[0], rec, sizeof rec) == (ssize_t)sizeof rec);
    dtp_conn *conn = dtp_conn_new(sctx, sv[1], NULL);
    int rc = dtp_conn_handshake(conn);
    printf("server: %d %s (%s)\n", rc, check_reason_name(rc), dtp_conn_error(conn)->detail);
    CHECK_REASON(DTP_R_HANDSHAKE_FAILED, rc, dtp_conn_error(conn)->detail);
    dtp_conn_free(conn);
    close(sv[0]);
    close(sv[1]);
    dtp_ctx_free(sctx);
    return 0;
}

static int established(struct side *c, struct side *s)
{
    CHECK(run_pair(mk(CLIENT("bcp195-nd", "rsa")), mk(SERVER("bcp195-nd", "rsa")), c, s) == 0);
    CHECK_REASON(DTP_OK, c->rc, DETAIL(*c));
    CHECK_REASON(DTP_OK, s->rc, DETAIL(*s));
    return 0;
}

static int close_notify_then_eof(void)
{
    struct side c, s;
    CHECK(established(&c, &s) == 0);
    CHECK(dtp_conn_write(c.conn, "hello", 5) == 5);
    CHECK(dtp_conn_close_notify(c.conn) == DTP_OK);
    char buf[16];
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 0); /* orderly end */
    CHECK(dtp_conn_error(s.conn)->code == DTP_OK);
    done(&c, &s);
    return 0;
}

static int truncation_detected(void)
{
    struct side c, s;
    CHECK(established(&c, &s) == 0);
    CHECK(dtp_conn_write(c.conn, "hello", 5) == 5);
    shutdown(c.fd, SHUT_RDWR); /* no close_notify */
    char buf[16];
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 5);
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == -1);
    CHECK_REASON(DTP_R_TRUNCATED, dtp_conn_error(s.conn)->code, DETAIL(s));
    done(&c, &s);
    return 0;
}

static int wait_readable_counts_buffered(void)
{
    struct side c, s;
    CHECK(established(&c, &s) == 0);
    char msg[100], buf[10];
    memset(msg, 'x', sizeof msg);
    CHECK(dtp_conn_write(c.conn, msg, sizeof msg) == (ssize_t)sizeof msg); /* one record */
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 10);
    /* The socket is now empty; 90 bytes wait inside TLS. */
    CHECK(dtp_conn_pending(s.conn) == 90);
    CHECK(dtp_conn_wait_readable(s.conn, 0));
    done(&c, &s);
    return 0;
}

static int tickets_are_not_data(void)
{
    /* After a TLS 1.3 handshake the server's session tickets sit on the
     * client's socket. They are not data: waiting for data must time out
     * (DCMTK's ACSE timeout), not report readable and block in a read. */
    struct side c, s;
    CHECK(established(&c, &s) == 0);
    CHECK(dtp_conn_info(c.conn)->version == DTP_TLS1_3);
    CHECK(!dtp_conn_wait_readable(c.conn, 200));
    CHECK(dtp_conn_write(s.conn, "x", 1) == 1);
    CHECK(dtp_conn_wait_readable(c.conn, 1000));
    char buf[4];
    CHECK(dtp_conn_read(c.conn, buf, sizeof buf) == 1);
    done(&c, &s);
    return 0;
}

static int coalesced_header_and_body(void)
{
    struct side c, s;
    CHECK(established(&c, &s) == 0);
    dtp_conn_set_coalesce(c.conn, true);
    char hdr[12], body[100], buf[256];
    memset(hdr, 'h', sizeof hdr);
    memset(body, 'b', sizeof body);
    CHECK(dtp_conn_write(c.conn, hdr, sizeof hdr) == (ssize_t)sizeof hdr);
    CHECK(!dtp_conn_wait_readable(s.conn, 50)); /* held, nothing sent yet */
    CHECK(dtp_conn_write(c.conn, body, sizeof body) == (ssize_t)sizeof body);
    /* One SSL read returns one record: 112 bytes means header and body
     * travelled together. */
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 112);
    CHECK(memcmp(buf, hdr, 12) == 0 && memcmp(buf + 12, body, 100) == 0);
    /* A held write leaves before the writer waits for an answer. */
    CHECK(dtp_conn_write(c.conn, "rq", 2) == 2);
    dtp_conn_wait_readable(c.conn, 0);
    CHECK(dtp_conn_read(s.conn, buf, sizeof buf) == 2 && memcmp(buf, "rq", 2) == 0);
    done(&c, &s);
    return 0;
}

static int resumption_across_connections(void)
{
    /* Both TLS 1.3 (tickets) and TLS 1.2 (Extended: tickets too): the
     * second connection of the same client context resumes; the profile
     * check and the peer identity still hold on the resumed session. */
    static const char *const profiles[] = {"bcp195-nd", "bcp195-ex"};
    for (size_t i = 0; i < 2; i++) {
        dtp_ctx *cctx = mk(CLIENT(profiles[i], "rsa")), *sctx = mk(SERVER(profiles[i], "rsa"));
        CHECK(cctx && sctx);
        for (int round = 0; round < 2; round++) {
            int sv[2];
            CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
            struct side c = {cctx, sv[0], NULL, -1}, s = {sctx, sv[1], NULL, -1};
            pthread_t t;
            pthread_create(&t, NULL, server_thread, &s);
            c.conn = dtp_conn_new(cctx, c.fd, NULL);
            c.rc = dtp_conn_handshake(c.conn);
            /* TLS 1.3 tickets arrive after the handshake: one exchange. */
            char buf[8];
            if (c.rc == DTP_OK) {
                pthread_join(t, NULL);
                CHECK(dtp_conn_write(s.conn, "ok", 2) == 2);
                CHECK(dtp_conn_read(c.conn, buf, sizeof buf) == 2);
            } else {
                pthread_join(t, NULL);
            }
            CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
            CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
            const struct dtp_session_info *ci = dtp_conn_info(c.conn);
            printf("%s round %d: resumed=%d %s\n", profiles[i], round, ci->resumed, ci->suite);
            CHECK(ci->resumed == (round == 1));
            CHECK(strstr(ci->peer_subject, "CN=localhost") != NULL);
            dtp_conn_close_notify(c.conn);
            dtp_conn_free(c.conn);
            dtp_conn_free(s.conn);
            close(sv[0]);
            close(sv[1]);
        }
        dtp_ctx_free(cctx);
        dtp_ctx_free(sctx);
    }
    return 0;
}

static int handshake_timeout(void)
{
    struct fx sf = SERVER("bcp195-nd", "rsa");
    sf.timeout_ms = 300;
    struct dtp_error e;
    dtp_ctx *sctx = fx_ctx(sf, &e);
    CHECK(sctx);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    dtp_conn *conn = dtp_conn_new(sctx, sv[1], NULL);
    CHECK_REASON(DTP_R_HANDSHAKE_TIMEOUT, dtp_conn_handshake(conn), dtp_conn_error(conn)->detail);
    CHECK(strstr(dtp_conn_error(conn)->detail, "sent nothing") != NULL);
    dtp_conn_free(conn);
    close(sv[0]);
    close(sv[1]);
    dtp_ctx_free(sctx);
    return 0;
}

static int not_tls_plain_dicom(void)
{
    struct dtp_error e;
    dtp_ctx *sctx = fx_ctx(SERVER("bcp195-nd", "rsa"), &e);
    CHECK(sctx);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    /* The start of an A-ASSOCIATE-RQ PDU (PS3.8 9.3.2): type 01, length. */
    static const unsigned char rq[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0xcd, 0x00, 0x01, 0x00, 0x00};
    CHECK(write(sv[0], rq, sizeof rq) == (ssize_t)sizeof rq);
    dtp_conn *conn = dtp_conn_new(sctx, sv[1], NULL);
    CHECK_REASON(DTP_R_NOT_TLS, dtp_conn_handshake(conn), dtp_conn_error(conn)->detail);
    CHECK(strstr(dtp_conn_error(conn)->detail, "plain DICOM") != NULL);
    dtp_conn_free(conn);
    close(sv[0]);
    close(sv[1]);
    dtp_ctx_free(sctx);
    return 0;
}

/* Keeps the context's last log line that mentions the warm-up. */
static void warm_log(void *user, int level, const char *message)
{
    (void)level;
    if (strstr(message, "warm-up"))
        snprintf(user, 256, "%s", message);
}

static int warm_up_keeps_policy(void)
{
    /* The warm-up (dtp_ctx warm-up) talks to itself without a client certificate;
     * afterwards the context must still demand one, and still serve a
     * real client, under every profile. */
    static const char *const profiles[] = {"bcp195", "bcp195-nd", "bcp195-ex", "cryptrec"};
    for (size_t i = 0; i < 4; i++) {
        char line[256] = "";
        struct fx sf = SERVER(profiles[i], "rsa");
        sf.log = warm_log, sf.log_user = line;
        dtp_ctx *sctx = mk(sf);
        CHECK(sctx);
        CHECK(dtp_ctx_warm_up(sctx) == DTP_OK);
        printf("%s: %s\n", profiles[i], line);
        CHECK(strstr(line, "full done, resumed done") != NULL);

        struct fx nocert = {.profile = profiles[i], .role = DTP_ROLE_CLIENT, .ca = "ca.pem"};
        struct side c, s;
        CHECK(run_pair(mk(nocert), sctx, &c, &s) == 0);
        CHECK_REASON(DTP_R_PEER_CERT_MISSING, s.rc, DETAIL(s));
        dtp_conn_free(c.conn);
        dtp_conn_free(s.conn);
        close(c.fd);
        close(s.fd);
        dtp_ctx_free(c.ctx);

        CHECK(run_pair(mk(CLIENT(profiles[i], "rsa")), sctx, &c, &s) == 0);
        CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
        CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
        CHECK(strstr(dtp_conn_info(s.conn)->peer_subject, "CN=") != NULL); /* the client was verified */
        done(&c, &s);
    }
    /* A client context has nothing to warm. */
    dtp_ctx *cctx = mk(CLIENT("bcp195-nd", "rsa"));
    CHECK(cctx && dtp_ctx_warm_up(cctx) == DTP_OK && dtp_ctx_warm_up(NULL) == DTP_OK);
    dtp_ctx_free(cctx);
    return 0;
}

static const struct check_case cases[] = {
    CASE(b12_b13_server_prefers_stronger), CASE(b13_tls12_ecdsa_ccm8), CASE(sni_only_for_dns_names),
    CASE(nd_rsa_tls13), CASE(ex_rsa_tls12_only), CASE(ex_ecdsa), CASE(cryptrec_tls13_aes_only),
    CASE(bcp195_not_downgraded), CASE(untrusted_server), CASE(expired_server), CASE(revoked_client),
    CASE(client_cert_missing), CASE(version_refused), CASE(no_shared_suite), CASE(weak_dh_refused_in_handshake),
    CASE(weak_peer_cert_refused_in_handshake), CASE(outside_profile_refused), CASE(malformed_client_hello), CASE(close_notify_then_eof),
    CASE(truncation_detected), CASE(wait_readable_counts_buffered), CASE(coalesced_header_and_body), CASE(tickets_are_not_data),
    CASE(resumption_across_connections), CASE(handshake_timeout),
    CASE(not_tls_plain_dicom), CASE(warm_up_keeps_policy),
};
CHECK_MAIN(cases)
