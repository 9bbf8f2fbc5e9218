/*
 * dtp_probe_run: one handshake attempt at a server with exactly the
 * offers of one probe (include/dtp/check.h), and what the server did.
 *
 * The probe is a TLS client that no profile restricts: it must be able to
 * offer TLS 1.0, SHA-1 signatures or a weak suite to see whether the server
 * accepts them (C2, C3, R7, R8, R13-R16). Three ways to make the offer:
 *
 *   - OpenSSL, on a fresh SSL_CTX per probe at security level 0 (this
 *     context only; never a production context);
 *   - GnuTLS (probe_gnutls.c), for the Camellia-GCM suites OpenSSL 3.0
 *     lacks (E3, K3, M21);
 *   - a hand-made ClientHello record (RFC 5246 7.4.1.2) for what no library
 *     here sends: SSL 3.0 (C2, R7), DEFLATE compression (C4), and suites
 *     compiled out of OpenSSL (3DES, RC4, DES, export). Only the ServerHello
 *     header is read: the server's choice, never a completed handshake.
 *
 * Everything is bounded: one deadline for connect + handshake, reads of at
 * most one record, every descriptor closed, no state outside the call.
 */
#define _DEFAULT_SOURCE /* timegm */
#include "probe_internal.h"
#include "internal.h"
#include "openssl_be.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define PROBE_DEFAULT_TIMEOUT_MS 10000
/* TLS 1.3 (RFC 8446 4.4.2): a server judges the client's certificate after
 * the client's Finished; its verdict is awaited this long at most. */
#define PROBE_VERDICT_MS 300
#define RECORD_MAX (16384 + 2048) /* RFC 5246 6.2.3: TLSCiphertext.length */
#define RAW_MAX_SUITES 128

/* ---- suites ----------------------------------------------------------- */

#define HOW_ANY 0    /* OpenSSL when it can offer it, else the hand-made hello */
#define HOW_GNUTLS 1 /* a profile lists it: a completed handshake, GnuTLS only */

/* IANA code points (TLS Cipher Suites registry) of every suite a profile
 * lists and of the suites no profile allows that a scan offers (C3, R13-R16,
 * E4, M26). */
static const struct {
    const char *iana;
    unsigned short code;
    unsigned char how;
} suite_table[] = {
    /* TLS 1.3 (RFC 8446 B.4) */
    {"TLS_AES_128_GCM_SHA256", 0x1301, HOW_ANY},
    {"TLS_AES_256_GCM_SHA384", 0x1302, HOW_ANY},
    {"TLS_CHACHA20_POLY1305_SHA256", 0x1303, HOW_ANY},
    {"TLS_AES_128_CCM_SHA256", 0x1304, HOW_ANY},
    {"TLS_AES_128_CCM_8_SHA256", 0x1305, HOW_ANY},
    /* the profiles' TLS 1.2 suites */
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0x009e, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", 0x009f, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", 0xc086, HOW_GNUTLS},
    {"TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", 0xc087, HOW_GNUTLS},
    {"TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", 0xc08a, HOW_GNUTLS},
    {"TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", 0xc08b, HOW_GNUTLS},
    {"TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", 0xc07c, HOW_GNUTLS},
    {"TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", 0xc07d, HOW_GNUTLS},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM", 0xc0ac, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CCM", 0xc0ad, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", 0xc0ae, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", 0xc0af, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9, HOW_ANY},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f, HOW_ANY},
    /* suites no profile allows */
    {"TLS_RSA_WITH_NULL_MD5", 0x0001, HOW_ANY},
    {"TLS_RSA_WITH_NULL_SHA", 0x0002, HOW_ANY},
    {"TLS_RSA_EXPORT_WITH_RC4_40_MD5", 0x0003, HOW_ANY},
    {"TLS_RSA_WITH_RC4_128_MD5", 0x0004, HOW_ANY},
    {"TLS_RSA_WITH_RC4_128_SHA", 0x0005, HOW_ANY},
    {"TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", 0x0006, HOW_ANY},
    {"TLS_RSA_WITH_IDEA_CBC_SHA", 0x0007, HOW_ANY},
    {"TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", 0x0008, HOW_ANY},
    {"TLS_RSA_WITH_DES_CBC_SHA", 0x0009, HOW_ANY},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000a, HOW_ANY},
    {"TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", 0x0014, HOW_ANY},
    {"TLS_DHE_RSA_WITH_DES_CBC_SHA", 0x0015, HOW_ANY},
    {"TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", 0x0016, HOW_ANY},
    {"TLS_DH_anon_WITH_RC4_128_MD5", 0x0018, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 0x0033, HOW_ANY},
    {"TLS_DH_anon_WITH_AES_128_CBC_SHA", 0x0034, HOW_ANY},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 0x0039, HOW_ANY},
    {"TLS_RSA_WITH_NULL_SHA256", 0x003b, HOW_ANY},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003c, HOW_ANY},
    {"TLS_RSA_WITH_AES_256_CBC_SHA256", 0x003d, HOW_ANY},
    {"TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", 0x0041, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 0x0067, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 0x006b, HOW_ANY},
    {"TLS_RSA_WITH_SEED_CBC_SHA", 0x0096, HOW_ANY},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c, HOW_ANY},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009d, HOW_ANY},
    {"TLS_DH_anon_WITH_AES_128_GCM_SHA256", 0x00a6, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_NULL_SHA", 0xc010, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", 0xc011, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", 0xc012, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014, HOW_ANY},
    {"TLS_ECDH_anon_WITH_AES_128_CBC_SHA", 0xc018, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0xc023, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 0xc024, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xc027, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 0xc028, HOW_ANY},
    {"TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", 0xc05c, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", 0xc060, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", 0xc061, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", 0xc076, HOW_ANY},
    {"TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", 0xc077, HOW_ANY},
    {"TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256", 0xc07a, HOW_ANY},
    {"TLS_RSA_WITH_AES_128_CCM", 0xc09c, HOW_ANY},
    {"TLS_RSA_WITH_AES_256_CCM", 0xc09d, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_128_CCM", 0xc09e, HOW_ANY},
    {"TLS_DHE_RSA_WITH_AES_256_CCM", 0xc09f, HOW_ANY},
    {"TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xccaa, HOW_ANY},
};
#define N_SUITES (sizeof suite_table / sizeof suite_table[0])

static int table_index(const char *iana)
{
    for (size_t i = 0; iana && i < N_SUITES; i++)
        if (strcmp(suite_table[i].iana, iana) == 0)
            return (int)i;
    return -1;
}

int dtp__probe_suite_code(const char *iana)
{
    int i = table_index(iana);
    return i < 0 ? -1 : suite_table[i].code;
}

const char *dtp__probe_suite_name(unsigned code)
{
    for (size_t i = 0; i < N_SUITES; i++)
        if (suite_table[i].code == code)
            return suite_table[i].iana;
    return NULL;
}

static bool is_tls13_suite(const char *iana)
{
    return strncmp(iana, "TLS_AES_", 8) == 0 || strncmp(iana, "TLS_CHACHA20_", 13) == 0;
}

/* OpenSSL's name of a TLS 1.0-1.2 suite, or NULL when this build lacks it. */
static const char *openssl_name(const char *iana)
{
    const char *name = OPENSSL_cipher_name(iana);
    return name && strcmp(name, "(NONE)") != 0 ? name : NULL;
}

/* Every suite this OpenSSL can offer at security level 0, as one
 * throw-away context per probe (nothing cached between calls). */
static SSL_CTX *catalogue_new(void)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c) {
        SSL_CTX_set_security_level(c, 0);
        SSL_CTX_set_cipher_list(c, "ALL:COMPLEMENTOFALL");
        SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                                    "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256");
    }
    ERR_clear_error();
    return c;
}

static const SSL_CIPHER *catalogue_find(SSL_CTX *cat, const char *iana)
{
    STACK_OF(SSL_CIPHER) *sk = cat ? SSL_CTX_get_ciphers(cat) : NULL;
    for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++)
        if (strcmp(SSL_CIPHER_standard_name(sk_SSL_CIPHER_value(sk, i)), iana) == 0)
            return sk_SSL_CIPHER_value(sk, i);
    return NULL;
}

/* The code point of a suite: the table's, else OpenSSL's; -1 if unknown. */
static int suite_code(SSL_CTX *cat, const char *iana)
{
    int code = dtp__probe_suite_code(iana);
    const SSL_CIPHER *ci = code < 0 ? catalogue_find(cat, iana) : NULL;
    return ci ? (int)SSL_CIPHER_get_protocol_id(ci) : code;
}

/* One call of dtp_probe_run. */
struct run {
    const struct dtp_probe *probe;
    struct dtp_probe_result *out;
    SSL_CTX *catalogue;
    int timeout_ms;
    long long deadline;
};

/* ---- result bookkeeping ------------------------------------------------ */

static void result_init(struct dtp_probe_result *out)
{
    memset(out, 0, sizeof *out);
    out->outcome = DTP_PROBE_LOCAL;
    out->alert = -1;
    out->version = DTP_TLS_NONE;
    out->verify_result = -1;
}

static void vnote(struct dtp_probe_result *out, const char *fmt, va_list ap)
{
    size_t n = strlen(out->detail);
    if (n + 1 < sizeof out->detail)
        vsnprintf(out->detail + n, sizeof out->detail - n, fmt, ap);
}

void dtp__probe_set(struct dtp_probe_result *out, int outcome, const char *fmt, ...)
{
    out->outcome = outcome;
    out->detail[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vnote(out, fmt, ap);
    va_end(ap);
}

void dtp__probe_note(struct dtp_probe_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(out, fmt, ap);
    va_end(ap);
}

const char *dtp_probe_outcome_name(int outcome)
{
    static const char *const names[] = {"accepted", "refused", "closed", "timeout", "not_tls", "unreachable", "local"};
    return outcome >= 0 && (size_t)outcome < sizeof names / sizeof names[0] ? names[outcome] : "unknown";
}


const char *dtp__probe_version_name(int v) { return v == DTP_SSL3_0 ? "SSLv3" : dtp_tls_version_name(v); }

/* ---- what the server sent ----------------------------------------------- */

void dtp__probe_seen_init(struct dtp__probe_seen *seen)
{
    memset(seen, 0, sizeof *seen);
    seen->alert = -1;
    seen->warning = -1;
}

void dtp__probe_seen_bytes(struct dtp__probe_seen *seen, const void *buf, size_t n)
{
    size_t room = sizeof seen->first - seen->first_n, take = n < room ? n : room;
    memcpy(seen->first + seen->first_n, buf, take);
    seen->first_n += take;
}

/* C1: a TLS record starts with a content type of RFC 8446 5.1 / RFC 6520
 * (change_cipher_spec 20 .. heartbeat 24), major version 3 and a length a
 * record can have; true while the bytes seen so far fit. */
static bool looks_tls(const unsigned char *h, size_t n)
{
    return (n < 1 || (h[0] >= 20 && h[0] <= 24)) && (n < 2 || h[1] == 3) &&
           (n < 5 || ((size_t)h[3] << 8 | h[4]) <= RECORD_MAX);
}

/* NOT_TLS, naming what the server spoke instead: a DICOM PDU (PS3.8 9.3),
 * text (HTTP), or bytes. */
static void describe_not_tls(const struct dtp__probe_seen *s, struct dtp_probe_result *out)
{
    static const char *const pdus[] = {"", "A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", "A-ASSOCIATE-RJ",
                                       "P-DATA-TF", "A-RELEASE-RQ", "A-RELEASE-RP", "A-ABORT"};
    const unsigned char *h = s->first;
    char hex[16] = "", text[8] = "";
    bool printable = true;
    for (size_t i = 0; i < s->first_n; i++) {
        snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%s%02x", i ? " " : "", h[i]);
        printable &= h[i] >= 0x20 && h[i] < 0x7f;
        text[i] = (char)h[i];
    }
    if (looks_tls(h, 2))
        dtp__probe_set(out, DTP_PROBE_NOT_TLS, "the server's record header (%s) gives length %u: not TLS (C1)", hex,
                       (unsigned)h[3] << 8 | h[4]);
    else if (h[0] >= 1 && h[0] <= 7 && (s->first_n < 2 || h[1] == 0))
        dtp__probe_set(out, DTP_PROBE_NOT_TLS, "the server answered with a DICOM %s PDU (%s): plain DICOM, not TLS (C1)",
                       pdus[h[0]], hex);
    else if (printable)
        dtp__probe_set(out, DTP_PROBE_NOT_TLS, "the server answered in plain text \"%s\"%s: not TLS (C1)", text,
                       strncmp(text, "HTTP", 4) == 0 ? " (HTTP)" : "");
    else
        dtp__probe_set(out, DTP_PROBE_NOT_TLS, "the server's first bytes (%s) are not a TLS record header (C1)", hex);
}

void dtp__probe_stopped(struct dtp_probe_result *out, const struct dtp__probe_seen *seen, enum dtp__probe_stop why,
                        int err, const char *words, int timeout_ms)
{
    out->cert_requested = seen->cert_requested;
    if (seen->first_n > 0 && !looks_tls(seen->first, seen->first_n)) {
        describe_not_tls(seen, out);
    } else if (seen->alert >= 0) {
        out->alert = seen->alert;
        dtp__probe_set(out, DTP_PROBE_REFUSED, "%s (%d)", dtp__alert_name(seen->alert), seen->alert);
    } else if (why == DTP__STOP_TIMEOUT) {
        dtp__probe_set(out, DTP_PROBE_TIMEOUT, "no %sanswer within %d ms", seen->first_n ? "complete " : "", timeout_ms);
    } else if (why == DTP__STOP_EOF || why == DTP__STOP_ERRNO) {
        dtp__probe_set(out, DTP_PROBE_CLOSED, "the server %s without an alert%s%s",
                       why == DTP__STOP_EOF ? "closed the connection" : "dropped the connection",
                       seen->first_n ? "" : ", before answering", seen->warning >= 0 ? ", after a warning alert" : "");
        if (why == DTP__STOP_ERRNO)
            dtp__probe_note(out, " (%s)", strerror(err));
    } else if (seen->first_n == 0) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "the TLS library would not send this offer: %s", words);
    } else {
        /* The server answered, without an alert, something the client
         * cannot accept (a version or suite it did not offer, ...). */
        dtp__probe_set(out, DTP_PROBE_REFUSED, "no alert: the client aborted on the server's answer: %s", words);
    }
}

/* ---- sockets ---------------------------------------------------------- */

long long dtp__probe_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dtp__probe_wait(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - dtp__probe_now();
        struct pollfd pfd = {fd, events, 0};
        int n = left > 0 ? poll(&pfd, 1, (int)(left > 60000 ? 60000 : left)) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && left > 60000)
            continue;
        return n > 0 ? 1 : n;
    }
}

static struct addrinfo *resolve(const char *host, const char *port, struct dtp_probe_result *out)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        dtp__probe_set(out, DTP_PROBE_UNREACHABLE, "cannot resolve %.100s port %.16s: %s", host, port,
                       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return NULL;
    }
    return ai;
}

/* One non-blocking connect before the deadline: the socket, or -1 with
 * *err (errno; ETIMEDOUT when the deadline passed). */
static int connect_one(const struct addrinfo *a, long long deadline, int *err)
{
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    int rc = flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? -1 : connect(fd, a->ai_addr, a->ai_addrlen);
    *err = rc == 0 ? 0 : errno;
    if (rc != 0 && *err == EINPROGRESS) {
        int w = dtp__probe_wait(fd, POLLOUT, deadline);
        socklen_t len = sizeof *err;
        *err = w == 0 ? ETIMEDOUT : w < 0 ? errno : 0;
        if (w > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) != 0)
            *err = errno;
    }
    if (*err) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The first address of host that accepts a TCP connection before the
 * deadline: the connected non-blocking socket, or -1 (UNREACHABLE). */
static int connect_any(const struct addrinfo *ai, const char *host, const char *port, struct run *r)
{
    int err = ECONNREFUSED;
    for (const struct addrinfo *a = ai; a && err != ETIMEDOUT; a = a->ai_next) {
        int fd = connect_one(a, r->deadline, &err);
        if (fd >= 0)
            return fd;
    }
    dtp__probe_set(r->out, DTP_PROBE_UNREACHABLE, "TCP connect to %.100s port %.16s: %s", host, port,
                   err == ETIMEDOUT ? "no answer within the timeout" : strerror(err));
    return -1;
}

/* ---- the hand-made ClientHello (RFC 5246 7.4.1.2) ------------------------ */

struct wbuf {
    unsigned char *b;
    size_t n, cap;
    bool over;
};

/* A big-endian integer of width bytes. */
static void put(struct wbuf *w, unsigned v, size_t width)
{
    if (w->n + width > w->cap) {
        w->over = true;
        return;
    }
    for (size_t i = width; i-- > 0;)
        w->b[w->n++] = (unsigned char)(v >> (8 * i));
}

static void put_bytes(struct wbuf *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->over = true;
        return;
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

/* A length field of width bytes, filled by len_close with what follows it. */
static size_t len_open(struct wbuf *w, size_t width)
{
    size_t at = w->n;
    put(w, 0, width);
    return at;
}

static void len_close(struct wbuf *w, size_t at, size_t width)
{
    size_t len = w->over ? 0 : w->n - at - width;
    for (size_t i = 0; !w->over && i < width; i++)
        w->b[at + i] = (unsigned char)(len >> (8 * (width - 1 - i)));
}

/* An extension whose body is a list of 2-byte values with a 2-byte length
 * (supported_groups RFC 8422 5.1.1, signature_algorithms RFC 5246 7.4.1.4.1). */
static void put_list_ext(struct wbuf *w, unsigned type, const unsigned short *v, size_t n)
{
    put(w, type, 2);
    size_t ext = len_open(w, 2), list = len_open(w, 2);
    for (size_t i = 0; i < n; i++)
        put(w, v[i], 2);
    len_close(w, list, 2);
    len_close(w, ext, 2);
}

struct raw_offer {
    unsigned version; /* client_version: 0x0300 .. 0x0303 */
    unsigned short suites[RAW_MAX_SUITES];
    size_t n_suites;
    bool deflate;    /* compression_methods DEFLATE(1), null(0) (RFC 3749); else null only */
    bool extensions; /* TLS: the extensions below; SSL 3.0: none, the SCSV instead (RFC 5746 3.3) */
    bool ems;        /* extended_master_secret (RFC 7627) */
    bool fallback_scsv;
    const char *server_name;
};

/* The minimal extensions a server needs: server_name (RFC 6066 3),
 * supported_groups and ec_point_formats (RFC 8422 5.1), signature_algorithms
 * (SHA-1 included: a probe, not a profile), extended_master_secret (so a
 * server that requires it, R36, answers), renegotiation_info (RFC 5746
 * 3.4: empty in an initial hello). */
static void put_extensions(struct wbuf *w, const struct raw_offer *o)
{
    static const unsigned short groups[] = {29, 23, 24, 25, 30, 256, 257, 258};
    static const unsigned short sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                             0x0401, 0x0501, 0x0601, 0x0201, 0x0203};
    size_t all = len_open(w, 2);
    if (o->server_name) {
        size_t n = strlen(o->server_name);
        put(w, 0, 2);
        size_t ext = len_open(w, 2), list = len_open(w, 2);
        put(w, 0, 1); /* host_name */
        put(w, (unsigned)n, 2);
        put_bytes(w, o->server_name, n);
        len_close(w, list, 2);
        len_close(w, ext, 2);
    }
    put_list_ext(w, 10, groups, sizeof groups / sizeof groups[0]);
    static const unsigned char point_formats[] = {0, 11, 0, 2, 1, 0}; /* uncompressed only */
    put_bytes(w, point_formats, sizeof point_formats);
    put_list_ext(w, 13, sigalgs, sizeof sigalgs / sizeof sigalgs[0]);
    if (o->ems)
        put(w, 23, 2), put(w, 0, 2);
    static const unsigned char reneg_info[] = {0xff, 0x01, 0, 1, 0};
    put_bytes(w, reneg_info, sizeof reneg_info);
    len_close(w, all, 2);
}

/* The ClientHello in one handshake record; its size, 0 if buf is short. */
static size_t build_hello(const struct raw_offer *o, unsigned char *buf, size_t cap)
{
    struct wbuf w = {buf, 0, cap, false};
    put(&w, 22, 1);                                        /* ContentType handshake */
    put(&w, o->version < 0x0301 ? o->version : 0x0301, 2); /* record version as clients send it (RFC 5246 E.1) */
    size_t rec = len_open(&w, 2);
    put(&w, 1, 1); /* HandshakeType client_hello */
    size_t hs = len_open(&w, 3);
    put(&w, o->version, 2);
    unsigned char random[32] = {0};
    RAND_bytes(random, sizeof random);
    put_bytes(&w, random, sizeof random);
    put(&w, 0, 1); /* session_id: none */
    size_t cs = len_open(&w, 2);
    for (size_t i = 0; i < o->n_suites; i++)
        put(&w, o->suites[i], 2);
    if (o->fallback_scsv)
        put(&w, 0x5600, 2); /* TLS_FALLBACK_SCSV (RFC 7507) */
    if (!o->extensions)
        put(&w, 0x00ff, 2); /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
    len_close(&w, cs, 2);
    put(&w, o->deflate ? 2 : 1, 1);
    if (o->deflate)
        put(&w, 1, 1);
    put(&w, 0, 1);
    if (o->extensions)
        put_extensions(&w, o);
    len_close(&w, hs, 3);
    len_close(&w, rec, 2);
    return w.over ? 0 : w.n;
}

/* Reads exactly n bytes before the deadline: -1 done, else why it
 * stopped (enum dtp__probe_stop) with errno in *err. */
static int read_full(int fd, unsigned char *buf, size_t n, long long deadline, struct dtp__probe_seen *seen, int *err)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r > 0) {
            dtp__probe_seen_bytes(seen, buf + got, (size_t)r);
            got += (size_t)r;
            continue;
        }
        if (r == 0)
            return DTP__STOP_EOF;
        *err = errno;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return DTP__STOP_ERRNO;
        int w = dtp__probe_wait(fd, POLLIN, deadline);
        if (w <= 0)
            return w == 0 ? DTP__STOP_TIMEOUT : DTP__STOP_ERRNO;
    }
    return -1;
}

static bool send_all(int fd, const unsigned char *buf, size_t n, long long deadline)
{
    for (size_t sent = 0; sent < n;) {
        ssize_t r = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);
        if (r > 0)
            sent += (size_t)r;
        else if (r == 0 || (errno != EINTR && (errno != EAGAIN || dtp__probe_wait(fd, POLLOUT, deadline) <= 0)))
            return false;
    }
    return true;
}

struct server_hello {
    unsigned version, suite, compression;
};

/* RFC 5246 7.4.1.3: msg_type(1) length(3) server_version(2) random(32)
 * session_id(1 + n) cipher_suite(2) compression_method(1): the header
 * fields only, from the first handshake record. */
static bool parse_server_hello(const unsigned char *b, size_t len, struct server_hello *sh,
                               struct dtp_probe_result *out)
{
    if (b[0] != 2) {
        dtp__probe_set(out, DTP_PROBE_REFUSED, "no alert: the server answered handshake message type %u, not ServerHello",
                       b[0]);
        return false;
    }
    size_t sid = len > 38 ? b[38] : 0;
    if (len < 39 || sid > 32 || len < 39 + sid + 3) {
        dtp__probe_set(out, DTP_PROBE_REFUSED, "no alert: the server's ServerHello is cut short (%zu bytes)", len);
        return false;
    }
    const unsigned char *p = b + 39 + sid;
    sh->version = (unsigned)b[4] << 8 | b[5];
    sh->suite = (unsigned)p[0] << 8 | p[1];
    sh->compression = p[2];
    return true;
}

/* Reads records up to the server's first handshake record, passing over
 * warning alerts: true with sh filled, or false with the outcome set (its
 * alert, not TLS, closed, timeout). At most a few records of RECORD_MAX. */
static bool read_server_hello(int fd, struct run *r, struct server_hello *sh)
{
    struct dtp__probe_seen seen;
    dtp__probe_seen_init(&seen);
    unsigned char hdr[5] = {0}, body[RECORD_MAX];
    for (int records = 0; records < 8; records++) {
        int err = 0, stop = read_full(fd, hdr, sizeof hdr, r->deadline, &seen, &err);
        size_t len = (size_t)hdr[3] << 8 | hdr[4];
        if (stop < 0 && !looks_tls(hdr, sizeof hdr)) {
            describe_not_tls(&seen, r->out);
            return false;
        }
        if (stop < 0 && len == 0) {
            dtp__probe_set(r->out, DTP_PROBE_REFUSED, "no alert: the server sent an empty record");
            return false;
        }
        if (stop < 0)
            stop = read_full(fd, body, len, r->deadline, &seen, &err);
        if (stop >= 0) {
            dtp__probe_stopped(r->out, &seen, (enum dtp__probe_stop)stop, err, "", r->timeout_ms);
            return false;
        }
        if (hdr[0] == 21 && len == 2 && body[0] == 1 && body[1] != 0) {
            seen.warning = body[1]; /* e.g. unrecognized_name: the hello goes on */
            continue;
        }
        if (hdr[0] == 21 && len == 2) {
            seen.alert = body[1] ? body[1] : -1; /* close_notify: closed */
            dtp__probe_stopped(r->out, &seen, DTP__STOP_EOF, 0, "", r->timeout_ms);
            return false;
        }
        if (hdr[0] == 22)
            return parse_server_hello(body, len, sh, r->out);
        dtp__probe_set(r->out, DTP_PROBE_REFUSED, "no alert: the server sent record type %u before a ServerHello", hdr[0]);
        return false;
    }
    dtp__probe_set(r->out, DTP_PROBE_REFUSED, "no alert: warning alerts only, no ServerHello");
    return false;
}

enum raw_mode { RAW_SSL3, RAW_COMPRESSION, RAW_SUITES };

/* What the ServerHello says about the offer. */
static void raw_verdict(const struct raw_offer *o, enum raw_mode mode, const struct server_hello *sh,
                        struct dtp_probe_result *out)
{
    bool offered = false;
    for (size_t i = 0; i < o->n_suites; i++)
        offered |= o->suites[i] == sh->suite;
    if (mode == RAW_SSL3 && sh->version != DTP_SSL3_0) {
        dtp__probe_set(out, DTP_PROBE_REFUSED, "no alert: the server answered an SSL 3.0 hello with %s (ServerHello only)",
                       dtp__probe_version_name((int)sh->version));
        return;
    }
    out->version = (int)sh->version;
    const char *name = dtp__probe_suite_name(sh->suite);
    if (name)
        snprintf(out->suite, sizeof out->suite, "%s", name);
    else
        snprintf(out->suite, sizeof out->suite, "0x%04x", sh->suite);
    out->compression = sh->compression != 0;
    if (!offered)
        dtp__probe_set(out, DTP_PROBE_ACCEPTED, "ServerHello only: the server chose %s, which was not offered", out->suite);
    else if (mode == RAW_COMPRESSION)
        dtp__probe_set(out, DTP_PROBE_ACCEPTED, "ServerHello only: %s %s, compression method %u (%s)",
                       dtp__probe_version_name(out->version), out->suite, sh->compression,
                       sh->compression == 1 ? "DEFLATE" : sh->compression == 0 ? "null" : "unknown");
    else if (mode == RAW_SSL3)
        dtp__probe_set(out, DTP_PROBE_ACCEPTED, "ServerHello only: SSLv3 with %s; handshake not completed", out->suite);
    else
        dtp__probe_set(out, DTP_PROBE_ACCEPTED, "ServerHello only: the server chose it; handshake not completed");
}

/* The suites of a hand-made hello: the probe's (TLS 1.3 ones left out),
 * or, without a list, a broad set of the mode's era. */
static bool raw_suites(struct run *r, enum raw_mode mode, struct raw_offer *o)
{
    static const unsigned short ssl3[] = {0x002f, 0x0035, 0x000a, 0x0005, 0x0004, 0x0033, 0x0039, 0x0016, 0x0009};
    static const unsigned short tls12[] = {0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009e, 0x009f, 0xcca8, 0xcca9,
                                           0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, 0x009c, 0x009d};
    const char *const *names = r->probe->suites;
    if (!names) {
        const unsigned short *d = mode == RAW_SSL3 ? ssl3 : tls12;
        o->n_suites = mode == RAW_SSL3 ? sizeof ssl3 / sizeof ssl3[0] : sizeof tls12 / sizeof tls12[0];
        memcpy(o->suites, d, o->n_suites * sizeof d[0]);
    }
    for (size_t i = 0; names && names[i] && o->n_suites < RAW_MAX_SUITES; i++) {
        int code = suite_code(r->catalogue, names[i]);
        if (code >= 0 && code >> 8 != 0x13)
            o->suites[o->n_suites++] = (unsigned short)code;
    }
    if (o->n_suites == 0)
        dtp__probe_set(r->out, DTP_PROBE_LOCAL, "a hand-made hello offers TLS 1.0-1.2 suites only; the probe lists none");
    return o->n_suites > 0;
}

/* Sends the hand-made hello over fd and reads the ServerHello's header. */
static void raw_probe(int fd, struct run *r, enum raw_mode mode)
{
    const struct dtp_probe *pr = r->probe;
    struct raw_offer o;
    memset(&o, 0, sizeof o);
    o.version = mode == RAW_SSL3 ? DTP_SSL3_0 : (unsigned)(pr->max_version < DTP_TLS1_2 ? pr->max_version : DTP_TLS1_2);
    o.deflate = pr->compression;
    o.extensions = mode != RAW_SSL3;
    o.ems = !pr->no_ems;
    o.fallback_scsv = pr->fallback_scsv;
    o.server_name = pr->server_name;
    if (!raw_suites(r, mode, &o))
        return;
    unsigned char hello[1024 + 2 * RAW_MAX_SUITES];
    size_t n = build_hello(&o, hello, sizeof hello);
    struct server_hello sh;
    if (n == 0)
        dtp__probe_set(r->out, DTP_PROBE_LOCAL, "the hand-made ClientHello does not fit in %zu bytes", sizeof hello);
    else if (!send_all(fd, hello, n, r->deadline))
        dtp__probe_set(r->out, DTP_PROBE_CLOSED, "the server closed before taking the ClientHello (%s)", strerror(errno));
    else if (read_server_hello(fd, r, &sh))
        raw_verdict(&o, mode, &sh, r->out);
}

/* ---- OpenSSL: the context --------------------------------------------- */

/* Joins the probe's suites of one kind (TLS 1.3 or not) in OpenSSL's
 * names; false if they do not fit. */
static bool join_suites(const char *const *suites, bool tls13, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; suites[i]; i++) {
        if (is_tls13_suite(suites[i]) != tls13)
            continue;
        const char *name = tls13 ? suites[i] : openssl_name(suites[i]);
        size_t used = strlen(out);
        if (!name || (size_t)snprintf(out + used, len - used, "%s%s", used ? ":" : "", name) >= len - used)
            return false;
    }
    return true;
}

/* Joins IANA names for OpenSSL, which takes them as they are but for the
 * legacy SignatureScheme code points of RFC 8446 4.2.3 it spells its own way. */
static bool join_names(const char *const *names, char *out, size_t len)
{
    static const struct {
        const char *iana, *openssl;
    } alias[] = {{"ecdsa_sha1", "ECDSA+SHA1"}, {"dsa_sha1", "DSA+SHA1"}, {"rsa_pkcs1_md5", "RSA+MD5"}};
    out[0] = '\0';
    for (size_t i = 0; names[i]; i++) {
        const char *name = names[i];
        for (size_t k = 0; k < sizeof alias / sizeof alias[0]; k++)
            if (strcmp(alias[k].iana, name) == 0)
                name = alias[k].openssl;
        size_t used = strlen(out);
        if ((size_t)snprintf(out + used, len - used, "%s%s", used ? ":" : "", name) >= len - used)
            return false;
    }
    return true;
}

/* Versions and suites: -1 (LOCAL, out set) when OpenSSL cannot offer them. */
static int ctx_offers(SSL_CTX *c, const struct dtp_probe *pr, struct dtp_probe_result *out)
{
    /* SSL 3.0 is offered only by a hello of its own (RAW_SSL3). */
    int min = pr->min_version < DTP_TLS1_0 ? DTP_TLS1_0 : pr->min_version;
    if (!SSL_CTX_set_min_proto_version(c, min) || !SSL_CTX_set_max_proto_version(c, pr->max_version)) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "OpenSSL cannot offer %s to %s", dtp__probe_version_name(min),
                       dtp__probe_version_name(pr->max_version));
        return -1;
    }
    if (!pr->suites)
        return DTP_OK;
    char list[4096], list13[512];
    if (!join_suites(pr->suites, false, list, sizeof list) || !join_suites(pr->suites, true, list13, sizeof list13)) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "too many suites for one offer");
        return -1;
    }
    /* An empty TLS 1.0-1.2 list is refused but takes effect: TLS 1.3 suites only. */
    if ((SSL_CTX_set_cipher_list(c, list) != 1 && list[0]) || SSL_CTX_set_ciphersuites(c, list13) != 1) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "OpenSSL refuses the suite list %.100s %.100s", list, list13);
        return -1;
    }
    return DTP_OK;
}

/* Groups, signature schemes (DTP_R_CONFIG_INVALID for a name OpenSSL does
 * not know) and ALPN. */
static int ctx_names(SSL_CTX *c, const struct dtp_probe *pr, struct dtp_probe_result *out)
{
    char names[2048];
    if (pr->groups && (!join_names(pr->groups, names, sizeof names) || SSL_CTX_set1_groups_list(c, names) != 1)) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "unknown group in %.200s", names);
        return DTP_R_CONFIG_INVALID;
    }
    if (pr->sigalgs && (!join_names(pr->sigalgs, names, sizeof names) || SSL_CTX_set1_sigalgs_list(c, names) != 1)) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "unknown signature scheme in %.200s", names);
        return DTP_R_CONFIG_INVALID;
    }
    if (pr->alpn) {
        unsigned char wire[256];
        size_t n = strlen(pr->alpn);
        wire[0] = (unsigned char)n;
        memcpy(wire + 1, pr->alpn, n);
        if (SSL_CTX_set_alpn_protos(c, wire, (unsigned)n + 1) != 0) { /* 0 is success here */
            dtp__probe_set(out, DTP_PROBE_LOCAL, "OpenSSL refuses ALPN id %.64s", pr->alpn);
            return -1;
        }
    }
    return DTP_OK;
}

/* Client certificate and trust. */
static int ctx_files(SSL_CTX *c, const struct dtp_probe *pr, struct dtp_probe_result *out)
{
    if (pr->cert_file && (SSL_CTX_use_certificate_chain_file(c, pr->cert_file) != 1 ||
                          SSL_CTX_use_PrivateKey_file(c, pr->key_file, SSL_FILETYPE_PEM) != 1 ||
                          SSL_CTX_check_private_key(c) != 1)) {
        char why[160];
        ERR_error_string_n(ERR_peek_last_error(), why, sizeof why);
        dtp__probe_set(out, DTP_PROBE_LOCAL, "cannot use client certificate %.80s with key %.80s: %s", pr->cert_file,
                       pr->key_file, why);
        return -1;
    }
    if ((pr->ca_file || pr->ca_dir) && SSL_CTX_load_verify_locations(c, pr->ca_file, pr->ca_dir) != 1) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "cannot load trusted CAs from %.200s", pr->ca_file ? pr->ca_file : pr->ca_dir);
        return -1;
    }
    return DTP_OK;
}

/* Whether a connection of c would offer any suite at its versions. */
static bool has_usable_suite(SSL_CTX *c)
{
    SSL *ssl = SSL_new(c);
    STACK_OF(SSL_CIPHER) *sk = ssl ? SSL_get1_supported_ciphers(ssl) : NULL;
    bool any = sk && sk_SSL_CIPHER_num(sk) > 0;
    sk_SSL_CIPHER_free(sk);
    SSL_free(ssl);
    return any;
}

/* A fresh client context with exactly the probe's offers, at security
 * level 0 on this context only: it offers weak things on purpose and is
 * never a production context. NULL with out set and *rc the call's return
 * code (DTP_OK with a LOCAL outcome, or DTP_R_CONFIG_INVALID). */
static SSL_CTX *probe_ctx(const struct dtp_probe *pr, struct dtp_probe_result *out, int *rc)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    *rc = DTP_OK;
    if (!c) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "SSL_CTX_new failed");
        return NULL;
    }
    SSL_CTX_set_security_level(c, 0);
    /* Complete handshakes with servers without RFC 5746, so that they show
     * as secure_renegotiation false (C5) instead of failing. */
    uint64_t opts = SSL_OP_LEGACY_SERVER_CONNECT;
    if (pr->no_ems)
        opts |= SSL_OP_NO_EXTENDED_MASTER_SECRET; /* R36 */
    SSL_CTX_set_options(c, opts);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL); /* verified, never enforced: verify_result */
    int r = ctx_offers(c, pr, out);
    if (r == DTP_OK)
        r = ctx_names(c, pr, out);
    if (r == DTP_OK)
        r = ctx_files(c, pr, out);
    if (r == DTP_OK && !has_usable_suite(c)) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "none of the probe's suites can be offered at %s to %s",
                       dtp__probe_version_name(pr->min_version), dtp__probe_version_name(pr->max_version));
        r = -1;
    }
    ERR_clear_error();
    if (r == DTP_OK)
        return c;
    SSL_CTX_free(c);
    *rc = r == DTP_R_CONFIG_INVALID ? r : DTP_OK;
    return NULL;
}

/* ---- OpenSSL: the connection ------------------------------------------- */

struct ossl_probe {
    struct run *r;
    struct dtp__probe_seen seen;
    SSL *ssl;
    int fd;
};

/* Why a step stopped. */
struct stop {
    enum dtp__probe_stop why;
    int err;
    char words[200];
};

/* The stock socket BIO's read, noting the server's first bytes (C1). */
static int seen_read(BIO *b, char *buf, int len)
{
    int n = BIO_meth_get_read(BIO_s_socket())(b, buf, len);
    struct dtp__probe_seen *seen = BIO_get_app_data(b);
    if (n > 0 && seen)
        dtp__probe_seen_bytes(seen, buf, (size_t)n);
    return n;
}

/* The backend's no-SIGPIPE socket method, reading through seen_read. */
static BIO_METHOD *probe_bio_method(void)
{
    BIO_METHOD *m = dtp__ossl_nosig_method();
    if (m)
        BIO_meth_set_read(m, seen_read);
    return m;
}

/* Alerts and handshake messages the server sends. In TLS 1.3 every alert
 * but close_notify and user_canceled is fatal whatever its level (RFC 8446 6). */
static void msg_cb(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl, void *arg)
{
    (void)ssl;
    struct dtp__probe_seen *seen = arg;
    const unsigned char *b = buf;
    if (write_p || len < 1)
        return;
    if (type == SSL3_RT_ALERT && len >= 2) {
        bool fatal = b[0] == SSL3_AL_FATAL || (version == TLS1_3_VERSION && b[1] != 0 && b[1] != 90);
        if (fatal && seen->alert < 0)
            seen->alert = b[1];
        else if (!fatal)
            seen->warning = b[1];
    } else if (type == SSL3_RT_HANDSHAKE) {
        seen->cert_requested |= b[0] == SSL3_MT_CERTIFICATE_REQUEST;
        seen->ticket |= b[0] == SSL3_MT_NEWSESSION_TICKET;
    }
}

/* After an SSL call that returned ret (errno is the call's): 1 done, 0 go
 * on (the socket is ready), -1 stopped (f filled). */
static int settle(struct ossl_probe *p, int ret, long long deadline, struct stop *f)
{
    int saved = errno;
    if (ret > 0)
        return 1;
    int e = SSL_get_error(p->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        int w = dtp__probe_wait(p->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (w > 0)
            return 0;
        *f = (struct stop){w == 0 ? DTP__STOP_TIMEOUT : DTP__STOP_ERRNO, errno, ""};
        return -1;
    }
    unsigned long le = ERR_peek_error();
    *f = (struct stop){DTP__STOP_TLS, saved, ""};
    if (e == SSL_ERROR_ZERO_RETURN || ERR_GET_REASON(le) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        f->why = DTP__STOP_EOF; /* close_notify, or EOF */
    else if (e == SSL_ERROR_SYSCALL && !le)
        f->why = saved ? DTP__STOP_ERRNO : DTP__STOP_EOF;
    else
        ERR_error_string_n(le, f->words, sizeof f->words);
    ERR_clear_error();
    return -1;
}

static int run_handshake(struct ossl_probe *p, struct stop *f)
{
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = settle(p, SSL_do_handshake(p->ssl), p->r->deadline, f);
        if (r != 0)
            return r;
    }
}

/* TLS 1.3 (RFC 8446 4.4.2): a server that asked for a certificate judges
 * the client's (or its absence) after the client's Finished, so a refusal
 * comes after the handshake. One read, briefly: an alert refuses; a
 * session ticket or data accepts; silence accepts (a DICOM server sends
 * nothing first). 1 accepted, -1 stopped (f filled). */
static int await_verdict(struct ossl_probe *p, struct stop *f)
{
    long long until = dtp__probe_now() + PROBE_VERDICT_MS;
    if (until > p->r->deadline)
        until = p->r->deadline;
    for (;;) {
        char buf[512];
        size_t got = 0;
        ERR_clear_error();
        errno = 0;
        int ret = SSL_read_ex(p->ssl, buf, sizeof buf, &got);
        if (ret == 1 || p->seen.ticket)
            return 1;
        if (settle(p, ret, until, f) < 0)
            return f->why == DTP__STOP_TIMEOUT ? 1 : -1;
    }
}

/* ---- OpenSSL: what was negotiated ---------------------------------------- */

static int pkey_bits(const EVP_PKEY *k)
{
    /* X25519 and Ed25519 count 255 bits, as the library counts them (E5, M17). */
    if (EVP_PKEY_is_a(k, "X25519") || EVP_PKEY_is_a(k, "ED25519"))
        return 255;
    if (EVP_PKEY_is_a(k, "X448") || EVP_PKEY_is_a(k, "ED448"))
        return 448;
    return EVP_PKEY_get_bits(k);
}

/* The key exchange group: by name in TLS 1.3 and ECDHE; in TLS 1.2 DHE
 * from the server's parameters ("ffdhe2048" when they are an RFC 7919
 * group, else "dh"); bits of the server's key. */
static void fill_group(SSL *ssl, struct dtp_probe_result *out)
{
    int nid = SSL_get_negotiated_group(ssl);
    const char *name = nid > 0 ? SSL_group_to_name(ssl, nid) : NULL;
    snprintf(out->group, sizeof out->group, "%s", name ? name : "");
    EVP_PKEY *tmp = NULL;
    if (SSL_get_peer_tmp_key(ssl, &tmp) == 1 && tmp) {
        if (EVP_PKEY_is_a(tmp, "DH") || EVP_PKEY_is_a(tmp, "DHX")) {
            char g[32] = "";
            if (!EVP_PKEY_get_utf8_string_param(tmp, OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof g, NULL) ||
                strncmp(g, "ffdhe", 5) != 0)
                snprintf(g, sizeof g, "dh");
            snprintf(out->group, sizeof out->group, "%s", g);
        }
        out->group_bits = pkey_bits(tmp);
        EVP_PKEY_free(tmp);
    }
    if (!out->group_bits)
        out->group_bits = dtp__group_bits(out->group);
    ERR_clear_error();
}

static const char *pkey_type(const EVP_PKEY *k)
{
    static const char *const types[][2] = {{"RSA", "RSA"},         {"RSA-PSS", "RSA-PSS"}, {"EC", "EC"},
                                           {"ED25519", "Ed25519"}, {"ED448", "Ed448"},     {"DSA", "DSA"}};
    for (size_t i = 0; k && i < sizeof types / sizeof types[0]; i++)
        if (EVP_PKEY_is_a(k, types[i][0]))
            return types[i][1];
    return k ? "other" : "none";
}

static long long asn1_unix(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    return t && ASN1_TIME_to_tm(t, &tm) == 1 ? (long long)timegm(&tm) : 0;
}

static void fill_cert(X509 *x, struct dtp_cert_info *ci)
{
    X509_NAME_oneline(X509_get_subject_name(x), ci->subject, sizeof ci->subject);
    X509_NAME_oneline(X509_get_issuer_name(x), ci->issuer, sizeof ci->issuer);
    EVP_PKEY *k = X509_get0_pubkey(x);
    snprintf(ci->key_type, sizeof ci->key_type, "%s", pkey_type(k));
    ci->key_bits = k ? pkey_bits(k) : 0;
    int md = NID_undef;
    if (X509_get_signature_info(x, &md, NULL, NULL, NULL) == 1 && md != NID_undef) {
        const EVP_MD *m = EVP_get_digestbynid(md);
        snprintf(ci->sig_hash, sizeof ci->sig_hash, "%s", OBJ_nid2sn(md));
        ci->sig_hash_bits = m ? EVP_MD_get_size(m) * 8 : 0;
    }
    ci->not_before = asn1_unix(X509_get0_notBefore(x));
    ci->not_after = asn1_unix(X509_get0_notAfter(x));
    ci->self_signed = X509_self_signed(x, 1) == 1;
    ERR_clear_error();
}

/* The server's chain as sent, leaf first, and its verification against the
 * probe's CAs (done during the handshake, never enforced). */
static void fill_chain(struct ossl_probe *p)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p->ssl);
    struct dtp_probe_result *out = p->r->out;
    for (int i = 0; chain && i < sk_X509_num(chain) && out->chain_len < DTP_PROBE_MAX_CHAIN; i++)
        fill_cert(sk_X509_value(chain, i), &out->chain[out->chain_len++]);
    if (out->chain_len && (p->r->probe->ca_file || p->r->probe->ca_dir)) {
        out->verify_result = (int)SSL_get_verify_result(p->ssl);
        if (out->outcome == DTP_PROBE_ACCEPTED && out->verify_result > 0)
            dtp__probe_note(out, "; certificate: %s (%d)", X509_verify_cert_error_string(out->verify_result),
                            out->verify_result);
    }
}

static void fill_accepted(struct ossl_probe *p)
{
    SSL *ssl = p->ssl;
    struct dtp_probe_result *out = p->r->out;
    out->version = SSL_version(ssl);
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    snprintf(out->suite, sizeof out->suite, "%s", ci ? SSL_CIPHER_standard_name(ci) : "");
    fill_group(ssl, out);
    /* TLS 1.3 binds every session to its handshake (RFC 8446 7.1). */
    out->ems = out->version >= DTP_TLS1_3 || SSL_get_extms_support(ssl) == 1;
    out->secure_renegotiation = out->version <= DTP_TLS1_2 && SSL_get_secure_renegotiation_support(ssl) == 1;
    out->compression = SSL_get_current_compression(ssl) != NULL; /* C4 */
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    snprintf(out->alpn, sizeof out->alpn, "%.*s", (int)(alpn_len < sizeof out->alpn ? alpn_len : sizeof out->alpn - 1),
             alpn ? (const char *)alpn : "");
    dtp__probe_set(out, DTP_PROBE_ACCEPTED, "%s %s%s%s", dtp__probe_version_name(out->version), out->suite,
                   out->group[0] ? " " : "", out->group);
}

/* C5, RFC 5746: after a TLS 1.0-1.2 handshake, ask for another. The server
 * may complete it, refuse with no_renegotiation (a warning) or a fatal
 * alert, close, or say nothing. */
static void renegotiate(struct ossl_probe *p)
{
    struct dtp_probe_result *out = p->r->out;
    if (out->version >= DTP_TLS1_3) {
        dtp__probe_note(out, "; renegotiation: none in TLS 1.3");
        return;
    }
    p->seen.warning = -1;
    ERR_clear_error();
    struct stop f = {DTP__STOP_TLS, 0, ""};
    if (SSL_renegotiate(p->ssl) != 1)
        ERR_error_string_n(ERR_peek_error(), f.words, sizeof f.words);
    else if (run_handshake(p, &f) > 0 && !SSL_renegotiate_pending(p->ssl))
        out->renegotiated = true;
    ERR_clear_error();
    int alert = p->seen.alert >= 0 ? p->seen.alert : p->seen.warning;
    if (out->renegotiated) {
        dtp__probe_note(out, "; renegotiation completed");
    } else if (alert >= 0) {
        out->alert = p->seen.alert;
        dtp__probe_note(out, "; renegotiation refused: %s (%d)%s", dtp__alert_name(alert), alert,
                        p->seen.alert >= 0 ? "" : " warning");
    } else {
        dtp__probe_note(out, "; renegotiation: %s",
                        f.why == DTP__STOP_TIMEOUT ? "no answer within the timeout"
                        : f.why == DTP__STOP_TLS   ? f.words
                                                   : "the server closed the connection");
    }
}

/* After a completed handshake: the TLS 1.3 verdict on the client's
 * certificate, what was negotiated, renegotiation. */
static void after_handshake(struct ossl_probe *p)
{
    struct stop f;
    if (SSL_version(p->ssl) == TLS1_3_VERSION && p->seen.cert_requested && await_verdict(p, &f) < 0) {
        dtp__probe_stopped(p->r->out, &p->seen, f.why, f.err, f.words, p->r->timeout_ms);
        dtp__probe_note(p->r->out, " after the handshake");
        return;
    }
    fill_accepted(p);
    if (p->r->probe->renegotiate)
        renegotiate(p);
    SSL_shutdown(p->ssl); /* close_notify; the server's is not awaited */
}

static void openssl_probe(int fd, SSL_CTX *c, struct run *r)
{
    struct ossl_probe p = {.r = r, .ssl = NULL, .fd = fd};
    dtp__probe_seen_init(&p.seen);
    BIO_METHOD *meth = probe_bio_method();
    BIO *bio = meth ? BIO_new(meth) : NULL;
    p.ssl = bio ? SSL_new(c) : NULL;
    if (p.ssl) {
        BIO_set_fd(bio, fd, BIO_NOCLOSE);
        BIO_set_app_data(bio, &p.seen);
        SSL_set_bio(p.ssl, bio, bio); /* owned by p.ssl */
    } else {
        BIO_free(bio);
    }
    if (!p.ssl || (r->probe->server_name && SSL_set_tlsext_host_name(p.ssl, r->probe->server_name) != 1)) {
        dtp__probe_set(r->out, DTP_PROBE_LOCAL, "cannot set up an OpenSSL connection");
    } else {
        SSL_set_connect_state(p.ssl);
        SSL_set_msg_callback(p.ssl, msg_cb);
        SSL_set_msg_callback_arg(p.ssl, &p.seen);
        if (r->probe->fallback_scsv)
            SSL_set_mode(p.ssl, SSL_MODE_SEND_FALLBACK_SCSV); /* RFC 7507 */
        struct stop f;
        if (run_handshake(&p, &f) > 0)
            after_handshake(&p);
        else
            dtp__probe_stopped(r->out, &p.seen, f.why, f.err, f.words, r->timeout_ms);
        r->out->cert_requested = p.seen.cert_requested;
        fill_chain(&p);
    }
    SSL_free(p.ssl);
    BIO_meth_free(meth);
    ERR_clear_error();
}

/* ---- the probe --------------------------------------------------------- */

static bool valid_version(int v) { return v == DTP_SSL3_0 || (v >= DTP_TLS1_0 && v <= DTP_TLS1_3); }

static int invalid(struct dtp_probe_result *out, const char *why, const char *what)
{
    dtp__probe_set(out, DTP_PROBE_LOCAL, "%s%.64s", why, what ? what : "");
    return DTP_R_CONFIG_INVALID;
}

/* A malformed probe: DTP_R_CONFIG_INVALID with the reason in out->detail. */
static int validate(const char *host, const char *port, const struct dtp_probe *pr, struct run *r)
{
    if (!host || !host[0] || !port || !port[0] || !pr)
        return invalid(r->out, "no host, port or probe", NULL);
    if (!valid_version(pr->min_version) || !valid_version(pr->max_version) || pr->min_version > pr->max_version)
        return invalid(r->out, "invalid version range", NULL);
    if (pr->backend && strcmp(pr->backend, "openssl") != 0 && strcmp(pr->backend, "gnutls") != 0)
        return invalid(r->out, "unknown backend ", pr->backend);
    for (size_t i = 0; pr->suites && pr->suites[i]; i++)
        if (suite_code(r->catalogue, pr->suites[i]) < 0)
            return invalid(r->out, "unknown suite name ", pr->suites[i]);
    if (!pr->cert_file != !pr->key_file)
        return invalid(r->out, "a client certificate and its key go together", NULL);
    if (pr->alpn && (!pr->alpn[0] || strlen(pr->alpn) > 255))
        return invalid(r->out, "an ALPN id has 1 to 255 bytes", NULL);
    if (pr->server_name && (!pr->server_name[0] || strlen(pr->server_name) > 255))
        return invalid(r->out, "a server name has 1 to 255 bytes", NULL);
    return DTP_OK;
}

enum path { PATH_LOCAL, PATH_OPENSSL, PATH_GNUTLS, PATH_RAW_SSL3, PATH_RAW_COMPRESSION, PATH_RAW_SUITES };

static enum path gnutls_path(struct dtp_probe_result *out)
{
#ifdef DTP_WITH_GNUTLS
    (void)out;
    return PATH_GNUTLS;
#else
    dtp__probe_set(out, DTP_PROBE_LOCAL, "this build has no GnuTLS backend");
    return PATH_LOCAL;
#endif
}

/* Which library, or the hand-made hello, makes the offer (LOCAL: none). */
static enum path choose_path(struct run *r)
{
    const struct dtp_probe *pr = r->probe;
    if (pr->backend && strcmp(pr->backend, "gnutls") == 0)
        return gnutls_path(r->out);
    if (pr->min_version == DTP_SSL3_0 && pr->max_version == DTP_SSL3_0)
        return PATH_RAW_SSL3; /* C2, R7 */
    bool raw = pr->compression; /* C4 */
    for (size_t i = 0; pr->suites && pr->suites[i]; i++) {
        int t = table_index(pr->suites[i]);
        if (catalogue_find(r->catalogue, pr->suites[i]))
            continue;
        if (t >= 0 && suite_table[t].how == HOW_GNUTLS) {
            /* A suite a profile lists (E3, K3, M21) counts only with a
             * completed handshake: no ServerHello-only answer for it. */
            dtp__probe_set(r->out, DTP_PROBE_LOCAL, "OpenSSL 3.0 lacks %s: probe it with backend gnutls%s",
                           pr->suites[i], dtp_backend_suite_available("gnutls", pr->suites[i]) ? "" : " (not built in)");
            return PATH_LOCAL;
        }
        raw = true;
    }
    if (raw && pr->min_version > DTP_TLS1_2) {
        dtp__probe_set(r->out, DTP_PROBE_LOCAL, "%s needs a hand-made hello, which offers TLS 1.2 at most",
                       pr->compression ? "compression" : "a suite OpenSSL lacks");
        return PATH_LOCAL;
    }
    return !raw ? PATH_OPENSSL : pr->compression ? PATH_RAW_COMPRESSION : PATH_RAW_SUITES;
}

/* What a path prepares before connecting: the library's context. */
struct prepared {
    SSL_CTX *ctx; /* PATH_OPENSSL */
#ifdef DTP_WITH_GNUTLS
    struct dtp__gt_probe *gt; /* PATH_GNUTLS */
#endif
};

/* Prepares the path: false (out set) when the offer cannot be made. */
static bool prepare(enum path path, struct run *r, struct prepared *pp, int *rc)
{
    memset(pp, 0, sizeof *pp);
    if (path == PATH_OPENSSL)
        return (pp->ctx = probe_ctx(r->probe, r->out, rc)) != NULL;
#ifdef DTP_WITH_GNUTLS
    if (path == PATH_GNUTLS)
        return (pp->gt = dtp__probe_gnutls_new(r->probe, r->out)) != NULL;
#endif
    return path != PATH_LOCAL;
}

static void release(struct prepared *pp)
{
    SSL_CTX_free(pp->ctx);
#ifdef DTP_WITH_GNUTLS
    dtp__probe_gnutls_free(pp->gt);
#endif
}

/* Connects and runs the prepared path. */
static void connect_and_run(enum path path, struct prepared *pp, const char *host, const char *port, struct run *r)
{
    struct addrinfo *ai = resolve(host, port, r->out);
    if (!ai)
        return;
    long long start = dtp__probe_now();
    r->deadline = start + r->timeout_ms;
    int fd = connect_any(ai, host, port, r);
    freeaddrinfo(ai);
    if (fd < 0) {
        /* UNREACHABLE, out set */
    } else if (path == PATH_OPENSSL) {
        openssl_probe(fd, pp->ctx, r);
#ifdef DTP_WITH_GNUTLS
    } else if (path == PATH_GNUTLS) {
        dtp__probe_gnutls_run(pp->gt, fd, r->deadline, r->timeout_ms);
#endif
    } else {
        raw_probe(fd, r, path == PATH_RAW_SSL3 ? RAW_SSL3 : path == PATH_RAW_COMPRESSION ? RAW_COMPRESSION : RAW_SUITES);
    }
    if (fd >= 0)
        close(fd);
    r->out->ms = (double)(dtp__probe_now() - start);
}

int dtp_probe_run(const char *host, const char *port, const struct dtp_probe *probe, struct dtp_probe_result *out)
{
    if (!out)
        return DTP_R_CONFIG_INVALID;
    result_init(out);
    struct run r = {probe, out, catalogue_new(), 0, 0};
    int rc = validate(host, port, probe, &r);
    if (rc == DTP_OK) {
        r.timeout_ms = probe->timeout_ms > 0 ? probe->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
        enum path path = choose_path(&r);
        struct prepared pp;
        if (prepare(path, &r, &pp, &rc))
            connect_and_run(path, &pp, host, port, &r);
        release(&pp);
    }
    SSL_CTX_free(r.catalogue);
    ERR_clear_error();
    return rc;
}
