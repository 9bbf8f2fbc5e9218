/*
 * dcmtls-profiles: the DICOM TLS security profiles of PS3.15 Annex B
 * (Supplement 204 and the CRYPTREC draft) as a C11 library over OpenSSL.
 *
 * Requirement IDs (B1, N3, E4, K5, C6, ...) refer to shared/spec/profiles.md.
 *
 * This header is plain C with no OpenSSL or DCMTK types, so any product can
 * use it. Objects own their errors (struct dtp_error); the library never
 * prints, it calls the log callback of the context. There is no init
 * function and no global mutable state.
 */
#ifndef DTP_DTP_H
#define DTP_DTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h> /* ssize_t */

/* The library's API: the only symbols a shared build exports (the rest is
 * built with hidden visibility). */
#if defined(__GNUC__)
#define DTP_API __attribute__((visibility("default")))
#else
#define DTP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Protocol versions: the TLS wire values, so they sort by strength.   */

enum dtp_tls_version {
    DTP_TLS_NONE = 0,
    DTP_TLS1_0 = 0x0301,
    DTP_TLS1_1 = 0x0302,
    DTP_TLS1_2 = 0x0303,
    DTP_TLS1_3 = 0x0304
};

/* "TLSv1.2" etc.; "none" for DTP_TLS_NONE, "unknown" otherwise. */
DTP_API const char *dtp_tls_version_name(int version);

/* ------------------------------------------------------------------ */
/* Profiles: data, one const struct each (src/profiles.c).             */

/* One rule of a server scan (dtp_grade in dtp/check.h): the requirement
 * ID a finding cites and its weight. */
struct dtp_req {
    /* Requirement ID(s) cited, "N1" or "R17/R22"; NULL: the rule does not
     * apply to this profile (no finding). */
    const char *id;
    /* enum dtp_level (dtp/check.h): 2 shall (a violation fails the
     * profile), 1 should (warns), 0 info (reported, never fails). */
    int level;
};

/* A rule about a list of suites (IANA names, NULL-terminated). */
struct dtp_req_suites {
    struct dtp_req req;
    const char *const *suites;
    bool any; /* true: at least one of them accepted (E3); false: each one */
};

/* What a ClientHello is held to under this profile (dtp_grade_client in
 * dtp/check.h) where a client's rule differs from a server's; the rules
 * that read the same for both roles are the members of struct
 * dtp_profile_reqs marked "client:". "Offered" means listed in the
 * ClientHello. A NULL id: the rule does not apply. */
struct dtp_client_reqs {
    struct dtp_req tls12; /* TLS 1.2 offered (B1, N2, E2, K2, R3); info where TLS 1.3 alone
                             is enough (M33) */
    struct dtp_req tls13; /* TLS 1.3 offered (R5, M34): info, since one hello cannot tell
                             whether the client has TLS 1.3 */
    /* When TLS 1.2 is offered: each of these offered (B1, N2, E2, K2, R21),
     * or with any one of them (M24). */
    struct dtp_req_suites required_tls12;
    /* When TLS 1.3 is offered: each (R28) or one (M19) of these offered. */
    struct dtp_req_suites required_tls13;
    struct dtp_req first_suite; /* the first TLS 1.2 suite offered is the row's
                                   tls12_client_order[0] (R23) */
    struct dtp_req fallback;    /* TLS_FALLBACK_SCSV sent, i.e. a retry with a lower version:
                                   info where allowed (B3), else a violation (R9) */
    struct dtp_req_suites groups; /* these groups (names, not suites) each offered (R26) */
    struct dtp_req point_formats; /* ec_point_formats, if sent, lists only uncompressed (R26) */
    struct dtp_req sigalgs_sha256; /* a TLS 1.2 offer asks for SHA-256 signatures (R33) */
    struct dtp_req sigalgs_weak;   /* no SHA-1 or MD5 signature scheme offered (R32, M10);
                                      info where TLS 1.0/1.1 need them (B2) */
    struct dtp_req sigalgs_outside; /* no other scheme than the row's sigalgs offered (M12,
                                       M14), SHA-1 and MD5 left to sigalgs_weak */
    struct dtp_req early_data;     /* no 0-RTT early_data offered (R41) */
    struct dtp_req sni;            /* SNI, when sent, is a DNS name, never an IP address
                                      literal (R38, Q9); none sent: info */
};

/* What a server scan holds a server to under this profile, one member per
 * rule of dtp_grade, so the grader never asks which profile it grades.
 * "Accepted" means a probe offering only that version, suite or group
 * completed a handshake. Members marked "client:" are also what
 * dtp_grade_client holds a ClientHello to; `client` has the client-only
 * rules. */
struct dtp_profile_reqs {
    struct dtp_req ssl3;            /* SSL 3.0 refused (C2, R7, M37); client: not offered */
    struct dtp_req old_versions;    /* TLS 1.0 and 1.1 refused (N1, E1, K1, R8, M37); info
                                       where they are an allowed downgrade (B2, B6);
                                       client: not offered */
    struct dtp_req tls12;           /* TLS 1.2 accepted (B1, N2, E2, K2, R3, M32) */
    struct dtp_req tls13_refused;   /* TLS 1.3 refused (E4); client: not offered */
    struct dtp_req tls13_required;  /* TLS 1.3 accepted (M32) */
    struct dtp_req tls13_preferred; /* a server that accepts TLS 1.3 picks it when the client
                                       offers 1.2 and 1.3 (R6, M35) */
    struct dtp_req_suites required_tls12; /* each accepted alone (B1, N2, E2, K2, R21, M21 less M22) */
    struct dtp_req_suites required_tls13; /* each accepted alone, when TLS 1.3 is accepted (R28, M18) */
    struct dtp_req_suites recommended;    /* should be accepted: one of (E3) or each of (K3);
                                             client: offered */
    /* Weak suites never accepted, by class (C3, B4, R13-R16, M5, M7, M9, M12, M13);
     * client: never offered. */
    struct dtp_req weak_null;   /* NULL cipher (TLS_*_WITH_NULL_*) */
    struct dtp_req weak_export; /* export grade (TLS_*_EXPORT_*) */
    struct dtp_req weak_anon;   /* anonymous key exchange (TLS_*_anon_*) */
    struct dtp_req weak_rc4;    /* RC4 */
    struct dtp_req weak_des;    /* single DES */
    struct dtp_req weak_3des;   /* 3DES */
    /* Other accepted suites that none of tls12_suites, fallback_suites,
     * tls13_suites and allowed lists, by class; a suite in several classes
     * cites each class's ID (B2, N3, E4, K5, R1, R17, R20, R22, M5, M8, M26).
     * Client: the same classes for suites offered outside those lists. */
    struct dtp_req other_static_rsa; /* RSA key transport (TLS_RSA_*) */
    struct dtp_req other_cbc;        /* CBC mode */
    struct dtp_req other_dhe;        /* TLS_DHE_* */
    struct dtp_req other;            /* any other suite */
    /* Suites the row does not offer that the standard still allows a
     * server (M25): reported as info, never a violation. Client: the same. */
    struct dtp_req_suites allowed;
    /* Ephemeral keys below min_dhe_bits / min_ecdhe_bits accepted or
     * chosen by the server (B5, E5, R29, R30, M15, M17); client: no group
     * below them offered (X25519 counts 255 bits). */
    struct dtp_req dh_size;
    struct dtp_req ec_size;
    struct dtp_req fallback_scsv; /* TLS_FALLBACK_SCSV below the server's best refused (B3) */
    struct dtp_req compression;   /* TLS compression never chosen (C4, R34); client: only
                                     the null method offered */
    struct dtp_req renegotiation; /* renegotiation_info acknowledged in TLS <= 1.2 (C5, R35);
                                     client: the extension or the SCSV sent */
    struct dtp_req ems;           /* extended_master_secret in TLS 1.2 (R36); client: offered
                                     with TLS 1.2 */
    struct dtp_req sha1_sigalgs;  /* a client offering only SHA-1 signatures refused (R32, M10) */
    struct dtp_req client_auth;   /* the server requests a client certificate (R44, M38);
                                     NULL: reported as info */
    /* The server's certificates against min_rsa_bits, min_ec_bits and
     * min_cert_hash_bits: the leaf's key (B5, R31, M27, M28), with
     * check_chain the other certificates' keys (M29, M30), and the
     * signature hash of every certificate but a self-signed one (Q4;
     * R32, M31). */
    struct dtp_req cert_rsa;
    struct dtp_req cert_ec;
    struct dtp_req chain_rsa;
    struct dtp_req chain_ec;
    struct dtp_req cert_hash;
    struct dtp_req alpn; /* the profile's ALPN id selected, a foreign list refused with
                            no_application_protocol (R39); client: offered */
    struct dtp_client_reqs client;
};

struct dtp_profile {
    const char *key;       /* "bcp195", "bcp195-nd", ... (--profile KEY) */
    const char *title;     /* "Non-Downgrading BCP 195 TLS Profile" */
    const char *reference; /* where the profile is defined */
    const char *requirements; /* requirement IDs this row implements */
    /* DCMTK's command-line spellings of this profile ("+pg",
     * "--profile-8996"), which the apps accept as aliases; NULL if DCMTK
     * has none. */
    const char *dcmtk_option;
    const char *dcmtk_long_option;

    int min_version;        /* absolute floor ever negotiated; set explicitly, so an
                               older hello gets a protocol_version alert (Q8) */
    int max_version;        /* ceiling */
    int strong_min_version; /* below this an association is "downgraded" (B6) */
    bool may_downgrade;     /* B2: the profile may negotiate below its strongest level */

    /* Everything below is backend-neutral: IANA names, verbatim, that each
     * TLS backend translates to its own syntax.
     *
     * Suites in preference order, NULL-terminated. tls12_suites are the
     * strong (non-downgraded) TLS 1.0-1.2 suites, in the server's order;
     * tls12_client_order, when set, is the same set in the order a client
     * offers it (R23: a client lists TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
     * first while the server prefers stronger suites, R25). fallback_suites
     * are allowed only because the profile may downgrade (B2) and mark an
     * association downgraded; tls13_suites NULL means no TLS 1.3. */
    const char *const *tls12_suites;
    const char *const *tls12_client_order;
    const char *const *fallback_suites;
    const char *const *tls13_suites;
    /* IANA TLS Supported Groups names ("x25519", "secp256r1", "ffdhe2048"),
     * preference order: ECDHE curves and TLS 1.3 key shares. */
    const char *const *groups;
    /* IANA SignatureScheme names ("ecdsa_secp256r1_sha256", ...) offered and
     * accepted in both roles, for the handshake signatures of both sides
     * (ServerKeyExchange, CertificateVerify); NULL: the backend's defaults. */
    const char *const *sigalgs;

    int min_dhe_bits;   /* peer's and own ephemeral finite-field DH */
    int min_ecdhe_bits; /* peer's and own ephemeral EC group (X25519 counts 255) */
    int min_rsa_bits;   /* own and peer certificate RSA keys */
    int min_ec_bits;    /* own and peer certificate EC keys */
    /* true when the key-size minimums above are "should" items that a site
     * may relax explicitly (B5); false when they are "shall" (E5). */
    bool key_sizes_relaxable;
    /* Certificates: false checks the peer's leaf key only; true applies the
     * key minimums to every certificate of the peer's chain, trust anchor
     * included (M27-M30, Q4). */
    bool check_chain;
    /* Signature hash of the peer's leaf and intermediates (not the trust
     * anchor's self-signature, Q4) and of the own certificate, in bits
     * (256: SHA-256 or stronger, M31); 0: not checked by the profile. */
    int min_cert_hash_bits;
    /* ALPN protocol id: a client offers it; a server accepts a client that
     * sends no ALPN and refuses one whose list lacks it with
     * no_application_protocol (R39). NULL: no ALPN. */
    const char *alpn;
    /* Client: send SNI when the peer was named by a DNS name, never for an
     * IP address (R38, Q9). */
    bool send_sni;
    /* TLS 1.2: a session without the extended master secret (RFC 7627) is
     * refused (R36). */
    bool require_ems;
    const char *notes; /* one line for --list-profiles and the conformance text */
    /* The requirement IDs a server scan cites for this profile (dtp_grade). */
    struct dtp_profile_reqs reqs;
};

/* A profile name that the standard retired (Sup 204): known so that it is
 * refused with a clear message rather than silently mapped to another. */
struct dtp_retired_profile {
    const char *key;
    const char *title;
    const char *why;
};

DTP_API size_t dtp_profile_count(void);
DTP_API const struct dtp_profile *dtp_profile_at(size_t i); /* NULL past the end */
/* NULL if unknown or retired; *reason (if non-NULL) tells which. */
DTP_API const struct dtp_profile *dtp_profile_find(const char *key, int *reason);
DTP_API size_t dtp_retired_profile_count(void);
DTP_API const struct dtp_retired_profile *dtp_retired_profile_at(size_t i);
DTP_API const struct dtp_retired_profile *dtp_retired_profile_find(const char *key);

/* ------------------------------------------------------------------ */
/* Failure reasons: one table (src/reasons.c), stable codes (C6).      */

enum dtp_reason_code {
    DTP_OK = 0,

    /* local configuration: never reach the wire */
    DTP_R_PROFILE_UNKNOWN = 100,
    DTP_R_PROFILE_RETIRED = 101,
    DTP_R_CERT_UNREADABLE = 102,
    DTP_R_KEY_UNREADABLE = 103,
    DTP_R_KEY_PASSWORD = 104,
    DTP_R_KEY_CERT_MISMATCH = 105,
    DTP_R_OWN_KEY_WEAK = 106,
    DTP_R_CA_UNREADABLE = 107,
    DTP_R_CRL_UNREADABLE = 108,
    DTP_R_DH_PARAMS = 109,
    DTP_R_NO_SUITE_AVAILABLE = 110,
    DTP_R_CONFIG_INVALID = 111,
    DTP_R_INTERNAL = 112,
    DTP_R_TICKET_KEYS = 113,
    DTP_R_PEER_MAP = 114,

    /* handshake: the association is never established */
    DTP_R_NOT_TLS = 200,
    DTP_R_VERSION_REFUSED = 201,
    DTP_R_NO_SHARED_SUITE = 202,
    DTP_R_PEER_CERT_MISSING = 203,
    DTP_R_PEER_CERT_UNTRUSTED = 204,
    DTP_R_PEER_CERT_EXPIRED = 205,
    DTP_R_PEER_CERT_REVOKED = 206,
    DTP_R_PEER_CERT_WEAK = 207,
    DTP_R_EPHEMERAL_KEY_WEAK = 208,
    DTP_R_PEER_ALERT = 209,
    DTP_R_INAPPROPRIATE_FALLBACK = 210,
    DTP_R_OUTSIDE_PROFILE = 211,
    DTP_R_HANDSHAKE_TIMEOUT = 212,
    DTP_R_HANDSHAKE_EOF = 213,
    DTP_R_HANDSHAKE_FAILED = 214,
    DTP_R_ALPN_MISMATCH = 215,
    DTP_R_EMS_MISSING = 216,

    /* established association */
    DTP_R_RECORD_INTEGRITY = 300,
    DTP_R_INTEGRITY_ALERT = 301,
    DTP_R_TRUNCATED = 302,
    DTP_R_TIMEOUT = 303,
    DTP_R_IO_ERROR = 304,
    DTP_R_SESSION_ALERT = 305,
    DTP_R_PROTOCOL_ERROR = 306,

    /* association: TLS is up, but the peer is not the one the peer map
     * (dtp/peermap.h) binds to its AE title; the SCP answers
     * A-ASSOCIATE-RJ, the SCU sends no association request */
    DTP_R_PEER_AE_UNLISTED = 400,
    DTP_R_PEER_CERT_NOT_BOUND = 401,
    DTP_R_PEER_PROFILE_MISMATCH = 402
};

struct dtp_reason {
    int code;             /* stable numeric code */
    const char *name;     /* stable upper-case name, e.g. "NO_SHARED_SUITE" */
    const char *category; /* "config", "handshake", "session" or "association" */
    const char *message;  /* one line for people */
    bool a_p_abort;       /* delivered to the DICOM upper layer as A-P-ABORT (C6) */
    const char *action;   /* what to do about it */
};

DTP_API size_t dtp_reason_count(void);
DTP_API const struct dtp_reason *dtp_reason_at(size_t i);
DTP_API const struct dtp_reason *dtp_reason_by_code(int code); /* NULL if none */
DTP_API const struct dtp_reason *dtp_reason_by_name(const char *name);

/* An error record, kept by the object it happened in (libtls style). */
struct dtp_error {
    int code;          /* enum dtp_reason_code; DTP_OK when none */
    char detail[512];  /* what exactly: file, OpenSSL reason, alert, sizes */
};

/* Formats "reason <code> <NAME>: <message> (<detail>)" into buf. */
DTP_API const char *dtp_error_format(const struct dtp_error *err, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Context: one profile + role + credentials = one SSL_CTX.            */

enum dtp_role { DTP_ROLE_CLIENT = 0, DTP_ROLE_SERVER = 1 };

enum dtp_verify {
    DTP_VERIFY_REQUIRE = 0,    /* peer must present a trusted certificate */
    DTP_VERIFY_IF_PRESENT = 1, /* verify it if the peer sends one (server only) */
    DTP_VERIFY_IGNORE = 2      /* do not verify: explicit and logged */
};

enum dtp_log_level { DTP_LOG_ERROR = 0, DTP_LOG_WARN = 1, DTP_LOG_INFO = 2, DTP_LOG_DEBUG = 3 };
typedef void (*dtp_log_fn)(void *user, int level, const char *message);

/* A ClientHello as a server received it (dtp/check.h). */
struct dtp_client_hello;
typedef void (*dtp_client_hello_fn)(void *user, const struct dtp_client_hello *hello);

struct dtp_config {
    const struct dtp_profile *profile; /* required */
    /* TLS backend: "openssl" (NULL: the default) or "gnutls" where built
     * in; another name is refused with DTP_R_CONFIG_INVALID. */
    const char *backend;
    int role;                          /* enum dtp_role */
    const char *cert_file;   /* PEM; required for a server */
    const char *key_file;    /* PEM, possibly encrypted */
    const char *key_password; /* for an encrypted key; see dtp_read_password */
    const char *ca_file;     /* trusted CA certificates (PEM) */
    const char *ca_dir;      /* hashed CA directory */
    const char *crl_file;    /* CRL (PEM); enables revocation checks of the peer */
    const char *dh_file;     /* server DH parameters; default RFC 7919 ffdhe */
    int verify;              /* enum dtp_verify */
    /* B5: relax the "should" key-size minimums of a profile that allows it;
     * refused (DTP_R_CONFIG_INVALID) for a profile where they are "shall". */
    bool relax_key_sizes;
    /* R36, Q1: accept TLS 1.2 peers without the extended master secret
     * where the profile requires it (legacy stacks such as OpenSSL 1.0.2);
     * explicit and logged. No effect where the profile does not require it. */
    bool allow_no_ems;
    int handshake_timeout_ms; /* <= 0: 30000 */
    const char *keylog_file;  /* NSS key log for tshark, debugging only */
    /* Client: keep the last TLS session (ticket) in this file and offer it
     * on the next run, so separate runs resume (a full handshake costs
     * several ms). The file holds session secrets: it is written mode 0600,
     * when the context is freed (never in the middle of an association).
     * Within one context, resumption across connections is automatic. */
    const char *session_file;
    dtp_log_fn log;           /* may be NULL */
    void *log_user;
    /* Only these suites of the profile (IANA names, NULL-terminated; DCMTK's
     * +cs): a subset that narrows the profile, never widens it. A name the
     * profile does not list is refused with DTP_R_CONFIG_INVALID; without
     * a TLS 1.3 suite left, TLS 1.3 is off, and without a TLS 1.2 one, TLS
     * 1.2 is. NULL: every suite of the profile. */
    const char *const *suites;
    /* Server role, OpenSSL backend only (else DTP_R_CONFIG_INVALID): called
     * with each ClientHello received, before the server chooses anything
     * and whether or not the handshake then completes; a client that
     * answers a HelloRetryRequest sends a second one. The hello lives for
     * the call only. Runs inside the handshake: keep it short. */
    dtp_client_hello_fn on_client_hello;
    void *on_client_hello_user;
    /* Server role only (a client context refuses it, DTP_R_CONFIG_INVALID):
     * the session-ticket keys every node behind one address shares, so that
     * a client resumes on whichever node a load balancer picks (R37).
     *
     * The file is text. Blank lines and lines whose first non-blank
     * character is '#' are ignored; every other line is one key of exactly
     * 64 hex digits, 32 random bytes (`openssl rand -hex 32`), surrounding
     * blanks allowed. The FIRST key encrypts new tickets; every listed key
     * (at most DTP_TICKET_KEYS_MAX) decrypts, and a client resuming with a
     * ticket of another than the first gets a new one. To rotate: write a
     * new key as the first line, drop the oldest, then reload every node
     * (a new context from the file: dtp-storescp on SIGHUP). Like an ssh
     * key, the file must give group and others no access (mode 0600, 0400).
     * The keys used are derived from each line with HKDF-SHA256, so every
     * node makes the same ones. Any problem (unreadable, a bad line, no key,
     * too many, permissions) fails dtp_ctx_new with DTP_R_TICKET_KEYS; the
     * detail names the file and line, never key material.
     *
     * The gnutls backend uses the first key only: GnuTLS 3.7 takes one
     * master key (and rotates what it derives from it itself), so tickets
     * made under an older line of the file get a full handshake there.
     *
     * NULL: each context makes a random secret when it is created, and the
     * keys in use, derived from it, rotate at least daily (openssl: the key
     * of the current UTC day, the previous day's still accepted; gnutls:
     * GnuTLS's own rotation, every 3 x DTP_TICKET_LIFETIME_S). The
     * processes forked from one context share them; separate contexts or
     * nodes do not. Either way a ticket is accepted for at most
     * DTP_TICKET_LIFETIME_S. */
    const char *ticket_key_file;
};

/* Session tickets: at most this many keys in dtp_config.ticket_key_file,
 * and the lifetime of a ticket or resumable session in seconds, the same
 * on both backends (R37). */
#define DTP_TICKET_KEYS_MAX 8
#define DTP_TICKET_LIFETIME_S 7200

typedef struct dtp_ctx dtp_ctx;

/* Builds the context. On failure returns NULL and fills *err (if non-NULL). */
DTP_API dtp_ctx *dtp_ctx_new(const struct dtp_config *cfg, struct dtp_error *err);
DTP_API void dtp_ctx_free(dtp_ctx *ctx); /* NULL is fine */
DTP_API const struct dtp_profile *dtp_ctx_profile(const dtp_ctx *ctx);
DTP_API int dtp_ctx_role(const dtp_ctx *ctx);
/* Server contexts: one full and one resumed handshake of the context with
 * an in-memory client, so that OpenSSL's per-process algorithm fetching
 * and caches are done. Call it before forking association processes; each
 * of them then starts warm. Client contexts: no-op. A failed warm-up is
 * only logged (debug): returns DTP_OK, or DTP_R_INTERNAL out of memory. */
DTP_API int dtp_ctx_warm_up(dtp_ctx *ctx);
/* The underlying SSL_CTX (as void*), for inspection; owned by ctx. */
DTP_API void *dtp_ctx_ssl_ctx(dtp_ctx *ctx);
/* The notAfter of the context's own certificate (the first of
 * dtp_config.cert_file) as seconds since 1970-01-01 UTC in *unix_time, so
 * that an application can warn before it expires. Returns DTP_OK, or
 * DTP_R_CONFIG_INVALID (with *unix_time untouched) when ctx has no
 * certificate or an argument is NULL. */
DTP_API int dtp_ctx_cert_not_after(const dtp_ctx *ctx, long long *unix_time);

/* What a profile hands OpenSSL in a role, resolved against this backend:
 * versions, security level, the effective suite list (IANA names, in
 * order), groups, unavailable suites. One "key: value" line each; used by
 * the snapshot test and -d output. Needs no credentials. Returns buf, or
 * NULL with err filled. */
DTP_API const char *dtp_profile_describe(const struct dtp_profile *profile, int role, char *buf, size_t len,
                                 struct dtp_error *err);

/* Whether an IANA suite name is implemented by the default backend
 * (OpenSSL). */
DTP_API bool dtp_suite_available(const char *iana_name);

/* The TLS backends built in: names in order, the default first. */
DTP_API size_t dtp_backend_count(void);
DTP_API const char *dtp_backend_name(size_t i); /* NULL past the end */
/* Whether backend (a name; NULL: the default) implements an IANA suite;
 * false for an unknown backend. */
DTP_API bool dtp_backend_suite_available(const char *backend, const char *iana_name);

/* Reads a password from "file:PATH", "env:NAME" or "pass:TEXT" (as
 * openssl's -passin). Returns 0 and writes a NUL-terminated string, or a
 * reason code (DTP_R_KEY_PASSWORD) with err filled. */
DTP_API int dtp_read_password(const char *spec, char *out, size_t len, struct dtp_error *err);

/* ------------------------------------------------------------------ */
/* Connection: one TLS session over one connected socket.              */

typedef struct dtp_conn dtp_conn;

struct dtp_session_info {
    int version;          /* DTP_TLS1_2, ... */
    char suite[64];       /* IANA name */
    char group[32];       /* key exchange group, e.g. "x25519", "ffdhe2048", "DH" */
    bool kx_finite_field; /* the key exchange was (EC-less) Diffie-Hellman */
    int kx_bits;          /* peer's ephemeral key size in bits (0 if none) */
    char peer_subject[256]; /* peer certificate subject, "" if none */
    int peer_key_bits;    /* peer certificate key size, 0 if none */
    char peer_key_type[16]; /* "RSA", "EC", ... */
    bool ems;             /* TLS 1.2 extended master secret (RFC 7627); TLS 1.3 always */
    char alpn[32];        /* negotiated ALPN protocol, "" if none */
    char sni[256];        /* server name sent (client) or received (server), "" if none */
    bool downgraded;      /* B6: below the profile's strongest level */
    bool resumed;
};

/* Checks a negotiated session against a profile: version, suite, the
 * peer's ephemeral key, the peer certificate key, EMS (R36) and ALPN
 * (R39); sets info->downgraded (B6). Needs no TLS library: the same
 * policy for every backend. relax_key_sizes and allow_no_ems as in
 * dtp_config. Returns DTP_OK or a reason code with err filled; on DTP_OK,
 * err->detail says what a relaxation let through (for the caller to log),
 * "" if nothing. */
DTP_API int dtp_check_session(const struct dtp_profile *profile, struct dtp_session_info *info, bool relax_key_sizes,
                      bool allow_no_ems, struct dtp_error *err);

/* Wraps fd (a connected socket; the caller keeps ownership of the fd).
 * Writes use MSG_NOSIGNAL: a vanished peer is an IO_ERROR, never SIGPIPE. */
DTP_API dtp_conn *dtp_conn_new(dtp_ctx *ctx, int fd, struct dtp_error *err);
DTP_API void dtp_conn_free(dtp_conn *conn); /* does not close fd */

/* Runs the handshake within the context's timeout, then checks the result
 * against the profile (version, suite, peer ephemeral key, peer certificate
 * key). Returns DTP_OK or a reason code; the error is kept in conn. */
DTP_API int dtp_conn_handshake(dtp_conn *conn);

/* Blocking I/O as read(2)/write(2): >0 bytes; 0 on orderly close_notify
 * (read only); -1 on failure with the reason kept in conn. */
DTP_API ssize_t dtp_conn_read(dtp_conn *conn, void *buf, size_t len);
DTP_API ssize_t dtp_conn_write(dtp_conn *conn, const void *buf, size_t len);

/* Write coalescing, off by default: writes of up to 64 bytes are held and
 * sent in the same TLS record as the next write (a DICOM PDU header with
 * its body: one record per PDU instead of two). Held bytes are sent by
 * the next write, dtp_conn_flush, dtp_conn_read, dtp_conn_wait_readable
 * and dtp_conn_close_notify, so a peer never waits for them. */
DTP_API void dtp_conn_set_coalesce(dtp_conn *conn, bool on);
/* Sends held bytes. Returns DTP_OK or the reason code. */
DTP_API int dtp_conn_flush(dtp_conn *conn);

/* Bytes already decrypted and buffered inside TLS. */
DTP_API size_t dtp_conn_pending(dtp_conn *conn);
/* true if data can be read within timeout_ms (buffered or on the socket). */
DTP_API bool dtp_conn_wait_readable(dtp_conn *conn, int timeout_ms);

/* Client, before the handshake: the name the peer was addressed by. When
 * the profile sends SNI (send_sni) and host is a DNS name, not an IP
 * address literal, it goes into the ClientHello's server_name (Q9).
 * Returns DTP_OK, or a reason code (DTP_R_CONFIG_INVALID, DTP_R_INTERNAL). */
DTP_API int dtp_conn_set_peer_name(dtp_conn *conn, const char *host);

/* Sends close_notify (once). Returns DTP_OK or a reason code. */
DTP_API int dtp_conn_close_notify(dtp_conn *conn);

DTP_API const struct dtp_error *dtp_conn_error(const dtp_conn *conn);
DTP_API const struct dtp_session_info *dtp_conn_info(const dtp_conn *conn);
/* One line: "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 X25519(253) peer=... [DOWNGRADED]" */
DTP_API const char *dtp_session_format(const struct dtp_session_info *info, char *buf, size_t len);
/* DER of the peer certificate: returns its length; copies if buf is large enough. */
DTP_API size_t dtp_conn_peer_cert_der(dtp_conn *conn, void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
