/* The reason table (C6): every row reachable by code and name. */
#include "check.h"

static int codes_and_names_unique(void)
{
    for (size_t i = 0; i < dtp_reason_count(); i++)
        for (size_t j = i + 1; j < dtp_reason_count(); j++) {
            CHECK(dtp_reason_at(i)->code != dtp_reason_at(j)->code);
            CHECK(strcmp(dtp_reason_at(i)->name, dtp_reason_at(j)->name) != 0);
        }
    return 0;
}

static int lookup_by_code_and_name(void)
{
    for (size_t i = 0; i < dtp_reason_count(); i++) {
        const struct dtp_reason *r = dtp_reason_at(i);
        CHECK(dtp_reason_by_code(r->code) == r);
        CHECK(dtp_reason_by_name(r->name) == r);
    }
    CHECK(dtp_reason_by_code(DTP_OK) == NULL);
    CHECK(dtp_reason_by_code(9999) == NULL);
    CHECK(dtp_reason_by_name("NO_SUCH_REASON") == NULL);
    CHECK(dtp_reason_at(dtp_reason_count()) == NULL);
    return 0;
}

static int categories_and_abort_flag(void)
{
    for (size_t i = 0; i < dtp_reason_count(); i++) {
        const struct dtp_reason *r = dtp_reason_at(i);
        CHECK(r->message && r->message[0] && r->action && r->action[0]);
        int cfg = strcmp(r->category, "config") == 0;
        int hs = strcmp(r->category, "handshake") == 0;
        int ses = strcmp(r->category, "session") == 0;
        int assoc = strcmp(r->category, "association") == 0; /* peer map: A-ASSOCIATE-RJ */
        CHECK(cfg + hs + ses + assoc == 1);
        CHECK(r->a_p_abort == (hs || ses)); /* C6: TLS failures reach the upper layer as A-P-ABORT */
        CHECK(r->code / 100 == (cfg ? 1 : hs ? 2 : ses ? 3 : 4)); /* the hundreds say the category */
        for (const char *c = r->name; *c; c++)
            CHECK((*c >= 'A' && *c <= 'Z') || *c == '_');
    }
    return 0;
}

static int format_has_code_and_name(void)
{
    struct dtp_error e = {DTP_R_NO_SHARED_SUITE, "peer offered only RC4"};
    char buf[512];
    dtp_error_format(&e, buf, sizeof buf);
    CHECK(strstr(buf, "A-P-ABORT, provider reason 202 NO_SHARED_SUITE: ") == buf);
    CHECK(strstr(buf, "(peer offered only RC4)") != NULL);
    struct dtp_error c = {DTP_R_KEY_PASSWORD, ""};
    dtp_error_format(&c, buf, sizeof buf);
    CHECK(strncmp(buf, "reason 104 KEY_PASSWORD: ", 25) == 0);
    return 0;
}

static int every_enum_value_has_row(void)
{
    /* The enum in dtp.h and the table agree: each code has a row. */
    static const int codes[] = {
        DTP_R_PROFILE_UNKNOWN, DTP_R_PROFILE_RETIRED, DTP_R_CERT_UNREADABLE, DTP_R_KEY_UNREADABLE,
        DTP_R_KEY_PASSWORD, DTP_R_KEY_CERT_MISMATCH, DTP_R_OWN_KEY_WEAK, DTP_R_CA_UNREADABLE,
        DTP_R_CRL_UNREADABLE, DTP_R_DH_PARAMS, DTP_R_NO_SUITE_AVAILABLE, DTP_R_CONFIG_INVALID,
        DTP_R_INTERNAL, DTP_R_TICKET_KEYS, DTP_R_PEER_MAP, DTP_R_NOT_TLS, DTP_R_VERSION_REFUSED, DTP_R_NO_SHARED_SUITE,
        DTP_R_PEER_CERT_MISSING, DTP_R_PEER_CERT_UNTRUSTED, DTP_R_PEER_CERT_EXPIRED, DTP_R_PEER_CERT_REVOKED,
        DTP_R_PEER_CERT_WEAK, DTP_R_EPHEMERAL_KEY_WEAK, DTP_R_PEER_ALERT, DTP_R_INAPPROPRIATE_FALLBACK,
        DTP_R_OUTSIDE_PROFILE, DTP_R_HANDSHAKE_TIMEOUT, DTP_R_HANDSHAKE_EOF, DTP_R_HANDSHAKE_FAILED,
        DTP_R_ALPN_MISMATCH, DTP_R_EMS_MISSING,
        DTP_R_RECORD_INTEGRITY, DTP_R_INTEGRITY_ALERT, DTP_R_TRUNCATED, DTP_R_TIMEOUT,
        DTP_R_IO_ERROR, DTP_R_SESSION_ALERT, DTP_R_PROTOCOL_ERROR,
        DTP_R_PEER_AE_UNLISTED, DTP_R_PEER_CERT_NOT_BOUND, DTP_R_PEER_PROFILE_MISMATCH};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++)
        CHECK(dtp_reason_by_code(codes[i]) != NULL);
    CHECK(n == dtp_reason_count());
    return 0;
}

static const struct check_case cases[] = {
    CASE(codes_and_names_unique), CASE(lookup_by_code_and_name), CASE(categories_and_abort_flag),
    CASE(format_has_code_and_name), CASE(every_enum_value_has_row),
};
CHECK_MAIN(cases)
