/* The prober's private parts shared by probe.c (OpenSSL, the hand-made
 * ClientHello, sockets) and probe_gnutls.c: what a backend saw of the
 * server, and the rule that turns it into an outcome, so both backends
 * report the same server behaviour the same way. No TLS library header. */
#ifndef DTP_PROBE_INTERNAL_H
#define DTP_PROBE_INTERNAL_H

#include "dtp/check.h"

/* What the server sent during one attempt, as a backend saw it. */
struct dtp__probe_seen {
    unsigned char first[5]; /* the server's first bytes (a record header, if TLS) */
    size_t first_n;         /* how many of first[] arrived */
    int alert;              /* fatal alert description received, -1 none */
    int warning;            /* last warning alert received, -1 none */
    bool cert_requested;    /* CertificateRequest (handshake type 13) */
    bool ticket;            /* NewSessionTicket (handshake type 4) */
};

/* Why a backend's attempt stopped short of a completed handshake. */
enum dtp__probe_stop {
    DTP__STOP_TIMEOUT, /* the deadline passed */
    DTP__STOP_EOF,     /* the server closed (FIN) */
    DTP__STOP_ERRNO,   /* a socket error (reset, ...): errno given */
    DTP__STOP_TLS      /* the TLS library gave up (words given) */
};

void dtp__probe_seen_init(struct dtp__probe_seen *seen);
/* Keeps the first bytes the server sends (call with every read). */
void dtp__probe_seen_bytes(struct dtp__probe_seen *seen, const void *buf, size_t n);

/* Milliseconds of CLOCK_MONOTONIC. */
long long dtp__probe_now(void);
/* Waits until fd is ready for events (POLLIN / POLLOUT) or the deadline
 * (dtp__probe_now() time) passes: 1 ready, 0 timed out, -1 poll failed. */
int dtp__probe_wait(int fd, short events, long long deadline);

/* Sets out->outcome and out->detail (printf-style). */
void dtp__probe_set(struct dtp_probe_result *out, int outcome, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Appends to out->detail (printf-style). */
void dtp__probe_note(struct dtp_probe_result *out, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "SSLv3", "TLSv1.2", ... */
const char *dtp__probe_version_name(int version);
/* The outcome of an attempt that stopped (see enum dtp__probe_stop), from
 * what the server sent: not TLS, its fatal alert, timeout, closed, or a
 * refusal the library detected (words: the library's reason). */
void dtp__probe_stopped(struct dtp_probe_result *out, const struct dtp__probe_seen *seen, enum dtp__probe_stop why,
                        int err, const char *words, int timeout_ms);
/* IANA TLS alert name: "handshake_failure"; "unknown" otherwise. */

/* The IANA code point of a suite name from the prober's table (RFC 8446
 * B.4, the IANA TLS Cipher Suites registry); -1 if not in it. */
int dtp__probe_suite_code(const char *iana);
/* The IANA name of a code point, or NULL. */
const char *dtp__probe_suite_name(unsigned code);

#ifdef DTP_WITH_GNUTLS
/* The GnuTLS probe (probe_gnutls.c), prepared before any connection: the
 * priority string and credentials. It offers suites, versions, groups,
 * SNI, ALPN, a client certificate and trust only. NULL with out set
 * (LOCAL) when it cannot make the offer. */
struct dtp__gt_probe;
struct dtp__gt_probe *dtp__probe_gnutls_new(const struct dtp_probe *probe, struct dtp_probe_result *out);
/* Runs it over the connected non-blocking socket fd; fills out but ms. */
void dtp__probe_gnutls_run(struct dtp__gt_probe *g, int fd, long long deadline, int timeout_ms);
void dtp__probe_gnutls_free(struct dtp__gt_probe *g); /* NULL is fine */
#endif

#endif
