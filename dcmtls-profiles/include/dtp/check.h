/*
 * dcmtls-profiles: grading a DICOM node's TLS against the profiles.
 *
 * Three steps, each usable alone, none with OpenSSL, GnuTLS or DCMTK types:
 *
 *   1. plan:  dtp_scan_plan() lists the probes of a server scan, made from
 *             the profile table (every suite of every profile, suites no
 *             profile allows, groups, versions, and one probe per feature);
 *   2. probe: dtp_probe_run() makes one real handshake attempt with exactly
 *             the offers of one probe and records what the server did;
 *   3. grade: dtp_grade() turns the probes' results into a verdict per
 *             profile, each finding naming its requirement ID (N1, E4,
 *             R8, M26, ...), "shall" items as failures and "should" items
 *             as warnings.
 *
 * Client mode turns it around: a server context records each ClientHello
 * it receives (dtp_config.on_client_hello in dtp.h) into a struct
 * dtp_client_hello, and dtp_grade_client() grades what the client offered
 * against each profile, with the same findings.
 *
 * The requirement IDs a finding cites come from the profile row
 * (struct dtp_profile_reqs in dtp.h), so the checker and the profiles can
 * never disagree. Plain C, no global state; results live in the caller's
 * structs.
 */
#ifndef DTP_DTP_CHECK_H
#define DTP_DTP_CHECK_H

#include <dtp/dtp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SSL 3.0 on the wire: below every dtp_tls_version. A probe for it is sent
 * as a hand-made ClientHello record (no TLS library offers it). */
#define DTP_SSL3_0 0x0300

/* ------------------------------------------------------------------ */
/* 1. One probe: the client's offers                                   */

struct dtp_probe {
    int min_version; /* DTP_SSL3_0 .. DTP_TLS1_3 */
    int max_version;
    /* IANA suite names offered, in this order, NULL-terminated: TLS 1.0-1.2
     * suites and TLS 1.3 suites may be mixed (each goes where the backend
     * takes it). NULL: the backend's defaults for the versions. */
    const char *const *suites;
    const char *const *groups;  /* IANA group names (supported_groups and key shares); NULL: defaults */
    const char *const *sigalgs; /* IANA SignatureScheme names; NULL: defaults */
    bool fallback_scsv;         /* send TLS_FALLBACK_SCSV (RFC 7507) */
    bool no_ems;                /* do not offer extended_master_secret (RFC 7627) */
    bool compression;           /* offer DEFLATE besides null (hand-made ClientHello) */
    bool renegotiate;           /* after a TLS 1.2 handshake, ask for a renegotiation */
    const char *alpn;           /* one ALPN protocol id to offer; NULL: no ALPN */
    const char *server_name;    /* SNI; NULL: none */
    /* Client certificate and key (PEM) presented when the server asks;
     * NULL: none (the probe then shows whether the server requires one). */
    const char *cert_file;
    const char *key_file;
    /* Trust for the server's chain (verify_result); NULL both: not checked. */
    const char *ca_file;
    const char *ca_dir;
    /* "openssl" (NULL) or "gnutls": the library that makes the handshake
     * (GnuTLS for the Camellia-GCM suites OpenSSL lacks). */
    const char *backend;
    int timeout_ms; /* connect + handshake (+ the read that catches a TLS 1.3
                       refusal); <= 0: 10 s */
};

/* ------------------------------------------------------------------ */
/* 2. What the server did                                               */

enum dtp_probe_outcome {
    DTP_PROBE_ACCEPTED = 0, /* the handshake completed; from a hand-made hello
                               (SSL 3.0, compression, suites no library offers):
                               the server sent a ServerHello choosing it
                               ("ServerHello only" in detail; version may then
                               be DTP_SSL3_0); alert may be set when a later
                               renegotiation was refused */
    DTP_PROBE_REFUSED,      /* the server sent a fatal alert (alert), or, with
                               alert -1, answered what no client accepts
                               (detail starts "no alert:") */
    DTP_PROBE_CLOSED,       /* the server closed or reset without an alert */
    DTP_PROBE_TIMEOUT,      /* no (complete) answer within timeout_ms */
    DTP_PROBE_NOT_TLS,      /* the server's first bytes are not a TLS record
                               (or announce an impossible record length) */
    DTP_PROBE_UNREACHABLE,  /* name did not resolve, or TCP connect failed or timed out */
    DTP_PROBE_LOCAL         /* this probe cannot be made here (detail says why);
                               no connection was made */
};
/* "accepted", "refused", ... */
DTP_API const char *dtp_probe_outcome_name(int outcome);

struct dtp_cert_info {
    char subject[256];  /* one-line DN, "/C=../CN=.." */
    char issuer[256];
    char key_type[16];  /* "RSA", "EC", "Ed25519", "DSA", ... */
    int key_bits;       /* RSA modulus, EC curve bits */
    char sig_hash[16];  /* hash of the certificate's signature: "SHA256", "SHA1", ... */
    int sig_hash_bits;  /* 160 for SHA-1, 256, 384, 512; 0 unknown */
    long long not_before; /* Unix time */
    long long not_after;
    bool self_signed;
};

#define DTP_PROBE_MAX_CHAIN 8

struct dtp_probe_result {
    int outcome;     /* enum dtp_probe_outcome */
    int alert;       /* the fatal alert the server sent (description), -1 none */
    int version;     /* negotiated (ACCEPTED), else DTP_TLS_NONE */
    char suite[64];  /* IANA name of the negotiated suite */
    char group[32];  /* IANA name of the key exchange group ("ffdhe2048", or "dh" with the size) */
    int group_bits;  /* DH prime bits, EC curve bits (X25519 255) */
    bool ems;        /* extended master secret in use (TLS 1.2) */
    bool secure_renegotiation; /* the server acknowledged renegotiation_info (TLS <= 1.2) */
    bool compression;          /* the server chose a compression method other than null */
    bool renegotiated;         /* renegotiate was asked and completed */
    bool cert_requested;       /* the server sent a CertificateRequest */
    char alpn[32];             /* the protocol the server selected; "" none */
    size_t chain_len;          /* the server's certificates as sent, leaf first */
    struct dtp_cert_info chain[DTP_PROBE_MAX_CHAIN];
    /* The chain against ca_file/ca_dir: 0 trusted, > 0 the backend's own
     * code (OpenSSL X509_V_ERR_*, GnuTLS status bits; detail names it),
     * -1 not checked. */
    int verify_result;
    double ms;         /* from connect to the outcome */
    char detail[256];  /* one line: the alert's name, the errno, the library's words */
};

/* Makes one handshake attempt at host:port with the probe's offers and
 * fills out. Returns DTP_OK when a result was recorded (whatever the
 * server did), DTP_R_CONFIG_INVALID for a malformed probe (an unknown
 * suite name, min_version > max_version, an unknown backend), with the
 * reason in out->detail. Never blocks longer than timeout_ms (plus the
 * time to resolve the name). */
DTP_API int dtp_probe_run(const char *host, const char *port, const struct dtp_probe *probe,
                          struct dtp_probe_result *out);

/* ------------------------------------------------------------------ */
/* 1 + 3. Scan plan and grading                                         */

/* What a probe varies. */
enum dtp_probe_kind {
    DTP_PK_PREFERRED = 0,  /* broad TLS 1.2 + 1.3 offer with a client certificate and
                              ALPN "dicom": the server's choice; also the chain */
    DTP_PK_VERSION,        /* only this version (param "SSLv3", "TLSv1.0" .. "TLSv1.3") */
    DTP_PK_SUITE,          /* only this suite (param: IANA name) at its version */
    DTP_PK_GROUP,          /* only this group (param: IANA name) */
    DTP_PK_FALLBACK_SCSV,  /* one version below the server's best, with TLS_FALLBACK_SCSV */
    DTP_PK_COMPRESSION,    /* DEFLATE offered */
    DTP_PK_RENEGOTIATION,  /* TLS 1.2, then a client-initiated renegotiation */
    DTP_PK_NO_EMS,         /* TLS 1.2 without extended_master_secret */
    DTP_PK_SHA1_SIGALGS,   /* TLS 1.2 offering only SHA-1 signature algorithms */
    DTP_PK_NO_CLIENT_CERT, /* the preferred offer without a client certificate */
    DTP_PK_ALPN_OTHER,     /* ALPN with "http/1.1" only */
    DTP_PK_TLS13_OFFER     /* TLS 1.2 + 1.3 offered: does the server pick 1.3 */
};
DTP_API const char *dtp_probe_kind_name(int kind); /* "preferred", "version", "suite", ... */

struct dtp_scan_entry {
    int kind;          /* enum dtp_probe_kind */
    char param[64];    /* the version, suite or group varied; "" for the others */
    /* Why the entry exists: the profiles that list the suite/group/version
     * ("bcp195-ex cryptrec"), or "none" for suites no profile allows (CBC,
     * static RSA, 3DES, RC4, NULL, export, anonymous, ARIA, Camellia-CBC). */
    char listed_by[128];
    struct dtp_probe probe; /* the offers (pointers into static tables and the options) */
    struct dtp_probe_result result;
};

/* Options of a scan that reach the probes. */
struct dtp_scan_options {
    const char *cert_file; /* client certificate for the probes that present one */
    const char *key_file;
    const char *ca_file;   /* trust for the server's chain; NULL both: not checked */
    const char *ca_dir;
    const char *server_name; /* SNI for every probe; NULL: none */
    bool with_gnutls;        /* plan the Camellia-GCM suites with the GnuTLS backend */
    int timeout_ms;          /* per probe */
};

/* Fills entries[0..max) with the probes of a server scan and returns how
 * many it planned (at most max; 0 and a short read are bugs of the caller:
 * 512 entries are always enough). The caller runs each entry's probe into
 * its result, in any order and in parallel. */
DTP_API size_t dtp_scan_plan(const struct dtp_scan_options *opt, struct dtp_scan_entry *entries, size_t max);

enum dtp_level { DTP_LEVEL_INFO = 0, DTP_LEVEL_SHOULD = 1, DTP_LEVEL_SHALL = 2 };

struct dtp_finding {
    char req[16];        /* requirement ID: "N1", "E4", "R8", "M26", "C3" */
    int level;           /* enum dtp_level: SHALL fails, SHOULD warns, INFO informs */
    bool ok;             /* false: violated */
    char evidence[256];  /* "TLSv1.1 accepted with TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" */
};

#define DTP_GRADE_MAX_FINDINGS 96

struct dtp_grade {
    const struct dtp_profile *profile;
    bool conforms;       /* no SHALL finding violated, and the scan reached the server */
    int failures;        /* violated SHALL findings */
    int warnings;        /* violated SHOULD findings */
    bool unreachable;    /* every probe failed to connect, timed out or was closed
                            before any handshake: no verdict ("not conforming") */
    size_t n;
    struct dtp_finding findings[DTP_GRADE_MAX_FINDINGS];
};

/* Grades a server scan (the planned entries with their results) against
 * one profile. Every rule of the profile row yields a finding, ok or not,
 * so the verdict says what was checked as well as what failed. */
DTP_API void dtp_grade(const struct dtp_scan_entry *entries, size_t n, const struct dtp_profile *profile,
                       struct dtp_grade *out);

/* ------------------------------------------------------------------ */
/* 4. Client mode: what a client offered, and its grade                 */

/* One entry of a ClientHello list: the 2-byte wire code and its IANA name
 * (suite, group or SignatureScheme) from the library's constant tables
 * (valid as long as the library is loaded); name NULL for a code the
 * tables do not know. */
struct dtp_hello_code {
    unsigned int code;
    const char *name;
    int bits; /* groups: key size (X25519 255, ffdhe2048 2048); signature schemes: the
                 hash's bits (160 for SHA-1, 0 for EdDSA); 0 unknown or a suite */
};

#define DTP_HELLO_MAX_SUITES 192
#define DTP_HELLO_MAX_LIST 48 /* groups, key shares, signature schemes, extensions */
#define DTP_HELLO_MAX_ALPN 8

/* A ClientHello as the server saw it, before choosing anything. Lists keep
 * the client's order; GREASE values (RFC 8701) are left out; an entry that
 * does not fit its array is counted in `dropped` only. */
struct dtp_client_hello {
    int legacy_version;         /* ClientHello.legacy_version: DTP_SSL3_0 .. DTP_TLS1_2 */
    bool has_supported_versions;
    size_t n_versions;
    int versions[16];           /* supported_versions (TLS 1.3 clients), in order */
    size_t n_suites;
    struct dtp_hello_code suites[DTP_HELLO_MAX_SUITES]; /* without the two SCSVs below */
    bool fallback_scsv;         /* TLS_FALLBACK_SCSV, 0x56,0x00 (RFC 7507): a fallback retry */
    bool renegotiation_scsv;    /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV, 0x00,0xFF (RFC 5746) */
    size_t n_compression;
    unsigned char compression[16]; /* compression methods: 0 null, 1 DEFLATE */
    bool has_groups;
    size_t n_groups;
    struct dtp_hello_code groups[DTP_HELLO_MAX_LIST];     /* supported_groups */
    bool has_key_shares;
    size_t n_key_shares;
    struct dtp_hello_code key_shares[DTP_HELLO_MAX_LIST]; /* key_share: the groups of the shares */
    bool has_sigalgs;
    size_t n_sigalgs;
    struct dtp_hello_code sigalgs[DTP_HELLO_MAX_LIST];    /* signature_algorithms */
    bool has_point_formats;
    size_t n_point_formats;
    unsigned char point_formats[8]; /* ec_point_formats: 0 uncompressed, 1, 2 compressed */
    char sni[256];              /* server_name's host_name; "" none */
    size_t n_alpn;
    char alpn[DTP_HELLO_MAX_ALPN][32]; /* application_layer_protocol_negotiation */
    bool ems;                   /* extended_master_secret (RFC 7627) */
    bool renegotiation_info;    /* renegotiation_info extension (RFC 5746) */
    bool encrypt_then_mac;      /* RFC 7366 */
    bool session_ticket;        /* a session_ticket extension (empty or a ticket) */
    bool psk;                   /* pre_shared_key: a TLS 1.3 resumption attempt */
    bool early_data;            /* 0-RTT offered */
    size_t n_extensions;
    unsigned int extensions[DTP_HELLO_MAX_LIST]; /* types in order (OpenSSL reports those it knows) */
    size_t dropped;
};

/* Grades a ClientHello against one profile: the versions, suites, groups,
 * signature schemes and extensions a client of that profile offers, each
 * finding citing the row's requirement ID (reqs and reqs.client in
 * dtp.h). handshake_completed false (the checker could not finish the
 * handshake with what was offered) adds an info finding; the grade is the
 * hello's either way. hello NULL: no ClientHello was seen, no verdict
 * (out->unreachable). */
DTP_API void dtp_grade_client(const struct dtp_client_hello *hello, bool handshake_completed,
                              const struct dtp_profile *profile, struct dtp_grade *out);

#ifdef __cplusplus
}
#endif

#endif
