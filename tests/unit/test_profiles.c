/* Invariants of the profile table, each tied to a requirement ID. */
#include "check.h"

static size_t count(const char *const *list)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

static int contains(const char *const *list, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static const struct dtp_profile *get(const char *key)
{
    return dtp_profile_find(key, NULL);
}

/* The seeds' four profiles (shared/spec/profiles.md); B.12/B.13 have rows
 * of their own (current-profiles.md). */
static const char *const seeds[] = {"bcp195", "bcp195-nd", "bcp195-ex", "cryptrec"};

static int profile_table_invariants(void)
{
    CHECK(dtp_profile_count() == 6);
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        CHECK(p && p->key && p->title && p->reference && p->requirements && p->notes && p->groups);
        CHECK(get(p->key) == p); /* keys are unique: the lookup finds this row */
        CHECK(p->min_version <= p->strong_min_version && p->strong_min_version <= p->max_version);
        CHECK(p->min_version >= DTP_TLS1_0);                       /* C2: never SSL 3.0 */
        CHECK((p->tls13_suites != NULL) == (p->max_version >= DTP_TLS1_3));
        CHECK(p->may_downgrade == (p->min_version < p->strong_min_version)); /* B2 vs N1/E1/K1 */
        CHECK(p->may_downgrade == (p->fallback_suites != NULL));
        CHECK(count(p->tls12_suites) >= 4);
        CHECK(p->min_dhe_bits >= 2048);                              /* B5, E5 */
        CHECK(p->min_rsa_bits >= 2048);                              /* B5 */
        CHECK(p->min_ecdhe_bits >= (p->may_downgrade ? 192 : 224));  /* B5, R30 */
        CHECK(count(p->groups) >= 3);
        /* A client order is the same set as the server's list. */
        if (p->tls12_client_order) {
            CHECK(count(p->tls12_client_order) == count(p->tls12_suites));
            for (size_t s = 0; p->tls12_suites[s]; s++)
                CHECK(contains(p->tls12_client_order, p->tls12_suites[s]));
        }
        /* DCMTK spellings come in pairs and are unique. */
        CHECK((p->dcmtk_option == NULL) == (p->dcmtk_long_option == NULL));
        for (size_t j = 0; j < i && p->dcmtk_option; j++) {
            const struct dtp_profile *q = dtp_profile_at(j);
            CHECK(!q->dcmtk_option || strcmp(q->dcmtk_option, p->dcmtk_option) != 0);
        }
    }
    CHECK(dtp_profile_at(dtp_profile_count()) == NULL);
    return 0;
}

static int b1_suites_everywhere(void)
{
    static const char *const b1[] = {
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"};
    for (size_t i = 0; i < 4; i++)
        for (size_t s = 0; s < 4; s++)
            CHECK(contains(get(seeds[i])->tls12_suites, b1[s])); /* B1, N2, E2, K2 */
    return 0;
}

static int extended_exact_suites(void)
{
    /* E2 + E3 = 4 + 8 suites and nothing else (E4), no TLS 1.3 (E4). */
    static const char *const e3[] = {
        "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",     "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",      "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",   "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"};
    const struct dtp_profile *ex = get("bcp195-ex"), *k = get("cryptrec");
    CHECK(ex && k);
    CHECK(count(ex->tls12_suites) == 12);
    CHECK(ex->tls13_suites == NULL && ex->max_version == DTP_TLS1_2);
    CHECK(count(k->tls12_suites) == 12); /* K2 + K3 */
    for (size_t i = 0; i < 8; i++) {
        CHECK(contains(ex->tls12_suites, e3[i]));
        CHECK(contains(k->tls12_suites, e3[i]));
    }
    return 0;
}

static int cryptrec_tls13_aes_gcm(void)
{
    const struct dtp_profile *k = get("cryptrec");
    CHECK(k->max_version == DTP_TLS1_3); /* K5 */
    CHECK(count(k->tls13_suites) == 2);
    CHECK(contains(k->tls13_suites, "TLS_AES_128_GCM_SHA256"));
    CHECK(contains(k->tls13_suites, "TLS_AES_256_GCM_SHA384"));
    CHECK(!contains(k->tls13_suites, "TLS_CHACHA20_POLY1305_SHA256"));
    CHECK(k->min_version == DTP_TLS1_2); /* K1 */
    return 0;
}

static int nd_has_ecdsa_suites(void)
{
    const struct dtp_profile *nd = get("bcp195-nd");
    CHECK(nd->min_version == DTP_TLS1_2); /* N1 */
    CHECK(contains(nd->tls12_suites, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")); /* N3 */
    CHECK(contains(nd->tls12_suites, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"));
    const struct dtp_profile *b = get("bcp195");
    CHECK(b->min_version == DTP_TLS1_0 && b->may_downgrade);          /* B2 */
    CHECK(contains(b->fallback_suites, "TLS_RSA_WITH_AES_128_CBC_SHA")); /* B2 */
    return 0;
}

static int no_weak_suites(void)
{
    /* C3, B4: no NULL, export, anonymous, RC4, DES or 3DES suite anywhere. */
    static const char *const bad[] = {"NULL", "EXPORT", "anon", "RC4", "_DES_", "3DES", "DES40", "MD5"};
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        const char *const *lists[] = {p->tls12_suites, p->fallback_suites, p->tls13_suites};
        for (size_t l = 0; l < 3; l++)
            for (size_t s = 0; lists[l] && lists[l][s]; s++)
                for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
                    CHECK(strstr(lists[l][s], bad[b]) == NULL);
    }
    return 0;
}

static int security_level_only_for_downgrade(void)
{
    /* OpenSSL's level is derived by the backend: 0 only where TLS 1.0/1.1
     * signatures need it, and only with the library's own key-size checks
     * (B5) as a relaxable "should"; 2 everywhere else. */
    char buf[8192];
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        struct dtp_error err = {0};
        CHECK(dtp_profile_describe(p, DTP_ROLE_SERVER, buf, sizeof buf, &err) != NULL);
        CHECK(strstr(buf, p->may_downgrade ? "security_level: 0\n" : "security_level: 2\n") != NULL);
        CHECK(p->key_sizes_relaxable == p->may_downgrade);
    }
    return 0;
}

static int b12_suites(void)
{
    const struct dtp_profile *p = get("bcp195-8996");
    CHECK(p && p->min_version == DTP_TLS1_2 && p->max_version == DTP_TLS1_3 && !p->may_downgrade); /* R3-R9 */
    /* R21: exactly the four RFC 9325 4.2 suites; no static RSA, DHE, CBC. */
    static const char *const r21[] = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
    CHECK(count(p->tls12_suites) == 4);
    for (size_t i = 0; i < 4; i++)
        CHECK(contains(p->tls12_suites, r21[i]));
    CHECK(strcmp(p->tls12_client_order[0], "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == 0); /* R23 */
    CHECK(strstr(p->tls12_suites[0], "AES_256") != NULL);                                 /* R25 */
    /* R28: RFC 8446 9.1's three. */
    CHECK(count(p->tls13_suites) == 3 && contains(p->tls13_suites, "TLS_AES_128_GCM_SHA256") &&
          contains(p->tls13_suites, "TLS_AES_256_GCM_SHA384") && contains(p->tls13_suites, "TLS_CHACHA20_POLY1305_SHA256"));
    CHECK(strcmp(p->groups[0], "x25519") == 0 && contains(p->groups, "secp256r1")); /* R26, Q2 */
    CHECK(p->min_dhe_bits >= 2048 && p->min_ecdhe_bits >= 224 && p->min_rsa_bits >= 2048); /* R29-R31 */
    CHECK(p->require_ems && p->alpn && strcmp(p->alpn, "dicom") == 0 && p->send_sni); /* R36, R39, Q9 */
    CHECK(strcmp(p->dcmtk_option, "+pg") == 0 && strcmp(p->dcmtk_long_option, "--profile-8996") == 0);
    return 0;
}

static int b13_closed_lists(void)
{
    const struct dtp_profile *p = get("bcp195-8996-mod");
    CHECK(p && p->min_version == DTP_TLS1_2 && p->max_version == DTP_TLS1_3); /* M32, M37 */
    static const char *const m21[] = {
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",       "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",  "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",              "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",         "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",  "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",              "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"};
    CHECK(count(p->tls12_suites) == 14); /* M21, M26: nothing else */
    for (size_t i = 0; i < 14; i++)
        CHECK(strcmp(p->tls12_suites[i], m21[i]) == 0); /* M23: the standard's order */
    CHECK(strcmp(p->tls12_client_order[0], "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == 0); /* R23 via M1 */
    for (size_t i = 0; i < 14; i++) {
        CHECK(strncmp(p->tls12_suites[i], "TLS_ECDHE_", 10) == 0); /* M5, M11; Q7: no DHE fallback */
        CHECK(strstr(p->tls12_suites[i], "CBC") == NULL && strstr(p->tls12_suites[i], "ARIA") == NULL); /* M7, M8 */
        size_t n = strlen(p->tls12_suites[i]);
        CHECK(n > 4 && strcmp(p->tls12_suites[i] + n - 4, "_SHA") != 0); /* M10: no SHA-1 MAC */
    }
    static const char *const m18[] = {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
                                      "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"};
    CHECK(count(p->tls13_suites) == 5);
    for (size_t i = 0; i < 5; i++)
        CHECK(strcmp(p->tls13_suites[i], m18[i]) == 0); /* M18, Q12 */
    CHECK(p->check_chain && p->min_cert_hash_bits == 256); /* M27-M31, Q4 */
    CHECK(p->min_ecdhe_bits == 256 && p->min_ec_bits == 256 && p->min_rsa_bits == 2048 && p->min_dhe_bits == 2048);
    CHECK(strcmp(p->dcmtk_option, "+pm") == 0 && strcmp(p->dcmtk_long_option, "--profile-8996-mod") == 0);
    return 0;
}

static int x25519_only_where_allowed(void)
{
    /* E5, M17, Q2: "ECDHE 256 bits or more" is not met by X25519 (255). */
    CHECK(!contains(get("bcp195-ex")->groups, "x25519"));
    CHECK(!contains(get("bcp195-8996-mod")->groups, "x25519"));
    CHECK(!contains(get("cryptrec")->groups, "x25519"));
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        if (contains(p->groups, "x25519"))
            CHECK(strcmp(p->groups[0], "x25519") == 0 && p->min_ecdhe_bits <= 255);
        CHECK(contains(p->groups, "secp256r1"));
        for (size_t g = 0; p->groups[g]; g++) /* B5, R30: no curve below 224 bits */
            CHECK(strcmp(p->groups[g], "secp192r1") != 0 && strcmp(p->groups[g], "secp224r1") != 0);
    }
    CHECK(contains(get("bcp195-8996-mod")->groups, "x448") && contains(get("bcp195-8996-mod")->groups, "ffdhe2048"));
    return 0;
}

static int sigalgs_never_sha1(void)
{
    /* R32, M10, M12, M14, Q3: no SHA-1/MD5, no EdDSA/DSA; SHA-256 first. */
    static const char *const bad[] = {"sha1", "md5", "sha224", "ed25519", "ed448"};
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        if (!p->sigalgs)
            continue;
        CHECK(strstr(p->sigalgs[0], "sha256") != NULL);
        for (size_t s = 0; p->sigalgs[s]; s++) {
            for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
                CHECK(strstr(p->sigalgs[s], bad[b]) == NULL);
            /* ECDSA, RSASSA-PSS, RSASSA-PKCS1-v1_5 only: no DSA. */
            CHECK(strncmp(p->sigalgs[s], "ecdsa_", 6) == 0 || strncmp(p->sigalgs[s], "rsa_", 4) == 0);
        }
    }
    CHECK(get("bcp195-8996")->sigalgs && get("bcp195-8996-mod")->sigalgs);
    return 0;
}

static int retired_names_refused(void)
{
    static const char *const names[] = {"basic", "aes", "null"};
    for (size_t i = 0; i < 3; i++) {
        int reason = -1;
        CHECK(dtp_profile_find(names[i], &reason) == NULL);
        CHECK_REASON(DTP_R_PROFILE_RETIRED, reason, names[i]);
        const struct dtp_retired_profile *r = dtp_retired_profile_find(names[i]);
        CHECK(r && r->why && r->title);
    }
    CHECK(strstr(dtp_retired_profile_find("aes")->why, "Supplement 204") != NULL);
    return 0;
}

static int unknown_name_refused(void)
{
    int reason = -1;
    CHECK(dtp_profile_find("bcp195-xx", &reason) == NULL);
    CHECK_REASON(DTP_R_PROFILE_UNKNOWN, reason, "bcp195-xx");
    CHECK(dtp_profile_find(NULL, &reason) == NULL);
    return 0;
}

static int backend_suite_availability(void)
{
    /* Facts of Debian 12's OpenSSL 3.0 that the profile table relies on. */
    CHECK(!dtp_suite_available("TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"));
    CHECK(!dtp_suite_available("TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"));
    CHECK(dtp_suite_available("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
    CHECK(dtp_suite_available("TLS_RSA_WITH_AES_128_CBC_SHA"));
    CHECK(dtp_suite_available("TLS_AES_256_GCM_SHA384"));
    CHECK(dtp_suite_available("TLS_AES_128_CCM_8_SHA256"));         /* M18: named explicitly */
    CHECK(dtp_suite_available("TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8")); /* M21 */
    CHECK(!dtp_suite_available("TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384")); /* M22 */
    CHECK(!dtp_suite_available("TLS_RSA_WITH_3DES_EDE_CBC_SHA")); /* B4 */
    CHECK(!dtp_suite_available("NO_SUCH_SUITE"));
    return 0;
}

static int describe_every_profile(void)
{
    char buf[8192];
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        struct dtp_error err = {0};
        CHECK(dtp_profile_describe(p, DTP_ROLE_SERVER, buf, sizeof buf, &err) != NULL);
        CHECK(strstr(buf, "no_compression=1") != NULL); /* C4 */
        CHECK(strstr(buf, "legacy_renegotiation=0") != NULL); /* C5 */
        CHECK(strstr(buf, "suite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") != NULL);
        CHECK((strstr(buf, "suite: TLS_AES_128_GCM_SHA256") != NULL) == (p->tls13_suites != NULL));
    }
    return 0;
}

static const struct check_case cases[] = {
    CASE(profile_table_invariants), CASE(b1_suites_everywhere), CASE(extended_exact_suites),
    CASE(cryptrec_tls13_aes_gcm), CASE(nd_has_ecdsa_suites), CASE(no_weak_suites),
    CASE(security_level_only_for_downgrade), CASE(retired_names_refused), CASE(unknown_name_refused),
    CASE(backend_suite_availability), CASE(describe_every_profile), CASE(b12_suites), CASE(b13_closed_lists),
    CASE(x25519_only_where_allowed), CASE(sigalgs_never_sha1),
};
CHECK_MAIN(cases)
