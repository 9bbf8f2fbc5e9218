/*
 * libFuzzer harness: the fuzz input is everything the TLS peer sends.
 *
 * Built twice (tests/fuzz/CMakeLists.txt):
 *   fuzz_handshake         (FUZZ_ROLE server) the input plays a client that
 *                          connects to a dtp-storescp: a ClientHello, a
 *                          plain DICOM A-ASSOCIATE-RQ, garbage, ...
 *   fuzz_handshake_client  (FUZZ_ROLE client) the input answers the
 *                          ClientHello of a dtp-storescu: a ServerHello
 *                          flight, an alert, a plain DICOM peer, ...
 *
 * Input: one selector byte (fuzz_common.h: profile, key type, how the
 * peer closes, verify mode), then the peer's bytes. They are written into
 * one end of a socketpair, that end stops sending (shutdown, or close),
 * and dtp_conn_handshake runs on the other end: the first-bytes
 * classification (NOT_TLS), OpenSSL's record and handshake parsing, and
 * the failure mapping to a reason row (record_failure, classify_*).
 *
 * Besides the sanitizers, the harness aborts when
 *  - the handshake succeeds: bytes fixed in advance cannot complete a
 *    handshake with a fresh key share and random, so success would mean a
 *    missing check;
 *  - the reason is not a row of the reason table, or is a local
 *    configuration reason (1xx), or the error record disagrees with the
 *    return value or has no NUL-terminated detail;
 *  - (server) a peer whose first five bytes are a DICOM PDU header (C1:
 *    plain DICOM on a TLS port) is reported as anything but 200 NOT_TLS;
 *  - a failed connection reads or writes application data.
 *
 * Contexts (one per selector variant) are made once, in
 * LLVMFuzzerInitialize, from the PKI fixture in $DTP_PKI; every input
 * frees its connection and closes its sockets, so nothing grows per run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"

#ifndef FUZZ_ROLE
#define FUZZ_ROLE DTP_ROLE_SERVER
#endif

#define NCTX 32
static dtp_ctx *ctxs[NCTX];
static size_t log_bytes; /* the log callback's output goes nowhere */

/* Selector bits that make a different context (the others are per run). */
static unsigned ctx_index(unsigned sel)
{
    return FUZZ_ROLE == DTP_ROLE_SERVER ? (sel & 0x17u) : (sel & 0x0fu);
}

static void fuzz_log(void *user, int level, const char *message)
{
    (void)user;
    (void)level;
    log_bytes += strlen(message); /* reads the whole formatted message */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (unsigned sel = 0; sel < NCTX; sel++) {
        unsigned i = ctx_index(sel);
        if (!ctxs[i])
            ctxs[i] = fuzz_make_ctx(FUZZ_ROLE, sel, fuzz_log, NULL);
    }
    return 0;
}

#define FAIL(...)                                                                                                    \
    do {                                                                                                             \
        fprintf(stderr, "fuzz_handshake: " __VA_ARGS__);                                                             \
        fputc('\n', stderr);                                                                                         \
        abort();                                                                                                     \
    } while (0)

/* Writes what fits into the socket without blocking (inputs are far below
 * the socket buffer; -max_len keeps them there). */
static void feed(int fd, const uint8_t *data, size_t size)
{
    while (size > 0) {
        ssize_t n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data += n;
        size -= (size_t)n;
    }
}

static void check_outcome(dtp_conn *conn, int rc, unsigned sel, const uint8_t *peer, size_t size)
{
    const struct dtp_error *err = dtp_conn_error(conn);
    if (rc == DTP_OK)
        FAIL("handshake succeeded on fixed peer bytes (selector 0x%02x, %zu bytes)", sel, size);
    const struct dtp_reason *r = dtp_reason_by_code(rc);
    if (!r)
        FAIL("reason %d is not in the reason table", rc);
    if (rc < 200)
        FAIL("peer bytes produced local configuration reason %d %s", rc, r->name);
    if (!err || err->code != rc)
        FAIL("dtp_conn_error says %d, the handshake returned %d", err ? err->code : -1, rc);
    if (!memchr(err->detail, '\0', sizeof err->detail))
        FAIL("error detail is not NUL-terminated");
    if (!err->detail[0])
        FAIL("reason %d %s without a detail", rc, r->name);
    /* C1: plain DICOM on a TLS port is NOT_TLS, whatever follows the
     * PDU header (types 1-7, second byte 0). */
    if (FUZZ_ROLE == DTP_ROLE_SERVER && size >= 5 && peer[0] >= 1 && peer[0] <= 7 && peer[1] == 0 &&
        rc != DTP_R_NOT_TLS)
        FAIL("a DICOM PDU header %02x %02x %02x %02x %02x gave reason %d %s (%s), not 200 NOT_TLS", peer[0], peer[1],
             peer[2], peer[3], peer[4], rc, r->name, err->detail);
}

/* What an application may still call on a failed connection. */
static void exercise_failed(dtp_conn *conn, int rc)
{
    char buf[600];
    if (dtp_conn_read(conn, buf, sizeof buf) != -1)
        FAIL("dtp_conn_read succeeded after a failed handshake");
    if (dtp_conn_write(conn, "A", 1) != -1)
        FAIL("dtp_conn_write succeeded after a failed handshake");
    if (dtp_conn_flush(conn) == DTP_OK)
        FAIL("dtp_conn_flush reports OK after a failed handshake");
    (void)dtp_conn_pending(conn);
    (void)dtp_conn_wait_readable(conn, 0);
    if (dtp_conn_close_notify(conn) != rc)
        FAIL("dtp_conn_close_notify does not report the handshake's reason %d", rc);

    const struct dtp_error *err = dtp_conn_error(conn);
    dtp_error_format(err, buf, sizeof buf);
    char small[8];
    if (strlen(dtp_error_format(err, small, sizeof small)) >= sizeof small)
        FAIL("dtp_error_format overran a small buffer");
    dtp_session_format(dtp_conn_info(conn), buf, sizeof buf);
    /* A TLS 1.2 peer's certificate can be parsed before the failure. */
    unsigned char der[16384];
    size_t n = dtp_conn_peer_cert_der(conn, NULL, 0);
    if (n > 0 && n <= sizeof der && dtp_conn_peer_cert_der(conn, der, sizeof der) != n)
        FAIL("dtp_conn_peer_cert_der gave two lengths");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    data++;
    size--;
    dtp_ctx *ctx = ctxs[ctx_index(sel)];

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        FAIL("socketpair: %s", strerror(errno));
    feed(sv[1], data, size);
    /* The peer has said everything: EOF after its bytes. A server's peer
     * may go away completely; a client's peer must stay to take the
     * ClientHello, or the client never reads the input. */
    if (FUZZ_ROLE == DTP_ROLE_SERVER && SEL_BIT3(sel)) {
        close(sv[1]);
        sv[1] = -1;
    } else {
        shutdown(sv[1], SHUT_WR);
    }

    struct dtp_error err;
    memset(&err, 0, sizeof err);
    dtp_conn *conn = dtp_conn_new(ctx, sv[0], &err);
    if (!conn)
        FAIL("dtp_conn_new: %d %s", err.code, err.detail);
    if (sel & 0x20u)
        dtp_conn_set_coalesce(conn, true);
    int rc = dtp_conn_handshake(conn);
    check_outcome(conn, rc, sel, data, size);
    exercise_failed(conn, rc);
    dtp_conn_free(conn);
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return 0;
}
