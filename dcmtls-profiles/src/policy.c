/*
 * The post-handshake policy: what was negotiated, held against the
 * profile. It reads the neutral struct dtp_session_info that a backend
 * fills and no TLS library object, so every backend gets the same
 * decisions and the unit tests need no handshake.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list && name && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* Minimum for a certificate key of this type; 0 when the type has none. */
static int min_cert_bits(const struct dtp_profile *p, const char *type)
{
    if (strcmp(type, "RSA") == 0 || strcmp(type, "RSA-PSS") == 0)
        return p->min_rsa_bits;
    if (strcmp(type, "EC") == 0)
        return p->min_ec_bits;
    return 0;
}

/* Appends a relaxed-minimum warning to err->detail (B5: logged). */
static void note_relaxed(struct dtp_error *err, const char *what, int bits, int min)
{
    if (!err)
        return;
    size_t n = strlen(err->detail);
    snprintf(err->detail + n, sizeof err->detail - n, "%sB5 relaxed by option: %s of %d bits accepted (minimum %d)",
             n ? "; " : "", what, bits, min);
}

int dtp_check_session(const struct dtp_profile *p, struct dtp_session_info *in, bool relax, bool allow_no_ems,
                      struct dtp_error *err)
{
    if (err) {
        err->code = DTP_OK;
        err->detail[0] = '\0';
    }
    if (!p || !in)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "dtp_check_session: no profile or session");

    if (in->version < p->min_version || in->version > p->max_version)
        return dtp__set_error(err, DTP_R_OUTSIDE_PROFILE, "negotiated %s is outside the profile", dtp_tls_version_name(in->version));
    bool strong = in_list(in->version == DTP_TLS1_3 ? p->tls13_suites : p->tls12_suites, in->suite);
    bool fallback = in->version < DTP_TLS1_3 && in_list(p->fallback_suites, in->suite);
    if (!strong && !fallback)
        return dtp__set_error(err, DTP_R_OUTSIDE_PROFILE, "negotiated suite %s is not in the profile", in->suite);
    in->downgraded = fallback || in->version < p->strong_min_version; /* B6 */

    /* R36: without EMS a TLS 1.2 session is open to the triple handshake;
     * TLS 1.3 always binds the session to its handshake. */
    if (p->require_ems && in->version <= DTP_TLS1_2 && !in->ems) {
        if (!allow_no_ems)
            return dtp__set_error(err, DTP_R_EMS_MISSING, "the peer did not negotiate extended_master_secret (RFC 7627) in %s",
                        dtp_tls_version_name(in->version));
        if (err)
            snprintf(err->detail, sizeof err->detail,
                     "R36 relaxed by option: %s session without extended master secret accepted",
                     dtp_tls_version_name(in->version));
    }
    /* R39: a backend refuses a foreign ALPN inside the handshake; this
     * catches one that let it through. */
    if (in->alpn[0] && (!p->alpn || strcmp(in->alpn, p->alpn) != 0))
        return dtp__set_error(err, DTP_R_ALPN_MISMATCH, "negotiated ALPN protocol '%s', profile %s allows %s%s%s", in->alpn,
                    p->key, p->alpn ? "'" : "", p->alpn ? p->alpn : "none", p->alpn ? "'" : "");

    /* E5, B5, M15, M17, R29, R30: the peer's ephemeral key. */
    if (in->kx_bits > 0) {
        int min = in->kx_finite_field ? p->min_dhe_bits : p->min_ecdhe_bits;
        if (in->kx_bits < min) {
            if (!relax)
                return dtp__set_error(err, DTP_R_EPHEMERAL_KEY_WEAK, "peer's ephemeral %s key has %d bits, minimum %d",
                            in->group[0] ? in->group : "DH/EC", in->kx_bits, min);
            char what[64];
            snprintf(what, sizeof what, "peer ephemeral %s key", in->kx_finite_field ? "DH" : "EC");
            note_relaxed(err, what, in->kx_bits, min);
        }
    }
    /* B5, R31, M27, M28: the peer's certificate key (the rest of its chain
     * is checked during verification, check_chain). */
    int min = in->peer_key_type[0] ? min_cert_bits(p, in->peer_key_type) : 0;
    if (min && in->peer_key_bits < min) {
        if (!relax)
            return dtp__set_error(err, DTP_R_PEER_CERT_WEAK, "peer certificate %s key has %d bits, minimum %d", in->peer_key_type,
                        in->peer_key_bits, min);
        char what[64];
        snprintf(what, sizeof what, "peer certificate %s key", in->peer_key_type);
        note_relaxed(err, what, in->peer_key_bits, min);
    }
    return DTP_OK;
}

int dtp__group_bits(const char *name)
{
    static const struct {
        const char *name;
        int bits;
    } groups[] = {{"x25519", 255},     {"x448", 448},       {"secp256r1", 256},  {"secp384r1", 384},
                  {"secp521r1", 521},  {"ffdhe2048", 2048}, {"ffdhe3072", 3072}, {"ffdhe4096", 4096},
                  {"ffdhe6144", 6144}, {"ffdhe8192", 8192}, {"secp224r1", 224},  {"secp192r1", 192}};
    for (size_t i = 0; name && i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(groups[i].name, name) == 0)
            return groups[i].bits;
    return 0;
}
