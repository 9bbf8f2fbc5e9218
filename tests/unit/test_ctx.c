/* Local configuration failures, each with its own reason (config rows). */
#include "fixture.h"

#define EXPECT_CTX(reason, f)                                                                                          \
    do {                                                                                                               \
        struct dtp_error err_;                                                                                        \
        dtp_ctx *c_ = fx_ctx(f, &err_);                                                                                 \
        CHECK_REASON(reason, c_ ? DTP_OK : err_.code, err_.detail);                                                       \
        CHECK((c_ != NULL) == (reason == DTP_OK));                                                                     \
        dtp_ctx_free(c_);                                                                                              \
    } while (0)

static int server_ok(void)
{
    EXPECT_CTX(DTP_OK, SERVER("bcp195-nd", "rsa"));
    EXPECT_CTX(DTP_OK, SERVER("bcp195-ex", "ec"));
    return 0;
}

static int client_without_cert_ok(void)
{
    EXPECT_CTX(DTP_OK, ((struct fx){.profile = "cryptrec", .role = DTP_ROLE_CLIENT, .ca = "ca.pem"}));
    return 0;
}

static int cert_not_pem(void)
{
    struct fx f = SERVER("bcp195-nd", "rsa");
    f.cert = "not-pem.pem";
    EXPECT_CTX(DTP_R_CERT_UNREADABLE, f);
    return 0;
}

static int cert_missing(void)
{
    struct fx f = SERVER("bcp195-nd", "rsa");
    f.cert = "/nonexistent/cert.pem";
    EXPECT_CTX(DTP_R_CERT_UNREADABLE, f);
    return 0;
}

static int key_missing(void)
{
    struct fx f = CLIENT("bcp195-nd", "rsa");
    f.key = "/nonexistent/key.pem";
    EXPECT_CTX(DTP_R_KEY_UNREADABLE, f);
    return 0;
}

static int key_not_pem(void)
{
    struct fx f = CLIENT("bcp195-nd", "rsa");
    f.key = "not-pem.pem";
    EXPECT_CTX(DTP_R_KEY_UNREADABLE, f);
    return 0;
}

static int key_encrypted_no_password(void)
{
    struct fx f = CLIENT("bcp195-nd", "rsa");
    f.key = "client-rsa-enc.key";
    EXPECT_CTX(DTP_R_KEY_PASSWORD, f);
    return 0;
}

static int key_encrypted_wrong_password(void)
{
    struct fx f = CLIENT("bcp195-nd", "rsa");
    f.key = "client-rsa-enc.key";
    f.password = "not the password";
    EXPECT_CTX(DTP_R_KEY_PASSWORD, f);
    return 0;
}

static int key_encrypted_right_password(void)
{
    char spec[1100], pw[256];
    struct dtp_error e = {0};
    snprintf(spec, sizeof spec, "file:%s", pki("key-password.txt"));
    CHECK(dtp_read_password(spec, pw, sizeof pw, &e) == DTP_OK);
    struct fx f = CLIENT("bcp195-nd", "rsa");
    f.key = "client-rsa-enc.key";
    f.password = pw;
    EXPECT_CTX(DTP_OK, f);
    return 0;
}

static int key_cert_mismatch(void)
{
    struct fx f = SERVER("bcp195-nd", "rsa");
    f.key = "client-rsa.key";
    EXPECT_CTX(DTP_R_KEY_CERT_MISMATCH, f);
    return 0;
}

static int own_rsa1024_refused(void)
{
    static const char *const profiles[] = {"bcp195", "bcp195-nd", "bcp195-ex", "cryptrec"};
    for (size_t i = 0; i < 4; i++) {
        struct fx f = SERVER(profiles[i], "rsa");
        f.cert = "rsa1024-server.pem";
        f.key = "rsa1024-server.key";
        EXPECT_CTX(DTP_R_OWN_KEY_WEAK, f);
    }
    return 0;
}

static int own_rsa1024_relaxed_bcp195(void)
{
    struct fx f = SERVER("bcp195", "rsa");
    f.cert = "rsa1024-server.pem";
    f.key = "rsa1024-server.key";
    f.relax = true; /* B5: explicit, logged */
    EXPECT_CTX(DTP_OK, f);
    return 0;
}

static int relax_refused_where_shall(void)
{
    static const char *const profiles[] = {"bcp195-nd", "bcp195-ex", "cryptrec"};
    for (size_t i = 0; i < 3; i++) {
        struct fx f = SERVER(profiles[i], "rsa");
        f.relax = true;
        EXPECT_CTX(DTP_R_CONFIG_INVALID, f);
    }
    return 0;
}

static int dhparam_1024_refused(void)
{
    struct fx f = SERVER("bcp195-ex", "rsa"); /* E5 */
    f.dh = "dh1024.pem";
    EXPECT_CTX(DTP_R_DH_PARAMS, f);
    f.profile = "bcp195"; /* B5 */
    EXPECT_CTX(DTP_R_DH_PARAMS, f);
    f.dh = "not-pem.pem";
    EXPECT_CTX(DTP_R_DH_PARAMS, f);
    return 0;
}

static int dhparam_2048_ok(void)
{
    struct fx f = SERVER("bcp195-ex", "rsa");
    f.dh = "dh2048.pem";
    EXPECT_CTX(DTP_OK, f);
    return 0;
}

static int ca_unreadable(void)
{
    struct fx f = CLIENT("bcp195-nd", "rsa");
    f.ca = "/nonexistent/ca.pem";
    EXPECT_CTX(DTP_R_CA_UNREADABLE, f);
    return 0;
}

static int crl_unreadable(void)
{
    struct fx f = SERVER("bcp195-nd", "rsa");
    f.crl = "not-pem.pem";
    EXPECT_CTX(DTP_R_CRL_UNREADABLE, f);
    return 0;
}

static int verify_needs_ca(void)
{
    struct fx f = SERVER("bcp195-nd", "rsa");
    f.ca = NULL;
    EXPECT_CTX(DTP_R_CONFIG_INVALID, f);
    f.verify = DTP_VERIFY_IGNORE; /* explicit: then no CA is needed */
    EXPECT_CTX(DTP_OK, f);
    return 0;
}

static int retired_profile_null(void)
{
    struct fx f = SERVER(NULL, "rsa");
    EXPECT_CTX(DTP_R_PROFILE_UNKNOWN, f);
    return 0;
}

static int password_sources(void)
{
    char out[64];
    struct dtp_error e = {0};
    CHECK(dtp_read_password("pass:abc", out, sizeof out, &e) == DTP_OK && strcmp(out, "abc") == 0);
    setenv("DTP_TEST_PW", "from-env", 1);
    CHECK(dtp_read_password("env:DTP_TEST_PW", out, sizeof out, &e) == DTP_OK && strcmp(out, "from-env") == 0);
    CHECK_REASON(DTP_R_KEY_PASSWORD, dtp_read_password("env:DTP_TEST_UNSET_VAR", out, sizeof out, &e), e.detail);
    CHECK_REASON(DTP_R_KEY_PASSWORD, dtp_read_password("file:/nonexistent", out, sizeof out, &e), e.detail);
    CHECK_REASON(DTP_R_KEY_PASSWORD, dtp_read_password("plain", out, sizeof out, &e), e.detail);
    return 0;
}

static int no_suite_available(void)
{
    /* A profile whose only suites this backend lacks (Camellia-GCM in
     * OpenSSL 3.0) cannot be configured: said so, not silently emptied. */
    static const char *const camellia_only[] = {"TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", NULL};
    struct dtp_profile p = *dtp_profile_find("bcp195-ex", NULL);
    p.tls12_suites = camellia_only;
    struct dtp_config cfg = {.profile = &p, .role = DTP_ROLE_CLIENT, .verify = DTP_VERIFY_IGNORE};
    struct dtp_error e = {0};
    CHECK(dtp_ctx_new(&cfg, &e) == NULL);
    CHECK_REASON(DTP_R_NO_SUITE_AVAILABLE, e.code, e.detail);
    return 0;
}

static int internal_error_reported(void)
{
    /* OpenSSL refusing what the table asks for is an internal error with
     * OpenSSL's words in the detail (here: a group it does not know). */
    static const char *const no_such_group[] = {"NO-SUCH-GROUP", NULL};
    struct dtp_profile p = *dtp_profile_find("bcp195-nd", NULL);
    p.groups = no_such_group;
    struct dtp_config cfg = {.profile = &p, .role = DTP_ROLE_CLIENT, .verify = DTP_VERIFY_IGNORE};
    struct dtp_error e = {0};
    CHECK(dtp_ctx_new(&cfg, &e) == NULL);
    CHECK_REASON(DTP_R_INTERNAL, e.code, e.detail);
    CHECK(strstr(e.detail, "NO-SUCH-GROUP") != NULL);
    return 0;
}

static int unknown_backend_refused(void)
{
    /* The backends built in are listed, the default (OpenSSL) first; a name
     * that is not built in is a configuration error, never a fallback. */
    CHECK(dtp_backend_count() >= 1 && strcmp(dtp_backend_name(0), "openssl") == 0);
    CHECK(dtp_backend_name(dtp_backend_count()) == NULL);
    CHECK(dtp_backend_suite_available(NULL, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
    CHECK(!dtp_backend_suite_available("no-such-backend", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
    struct dtp_config cfg = {.profile = dtp_profile_find("bcp195-8996", NULL), .role = DTP_ROLE_CLIENT,
                             .verify = DTP_VERIFY_IGNORE, .backend = "no-such-backend"};
    struct dtp_error e = {0};
    CHECK(dtp_ctx_new(&cfg, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    CHECK(strstr(e.detail, "no-such-backend") != NULL && strstr(e.detail, "openssl") != NULL);
    cfg.backend = "openssl";
    dtp_ctx *ctx = dtp_ctx_new(&cfg, &e);
    CHECK(ctx != NULL);
    dtp_ctx_free(ctx);
    return 0;
}

static int suites_narrow_never_widen(void)
{
    /* dtp_config.suites (+cs): a subset of the profile, in the profile's
     * order; a suite the profile does not list is refused, never added. */
    static const char *const foreign[] = {"TLS_CHACHA20_POLY1305_SHA256", NULL};
    static const char *const two[] = {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                      NULL};
    static const char *const only13[] = {"TLS_AES_128_GCM_SHA256", NULL};
    struct dtp_config cfg = {.profile = dtp_profile_find("cryptrec", NULL), .role = DTP_ROLE_CLIENT,
                             .verify = DTP_VERIFY_IGNORE, .suites = foreign};
    struct dtp_error e = {0};
    CHECK(dtp_ctx_new(&cfg, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    CHECK(strstr(e.detail, "TLS_CHACHA20_POLY1305_SHA256") != NULL && strstr(e.detail, "cryptrec") != NULL);

    cfg.suites = two;
    dtp_ctx *ctx = dtp_ctx_new(&cfg, &e);
    CHECK(ctx != NULL);
    const struct dtp_profile *p = dtp_ctx_profile(ctx);
    CHECK(strcmp(p->key, "cryptrec") == 0 && p != cfg.profile);
    CHECK(p->tls12_suites[0] && p->tls12_suites[1] && !p->tls12_suites[2]);
    /* the profile's order, not the option's */
    size_t at[2] = {99, 99};
    for (size_t i = 0; cfg.profile->tls12_suites[i]; i++)
        for (size_t k = 0; k < 2; k++)
            if (strcmp(cfg.profile->tls12_suites[i], p->tls12_suites[k]) == 0)
                at[k] = i;
    CHECK(at[0] < at[1] && at[1] < 99);
    CHECK(p->tls13_suites == NULL && p->max_version == DTP_TLS1_2);
    dtp_ctx_free(ctx);

    cfg.suites = only13;
    ctx = dtp_ctx_new(&cfg, &e);
    CHECK(ctx != NULL);
    p = dtp_ctx_profile(ctx);
    CHECK(p->min_version == DTP_TLS1_3 && p->tls13_suites && !p->tls13_suites[1] && !p->tls12_suites[0]);
    dtp_ctx_free(ctx);
    return 0;
}

static const struct check_case cases[] = {
    CASE(unknown_backend_refused), CASE(suites_narrow_never_widen),
    CASE(server_ok), CASE(client_without_cert_ok), CASE(cert_not_pem), CASE(cert_missing), CASE(key_missing),
    CASE(key_not_pem), CASE(key_encrypted_no_password), CASE(key_encrypted_wrong_password),
    CASE(key_encrypted_right_password), CASE(key_cert_mismatch), CASE(own_rsa1024_refused),
    CASE(own_rsa1024_relaxed_bcp195), CASE(relax_refused_where_shall), CASE(dhparam_1024_refused),
    CASE(dhparam_2048_ok), CASE(ca_unreadable), CASE(crl_unreadable), CASE(verify_needs_ca),
    CASE(retired_profile_null), CASE(password_sources), CASE(no_suite_available), CASE(internal_error_reported),
};
CHECK_MAIN(cases)
