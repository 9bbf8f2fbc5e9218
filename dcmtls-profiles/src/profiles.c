/*
 * The profile table: data only. Requirement IDs refer to
 * shared/spec/profiles.md. Suite names are IANA names, verbatim, so a grep
 * against PS3.15 or an RFC finds them; they are translated to OpenSSL's
 * names when a context is built (tls.c).
 *
 * Suite order is server preference: ECDHE before DHE (cheaper per
 * association, issue 6), and AES-128 before AES-256 within a key exchange
 * (same security margin for these lifetimes, faster). Camellia-GCM suites
 * stay in the table although OpenSSL 3.0 lacks them (E3, K3): they are
 * reported as unavailable, and the profile works with the rest.
 */
#include "dtp/dtp.h"

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

/* B5 / E5: every group offered is at least 256-bit EC or 2048-bit DH. */
#define DTP_GROUPS_ALL "X25519:P-256:P-384:P-521:ffdhe2048:ffdhe3072:ffdhe4096"
/* CRYPTREC lists the NIST P-curves; X25519 is left out (project decision). */
#define DTP_GROUPS_NIST "P-256:P-384:P-521:ffdhe2048:ffdhe3072:ffdhe4096"

static const struct dtp_profile profiles[] = {
    {
        .key = "bcp195",
        .title = "BCP195 TLS Profile",
        .reference = "PS3.15 B.9 (Sup 204 B.Y)",
        .requirements = "C1-C9 B1-B6",
        .min_version = DTP_TLS1_0,        /* B2 */
        .max_version = DTP_TLS1_3,        /* B1 "TLS 1.2 (or 1.3)" */
        .strong_min_version = DTP_TLS1_2, /* B1, B6 */
        .may_downgrade = true,            /* B2 */
        .tls12_suites = bcp195_tls12,     /* B1 */
        .fallback_suites = bcp195_fallback, /* B2, B4 */
        .tls13_suites = tls13_all,
        .groups = DTP_GROUPS_ALL,
        .min_dhe_bits = 2048, /* B5 */
        .min_ecdhe_bits = 192, /* B5 */
        .min_rsa_bits = 2048, /* B5 */
        .min_ec_bits = 192,   /* B5 */
        .key_sizes_relaxable = true, /* B5 "should": explicit, logged option */
        /* TLS 1.0/1.1 handshakes are signed with MD5/SHA-1, which level 1+
         * refuses; level 0 on this context only, B5 checked by the library. */
        .security_level = 0,
        .notes = "downgrading: TLS 1.0/1.1 with TLS_RSA_WITH_AES_128_CBC_SHA accepted and flagged",
    },
    {
        .key = "bcp195-nd",
        .title = "Non-Downgrading BCP195 TLS Profile",
        .reference = "PS3.15 B.10 (Sup 204 B.X)",
        .requirements = "C1-C9 N1-N4",
        .min_version = DTP_TLS1_2, /* N1 */
        .max_version = DTP_TLS1_3, /* N3 */
        .strong_min_version = DTP_TLS1_2,
        .may_downgrade = false, /* N1 */
        .tls12_suites = nd_tls12, /* N2, N3 */
        .fallback_suites = NULL,
        .tls13_suites = tls13_all, /* N3 */
        .groups = DTP_GROUPS_ALL,
        .min_dhe_bits = 2048,
        .min_ecdhe_bits = 256,
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .key_sizes_relaxable = false,
        .security_level = 2,
        .notes = "TLS 1.2 and 1.3 only; ECDSA AES-GCM suites added so EC certificates work",
    },
    {
        .key = "bcp195-ex",
        .title = "Extended BCP195 TLS Profile",
        .reference = "PS3.15 2020d B.11",
        .requirements = "C1-C9 E1-E5",
        .min_version = DTP_TLS1_2, /* E1 */
        .max_version = DTP_TLS1_2, /* E4: TLS 1.3 suites are not listed */
        .strong_min_version = DTP_TLS1_2,
        .may_downgrade = false,
        .tls12_suites = extended_tls12, /* E2, E3, E4 */
        .fallback_suites = NULL,
        .tls13_suites = NULL, /* E4 */
        .groups = DTP_GROUPS_ALL,
        .min_dhe_bits = 2048,  /* E5 */
        .min_ecdhe_bits = 256, /* E5 */
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .key_sizes_relaxable = false, /* E5 is a "shall" */
        .security_level = 2,
        .notes = "TLS 1.2 only with exactly the 4 + 8 listed suites",
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
        .groups = DTP_GROUPS_NIST,
        .min_dhe_bits = 2048,
        .min_ecdhe_bits = 256,
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .key_sizes_relaxable = false,
        .security_level = 2,
        .notes = "TLS 1.2 with the 4 + 8 suites; TLS 1.3 with AES-GCM only",
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
