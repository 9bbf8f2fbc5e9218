/*
 * The profile table: data only. Requirement IDs refer to
 * shared/spec/profiles.md (C, B, N, E, K) and shared/spec/current-profiles.md
 * (R = B.12, M = B.13, Q = the project's decisions). Suite, group and
 * signature scheme names are IANA names, verbatim, so a grep against PS3.15
 * or an RFC finds them; each TLS backend translates them when a context is
 * built.
 *
 * Seeds' profiles: suite order is server preference, ECDHE before DHE
 * (cheaper per association) and AES-128 before AES-256 within a key
 * exchange. B.12/B.13 follow their own text instead: the server prefers the
 * stronger suite (R25, M21's order) while a client offers
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 first (R23). Camellia-GCM suites stay
 * in the table although OpenSSL 3.0 lacks them (E3, K3, M21/M22): they are
 * reported as unavailable, and the profile works with the rest.
 */
#include "dtp/dtp.h"
#include "dtp/check.h" /* enum dtp_level, for the rows' reqs */

#include <string.h>

/* B1 / N2 / E2 / K2: the four AEAD forward-secret suites of RFC 7525. */
#define DTP_B1_SUITES                                                         \
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",                                  \
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",                                  \
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",                                    \
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"

/* B1: the four suites only; no ECDSA suite is listed for this profile. */
static const char *const bcp195_tls12[] = {DTP_B1_SUITES, NULL};

/* B2: the AES TLS profile suite, so AES-profile devices still connect;
 * B4: no 3DES suite, Basic TLS profile devices do not interoperate. */
static const char *const bcp195_fallback[] = {"TLS_RSA_WITH_AES_128_CBC_SHA", NULL};

/* N2 + N3: the ECDSA AES-GCM suites, so an EC certificate works. */
static const char *const nd_tls12[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    DTP_B1_SUITES,
    NULL};

/* E2 + E3 (4 + 8 suites), and nothing else (E4). K2 + K3 is the same set. */
static const char *const extended_tls12[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",     /* E3 C0,2B */
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",     /* E3 C0,2C */
    DTP_B1_SUITES,                                 /* E2 */
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", /* E3 C0,86 */
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", /* E3 C0,87 */
    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",   /* E3 C0,8A */
    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",   /* E3 C0,8B */
    "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",     /* E3 C0,7C */
    "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",     /* E3 C0,7D */
    NULL};

/* N3: TLS 1.3 AEAD suites. AES-GCM first where AES-NI makes it fastest. */
static const char *const tls13_all[] = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", NULL};

/* K5 (project decision): AES-GCM only; ChaCha20 is not on the CRYPTREC list. */
static const char *const tls13_aes_gcm[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", NULL};

/* B.12: exactly the four RECOMMENDED suites of RFC 9325 4.2 (R21). Static
 * RSA (R17), DHE (R20) and CBC (R22) are "should not"s, left out by
 * default (Q1). Server order: AES-256 first (R25); R24 holds because
 * nothing weaker than TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 is listed. */
static const char *const b12_tls12[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", /* C0,2C */
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",   /* C0,30 */
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",   /* C0,2F */
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", /* C0,2B */
    NULL};
/* R23: a client offers TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 first. */
static const char *const b12_tls12_client[] = {
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    NULL};
/* R28: RFC 8446 9.1's must (AES-128-GCM) and shoulds (AES-256-GCM,
 * ChaCha20); the stronger first on the server (R25). */
static const char *const b12_tls13[] = {
    "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", NULL};

/* B.13 M21: the 14 ECDHE suites in the standard's order (M23: the
 * preferred ones). Camellia-GCM is optional after CP 2311 (M22, Q6) and
 * absent from OpenSSL. No DHE fallback (M25 is a "may"; Q7), nothing else
 * (M26). */
static const char *const b13_tls12[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",       /* C0,2C */
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",         /* C0,30 */
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",  /* C0,87 */
    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",    /* C0,8B */
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",              /* C0,AD */
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",            /* C0,AF */
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", /* CC,A9 */
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",   /* CC,A8 */
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",         /* C0,2F */
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",       /* C0,2B */
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",  /* C0,86 */
    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",    /* C0,8A */
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",              /* C0,AC */
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",            /* C0,AE */
    NULL};
/* R23 (via M1): the same 14, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 first. */
static const char *const b13_tls12_client[] = {
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    NULL};
/* M18, Q12: all five TLS 1.3 suites in both roles, in the standard's order
 * (CCM and CCM_8 are off by default in OpenSSL: named explicitly). */
static const char *const b13_tls13[] = {
    "TLS_AES_256_GCM_SHA384",     /* 13,02 */
    "TLS_CHACHA20_POLY1305_SHA256", /* 13,03 */
    "TLS_AES_128_GCM_SHA256",     /* 13,01 */
    "TLS_AES_128_CCM_SHA256",     /* 13,04 */
    "TLS_AES_128_CCM_8_SHA256",   /* 13,05 */
    NULL};

/* B5: every group offered is at least 256-bit EC class or 2048-bit DH;
 * X25519 first (fastest). */
static const char *const groups_all[] = {"x25519",    "secp256r1", "secp384r1", "secp521r1",
                                         "ffdhe2048", "ffdhe3072", "ffdhe4096", NULL};
/* "ECDHE 256 bits or more" (E5, M17): X25519 is a 255-bit curve, so it is
 * not offered where that is written (Q2). CRYPTREC lists the NIST
 * P-curves only. */
static const char *const groups_nist[] = {"secp256r1", "secp384r1", "secp521r1", "ffdhe2048",
                                          "ffdhe3072", "ffdhe4096", NULL};
/* R26: x25519 and secp256r1 supported, X25519 first (Q2). */
static const char *const groups_b12[] = {"x25519",    "secp256r1", "secp384r1", "secp521r1", "x448",
                                         "ffdhe2048", "ffdhe3072", "ffdhe4096", NULL};
/* M17, Q2: P-256, P-384, P-521, X448 and ffdhe2048+ (M15); no X25519. */
static const char *const groups_b13[] = {"secp256r1", "secp384r1", "secp521r1", "x448",
                                         "ffdhe2048", "ffdhe3072", "ffdhe4096", NULL};

/* R32, R33, M10, M12, M14, Q3: ECDSA, RSASSA-PSS and RSASSA-PKCS1-v1_5
 * (the last TLS 1.2 only, by TLS 1.3's own rule) with SHA-256/384 first and
 * SHA-512 accepted; never SHA-1 or MD5, never EdDSA or DSA. Both roles:
 * the server's own ServerKeyExchange / CertificateVerify too. */
static const char *const sigalgs_b12_b13[] = {
    "ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384",
    "rsa_pss_pss_sha256",     "rsa_pss_pss_sha384",     "rsa_pkcs1_sha256",    "rsa_pkcs1_sha384",
    "ecdsa_secp521r1_sha512", "rsa_pss_rsae_sha512",    "rsa_pss_pss_sha512",  "rsa_pkcs1_sha512",
    NULL};

/* ------------------------------------------------------------------ */
/* What a server scan holds a server to (reqs, dtp_grade): suite lists   */
/* that are requirements rather than offers.                           */

/* B1 / N2 / E2 / K2: a server accepts each of the four. */
static const char *const b1_required[] = {DTP_B1_SUITES, NULL};
/* E3 (one of them should be supported) and K3 (each should be). */
static const char *const e3_suites[] = {
    "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",     "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",      "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",   "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    NULL};
/* R21: the four RFC 9325 4.2 suites (RECOMMENDED). */
static const char *const r21_suites[] = {
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", NULL};
/* R28: RFC 8446 9.1's one mandatory TLS 1.3 suite. */
static const char *const r28_suites[] = {"TLS_AES_128_GCM_SHA256", NULL};
/* M21 less the four Camellia-GCM suites that CP 2311 made optional (M22,
 * Q6): the ten a B.13 server shall support. */
static const char *const m21_required[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",       "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",              "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",         "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",              "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    NULL};
/* M25: the DHE fallback suites a B.13 server may offer (this project's
 * server does not, Q7); "..._AES_256_GCM_CCM_8" read as _AES_256_CCM_8 (Q5). */
static const char *const m25_suites[] = {
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",      "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_256_CCM",             "TLS_DHE_RSA_WITH_AES_256_CCM_8",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_CCM",
    "TLS_DHE_RSA_WITH_AES_128_CCM_8",           NULL};

/* M24: a TLS 1.2 client offers one suite of M21 (all 14, Camellia-GCM
 * included) or of M25. */
static const char *const m24_suites[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",             "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",             "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    /* M25 */
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",          "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_256_CCM",                 "TLS_DHE_RSA_WITH_AES_256_CCM_8",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",     "TLS_DHE_RSA_WITH_AES_128_CCM",
    "TLS_DHE_RSA_WITH_AES_128_CCM_8",               NULL};
/* R26: the groups a B.12 peer supports (names of groups, not suites). */
static const char *const r26_groups[] = {"x25519", "secp256r1", NULL};

#define SHALL(id) {(id), DTP_LEVEL_SHALL}
#define SHOULD(id) {(id), DTP_LEVEL_SHOULD}
#define INFO(id) {(id), DTP_LEVEL_INFO}
/* C3: no NULL, export, anonymous, RC4 or DES suite, in every seed profile. */
#define C3_WEAK                                                                                                        \
    .weak_null = SHALL("C3"), .weak_export = SHALL("C3"), .weak_anon = SHALL("C3"), .weak_rc4 = SHALL("C3"),         \
    .weak_des = SHALL("C3")

static const struct dtp_profile profiles[] = {
    {
        .key = "bcp195",
        .title = "BCP195 TLS Profile",
        .dcmtk_option = "+px",
        .dcmtk_long_option = "--profile-bcp195",
        .reference = "PS3.15 B.9 (Sup 204 B.Y)",
        .requirements = "C1-C9 B1-B6",
        .min_version = DTP_TLS1_0,        /* B2 */
        .max_version = DTP_TLS1_3,        /* B1 "TLS 1.2 (or 1.3)" */
        .strong_min_version = DTP_TLS1_2, /* B1, B6 */
        .may_downgrade = true,            /* B2 */
        .tls12_suites = bcp195_tls12,     /* B1 */
        .fallback_suites = bcp195_fallback, /* B2, B4 */
        .tls13_suites = tls13_all,
        .groups = groups_all,
        .min_dhe_bits = 2048, /* B5 */
        .min_ecdhe_bits = 192, /* B5 */
        .min_rsa_bits = 2048, /* B5 */
        .min_ec_bits = 192,   /* B5 */
        .key_sizes_relaxable = true, /* B5 "should": explicit, logged option */
        .notes = "downgrading: TLS 1.0/1.1 with TLS_RSA_WITH_AES_128_CBC_SHA accepted and flagged",
        .reqs = {
            .ssl3 = SHALL("C2"),
            .old_versions = INFO("B2/B6"), /* an allowed downgrade, flagged */
            .tls12 = SHALL("B1"),
            .required_tls12 = {SHALL("B1"), b1_required, false},
            C3_WEAK,
            .weak_3des = SHALL("B4"),
            /* B2: nothing below or beside the B1 + B2 suites */
            .other_static_rsa = SHOULD("B2"),
            .other_cbc = SHOULD("B2"),
            .other_dhe = SHOULD("B2"),
            .other = SHOULD("B2"),
            .dh_size = SHOULD("B5"),
            .ec_size = SHOULD("B5"),
            .fallback_scsv = SHALL("B3"),
            .compression = SHALL("C4"),
            .renegotiation = SHALL("C5"),
            .sha1_sigalgs = INFO("B2"), /* TLS 1.0/1.1 sign with SHA-1 anyway */
            .cert_rsa = SHOULD("B5"),
            .cert_ec = SHOULD("B5"),
            .client = {
                .tls12 = SHALL("B1"),
                .required_tls12 = {SHALL("B1"), b1_required, false},
                .fallback = INFO("B3"), /* a retry with a lower version, signalled */
                .sigalgs_weak = INFO("B2"),
            },
        },
    },
    {
        .key = "bcp195-nd",
        .title = "Non-Downgrading BCP195 TLS Profile",
        .dcmtk_option = "+py",
        .dcmtk_long_option = "--profile-bcp195-nd",
        .reference = "PS3.15 B.10 (Sup 204 B.X)",
        .requirements = "C1-C9 N1-N4",
        .min_version = DTP_TLS1_2, /* N1 */
        .max_version = DTP_TLS1_3, /* N3 */
        .strong_min_version = DTP_TLS1_2,
        .may_downgrade = false, /* N1 */
        .tls12_suites = nd_tls12, /* N2, N3 */
        .fallback_suites = NULL,
        .tls13_suites = tls13_all, /* N3 */
        .groups = groups_all,
        .min_dhe_bits = 2048,
        /* N rows name no ECDHE size; RFC 7525 asks 192 bits (B5). 224 keeps
         * X25519 (255 bits, offered first) and refuses P-192. */
        .min_ecdhe_bits = 224,
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .key_sizes_relaxable = false,
        .notes = "TLS 1.2 and 1.3 only; ECDSA AES-GCM suites added so EC certificates work",
        .reqs = {
            .ssl3 = SHALL("C2"),
            .old_versions = SHALL("N1"),
            .tls12 = SHALL("N2"),
            .required_tls12 = {SHALL("N2"), b1_required, false},
            C3_WEAK,
            .weak_3des = SHALL("C3"),
            /* N3: "similar or greater strength": static RSA and CBC are
             * weaker; other AEAD forward-secret suites are not. */
            .other_static_rsa = SHOULD("N3"),
            .other_cbc = SHOULD("N3"),
            .other_dhe = INFO("N3"),
            .other = INFO("N3"),
            .dh_size = SHALL("B5"),
            .ec_size = SHALL("B5"),
            .compression = SHALL("C4"),
            .renegotiation = SHALL("C5"),
            .cert_rsa = SHALL("B5"),
            .cert_ec = SHALL("B5"),
            .client = {
                .tls12 = SHALL("N2"),
                .required_tls12 = {SHALL("N2"), b1_required, false},
            },
        },
    },
    {
        .key = "bcp195-ex",
        .title = "Extended BCP195 TLS Profile",
        .dcmtk_option = "+pz",
        .dcmtk_long_option = "--profile-bcp195-ex",
        .reference = "PS3.15 2020d B.11",
        .requirements = "C1-C9 E1-E5",
        .min_version = DTP_TLS1_2, /* E1 */
        .max_version = DTP_TLS1_2, /* E4: TLS 1.3 suites are not listed */
        .strong_min_version = DTP_TLS1_2,
        .may_downgrade = false,
        .tls12_suites = extended_tls12, /* E2, E3, E4 */
        .fallback_suites = NULL,
        .tls13_suites = NULL, /* E4 */
        .groups = groups_nist, /* E5: no X25519 (255 bits) */
        .min_dhe_bits = 2048,  /* E5 */
        .min_ecdhe_bits = 256, /* E5 */
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .key_sizes_relaxable = false, /* E5 is a "shall" */
        .notes = "TLS 1.2 only with exactly the 4 + 8 listed suites",
        .reqs = {
            .ssl3 = SHALL("C2"),
            .old_versions = SHALL("E1"),
            .tls12 = SHALL("E2"),
            .tls13_refused = SHALL("E4"),
            .required_tls12 = {SHALL("E2"), b1_required, false},
            .recommended = {SHOULD("E3"), e3_suites, true},
            C3_WEAK,
            .weak_3des = SHALL("C3"),
            .other_static_rsa = SHALL("E4"),
            .other_cbc = SHALL("E4"),
            .other_dhe = SHALL("E4"),
            .other = SHALL("E4"),
            .dh_size = SHALL("E5"),
            .ec_size = SHALL("E5"),
            .compression = SHALL("C4"),
            .renegotiation = SHALL("C5"),
            .cert_rsa = SHALL("B5"),
            .cert_ec = SHALL("B5"),
            .client = {
                .tls12 = SHALL("E2"),
                .required_tls12 = {SHALL("E2"), b1_required, false},
            },
        },
    },
    {
        .key = "cryptrec",
        .title = "CRYPTREC TLS Profile",
        .reference = "Draft supplement, CRYPTREC TLS Profile",
        .requirements = "C1-C9 K1-K5",
        .min_version = DTP_TLS1_2, /* K1 */
        .max_version = DTP_TLS1_3, /* K5 */
        .strong_min_version = DTP_TLS1_2,
        .may_downgrade = false, /* K1 */
        .tls12_suites = extended_tls12, /* K2, K3 */
        .fallback_suites = NULL,
        .tls13_suites = tls13_aes_gcm, /* K5 */
        .groups = groups_nist,
        .min_dhe_bits = 2048,
        .min_ecdhe_bits = 256,
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .key_sizes_relaxable = false,
        .notes = "TLS 1.2 with the 4 + 8 suites; TLS 1.3 with AES-GCM only",
        .reqs = {
            .ssl3 = SHALL("C2"),
            .old_versions = SHALL("K1"),
            .tls12 = SHALL("K2"),
            .required_tls12 = {SHALL("K2"), b1_required, false},
            .recommended = {SHOULD("K3"), e3_suites, false},
            C3_WEAK,
            .weak_3des = SHALL("C3"),
            /* K5: the draft is silent; the project's decision */
            .other_static_rsa = SHOULD("K5"),
            .other_cbc = SHOULD("K5"),
            .other_dhe = SHOULD("K5"),
            .other = SHOULD("K5"),
            .dh_size = SHALL("B5"),
            .ec_size = SHALL("B5"),
            .compression = SHALL("C4"),
            .renegotiation = SHALL("C5"),
            .cert_rsa = SHALL("B5"),
            .cert_ec = SHALL("B5"),
            .client = {
                .tls12 = SHALL("K2"),
                .required_tls12 = {SHALL("K2"), b1_required, false},
            },
        },
    },
    {
        .key = "bcp195-8996",
        .title = "BCP 195 RFC 8996, 9325 TLS Profile",
        .reference = "PS3.15 2024e B.12",
        .requirements = "C1-C9 R1-R54",
        .dcmtk_option = "+pg",
        .dcmtk_long_option = "--profile-8996",
        .min_version = DTP_TLS1_2, /* R3, R7, R8, Q8 */
        .max_version = DTP_TLS1_3, /* R4-R6 */
        .strong_min_version = DTP_TLS1_2,
        .may_downgrade = false, /* R9 */
        .tls12_suites = b12_tls12, /* R19, R21, R24, R25 */
        .tls12_client_order = b12_tls12_client, /* R23 */
        .fallback_suites = NULL,
        .tls13_suites = b12_tls13, /* R28 */
        .groups = groups_b12, /* R26, Q2 */
        .sigalgs = sigalgs_b12_b13, /* R32, R33 */
        .min_dhe_bits = 2048,  /* R29 */
        .min_ecdhe_bits = 224, /* R30 */
        .min_rsa_bits = 2048,  /* R31 */
        .min_ec_bits = 256,    /* R27: P-256 for ECDSA */
        .key_sizes_relaxable = false,
        /* R31, R32 read as B.13 reads them (M27-M31, Q4): whole chain,
         * SHA-256 or stronger. */
        .check_chain = true,
        .min_cert_hash_bits = 256,
        .alpn = "dicom",       /* R39, section 7 */
        .send_sni = true,      /* R38, Q9 */
        .require_ems = true,   /* R36 */
        .notes = "the profile in force (BCP 195 = RFC 8996 + RFC 9325): TLS 1.2 with the four RFC 9325 suites, TLS 1.3",
        .reqs = {
            .ssl3 = SHALL("R7"),
            .old_versions = SHALL("R8"),
            .tls12 = SHALL("R3"),
            .tls13_preferred = SHALL("R6"),
            .required_tls12 = {SHOULD("R21"), r21_suites, false}, /* RECOMMENDED */
            .required_tls13 = {SHALL("R28"), r28_suites, false},
            .weak_null = SHALL("R13"),
            .weak_export = SHALL("R15"),
            .weak_anon = SHALL("R13"), /* NULL authentication */
            .weak_rc4 = SHALL("R14"),
            .weak_des = SHALL("R15"),
            .weak_3des = SHOULD("R16"),
            .other_static_rsa = SHOULD("R17"),
            .other_cbc = SHOULD("R22"),
            .other_dhe = SHOULD("R20"),
            .other = SHOULD("R1"),
            .dh_size = SHALL("R29"),
            .ec_size = SHALL("R30"),
            .compression = SHOULD("R34"),
            .renegotiation = SHALL("R35"),
            .ems = SHALL("R36"),
            .sha1_sigalgs = SHALL("R32"),
            .client_auth = SHOULD("R44"), /* R46: a server may run without */
            .cert_rsa = SHALL("R31"),
            .cert_ec = SHOULD("R27"),
            .chain_rsa = SHALL("R31"), /* check_chain: read as B.13 reads it (Q4) */
            .chain_ec = SHOULD("R27"),
            .cert_hash = SHALL("R32"),
            .alpn = SHOULD("R39"),
            .client = {
                .tls12 = SHALL("R3"),
                .tls13 = INFO("R5"),
                .required_tls12 = {SHOULD("R21"), r21_suites, false}, /* RECOMMENDED */
                .required_tls13 = {SHALL("R28"), r28_suites, false},
                .first_suite = SHOULD("R23"),
                .fallback = SHALL("R9"),
                .groups = {SHOULD("R26"), r26_groups, false},
                /* The text's "shall", graded "should": OpenSSL 3.0 clients (this
                 * project's and DCMTK's) always list the compressed formats and
                 * cannot be told otherwise; OpenSSL never sends a compressed point. */
                .point_formats = SHOULD("R26"),
                .sigalgs_sha256 = SHALL("R33"),
                .sigalgs_weak = SHALL("R32"), /* RFC 9155: never offered */
                .early_data = SHALL("R41"),
                .sni = SHOULD("R38"),
            },
        },
    },
    {
        .key = "bcp195-8996-mod",
        .title = "Modified BCP 195 RFC 8996, 9325 TLS Profile",
        .reference = "PS3.15 2024e B.13",
        .requirements = "C1-C9 M1-M48 (R via M1)",
        .dcmtk_option = "+pm",
        .dcmtk_long_option = "--profile-8996-mod",
        .min_version = DTP_TLS1_2, /* M32, M37, Q8 */
        .max_version = DTP_TLS1_3, /* M32-M35 */
        .strong_min_version = DTP_TLS1_2,
        .may_downgrade = false,
        .tls12_suites = b13_tls12, /* M21-M26, Q6, Q7 */
        .tls12_client_order = b13_tls12_client, /* R23 via M1 */
        .fallback_suites = NULL,
        .tls13_suites = b13_tls13, /* M18, M19, Q12 */
        .groups = groups_b13, /* M11, M15, M17, M20, Q2 */
        .sigalgs = sigalgs_b12_b13, /* M10, M12, M14, M20, Q3 */
        .min_dhe_bits = 2048,  /* M15 */
        .min_ecdhe_bits = 256, /* M17 */
        .min_rsa_bits = 2048,  /* M27, M29 */
        .min_ec_bits = 256,    /* M28, M30 */
        .key_sizes_relaxable = false,
        .check_chain = true,       /* M27-M30, Q4 */
        .min_cert_hash_bits = 256, /* M31, Q3 */
        .alpn = "dicom",
        .send_sni = true,
        .require_ems = true,
        .notes = "stricter B.12: closed lists of key exchange, ciphers and hashes; ECDHE only, no X25519; "
                 "TLS 1.2 CCM/CCM_8/ChaCha20 and all five TLS 1.3 suites",
        .reqs = {
            .ssl3 = SHALL("M37"),
            .old_versions = SHALL("M37"),
            .tls12 = SHALL("M32"),
            .tls13_required = SHALL("M32"),
            .tls13_preferred = SHALL("M35"),
            .required_tls12 = {SHALL("M21"), m21_required, false}, /* M22: Camellia optional */
            .required_tls13 = {SHALL("M18"), b13_tls13, false},
            .weak_null = SHALL("M13"),    /* closed list of bulk ciphers */
            .weak_export = SHALL("M7/M9"), /* EXPORT-DES/RC2, EXPORT-RC4 */
            .weak_anon = SHALL("M12"),    /* closed list of signatures */
            .weak_rc4 = SHALL("M9"),
            .weak_des = SHALL("M7"),
            .weak_3des = SHALL("M7"),
            .other_static_rsa = SHALL("M26/M5"),
            .other_cbc = SHALL("M26/M8"),
            .other_dhe = SHALL("M26"),
            .other = SHALL("M26"),
            .allowed = {INFO("M25"), m25_suites, false},
            .dh_size = SHALL("M15"),
            .ec_size = SHALL("M17"),
            .compression = SHOULD("R34"),
            .renegotiation = SHALL("R35"),
            .ems = SHALL("R36"),
            .sha1_sigalgs = SHALL("M10"),
            .client_auth = SHOULD("M38"), /* M40: a server may run without */
            .cert_rsa = SHALL("M27"),
            .cert_ec = SHALL("M28"),
            .chain_rsa = SHALL("M29"),
            .chain_ec = SHALL("M30"),
            .cert_hash = SHALL("M31"),
            .alpn = SHOULD("R39"),
            .client = {
                .tls12 = INFO("M33"), /* TLS 1.2 or TLS 1.3 */
                .tls13 = INFO("M34"),
                .required_tls12 = {SHALL("M24"), m24_suites, true},
                .required_tls13 = {SHALL("M19"), b13_tls13, true},
                .first_suite = SHOULD("R23"), /* via M1 */
                .fallback = SHALL("R9"),
                .point_formats = SHOULD("R26"), /* as B.12's */
                .sigalgs_sha256 = SHALL("R33"),
                .sigalgs_weak = SHALL("M10"),
                .sigalgs_outside = SHALL("M12/M14"), /* no EdDSA, DSA, SHA-224 */
                .early_data = SHALL("R41"),
                .sni = SHOULD("R38"),
            },
        },
    },
};

static const struct dtp_retired_profile retired[] = {
    {"basic", "Basic TLS Secure Transport Connection Profile (3DES)",
     "retired by Supplement 204; 3DES is not offered (B4): use bcp195 or bcp195-nd"},
    {"aes", "AES TLS Secure Transport Connection Profile",
     "retired by Supplement 204: use bcp195, which still accepts AES-profile peers (B2)"},
    {"null", "authentication without encryption (NULL suites)",
     "never allowed: NULL suites are refused by every profile (C3)"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

size_t dtp_profile_count(void) { return COUNT(profiles); }

const struct dtp_profile *dtp_profile_at(size_t i)
{
    return i < COUNT(profiles) ? &profiles[i] : NULL;
}

size_t dtp_retired_profile_count(void) { return COUNT(retired); }

const struct dtp_retired_profile *dtp_retired_profile_at(size_t i)
{
    return i < COUNT(retired) ? &retired[i] : NULL;
}

const struct dtp_retired_profile *dtp_retired_profile_find(const char *key)
{
    for (size_t i = 0; key && i < COUNT(retired); i++)
        if (strcmp(retired[i].key, key) == 0)
            return &retired[i];
    return NULL;
}

const struct dtp_profile *dtp_profile_find(const char *key, int *reason)
{
    for (size_t i = 0; key && i < COUNT(profiles); i++)
        if (strcmp(profiles[i].key, key) == 0) {
            if (reason)
                *reason = DTP_OK;
            return &profiles[i];
        }
    if (reason)
        *reason = dtp_retired_profile_find(key) ? DTP_R_PROFILE_RETIRED : DTP_R_PROFILE_UNKNOWN;
    return NULL;
}

const char *dtp_tls_version_name(int version)
{
    static const struct {
        int v;
        const char *name;
    } names[] = {{DTP_TLS_NONE, "none"},     {DTP_TLS1_0, "TLSv1"},   {DTP_TLS1_1, "TLSv1.1"},
                 {DTP_TLS1_2, "TLSv1.2"}, {DTP_TLS1_3, "TLSv1.3"}};
    for (size_t i = 0; i < COUNT(names); i++)
        if (names[i].v == version)
            return names[i].name;
    return "unknown";
}
