/* Internal declarations: the backend-neutral context and connection, and
 * the ops table a TLS backend implements (curl's lib/vtls layering). No
 * TLS library header is included here: each backend keeps its own types
 * behind the void pointers. */
#ifndef DTP_INTERNAL_H
#define DTP_INTERNAL_H

#include "dtp/dtp.h"

struct dtp_backend;

#define DTP_NARROW_MAX 64 /* suites per list of a narrowed profile */

struct dtp_ctx {
    const struct dtp_backend *be;
    void *be_ctx; /* the backend's context (OpenSSL: struct dtp_ossl_ctx) */
    /* The profile row, or `narrowed` when dtp_config.suites keeps only some
     * of its suites (the backends and the policy see only those). */
    const struct dtp_profile *profile;
    struct dtp_profile narrowed;
    const char *narrowed_lists[4][DTP_NARROW_MAX + 1];
    int role;
    int verify;
    bool relax_key_sizes;
    bool allow_no_ems;
    int handshake_timeout_ms;
    char keylog_file[512];
    char session_file[512]; /* client: where the session persists, "" if nowhere */
    dtp_log_fn log;
    void *log_user;
    /* Server: dtp_config.on_client_hello (backends with records_client_hello). */
    dtp_client_hello_fn on_client_hello;
    void *on_client_hello_user;
};

/* A DCMTK P-DATA PDU arrives as a 12-byte header write and a body write;
 * held back, the header shares the body's first record (one record per
 * PDU instead of two). Anything up to this size waits for the next write. */
#define DTP_HOLD_MAX 64
#define DTP_RECORD_MAX 16384

struct dtp_conn {
    dtp_ctx *ctx;
    void *be_conn; /* the backend's connection (OpenSSL: SSL *) */
    int fd;
    bool handshake_done;
    bool closed;
    /* What the peer sent first, to tell "not TLS at all" from a TLS
     * failure (backends report it with dtp__conn_note_header). */
    unsigned char first_header[5];
    bool have_first_header;
    int alert_received; /* last fatal alert from the peer, -1 if none */
    int hello_refusal;  /* reason the server's ClientHello check refused, 0 if none */
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

/* What one backend I/O step did. */
enum dtp_io {
    DTP_IO_OK = 0,
    DTP_IO_WANT_READ,  /* would block on reading (non-blocking socket, or SO_RCVTIMEO expired) */
    DTP_IO_WANT_WRITE, /* would block on writing */
    DTP_IO_CLOSED,     /* the peer's close_notify */
    DTP_IO_TRANSPORT,  /* the socket failed or ended without close_notify (errno says which) */
    DTP_IO_FAILED      /* a TLS-level failure: ask classify */
};

/* A TLS backend: one const table per library, one file each. Every op is
 * required unless marked optional (then NULL-checked). */
struct dtp_backend {
    const char *name; /* "openssl" */
    /* Server contexts hand each ClientHello to ctx->on_client_hello
     * (dtp__hello_* below); a backend without it refuses the option. */
    bool records_client_hello;

    /* Context: everything the profile, role and credentials of cfg ask of
     * this library (ctx's neutral fields are already set). Returns DTP_OK
     * or a reason with err filled; ctx_free is called either way. */
    int (*ctx_setup)(dtp_ctx *ctx, const struct dtp_config *cfg, struct dtp_error *err);
    void (*ctx_free)(dtp_ctx *ctx);
    int (*warm_up)(dtp_ctx *ctx);      /* optional: see dtp_ctx_warm_up */
    void *(*native_ctx)(dtp_ctx *ctx); /* optional: dtp_ctx_ssl_ctx */
    const char *(*describe)(const struct dtp_profile *p, int role, char *buf, size_t len, struct dtp_error *err);
    bool (*suite_available)(const char *iana);

    /* Connection over conn->fd; sets conn->be_conn. */
    int (*conn_new)(dtp_conn *conn, struct dtp_error *err);
    void (*conn_free)(dtp_conn *conn);
    int (*set_server_name)(dtp_conn *conn, const char *name); /* SNI (client) */
    enum dtp_io (*handshake)(dtp_conn *conn);                 /* one step */
    enum dtp_io (*read)(dtp_conn *conn, void *buf, size_t len, size_t *got);
    /* Non-blocking: whether application data can be read now (DTP_IO_OK),
     * nothing yet (DTP_IO_WANT_READ), close_notify, or a failure. */
    enum dtp_io (*peek)(dtp_conn *conn);
    enum dtp_io (*write)(dtp_conn *conn, const void *buf, size_t len, size_t *put);
    size_t (*pending)(dtp_conn *conn); /* decrypted bytes ready */
    bool (*buffered)(dtp_conn *conn);  /* any received bytes held, decrypted or not */
    int (*shutdown)(dtp_conn *conn);   /* sends close_notify: DTP_OK or a reason */
    /* Fills what was negotiated, from the library (not the policy fields:
     * downgraded is the policy's). */
    void (*negotiated)(dtp_conn *conn, struct dtp_session_info *in);
    /* After DTP_IO_FAILED (or CLOSED in a handshake): the reason row and
     * conn->error.detail in the library's words. saved_errno is errno
     * right after the failed step. Clears the library's error state. */
    int (*classify)(dtp_conn *conn, enum dtp_io io, int saved_errno, bool in_handshake);
    void (*clear_error)(dtp_conn *conn); /* forget a non-fatal error state */
    size_t (*peer_cert_der)(dtp_conn *conn, void *buf, size_t len);
    /* The own certificate's notAfter, seconds since the epoch (UTC):
     * DTP_OK, or DTP_R_CONFIG_INVALID without a certificate. Optional. */
    int (*cert_not_after)(const dtp_ctx *ctx, long long *unix_time);
};

extern const struct dtp_backend dtp_backend_openssl;
#ifdef DTP_WITH_GNUTLS
extern const struct dtp_backend dtp_backend_gnutls;
#endif

/* printf-style logging through the context's callback (no-op without one). */
void dtp__log(const dtp_ctx *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Sets err (may be NULL) and returns code. */
int dtp__set_error(struct dtp_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Size in bits of a named group (IANA name; X25519 counts 255, E5/M17);
 * 0 when unknown. For a side that kept no copy of the peer's share. */
int dtp__group_bits(const char *name);

/* A ClientHello for dtp_config.on_client_hello, built by a backend's
 * hello callback from the wire bytes of each part (hello.c parses them,
 * bounded, no allocation): begin, then the suites, the compression methods
 * and each extension's body by type, in any order. */
struct dtp_client_hello;
void dtp__hello_begin(struct dtp_client_hello *h, int legacy_version);
void dtp__hello_suites(struct dtp_client_hello *h, const unsigned char *p, size_t len);
void dtp__hello_compression(struct dtp_client_hello *h, const unsigned char *p, size_t len);
void dtp__hello_extension(struct dtp_client_hello *h, unsigned int type, const unsigned char *p, size_t len);

/* Session tickets (R37): the secrets of dtp_config.ticket_key_file, one
 * per key line, [0] the one that encrypts. A backend derives its keys
 * from them with HKDF-SHA256 and the labels below (the same on every node
 * and backend), then wipes them. */
#define DTP_TICKET_SECRET_LEN 32
struct dtp_ticket_secrets {
    size_t n;
    unsigned char key[DTP_TICKET_KEYS_MAX][DTP_TICKET_SECRET_LEN];
};
#define DTP_HKDF_TICKET_NAME "dcmtls-profiles R37 ticket key name"
#define DTP_HKDF_TICKET_AES "dcmtls-profiles R37 ticket AES-256-CBC key"
#define DTP_HKDF_TICKET_HMAC "dcmtls-profiles R37 ticket HMAC-SHA256 key"
#define DTP_HKDF_TICKET_GNUTLS "dcmtls-profiles R37 GnuTLS ticket master key"
/* Reads and checks the file (format: dtp.h, dtp_config.ticket_key_file).
 * Returns DTP_OK with out->n >= 1, or DTP_R_TICKET_KEYS (DTP_R_INTERNAL)
 * with err filled and *out wiped. The caller wipes *out when done. */
/* Reads the regular file at path, at most max bytes, into a NUL-terminated
 * malloc'd buffer (*text, *len; free it, wipe it if secret). private_only:
 * refuse a file group or others can access. Failures carry reason and name
 * the file; what says what it holds ("ticket keys", "a peer map"). */
int dtp__read_small_file(const char *path, long max, bool private_only, int reason, const char *what, char **text,
                         size_t *len, struct dtp_error *err);
int dtp__read_ticket_keys(const char *path, struct dtp_ticket_secrets *out, struct dtp_error *err);
/* Zeroes memory that held secrets, where no TLS library's cleanse is at
 * hand (backend-neutral code); a backend uses its library's. */
void dtp__wipe(void *p, size_t len);

/* Client: replaces ctx->session_file atomically with data (a 0600
 * temporary, then rename); logs and returns false on failure. */
bool dtp__save_session_file(const dtp_ctx *ctx, const void *data, size_t len);

/* For backends: the peer's first record header (5 bytes) and a fatal alert
 * it sent; the neutral layer uses them to tell "not TLS" from a TLS
 * failure and to name alerts. */
void dtp__conn_note_header(dtp_conn *conn, const unsigned char *header);
void dtp__conn_note_alert(dtp_conn *conn, int description);
/* For a backend's classify: the reason of an outcome that is not the TLS
 * library's (close_notify, a socket timeout, EOF, a socket error), with
 * conn->error.detail filled. */
/* The IANA name of a TLS alert (RFC 8446 6, RFC 5246 7.2, RFC 7507,
 * RFC 7301); "unknown" for others. */
const char *dtp__alert_name(int desc);
int dtp__classify_io(dtp_conn *conn, enum dtp_io io, int saved_errno, bool in_handshake);
/* true if the peer's first bytes were not a TLS record header (C1). */
bool dtp__conn_not_tls(const dtp_conn *conn);
/* For a backend's classify: the reason of a library failure it has no row
 * for (NOT_TLS in a handshake with a non-TLS peer, else HANDSHAKE_FAILED or
 * PROTOCOL_ERROR); the same rule for every backend. */
int dtp__classify_other(const dtp_conn *conn, bool in_handshake);

#endif
