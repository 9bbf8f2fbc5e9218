/* The post-handshake policy (dtp_check_session) on hand-made session
 * records: no TLS library, no handshake; the same decisions every backend
 * gets. */
#include "check.h"

static struct dtp_session_info session(int version, const char *suite, const char *group, int kx_bits)
{
    struct dtp_session_info in;
    memset(&in, 0, sizeof in);
    in.version = version;
    snprintf(in.suite, sizeof in.suite, "%s", suite);
    snprintf(in.group, sizeof in.group, "%s", group);
    in.kx_bits = kx_bits;
    in.kx_finite_field = strncmp(group, "ffdhe", 5) == 0 || strcmp(group, "DH") == 0;
    in.ems = true;
    snprintf(in.peer_key_type, sizeof in.peer_key_type, "RSA");
    in.peer_key_bits = 2048;
    return in;
}

static int check(const char *profile, struct dtp_session_info *in, bool relax, struct dtp_error *err)
{
    const struct dtp_profile *p = dtp_profile_find(profile, NULL);
    if (!p)
        return -1;
    return dtp_check_session(p, in, relax, false, err);
}

static int b12_tls13_ok(void)
{
    struct dtp_session_info in = session(DTP_TLS1_3, "TLS_AES_256_GCM_SHA384", "x25519", 255);
    struct dtp_error e;
    CHECK_REASON(DTP_OK, check("bcp195-8996", &in, false, &e), e.detail);
    CHECK(!in.downgraded && e.detail[0] == '\0');
    return 0;
}

static int version_outside(void)
{
    /* R8, M37: TLS 1.1 is never accepted, whatever the suite. */
    struct dtp_session_info in = session(DTP_TLS1_1, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "secp256r1", 256);
    struct dtp_error e;
    CHECK_REASON(DTP_R_OUTSIDE_PROFILE, check("bcp195-8996", &in, false, &e), e.detail);
    CHECK(strstr(e.detail, "TLSv1.1") != NULL);
    return 0;
}

static int suite_outside(void)
{
    /* R20/Q7: DHE is outside B.12/B.13 by default; M8: CBC; R17: static RSA. */
    static const char *const out[] = {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
                                      "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"};
    for (size_t i = 0; i < 4; i++)
        for (int mod = 0; mod < 2; mod++) {
            struct dtp_session_info in = session(DTP_TLS1_2, out[i], "secp256r1", 256);
            struct dtp_error e;
            CHECK_REASON(DTP_R_OUTSIDE_PROFILE, check(mod ? "bcp195-8996-mod" : "bcp195-8996", &in, false, &e), out[i]);
        }
    /* CCM_8 is in B.13 (M21), not in B.12 (R21). */
    struct dtp_session_info in = session(DTP_TLS1_2, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "secp256r1", 256);
    struct dtp_error e;
    CHECK_REASON(DTP_OK, check("bcp195-8996-mod", &in, false, &e), e.detail);
    CHECK_REASON(DTP_R_OUTSIDE_PROFILE, check("bcp195-8996", &in, false, &e), e.detail);
    /* TLS 1.3 CCM_8 likewise (M18 vs R28). */
    in = session(DTP_TLS1_3, "TLS_AES_128_CCM_8_SHA256", "secp256r1", 256);
    CHECK_REASON(DTP_OK, check("bcp195-8996-mod", &in, false, &e), e.detail);
    CHECK_REASON(DTP_R_OUTSIDE_PROFILE, check("bcp195-8996", &in, false, &e), e.detail);
    return 0;
}

static int ems_required_in_tls12(void)
{
    struct dtp_session_info in = session(DTP_TLS1_2, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "secp256r1", 256);
    in.ems = false;
    struct dtp_error e;
    CHECK_REASON(DTP_R_EMS_MISSING, check("bcp195-8996", &in, false, &e), e.detail); /* R36 */
    CHECK_REASON(DTP_R_EMS_MISSING, check("bcp195-8996-mod", &in, false, &e), e.detail);
    CHECK_REASON(DTP_OK, check("bcp195-nd", &in, false, &e), e.detail); /* seeds: not a requirement */
    /* Q1: the explicit, logged override. */
    CHECK_REASON(DTP_OK, dtp_check_session(dtp_profile_find("bcp195-8996", NULL), &in, false, true, &e), e.detail);
    CHECK(strstr(e.detail, "R36 relaxed by option") != NULL);
    /* TLS 1.3 binds the session to the handshake anyway. */
    in = session(DTP_TLS1_3, "TLS_AES_128_GCM_SHA256", "secp256r1", 256);
    in.ems = false;
    CHECK_REASON(DTP_OK, check("bcp195-8996-mod", &in, false, &e), e.detail);
    return 0;
}

static int alpn_foreign(void)
{
    struct dtp_session_info in = session(DTP_TLS1_3, "TLS_AES_128_GCM_SHA256", "secp256r1", 256);
    struct dtp_error e;
    snprintf(in.alpn, sizeof in.alpn, "dicom");
    CHECK_REASON(DTP_OK, check("bcp195-8996", &in, false, &e), e.detail);
    snprintf(in.alpn, sizeof in.alpn, "http/1.1");
    CHECK_REASON(DTP_R_ALPN_MISMATCH, check("bcp195-8996", &in, false, &e), e.detail); /* R39 */
    CHECK_REASON(DTP_R_ALPN_MISMATCH, check("bcp195-nd", &in, false, &e), e.detail);   /* no ALPN in seeds */
    return 0;
}

static int x25519_is_255_bits(void)
{
    /* E5, M17: 255 < 256. B.12 (R30: 224) and Non-Downgrading take it. */
    struct dtp_session_info in = session(DTP_TLS1_3, "TLS_AES_128_GCM_SHA256", "x25519", 255);
    struct dtp_error e;
    CHECK_REASON(DTP_R_EPHEMERAL_KEY_WEAK, check("bcp195-8996-mod", &in, false, &e), e.detail);
    in = session(DTP_TLS1_2, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "x25519", 255);
    CHECK_REASON(DTP_R_EPHEMERAL_KEY_WEAK, check("bcp195-ex", &in, false, &e), e.detail);
    CHECK_REASON(DTP_OK, check("bcp195-8996", &in, false, &e), e.detail);
    CHECK_REASON(DTP_OK, check("bcp195-nd", &in, false, &e), e.detail);
    return 0;
}

static int weak_dh_and_cert(void)
{
    struct dtp_session_info in = session(DTP_TLS1_2, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DH", 1024);
    struct dtp_error e;
    CHECK_REASON(DTP_R_EPHEMERAL_KEY_WEAK, check("bcp195-nd", &in, false, &e), e.detail); /* 1024-bit DH */
    in = session(DTP_TLS1_3, "TLS_AES_128_GCM_SHA256", "secp256r1", 256);
    in.peer_key_bits = 1024;
    CHECK_REASON(DTP_R_PEER_CERT_WEAK, check("bcp195-8996", &in, false, &e), e.detail); /* R31 */
    snprintf(in.peer_key_type, sizeof in.peer_key_type, "EC");
    in.peer_key_bits = 224;
    CHECK_REASON(DTP_R_PEER_CERT_WEAK, check("bcp195-8996-mod", &in, false, &e), e.detail); /* M28 */
    return 0;
}

static int relaxed_minimum_is_reported(void)
{
    /* B5: bcp195 may relax, explicitly; the policy says what it let pass. */
    struct dtp_session_info in = session(DTP_TLS1_2, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DH", 1024);
    struct dtp_error e;
    CHECK_REASON(DTP_R_EPHEMERAL_KEY_WEAK, check("bcp195", &in, false, &e), e.detail);
    CHECK_REASON(DTP_OK, check("bcp195", &in, true, &e), e.detail);
    CHECK(strstr(e.detail, "B5 relaxed") != NULL && strstr(e.detail, "1024") != NULL);
    return 0;
}

static int downgrade_flagged(void)
{
    /* B6: TLS 1.0 with the AES profile suite is allowed under bcp195 only, flagged. */
    struct dtp_session_info in = session(DTP_TLS1_0, "TLS_RSA_WITH_AES_128_CBC_SHA", "", 0);
    struct dtp_error e;
    CHECK_REASON(DTP_OK, check("bcp195", &in, false, &e), e.detail);
    CHECK(in.downgraded);
    CHECK_REASON(DTP_R_OUTSIDE_PROFILE, check("bcp195-nd", &in, false, &e), e.detail);
    return 0;
}

static const struct check_case cases[] = {
    CASE(b12_tls13_ok),         CASE(version_outside),     CASE(suite_outside),
    CASE(ems_required_in_tls12), CASE(alpn_foreign),       CASE(x25519_is_255_bits),
    CASE(weak_dh_and_cert),     CASE(relaxed_minimum_is_reported), CASE(downgrade_flagged),
};
CHECK_MAIN(cases)
