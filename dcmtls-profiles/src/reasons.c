/*
 * The one table of failure reasons (C6). Codes and names are stable: apps
 * print them, the conformance text is generated from them, and tests walk
 * the table. Handshake and session failures reach the DICOM upper layer as
 * an A-P-ABORT with the row as implementation-specific provider reason;
 * local configuration errors never reach the wire.
 */
#include "dtp/dtp.h"

#include <stdio.h>
#include <string.h>

#define CFG(c, n, m, a) {c, n, "config", m, false, a}
#define HS(c, n, m, a) {c, n, "handshake", m, true, a}
#define SES(c, n, m, a) {c, n, "session", m, true, a}
/* Refused after the handshake by the peer map (dtp/peermap.h): the SCP
 * answers A-ASSOCIATE-RJ (rejected-permanent, service-user, calling AE
 * title not recognized), the SCU closes before its association request;
 * neither is an A-P-ABORT. */
#define ASSOC(c, n, m, a) {c, n, "association", m, false, a}

static const struct dtp_reason reasons[] = {
    CFG(DTP_R_PROFILE_UNKNOWN, "PROFILE_UNKNOWN", "no TLS profile of that name",
        "use --list-profiles to see the profiles"),
    CFG(DTP_R_PROFILE_RETIRED, "PROFILE_RETIRED", "the TLS profile was retired by Supplement 204",
        "use bcp195-8996 (B.12, the default) or another profile of --list-profiles"),
    CFG(DTP_R_CERT_UNREADABLE, "CERT_UNREADABLE", "own certificate file cannot be read as PEM",
        "check the certificate path and that it is a PEM certificate"),
    CFG(DTP_R_KEY_UNREADABLE, "KEY_UNREADABLE", "own private key file cannot be read",
        "check the key path and that it is a PEM private key"),
    CFG(DTP_R_KEY_PASSWORD, "KEY_PASSWORD", "the private key password is wrong or missing",
        "give the password with --key-password-file or --key-password-env"),
    CFG(DTP_R_KEY_CERT_MISMATCH, "KEY_CERT_MISMATCH", "the private key does not belong to the certificate",
        "pass the key that was used to request this certificate"),
    CFG(DTP_R_OWN_KEY_WEAK, "OWN_KEY_WEAK",
        "own certificate key is smaller, or its signature hash weaker, than the profile allows",
        "issue a certificate with an RSA-2048+ or P-256+ key, signed with SHA-256 or stronger"),
    CFG(DTP_R_CA_UNREADABLE, "CA_UNREADABLE", "trusted CA certificates cannot be loaded",
        "check the +cf file / +cd directory"),
    CFG(DTP_R_CRL_UNREADABLE, "CRL_UNREADABLE", "the CRL file cannot be loaded", "check the --crl file (PEM)"),
    CFG(DTP_R_DH_PARAMS, "DH_PARAMS", "DH parameters unreadable or smaller than the profile minimum",
        "omit +dp to use RFC 7919 ffdhe groups, or give 2048-bit or larger parameters"),
    CFG(DTP_R_NO_SUITE_AVAILABLE, "NO_SUITE_AVAILABLE", "the TLS backend implements none of the profile's suites",
        "use another profile or a TLS library with these suites"),
    CFG(DTP_R_CONFIG_INVALID, "CONFIG_INVALID", "the TLS options are inconsistent", "see the detail"),
    CFG(DTP_R_INTERNAL, "INTERNAL", "internal error in the TLS library (e.g. out of memory)",
        "see the detail; report it if it persists"),
    CFG(DTP_R_TICKET_KEYS, "TICKET_KEYS", "the session ticket key file cannot be used",
        "give --ticket-key-file mode 0600 and 1 to 8 lines of 64 hex digits (openssl rand -hex 32); "
        "the detail names the line"),
    CFG(DTP_R_PEER_MAP, "PEER_MAP", "the peer map (--peer-map) cannot be used",
        "fix the file or line the detail names; a line is AE_TITLE KIND:IDENTITY [PROFILE], KIND one of cn, dns, ip, "
        "sha256, spki"),

    HS(DTP_R_NOT_TLS, "NOT_TLS", "the peer does not speak TLS (e.g. plain DICOM on a TLS port)",
       "check that both sides use TLS on this port (C1)"),
    HS(DTP_R_VERSION_REFUSED, "VERSION_REFUSED", "no TLS protocol version acceptable to both sides",
       "the peer must support a version the profile allows (see --list-profiles)"),
    HS(DTP_R_NO_SHARED_SUITE, "NO_SHARED_SUITE", "no cipher suite, group or signature algorithm acceptable to both sides",
       "configure the peer with a suite, group and signature algorithm of the profile (see --list-profiles)"),
    HS(DTP_R_PEER_CERT_MISSING, "PEER_CERT_MISSING", "the peer sent no certificate but one is required",
       "give the peer a certificate, or use verify-if-present (+vc) on this side"),
    HS(DTP_R_PEER_CERT_UNTRUSTED, "PEER_CERT_UNTRUSTED", "the peer certificate is not issued by a trusted CA",
       "add the peer's CA with +cf/+cd"),
    HS(DTP_R_PEER_CERT_EXPIRED, "PEER_CERT_EXPIRED", "the peer certificate is expired or not yet valid",
       "renew the peer certificate; check both clocks"),
    HS(DTP_R_PEER_CERT_REVOKED, "PEER_CERT_REVOKED", "the peer certificate is revoked by the CRL",
       "issue the peer a new certificate"),
    HS(DTP_R_PEER_CERT_WEAK, "PEER_CERT_WEAK",
       "a key of the peer's certificate chain is smaller, or a signature hash weaker, than the profile allows",
       "issue the peer RSA-2048+ or P-256+ certificates signed with SHA-256 or stronger, intermediates too"),
    HS(DTP_R_EPHEMERAL_KEY_WEAK, "EPHEMERAL_KEY_WEAK", "the peer's ephemeral DH/EC key is smaller than the profile allows",
       "configure the peer with 2048-bit+ DH (RFC 7919) or a 256-bit+ curve"),
    HS(DTP_R_PEER_ALERT, "PEER_ALERT", "the peer aborted the handshake with a TLS alert",
       "the detail names the alert; check the peer's log"),
    HS(DTP_R_INAPPROPRIATE_FALLBACK, "INAPPROPRIATE_FALLBACK", "the peer retried with a lower version although both support a higher one (RFC 7507)",
       "fix the peer's version fallback; this can be a downgrade attack"),
    HS(DTP_R_OUTSIDE_PROFILE, "OUTSIDE_PROFILE", "the negotiated version or suite is not in the profile",
       "configure the peer for the profile; the association was refused"),
    HS(DTP_R_HANDSHAKE_TIMEOUT, "HANDSHAKE_TIMEOUT", "the TLS handshake did not complete in time",
       "check the peer and the network; raise --handshake-timeout if the link is slow"),
    HS(DTP_R_HANDSHAKE_EOF, "HANDSHAKE_EOF", "the peer closed the connection during the TLS handshake",
       "the peer refused us (see its log) or is not a TLS port"),
    HS(DTP_R_HANDSHAKE_FAILED, "HANDSHAKE_FAILED", "the TLS handshake failed", "see the detail"),
    HS(DTP_R_ALPN_MISMATCH, "ALPN_MISMATCH",
       "the peer's ALPN protocols do not include the profile's (dicom): no_application_protocol",
       "let the peer offer ALPN \"dicom\" or no ALPN at all (R39)"),
    HS(DTP_R_EMS_MISSING, "EMS_MISSING", "the peer did not negotiate the extended master secret (RFC 7627) in TLS 1.2",
       "enable extended_master_secret on the peer, or use TLS 1.3 (R36)"),

    SES(DTP_R_RECORD_INTEGRITY, "RECORD_INTEGRITY", "a received TLS record failed its integrity check",
        "data was altered in transit; the association was aborted and the object discarded"),
    SES(DTP_R_INTEGRITY_ALERT, "INTEGRITY_ALERT", "the peer reported a TLS record integrity failure (bad_record_mac)",
        "data was altered in transit; the association was aborted"),
    SES(DTP_R_TRUNCATED, "TRUNCATED", "the connection ended without TLS close_notify",
        "the peer or the network dropped the connection; resend"),
    SES(DTP_R_TIMEOUT, "TIMEOUT", "no data from the peer within the network timeout", "check the peer; resend"),
    SES(DTP_R_IO_ERROR, "IO_ERROR", "network I/O error (e.g. connection reset)", "check the network; resend"),
    SES(DTP_R_SESSION_ALERT, "SESSION_ALERT", "the peer sent a fatal TLS alert during the association",
        "the detail names the alert"),
    SES(DTP_R_PROTOCOL_ERROR, "PROTOCOL_ERROR", "the peer sent bytes that are not a valid TLS record",
        "the stream was corrupted or the peer is faulty; resend"),

    ASSOC(DTP_R_PEER_AE_UNLISTED, "PEER_AE_UNLISTED", "the peer's AE title is not in the peer map",
          "add a line for the AE title to the --peer-map file (dtp-storescp: or --peer-map-allow-unlisted)"),
    ASSOC(DTP_R_PEER_CERT_NOT_BOUND, "PEER_CERT_NOT_BOUND",
          "the peer's certificate is not one the peer map binds to its AE title",
          "check who presents this AE title; if legitimate, add its certificate's identity (detail) to the map"),
    ASSOC(DTP_R_PEER_PROFILE_MISMATCH, "PEER_PROFILE_MISMATCH",
          "the peer uses another TLS profile than the peer map requires for its AE title",
          "connect under the profile the map line names, or change the line"),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

size_t dtp_reason_count(void) { return COUNT(reasons); }

const struct dtp_reason *dtp_reason_at(size_t i)
{
    return i < COUNT(reasons) ? &reasons[i] : NULL;
}

const struct dtp_reason *dtp_reason_by_code(int code)
{
    for (size_t i = 0; i < COUNT(reasons); i++)
        if (reasons[i].code == code)
            return &reasons[i];
    return NULL;
}

const struct dtp_reason *dtp_reason_by_name(const char *name)
{
    for (size_t i = 0; name && i < COUNT(reasons); i++)
        if (strcmp(reasons[i].name, name) == 0)
            return &reasons[i];
    return NULL;
}

const char *dtp_error_format(const struct dtp_error *err, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    if (!err || err->code == DTP_OK) {
        snprintf(buf, len, "no error");
        return buf;
    }
    const struct dtp_reason *r = dtp_reason_by_code(err->code);
    if (!r) {
        snprintf(buf, len, "reason %d (unknown): %s", err->code, err->detail);
        return buf;
    }
    snprintf(buf, len, "%sreason %d %s: %s%s%s%s", r->a_p_abort ? "A-P-ABORT, provider " : "", r->code, r->name,
             r->message, err->detail[0] ? " (" : "", err->detail, err->detail[0] ? ")" : "");
    return buf;
}
