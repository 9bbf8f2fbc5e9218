/*
 * One TLS connection: handshake within a deadline, the post-handshake
 * check against the profile, blocking I/O for DCMTK, and the mapping of
 * every OpenSSL failure to one row of the reason table (C6).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

/* A DCMTK P-DATA PDU arrives as a 12-byte header write and a body write;
 * held back, the header shares the body's first record (one record per
 * PDU instead of two). Anything up to this size waits for the next write. */
#define DTP_HOLD_MAX 64
#define DTP_RECORD_MAX 16384

struct dtp_conn {
    dtp_ctx *ctx;
    SSL *ssl;
    int fd;
    bool handshake_done;
    bool closed;
    /* What the peer sent first, to tell "not TLS at all" from a TLS failure. */
    unsigned char first_header[5];
    bool have_first_header;
    int alert_received; /* last fatal alert from the peer, -1 if none */
    int hello_refusal;  /* reason the server's ClientHello callback refused, 0 if none */
    bool app_data_read; /* any application byte received yet */
    struct dtp_error error;
    struct dtp_session_info info;
    /* Write coalescing (dtp_conn_set_coalesce): small writes wait here and
     * leave in the same TLS record as the next write. */
    bool coalesce;
    size_t held;
    unsigned char hold[DTP_HOLD_MAX];
    unsigned char *scratch; /* one record's worth, allocated on first use */
};

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    struct dtp_conn *conn = arg;
    if (write_p)
        return;
    if (content_type == SSL3_RT_HEADER && len >= 5 && !conn->have_first_header) {
        memcpy(conn->first_header, buf, 5);
        conn->have_first_header = true;
    } else if (content_type == SSL3_RT_ALERT && len >= 2 && ((const unsigned char *)buf)[0] == SSL3_AL_FATAL) {
        conn->alert_received = ((const unsigned char *)buf)[1];
    }
}

dtp_conn *dtp_conn_new(dtp_ctx *ctx, int fd, struct dtp_error *err)
{
    if (!ctx || fd < 0) {
        dtp__fail(err, DTP_R_CONFIG_INVALID, false, "dtp_conn_new: no context or socket");
        return NULL;
    }
    dtp_conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        dtp__fail(err, DTP_R_INTERNAL, false, "out of memory");
        return NULL;
    }
    conn->ctx = ctx;
    conn->fd = fd;
    conn->alert_received = -1;
    conn->ssl = SSL_new(ctx->ssl_ctx);
    BIO *bio = conn->ssl ? BIO_new(ctx->sock_method) : NULL;
    if (!bio) {
        dtp__fail(err, DTP_R_INTERNAL, true, "SSL_new");
        dtp_conn_free(conn);
        return NULL;
    }
    BIO_set_fd(bio, fd, BIO_NOCLOSE);
    SSL_set_bio(conn->ssl, bio, bio);
    SSL_set_app_data(conn->ssl, conn);
    SSL_set_msg_callback(conn->ssl, msg_cb);
    SSL_set_msg_callback_arg(conn->ssl, conn);
    if (ctx->role == DTP_ROLE_SERVER) {
        SSL_set_accept_state(conn->ssl);
    } else {
        SSL_set_connect_state(conn->ssl);
        if (ctx->session && SSL_SESSION_is_resumable(ctx->session))
            SSL_set_session(conn->ssl, ctx->session); /* the server decides */
    }
    return conn;
}

void dtp_conn_free(dtp_conn *conn)
{
    if (!conn)
        return;
    SSL_free(conn->ssl);
    free(conn->scratch);
    free(conn);
}

void dtp_conn_set_coalesce(dtp_conn *conn, bool on)
{
    if (conn)
        conn->coalesce = on;
}

const struct dtp_error *dtp_conn_error(const dtp_conn *conn) { return conn ? &conn->error : NULL; }
const struct dtp_session_info *dtp_conn_info(const dtp_conn *conn) { return conn ? &conn->info : NULL; }

/* ---- failure classification --------------------------------------- */

/* IANA TLS alert names (RFC 8446 6, RFC 5246 7.2, RFC 7507): OpenSSL 3.0's
 * SSL_alert_desc_string_long() does not know the TLS 1.3 ones. */
static const char *alert_name(int desc)
{
    static const struct {
        int desc;
        const char *name;
    } alerts[] = {{0, "close_notify"},          {10, "unexpected_message"},       {20, "bad_record_mac"},
                  {21, "decryption_failed"},    {22, "record_overflow"},          {30, "decompression_failure"},
                  {40, "handshake_failure"},    {41, "no_certificate"},           {42, "bad_certificate"},
                  {43, "unsupported_certificate"}, {44, "certificate_revoked"},   {45, "certificate_expired"},
                  {46, "certificate_unknown"},  {47, "illegal_parameter"},        {48, "unknown_ca"},
                  {49, "access_denied"},        {50, "decode_error"},             {51, "decrypt_error"},
                  {70, "protocol_version"},     {71, "insufficient_security"},    {80, "internal_error"},
                  {86, "inappropriate_fallback"}, {90, "user_canceled"},          {100, "no_renegotiation"},
                  {109, "missing_extension"},   {110, "unsupported_extension"},   {112, "unrecognized_name"},
                  {113, "bad_certificate_status_response"}, {115, "unknown_psk_identity"},
                  {116, "certificate_required"}, {120, "no_application_protocol"}};
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (alerts[i].desc == desc)
            return alerts[i].name;
    return "unknown";
}

static int classify_verify(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        return DTP_R_PEER_CERT_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
        return DTP_R_PEER_CERT_REVOKED;
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
        return DTP_R_PEER_CERT_WEAK;
    default:
        return DTP_R_PEER_CERT_UNTRUSTED;
    }
}

static bool header_looks_like_tls(const unsigned char *h)
{
    /* content type change_cipher_spec..application_data, major version 3 */
    return h[0] >= 20 && h[0] <= 23 && h[1] == 3;
}

/* Maps an OpenSSL reason of the error queue to a reason row. */
static int classify_ssl_reason(const dtp_conn *conn, int reason, bool in_handshake)
{
    if (reason >= SSL_AD_REASON_OFFSET) { /* the peer sent this alert */
        int alert = reason - SSL_AD_REASON_OFFSET;
        if (alert == SSL_AD_PROTOCOL_VERSION && in_handshake)
            return DTP_R_VERSION_REFUSED;
        if (alert == SSL_AD_INAPPROPRIATE_FALLBACK)
            return DTP_R_INAPPROPRIATE_FALLBACK;
        if (alert == SSL_AD_BAD_RECORD_MAC && !in_handshake)
            return DTP_R_INTEGRITY_ALERT;
        if (alert == SSL_AD_NO_APPLICATION_PROTOCOL && in_handshake)
            return DTP_R_ALPN_MISMATCH;
        return in_handshake ? DTP_R_PEER_ALERT : DTP_R_SESSION_ALERT;
    }
    switch (reason) {
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return in_handshake ? DTP_R_HANDSHAKE_EOF : DTP_R_TRUNCATED;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
        return DTP_R_VERSION_REFUSED;
    case SSL_R_CALLBACK_FAILED: /* the server's ClientHello callback said why */
        return conn->hello_refusal ? conn->hello_refusal : DTP_R_HANDSHAKE_FAILED;
    case SSL_R_INAPPROPRIATE_FALLBACK:
        return DTP_R_INAPPROPRIATE_FALLBACK;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_CIPHERS_AVAILABLE:
        return DTP_R_NO_SHARED_SUITE;
    case SSL_R_WRONG_CIPHER_RETURNED:
        return DTP_R_OUTSIDE_PROFILE;
    case SSL_R_NO_APPLICATION_PROTOCOL:
        return DTP_R_ALPN_MISMATCH;
    case SSL_R_DH_KEY_TOO_SMALL:
    case SSL_R_WRONG_CURVE:
        return DTP_R_EPHEMERAL_KEY_WEAK;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return classify_verify(SSL_get_verify_result(conn->ssl));
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return DTP_R_PEER_CERT_MISSING;
    case SSL_R_EE_KEY_TOO_SMALL:
    case SSL_R_CA_KEY_TOO_SMALL:
    case SSL_R_CA_MD_TOO_WEAK:
        return DTP_R_PEER_CERT_WEAK;
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_DECRYPTION_FAILED:
    case SSL_R_BLOCK_CIPHER_PAD_IS_WRONG:
        return DTP_R_RECORD_INTEGRITY;
    default:
        break;
    }
    /* Anything else in the first flight from a peer whose very first bytes
     * were not a TLS record header: it does not speak TLS (C1). */
    if (in_handshake && conn->have_first_header && !header_looks_like_tls(conn->first_header))
        return DTP_R_NOT_TLS;
    return in_handshake ? DTP_R_HANDSHAKE_FAILED : DTP_R_PROTOCOL_ERROR;
}

static void describe_first_header(const dtp_conn *conn, char *out, size_t len)
{
    const unsigned char *h = conn->first_header;
    if (h[0] >= 1 && h[0] <= 7 && h[1] == 0)
        snprintf(out, len, "peer sent a DICOM PDU (type 0x%02x): plain DICOM on a TLS port", h[0]);
    else if (h[0] == 'G' || h[0] == 'P' || h[0] == 'H')
        snprintf(out, len, "peer sent what looks like HTTP");
    else
        snprintf(out, len, "peer's first bytes %02x %02x %02x %02x %02x are not a TLS record", h[0], h[1], h[2], h[3],
                 h[4]);
}

/* Records the failure of an SSL_* call whose SSL_get_error() was ssl_err. */
static void linger_after_failure(dtp_conn *conn);

static int record_failure(dtp_conn *conn, int ret, int ssl_err, int saved_errno, bool in_handshake)
{
    (void)ret;
    /* In TLS 1.3 the client finishes first; a server that refuses its
     * certificate says so with an alert on the client's first read. Before
     * any application byte, that alert is the handshake's outcome. */
    if (!in_handshake && !conn->app_data_read && conn->alert_received >= 0)
        in_handshake = true;
    struct dtp_error *e = &conn->error;
    unsigned long packed = ERR_peek_error(); /* the first, root cause */
    char ossl[256] = "";
    if (packed)
        ERR_error_string_n(packed, ossl, sizeof ossl);
    int code;
    switch (ssl_err) {
    case SSL_ERROR_ZERO_RETURN:
        code = in_handshake ? DTP_R_HANDSHAKE_EOF : DTP_R_TRUNCATED;
        snprintf(e->detail, sizeof e->detail, "peer sent close_notify");
        break;
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* a blocking socket with SO_RCVTIMEO/SO_SNDTIMEO */
        code = in_handshake ? DTP_R_HANDSHAKE_TIMEOUT : DTP_R_TIMEOUT;
        snprintf(e->detail, sizeof e->detail, "socket timeout");
        break;
    case SSL_ERROR_SYSCALL:
        if (packed) {
            code = classify_ssl_reason(conn, ERR_GET_REASON(packed), in_handshake);
            snprintf(e->detail, sizeof e->detail, "%s", ossl);
        } else if (saved_errno == 0) {
            code = in_handshake ? DTP_R_HANDSHAKE_EOF : DTP_R_TRUNCATED;
            snprintf(e->detail, sizeof e->detail, "connection closed by peer without close_notify");
        } else if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) {
            code = in_handshake ? DTP_R_HANDSHAKE_TIMEOUT : DTP_R_TIMEOUT;
            snprintf(e->detail, sizeof e->detail, "socket timeout");
        } else {
            code = in_handshake && (saved_errno == ECONNRESET || saved_errno == EPIPE) ? DTP_R_HANDSHAKE_EOF
                                                                                      : DTP_R_IO_ERROR;
            snprintf(e->detail, sizeof e->detail, "%s", strerror(saved_errno));
        }
        break;
    case SSL_ERROR_SSL:
        code = packed ? classify_ssl_reason(conn, ERR_GET_REASON(packed), in_handshake)
                      : (in_handshake ? DTP_R_HANDSHAKE_FAILED : DTP_R_PROTOCOL_ERROR);
        snprintf(e->detail, sizeof e->detail, "%s", ossl[0] ? ossl : "TLS protocol error");
        break;
    default:
        code = in_handshake ? DTP_R_HANDSHAKE_FAILED : DTP_R_IO_ERROR;
        snprintf(e->detail, sizeof e->detail, "SSL error %d", ssl_err);
        break;
    }
    /* Make the detail say the useful part first. */
    if (conn->hello_refusal && code == conn->hello_refusal) {
        snprintf(e->detail, sizeof e->detail, "%s",
                 code == DTP_R_EMS_MISSING
                     ? "the client offered neither TLS 1.3 nor extended_master_secret (RFC 7627): refused with "
                       "handshake_failure"
                     : "the client's best version is SSL 3.0: refused with protocol_version");
    } else if (code == DTP_R_NOT_TLS) {
        describe_first_header(conn, e->detail, sizeof e->detail);
    } else if (code >= DTP_R_PEER_CERT_MISSING && code <= DTP_R_PEER_CERT_WEAK &&
               SSL_get_verify_result(conn->ssl) != X509_V_OK) {
        snprintf(e->detail, sizeof e->detail, "certificate verification: %s",
                 X509_verify_cert_error_string(SSL_get_verify_result(conn->ssl)));
    } else if (conn->alert_received >= 0 &&
               (code == DTP_R_PEER_ALERT || code == DTP_R_SESSION_ALERT || code == DTP_R_INTEGRITY_ALERT ||
                code == DTP_R_VERSION_REFUSED || code == DTP_R_INAPPROPRIATE_FALLBACK || code == DTP_R_ALPN_MISMATCH)) {
        snprintf(e->detail, sizeof e->detail, "peer sent fatal alert %d %s", conn->alert_received,
                 alert_name(conn->alert_received));
    } else if (code == DTP_R_HANDSHAKE_EOF && conn->ctx->role == DTP_ROLE_CLIENT && !conn->have_first_header) {
        snprintf(e->detail, sizeof e->detail,
                 "peer closed before answering the ClientHello: it refused our TLS parameters or is not a TLS port");
    }
    e->code = code;
    ERR_clear_error();
    const struct dtp_reason *r = dtp_reason_by_code(code);
    dtp__log(conn->ctx, DTP_LOG_DEBUG, "%s failure: reason %d %s (%s)", in_handshake ? "handshake" : "session", code,
             r ? r->name : "?", e->detail);
    return code;
}

/* ---- handshake ---------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dtp__conn_refuse_hello(SSL *ssl, int code)
{
    dtp_conn *conn = SSL_get_app_data(ssl);
    if (conn)
        conn->hello_refusal = code;
}

/* Size in bits of a named group (X25519 counts 255, as dtp__key_bits); 0
 * when unknown. */
static int group_bits(const char *name)
{
    static const struct {
        const char *name;
        int bits;
    } groups[] = {{"x25519", 255},    {"x448", 448},        {"secp256r1", 256},   {"secp384r1", 384},
                  {"secp521r1", 521}, {"ffdhe2048", 2048},  {"ffdhe3072", 3072},  {"ffdhe4096", 4096},
                  {"ffdhe6144", 6144}, {"ffdhe8192", 8192}, {"secp224r1", 224},   {"secp192r1", 192}};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(groups[i].name, name) == 0)
            return groups[i].bits;
    return 0;
}

/* After the handshake, both roles fill the neutral session record from
 * OpenSSL and hold it against the profile (dtp_check_session): version,
 * suite, peer ephemeral key (E5, B5), peer certificate key (B5), EMS (R36),
 * ALPN (R39); a downgrade is flagged (B6). */
static int check_negotiated(dtp_conn *conn)
{
    struct dtp_session_info *in = &conn->info;
    SSL *ssl = conn->ssl;

    in->version = SSL_version(ssl);
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    snprintf(in->suite, sizeof in->suite, "%s", ci ? SSL_CIPHER_standard_name(ci) : "none");
    in->resumed = SSL_session_reused(ssl) == 1;
    in->ems = in->version >= DTP_TLS1_3 || SSL_get_extms_support(ssl) == 1;

    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    /* A longer id is cut: it differs from the profile's all the same. */
    snprintf(in->alpn, sizeof in->alpn, "%.*s", (int)(alpn_len < sizeof in->alpn ? alpn_len : sizeof in->alpn - 1),
             alpn ? (const char *)alpn : "");
    if (conn->ctx->role == DTP_ROLE_SERVER) {
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        snprintf(in->sni, sizeof in->sni, "%s", sni ? sni : "");
    }

    int nid = SSL_get_negotiated_group(ssl);
    const char *gname = nid > 0 ? SSL_group_to_name(ssl, nid) : NULL;
    EVP_PKEY *tmp = NULL;
    if (SSL_get_peer_tmp_key(ssl, &tmp) == 1 && tmp) {
        in->kx_bits = dtp__key_bits(tmp);
        in->kx_finite_field = EVP_PKEY_is_a(tmp, "DH") || EVP_PKEY_is_a(tmp, "DHX");
        snprintf(in->group, sizeof in->group, "%s", gname ? gname : (in->kx_finite_field ? "DH" : dtp__key_type(tmp)));
        EVP_PKEY_free(tmp);
    } else {
        /* A TLS 1.2 server keeps no copy of the client's share; the group
         * it picked from its own list says the size. */
        snprintf(in->group, sizeof in->group, "%s", gname ? gname : "");
        in->kx_bits = group_bits(in->group);
        in->kx_finite_field = strncmp(in->group, "ffdhe", 5) == 0;
    }

    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (peer) {
        X509_NAME_oneline(X509_get_subject_name(peer), in->peer_subject, sizeof in->peer_subject);
        EVP_PKEY *pk = X509_get0_pubkey(peer);
        in->peer_key_bits = dtp__key_bits(pk);
        snprintf(in->peer_key_type, sizeof in->peer_key_type, "%s", dtp__key_type(pk));
    }

    int rc = dtp_check_session(conn->ctx->profile, in, conn->ctx->relax_key_sizes, conn->ctx->allow_no_ems,
                               &conn->error);
    if (rc == DTP_OK && conn->error.detail[0]) {
        dtp__log(conn->ctx, DTP_LOG_WARN, "%s", conn->error.detail); /* a relaxation (B5, R36) */
        conn->error.detail[0] = '\0';
    }
    return rc;
}

/* After a failed handshake: stop sending and read what the peer still
 * sends, briefly, so the kernel does not answer its in-flight data (a
 * TLS 1.3 client's Finished and first PDU) with a reset that destroys our
 * alert before the peer reads it. Bounded; never for a silent peer. */
static void linger_after_failure(dtp_conn *conn)
{
    if (conn->error.code == DTP_R_HANDSHAKE_TIMEOUT || conn->error.code == DTP_R_HANDSHAKE_EOF)
        return;
    shutdown(conn->fd, SHUT_WR);
    long long deadline = now_ms() + 500;
    char sink[4096];
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd pfd = {conn->fd, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t n = recv(conn->fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            break;
    }
}

int dtp_conn_handshake(dtp_conn *conn)
{
    if (!conn)
        return DTP_R_CONFIG_INVALID;
    if (conn->handshake_done)
        return DTP_OK;
    if (conn->error.code != DTP_OK)
        return conn->error.code;

    /* Non-blocking during the handshake so a silent peer costs at most the
     * handshake timeout; DCMTK gets its blocking socket back afterwards. */
    int flags = fcntl(conn->fd, F_GETFL);
    if (flags < 0 || fcntl(conn->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        conn->error.code = DTP_R_IO_ERROR;
        snprintf(conn->error.detail, sizeof conn->error.detail, "fcntl: %s", strerror(errno));
        return conn->error.code;
    }
    long long deadline = now_ms() + conn->ctx->handshake_timeout_ms;
    int rc = DTP_OK;
    ERR_clear_error();
    for (;;) {
        errno = 0;
        int r = SSL_do_handshake(conn->ssl);
        if (r == 1)
            break;
        int saved_errno = errno;
        int e = SSL_get_error(conn->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            rc = record_failure(conn, r, e, saved_errno, true);
            break;
        }
        long long left = deadline - now_ms();
        struct pollfd pfd = {conn->fd, (short)(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            conn->error.code = rc = DTP_R_HANDSHAKE_TIMEOUT;
            snprintf(conn->error.detail, sizeof conn->error.detail, "no TLS handshake progress within %d ms%s",
                     conn->ctx->handshake_timeout_ms,
                     conn->have_first_header ? "" : " (the peer sent nothing)");
            break;
        }
    }
    if (rc == DTP_OK)
        rc = check_negotiated(conn);
    if (rc != DTP_OK)
        linger_after_failure(conn);
    fcntl(conn->fd, F_SETFL, flags);
    if (rc != DTP_OK) {
        const struct dtp_reason *r = dtp_reason_by_code(rc);
        dtp__log(conn->ctx, DTP_LOG_INFO, "TLS handshake failed: reason %d %s: %s", rc, r ? r->name : "?",
                 conn->error.detail);
        return rc;
    }
    conn->handshake_done = true;
    char line[512];
    dtp__log(conn->ctx, conn->info.downgraded ? DTP_LOG_WARN : DTP_LOG_INFO, "TLS %s",
             dtp_session_format(&conn->info, line, sizeof line));
    return DTP_OK;
}

/* ---- I/O ------------------------------------------------------------ */

ssize_t dtp_conn_read(dtp_conn *conn, void *buf, size_t len)
{
    if (!conn || !conn->handshake_done || conn->error.code != DTP_OK)
        return -1;
    if (conn->held && dtp_conn_flush(conn) != DTP_OK)
        return -1; /* the peer answers only what it has received */
    if (len == 0)
        return 0;
    for (;;) {
        size_t got = 0;
        errno = 0;
        int r = SSL_read_ex(conn->ssl, buf, len, &got);
        if (r == 1) {
            conn->app_data_read = true;
            return (ssize_t)got;
        }
        int saved_errno = errno;
        int e = SSL_get_error(conn->ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0; /* orderly close_notify */
        if (e == SSL_ERROR_SYSCALL && saved_errno == EINTR)
            continue;
        int code = record_failure(conn, r, e, saved_errno, false);
        /* We detected it and OpenSSL sent the fatal alert: give the peer,
         * probably busy writing, the time to read it (C6: both sides). */
        if (code == DTP_R_RECORD_INTEGRITY || code == DTP_R_PROTOCOL_ERROR)
            linger_after_failure(conn);
        return -1;
    }
}

/* What a non-blocking look at the socket finds, without consuming
 * application data. */
enum peek_result { PEEK_NOTHING, PEEK_DATA, PEEK_CLOSED, PEEK_FAILED };

/* alerts_only: a failure that is not the peer's fatal alert is left for
 * the caller to report (its own error is more precise). */
static enum peek_result peek_nonblocking(dtp_conn *conn, bool alerts_only)
{
    int flags = fcntl(conn->fd, F_GETFL);
    if (flags < 0 || fcntl(conn->fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return PEEK_NOTHING;
    char c;
    size_t got = 0;
    errno = 0;
    int r = SSL_peek_ex(conn->ssl, &c, 1, &got);
    int saved_errno = errno;
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(conn->ssl, r);
    fcntl(conn->fd, F_SETFL, flags);
    if (e == SSL_ERROR_NONE)
        return PEEK_DATA;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
        (e == SSL_ERROR_SYSCALL && (saved_errno == EAGAIN || saved_errno == EINTR))) {
        ERR_clear_error(); /* only records without application data so far */
        return PEEK_NOTHING;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return PEEK_CLOSED;
    }
    if (alerts_only && conn->alert_received < 0) {
        ERR_clear_error();
        return PEEK_NOTHING;
    }
    record_failure(conn, r, e, saved_errno, false);
    return PEEK_FAILED;
}

/* While we write (a C-STORE in progress), the peer may have given up with
 * a fatal alert that nobody reads until our writes fail with a reset.
 * Look for it before each write. */
static bool peer_alert_pending(dtp_conn *conn, bool alerts_only)
{
    struct pollfd pfd = {conn->fd, POLLIN, 0};
    return (SSL_has_pending(conn->ssl) || poll(&pfd, 1, 0) > 0) &&
           peek_nonblocking(conn, alerts_only) == PEEK_FAILED;
}

static ssize_t raw_write(dtp_conn *conn, const void *buf, size_t len)
{
    if (peer_alert_pending(conn, false))
        return -1;
    for (;;) {
        size_t put = 0;
        errno = 0;
        int r = SSL_write_ex(conn->ssl, buf, len, &put);
        if (r == 1)
            return (ssize_t)put;
        int saved_errno = errno;
        int e = SSL_get_error(conn->ssl, r);
        if (e == SSL_ERROR_SYSCALL && saved_errno == EINTR)
            continue;
        /* A reset often follows the peer's fatal alert: prefer the alert,
         * but only an alert (the failed send already consumed the reset). */
        if (e == SSL_ERROR_SYSCALL && peer_alert_pending(conn, true))
            return -1;
        record_failure(conn, r, e, saved_errno, false);
        return -1;
    }
}

int dtp_conn_flush(dtp_conn *conn)
{
    if (!conn)
        return DTP_R_CONFIG_INVALID;
    if (conn->held == 0)
        return conn->error.code;
    size_t n = conn->held;
    conn->held = 0;
    return raw_write(conn, conn->hold, n) < 0 ? conn->error.code : DTP_OK;
}

ssize_t dtp_conn_write(dtp_conn *conn, const void *buf, size_t len)
{
    if (!conn || !conn->handshake_done || conn->error.code != DTP_OK)
        return -1;
    if (len == 0)
        return 0;
    if (conn->coalesce && len <= DTP_HOLD_MAX - conn->held) {
        memcpy(conn->hold + conn->held, buf, len);
        conn->held += len;
        return (ssize_t)len;
    }
    if (conn->held == 0)
        return raw_write(conn, buf, len);
    if (!conn->scratch && !(conn->scratch = malloc(DTP_RECORD_MAX))) {
        if (dtp_conn_flush(conn) != DTP_OK)
            return -1;
        return raw_write(conn, buf, len);
    }
    /* held bytes + the head of buf in one record, then the rest */
    size_t head = len < DTP_RECORD_MAX - conn->held ? len : DTP_RECORD_MAX - conn->held;
    memcpy(conn->scratch, conn->hold, conn->held);
    memcpy(conn->scratch + conn->held, buf, head);
    size_t first = conn->held + head;
    conn->held = 0;
    if (raw_write(conn, conn->scratch, first) < 0)
        return -1;
    if (head < len && raw_write(conn, (const unsigned char *)buf + head, len - head) < 0)
        return -1;
    return (ssize_t)len;
}

size_t dtp_conn_pending(dtp_conn *conn)
{
    return conn && conn->ssl ? (size_t)SSL_pending(conn->ssl) : 0;
}

bool dtp_conn_wait_readable(dtp_conn *conn, int timeout_ms)
{
    if (!conn)
        return false;
    if (conn->held && dtp_conn_flush(conn) != DTP_OK)
        return true; /* let the read report the failure */
    /* A readable socket is not readable data: TLS 1.3 sends session tickets
     * and key updates that carry none, and a read would then block past
     * the caller's timeout (DCMTK's ACSE/DIMSE timeouts). Look inside. */
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        if (SSL_pending(conn->ssl) > 0 || conn->error.code != DTP_OK)
            return true;
        /* Read-ahead may hold whole records not yet decrypted. */
        if (conn->handshake_done && SSL_has_pending(conn->ssl) && peek_nonblocking(conn, false) != PEEK_NOTHING)
            return true;
        int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
        if (deadline >= 0 && left < 0)
            left = 0;
        struct pollfd pfd = {conn->fd, POLLIN, 0};
        int n = poll(&pfd, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        if (!conn->handshake_done || peek_nonblocking(conn, false) != PEEK_NOTHING)
            return true;
        if (deadline >= 0 && now_ms() >= deadline)
            return false;
    }
}

/* true if host is an IPv4 or IPv6 address literal, which SNI never carries
 * (RFC 6066 3). */
static bool is_ip_literal(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    char bare[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof bare) { /* "[::1]" */
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
        host = bare;
    }
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int dtp_conn_set_peer_name(dtp_conn *conn, const char *host)
{
    if (!conn)
        return DTP_R_CONFIG_INVALID;
    if (conn->ctx->role != DTP_ROLE_CLIENT || !conn->ctx->profile->send_sni || !host || !host[0] ||
        is_ip_literal(host))
        return DTP_OK; /* Q9: SNI only for a DNS name */
    size_t n = strlen(host);
    if (host[n - 1] == '.') /* RFC 6066 3: no trailing dot */
        n--;
    if (n == 0 || n >= sizeof conn->info.sni)
        return dtp__fail(&conn->error, DTP_R_CONFIG_INVALID, false, "peer name not usable for SNI: %.64s", host);
    snprintf(conn->info.sni, sizeof conn->info.sni, "%.*s", (int)n, host);
    if (SSL_set_tlsext_host_name(conn->ssl, conn->info.sni) != 1)
        return dtp__fail(&conn->error, DTP_R_INTERNAL, true, "cannot set SNI %s", conn->info.sni);
    return DTP_OK;
}

int dtp_conn_close_notify(dtp_conn *conn)
{
    if (!conn || conn->closed)
        return DTP_OK;
    conn->closed = true;
    /* Only a healthy session says goodbye: after a fatal error OpenSSL has
     * already sent its alert, and close_notify would claim a clean end. */
    if (!conn->handshake_done || conn->error.code != DTP_OK || dtp_conn_flush(conn) != DTP_OK)
        return conn->error.code;
    ERR_clear_error();
    if (SSL_shutdown(conn->ssl) < 0) {
        ERR_clear_error();
        return DTP_R_IO_ERROR;
    }
    return DTP_OK;
}

size_t dtp_conn_peer_cert_der(dtp_conn *conn, void *buf, size_t len)
{
    X509 *peer = conn ? SSL_get0_peer_certificate(conn->ssl) : NULL;
    if (!peer)
        return 0;
    int n = i2d_X509(peer, NULL);
    if (n <= 0)
        return 0;
    if (buf && len >= (size_t)n) {
        unsigned char *p = buf;
        i2d_X509(peer, &p);
    }
    return (size_t)n;
}

const char *dtp_session_format(const struct dtp_session_info *in, char *buf, size_t len)
{
    if (!in || !buf || len == 0)
        return "";
    snprintf(buf, len, "%s %s%s%s%s%.0d%s%s%s%s%s%s%s%s%s%s", dtp_tls_version_name(in->version), in->suite,
             in->group[0] ? " group=" : "", in->group, in->kx_bits ? "/" : "", in->kx_bits, in->kx_bits ? "bits" : "",
             in->peer_subject[0] ? " peer=" : "", in->peer_subject, in->alpn[0] ? " alpn=" : "", in->alpn,
             in->sni[0] ? " sni=" : "", in->sni, in->version <= DTP_TLS1_2 && !in->ems ? " no-ems" : "",
             in->resumed ? " resumed" : "", in->downgraded ? " DOWNGRADED (B6)" : "");
    return buf;
}
