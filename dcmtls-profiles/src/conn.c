/*
 * One TLS connection, backend-neutral: the handshake within a deadline, the
 * post-handshake check against the profile (policy.c), blocking I/O for
 * DCMTK with write coalescing, the linger that lets a peer read our alert,
 * "not TLS at all" detection, and the details that make a reason row
 * readable (C6). The TLS library is reached through ctx->be only.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

dtp_conn *dtp_conn_new(dtp_ctx *ctx, int fd, struct dtp_error *err)
{
    if (!ctx || fd < 0) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "dtp_conn_new: no context or socket");
        return NULL;
    }
    dtp_conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        dtp__set_error(err, DTP_R_INTERNAL, "out of memory");
        return NULL;
    }
    conn->ctx = ctx;
    conn->fd = fd;
    conn->alert_received = -1;
    if (ctx->be->conn_new(conn, err) != DTP_OK) {
        dtp_conn_free(conn);
        return NULL;
    }
    return conn;
}

void dtp_conn_free(dtp_conn *conn)
{
    if (!conn)
        return;
    conn->ctx->be->conn_free(conn);
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

/* ---- what the backend reports of the peer ---------------------------- */

void dtp__conn_note_header(dtp_conn *conn, const unsigned char *header)
{
    if (conn->have_first_header)
        return;
    memcpy(conn->first_header, header, 5);
    conn->have_first_header = true;
}

void dtp__conn_note_alert(dtp_conn *conn, int description) { conn->alert_received = description; }

static bool header_looks_like_tls(const unsigned char *h)
{
    /* content type change_cipher_spec..application_data, major version 3 */
    return h[0] >= 20 && h[0] <= 23 && h[1] == 3;
}

bool dtp__conn_not_tls(const dtp_conn *conn)
{
    return conn->have_first_header && !header_looks_like_tls(conn->first_header);
}

int dtp__classify_other(const dtp_conn *conn, bool in_handshake)
{
    /* In the first flight from a peer whose very first bytes were not a TLS
     * record header: it does not speak TLS (C1). */
    if (in_handshake && dtp__conn_not_tls(conn))
        return DTP_R_NOT_TLS;
    return in_handshake ? DTP_R_HANDSHAKE_FAILED : DTP_R_PROTOCOL_ERROR;
}

/* ---- failure details ------------------------------------------------ */

/* IANA TLS alert names (RFC 8446 6, RFC 5246 7.2, RFC 7507): OpenSSL 3.0's
 * SSL_alert_desc_string_long() does not know the TLS 1.3 ones. */
const char *dtp__alert_name(int desc)
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
                  {60, "export_restriction"},   {70, "protocol_version"},
                  {71, "insufficient_security"}, {80, "internal_error"},
                  {86, "inappropriate_fallback"}, {90, "user_canceled"},          {100, "no_renegotiation"},
                  {109, "missing_extension"},   {110, "unsupported_extension"},   {112, "unrecognized_name"},
                  {113, "bad_certificate_status_response"}, {115, "unknown_psk_identity"},
                  {116, "certificate_required"}, {120, "no_application_protocol"}};
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (alerts[i].desc == desc)
            return alerts[i].name;
    return "unknown";
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

int dtp__classify_io(dtp_conn *conn, enum dtp_io io, int saved_errno, bool in_handshake)
{
    struct dtp_error *e = &conn->error;
    if (io == DTP_IO_CLOSED) {
        snprintf(e->detail, sizeof e->detail, "peer sent close_notify");
        return in_handshake ? DTP_R_HANDSHAKE_EOF : DTP_R_TRUNCATED;
    }
    /* Would block: a blocking socket with SO_RCVTIMEO/SO_SNDTIMEO expired. */
    if (io == DTP_IO_WANT_READ || io == DTP_IO_WANT_WRITE || saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) {
        snprintf(e->detail, sizeof e->detail, "socket timeout");
        return in_handshake ? DTP_R_HANDSHAKE_TIMEOUT : DTP_R_TIMEOUT;
    }
    if (saved_errno == 0) {
        snprintf(e->detail, sizeof e->detail, "connection closed by peer without close_notify");
        return in_handshake ? DTP_R_HANDSHAKE_EOF : DTP_R_TRUNCATED;
    }
    snprintf(e->detail, sizeof e->detail, "%s", strerror(saved_errno));
    return in_handshake && (saved_errno == ECONNRESET || saved_errno == EPIPE) ? DTP_R_HANDSHAKE_EOF : DTP_R_IO_ERROR;
}

/* Records the failure of a backend step that returned io: the backend
 * names the reason in its library's words, this adds what is known of the
 * peer. */
static int record_failure(dtp_conn *conn, enum dtp_io io, int saved_errno, bool in_handshake)
{
    /* In TLS 1.3 the client finishes first; a server that refuses its
     * certificate says so with an alert on the client's first read. Before
     * any application byte, that alert is the handshake's outcome. */
    if (!in_handshake && !conn->app_data_read && conn->alert_received >= 0)
        in_handshake = true;
    struct dtp_error *e = &conn->error;
    int code = conn->ctx->be->classify(conn, io, saved_errno, in_handshake);
    /* Make the detail say the useful part first. */
    if (conn->hello_refusal && code == conn->hello_refusal) {
        snprintf(e->detail, sizeof e->detail, "%s",
                 code == DTP_R_EMS_MISSING
                     ? "the client offered neither TLS 1.3 nor extended_master_secret (RFC 7627): refused with "
                       "handshake_failure"
                     : "the client's best version is SSL 3.0: refused with protocol_version");
    } else if (code == DTP_R_NOT_TLS) {
        describe_first_header(conn, e->detail, sizeof e->detail);
    } else if (code >= DTP_R_PEER_CERT_MISSING && code <= DTP_R_PEER_CERT_WEAK) {
        /* the backend's certificate words stand */
    } else if (conn->alert_received >= 0 &&
               (code == DTP_R_PEER_ALERT || code == DTP_R_SESSION_ALERT || code == DTP_R_INTEGRITY_ALERT ||
                code == DTP_R_VERSION_REFUSED || code == DTP_R_INAPPROPRIATE_FALLBACK || code == DTP_R_ALPN_MISMATCH)) {
        snprintf(e->detail, sizeof e->detail, "peer sent fatal alert %d %s", conn->alert_received,
                 dtp__alert_name(conn->alert_received));
    } else if (code == DTP_R_HANDSHAKE_EOF && conn->ctx->role == DTP_ROLE_CLIENT && !conn->have_first_header) {
        snprintf(e->detail, sizeof e->detail,
                 "peer closed before answering the ClientHello: it refused our TLS parameters or is not a TLS port");
    }
    e->code = code;
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

/* After the handshake, both roles take what was negotiated from the
 * backend and hold it against the profile (dtp_check_session): version,
 * suite, peer ephemeral key (E5, B5), peer certificate key (B5), EMS (R36),
 * ALPN (R39); a downgrade is flagged (B6). */
static int check_negotiated(dtp_conn *conn)
{
    conn->ctx->be->negotiated(conn, &conn->info);
    int rc = dtp_check_session(conn->ctx->profile, &conn->info, conn->ctx->relax_key_sizes, conn->ctx->allow_no_ems,
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
    const struct dtp_backend *be = conn->ctx->be;
    long long deadline = now_ms() + conn->ctx->handshake_timeout_ms;
    int rc = DTP_OK;
    be->clear_error(conn);
    for (;;) {
        errno = 0;
        enum dtp_io io = be->handshake(conn);
        if (io == DTP_IO_OK)
            break;
        int saved_errno = errno;
        if (io != DTP_IO_WANT_READ && io != DTP_IO_WANT_WRITE) {
            rc = record_failure(conn, io, saved_errno, true);
            break;
        }
        long long left = deadline - now_ms();
        struct pollfd pfd = {conn->fd, (short)(io == DTP_IO_WANT_READ ? POLLIN : POLLOUT), 0};
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            conn->error.code = rc = DTP_R_HANDSHAKE_TIMEOUT;
            snprintf(conn->error.detail, sizeof conn->error.detail, "no TLS handshake progress within %d ms%s",
                     conn->ctx->handshake_timeout_ms, conn->have_first_header ? "" : " (the peer sent nothing)");
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
        enum dtp_io io = conn->ctx->be->read(conn, buf, len, &got);
        if (io == DTP_IO_OK) {
            conn->app_data_read = true;
            return (ssize_t)got;
        }
        int saved_errno = errno;
        if (io == DTP_IO_CLOSED)
            return 0; /* orderly close_notify */
        if (io == DTP_IO_TRANSPORT && saved_errno == EINTR)
            continue;
        int code = record_failure(conn, io, saved_errno, false);
        /* We detected it and the backend sent the fatal alert: give the
         * peer, probably busy writing, the time to read it (C6: both sides). */
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
    errno = 0;
    enum dtp_io io = conn->ctx->be->peek(conn);
    int saved_errno = errno;
    fcntl(conn->fd, F_SETFL, flags);
    if (io == DTP_IO_OK)
        return PEEK_DATA;
    if (io == DTP_IO_WANT_READ || io == DTP_IO_WANT_WRITE ||
        (io == DTP_IO_TRANSPORT && (saved_errno == EAGAIN || saved_errno == EINTR))) {
        conn->ctx->be->clear_error(conn); /* only records without application data so far */
        return PEEK_NOTHING;
    }
    if (io == DTP_IO_CLOSED) {
        conn->ctx->be->clear_error(conn);
        return PEEK_CLOSED;
    }
    if (alerts_only && conn->alert_received < 0) {
        conn->ctx->be->clear_error(conn);
        return PEEK_NOTHING;
    }
    record_failure(conn, io, saved_errno, false);
    return PEEK_FAILED;
}

/* While we write (a C-STORE in progress), the peer may have given up with
 * a fatal alert that nobody reads until our writes fail with a reset.
 * Look for it before each write. */
static bool peer_alert_pending(dtp_conn *conn, bool alerts_only)
{
    struct pollfd pfd = {conn->fd, POLLIN, 0};
    return (conn->ctx->be->buffered(conn) || poll(&pfd, 1, 0) > 0) &&
           peek_nonblocking(conn, alerts_only) == PEEK_FAILED;
}

static ssize_t raw_write(dtp_conn *conn, const void *buf, size_t len)
{
    if (peer_alert_pending(conn, false))
        return -1;
    for (;;) {
        size_t put = 0;
        errno = 0;
        enum dtp_io io = conn->ctx->be->write(conn, buf, len, &put);
        if (io == DTP_IO_OK)
            return (ssize_t)put;
        int saved_errno = errno;
        if (io == DTP_IO_TRANSPORT && saved_errno == EINTR)
            continue;
        /* A reset often follows the peer's fatal alert: prefer the alert,
         * but only an alert (the failed send already consumed the reset). */
        if (io == DTP_IO_TRANSPORT && peer_alert_pending(conn, true))
            return -1;
        record_failure(conn, io, saved_errno, false);
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

size_t dtp_conn_pending(dtp_conn *conn) { return conn && conn->be_conn ? conn->ctx->be->pending(conn) : 0; }

bool dtp_conn_wait_readable(dtp_conn *conn, int timeout_ms)
{
    if (!conn)
        return false;
    if (conn->held && dtp_conn_flush(conn) != DTP_OK)
        return true; /* let the read report the failure */
    /* A readable socket is not readable data: TLS 1.3 sends session tickets
     * and key updates that carry none, and a read would then block past
     * the caller's timeout (DCMTK's ACSE/DIMSE timeouts). Look inside. */
    const struct dtp_backend *be = conn->ctx->be;
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        if (be->pending(conn) > 0 || conn->error.code != DTP_OK)
            return true;
        /* Read-ahead may hold whole records not yet decrypted. */
        if (conn->handshake_done && be->buffered(conn) && peek_nonblocking(conn, false) != PEEK_NOTHING)
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
        return dtp__set_error(&conn->error, DTP_R_CONFIG_INVALID, "peer name not usable for SNI: %.64s", host);
    snprintf(conn->info.sni, sizeof conn->info.sni, "%.*s", (int)n, host);
    return conn->ctx->be->set_server_name(conn, conn->info.sni);
}

int dtp_conn_close_notify(dtp_conn *conn)
{
    if (!conn || conn->closed)
        return DTP_OK;
    conn->closed = true;
    /* Only a healthy session says goodbye: after a fatal error the backend
     * has already sent its alert, and close_notify would claim a clean end. */
    if (!conn->handshake_done || conn->error.code != DTP_OK || dtp_conn_flush(conn) != DTP_OK)
        return conn->error.code;
    return conn->ctx->be->shutdown(conn);
}

size_t dtp_conn_peer_cert_der(dtp_conn *conn, void *buf, size_t len)
{
    return conn && conn->be_conn ? conn->ctx->be->peer_cert_der(conn, buf, len) : 0;
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
