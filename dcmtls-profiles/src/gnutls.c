/*
 * The GnuTLS 3.7 backend (struct dtp_backend), the second behind the ops
 * table: it has the Camellia-GCM suites OpenSSL 3.0 lacks (E3, K3, M21).
 * The profile becomes a priority string built from "NONE", one
 * certificate credential per context, one session per connection. Policy
 * that every backend shares (dtp_check_session, deadlines, coalescing,
 * not-TLS detection) stays in policy.c and conn.c.
 *
 * GnuTLS enables suites as the product of key exchanges x ciphers x MACs:
 * a profile's list is not always such a product. Whatever the product adds
 * is refused inside the handshake by a hook on the ServerHello (both
 * roles), so no suite outside the profile is ever negotiated.
 */
#include "internal.h"
#include "gnutls_be.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* ---- suites, groups, signature schemes ------------------------------ */

struct gt_suite {
    const char *iana;
    unsigned char id[2];
    const char *kx;     /* GnuTLS priority names; kx NULL for TLS 1.3 */
    const char *cipher;
    const char *mac;
};

/* Every suite any profile lists (profiles.c), with its code point. */
static const struct gt_suite suites[] = {
    {"TLS_AES_128_GCM_SHA256", {0x13, 0x01}, NULL, "AES-128-GCM", "AEAD"},
    {"TLS_AES_256_GCM_SHA384", {0x13, 0x02}, NULL, "AES-256-GCM", "AEAD"},
    {"TLS_CHACHA20_POLY1305_SHA256", {0x13, 0x03}, NULL, "CHACHA20-POLY1305", "AEAD"},
    {"TLS_AES_128_CCM_SHA256", {0x13, 0x04}, NULL, "AES-128-CCM", "AEAD"},
    {"TLS_AES_128_CCM_8_SHA256", {0x13, 0x05}, NULL, "AES-128-CCM-8", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", {0xc0, 0x2f}, "ECDHE-RSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", {0xc0, 0x30}, "ECDHE-RSA", "AES-256-GCM", "AEAD"},
    {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", {0x00, 0x9e}, "DHE-RSA", "AES-128-GCM", "AEAD"},
    {"TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", {0x00, 0x9f}, "DHE-RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", {0xc0, 0x2b}, "ECDHE-ECDSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", {0xc0, 0x2c}, "ECDHE-ECDSA", "AES-256-GCM", "AEAD"},
    /* E3, K3, M21: Camellia-GCM (RFC 6367) */
    {"TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", {0xc0, 0x86}, "ECDHE-ECDSA", "CAMELLIA-128-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", {0xc0, 0x87}, "ECDHE-ECDSA", "CAMELLIA-256-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", {0xc0, 0x8a}, "ECDHE-RSA", "CAMELLIA-128-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", {0xc0, 0x8b}, "ECDHE-RSA", "CAMELLIA-256-GCM", "AEAD"},
    {"TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", {0xc0, 0x7c}, "DHE-RSA", "CAMELLIA-128-GCM", "AEAD"},
    {"TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", {0xc0, 0x7d}, "DHE-RSA", "CAMELLIA-256-GCM", "AEAD"},
    /* M21: CCM, CCM_8 (RFC 7251) and ChaCha20 (RFC 7905) */
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM", {0xc0, 0xac}, "ECDHE-ECDSA", "AES-128-CCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CCM", {0xc0, 0xad}, "ECDHE-ECDSA", "AES-256-CCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", {0xc0, 0xae}, "ECDHE-ECDSA", "AES-128-CCM-8", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", {0xc0, 0xaf}, "ECDHE-ECDSA", "AES-256-CCM-8", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", {0xcc, 0xa9}, "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", {0xcc, 0xa8}, "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"},
    /* B2: the AES TLS profile's suite, bcp195's fallback */
    {"TLS_RSA_WITH_AES_128_CBC_SHA", {0x00, 0x2f}, "RSA", "AES-128-CBC", "SHA1"},
};
#define N_SUITES (sizeof suites / sizeof suites[0])

static const struct gt_suite *suite_by_iana(const char *iana)
{
    for (size_t i = 0; iana && i < N_SUITES; i++)
        if (strcmp(suites[i].iana, iana) == 0)
            return &suites[i];
    return NULL;
}

static const struct gt_suite *suite_by_id(const unsigned char id[2])
{
    for (size_t i = 0; i < N_SUITES; i++)
        if (suites[i].id[0] == id[0] && suites[i].id[1] == id[1])
            return &suites[i];
    return NULL;
}

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list && name && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* Whether this GnuTLS implements the code point. */
static bool gnutls_has_id(const unsigned char want[2])
{
    unsigned char id[2];
    for (size_t i = 0; gnutls_cipher_suite_info(i, id, NULL, NULL, NULL, NULL) != NULL; i++)
        if (id[0] == want[0] && id[1] == want[1])
            return true;
    return false;
}

static bool gt_suite_available(const char *iana)
{
    const struct gt_suite *s = suite_by_iana(iana);
    return s && gnutls_has_id(s->id);
}

/* IANA SignatureScheme -> GnuTLS priority names (TLS 1.2's ECDSA names
 * share the TLS 1.3 code points). */
static const struct {
    const char *iana;
    const char *gnutls;
} sigs[] = {
    {"ecdsa_secp256r1_sha256", "SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SHA256"},
    {"ecdsa_secp384r1_sha384", "SIGN-ECDSA-SECP384R1-SHA384:+SIGN-ECDSA-SHA384"},
    {"ecdsa_secp521r1_sha512", "SIGN-ECDSA-SECP521R1-SHA512:+SIGN-ECDSA-SHA512"},
    {"rsa_pss_rsae_sha256", "SIGN-RSA-PSS-RSAE-SHA256"},
    {"rsa_pss_rsae_sha384", "SIGN-RSA-PSS-RSAE-SHA384"},
    {"rsa_pss_rsae_sha512", "SIGN-RSA-PSS-RSAE-SHA512"},
    {"rsa_pss_pss_sha256", "SIGN-RSA-PSS-SHA256"},
    {"rsa_pss_pss_sha384", "SIGN-RSA-PSS-SHA384"},
    {"rsa_pss_pss_sha512", "SIGN-RSA-PSS-SHA512"},
    {"rsa_pkcs1_sha256", "SIGN-RSA-SHA256"},
    {"rsa_pkcs1_sha384", "SIGN-RSA-SHA384"},
    {"rsa_pkcs1_sha512", "SIGN-RSA-SHA512"},
    {"ed25519", "SIGN-EdDSA-Ed25519"},
    {"ed448", "SIGN-EdDSA-Ed448"},
};


struct strbuf {
    char *s;
    size_t len;
    bool overflow;
};

static void put(struct strbuf *b, const char *fmt, const char *arg)
{
    size_t used = strlen(b->s);
    int n = snprintf(b->s + used, b->len - used, fmt, arg);
    if (n < 0 || (size_t)n >= b->len - used)
        b->overflow = true;
}

/* Appends ":+NAME" unless already in the string. */
static void put_once(struct strbuf *b, const char *name)
{
    char tok[96];
    snprintf(tok, sizeof tok, ":+%s", name);
    const char *hit = strstr(b->s, tok);
    size_t n = strlen(tok);
    if (hit && (hit[n] == ':' || hit[n] == '\0'))
        return;
    put(b, "%s", tok);
}

static const char *const *client_or_server_order(const struct dtp_profile *p, int role)
{
    return role == DTP_ROLE_CLIENT && p->tls12_client_order ? p->tls12_client_order : p->tls12_suites;
}

/* Builds the priority string of a profile in a role: versions, then
 * key exchanges, ciphers and MACs in order of first appearance in the
 * profile's lists (TLS 1.3 suites first where the profile has them: the
 * order the profile's preference gives), groups, signature schemes, no
 * compression (C4); %SERVER_PRECEDENCE on the server (R25). Returns DTP_OK
 * or a reason. */
static int build_priority(const struct dtp_profile *p, int role, const struct gt_suite *only, char *out, size_t len,
                          struct dtp_error *err)
{
    struct strbuf b = {out, len, false};
    out[0] = '\0';
    put(&b, "%s", "NONE");
    static const struct {
        int v;
        const char *name;
    } vers[] = {{DTP_TLS1_3, "VERS-TLS1.3"}, {DTP_TLS1_2, "VERS-TLS1.2"}, {DTP_TLS1_1, "VERS-TLS1.1"},
                {DTP_TLS1_0, "VERS-TLS1.0"}};
    for (size_t i = 0; i < 4; i++)
        if (vers[i].v >= p->min_version && vers[i].v <= p->max_version)
            put_once(&b, vers[i].name);

    const char *one[] = {only ? only->iana : NULL, NULL};
    const char *const *lists[3] = {p->max_version >= DTP_TLS1_3 ? p->tls13_suites : NULL,
                                   client_or_server_order(p, role), p->fallback_suites};
    if (only) { /* this TLS 1.2 suite first, the TLS 1.3 ones after it */
        lists[0] = one;
        lists[1] = p->max_version >= DTP_TLS1_3 ? p->tls13_suites : NULL;
        lists[2] = NULL;
    }
    size_t usable = 0;
    for (int pass = 0; pass < 3; pass++) /* kx, ciphers, macs */
        for (int l = 0; l < 3; l++)
            for (size_t i = 0; lists[l] && lists[l][i]; i++) {
                const struct gt_suite *s = suite_by_iana(lists[l][i]);
                if (!s || !gnutls_has_id(s->id))
                    continue;
                if (pass == 0 && !s->kx)
                    continue;
                if (pass == 0 && s->kx)
                    put_once(&b, s->kx);
                if (pass == 1)
                    put_once(&b, s->cipher), usable++;
                if (pass == 2)
                    put_once(&b, s->mac);
            }
    if (usable == 0)
        return dtp__set_error(err, DTP_R_NO_SUITE_AVAILABLE, "profile %s: none of its suites is available in GnuTLS",
                              p->key);
    for (size_t i = 0; p->groups && p->groups[i]; i++) {
        char g[48];
        size_t k = 0;
        for (const char *c = p->groups[i]; *c && k < sizeof g - 1; c++)
            g[k++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        g[k] = '\0';
        char name[64];
        snprintf(name, sizeof name, "GROUP-%s", g);
        put_once(&b, name);
    }
    if (p->sigalgs) {
        /* R32, M10, M12: ours and the peer's handshake signatures. */
        for (size_t i = 0; p->sigalgs[i]; i++) {
            size_t k = 0;
            while (k < sizeof sigs / sizeof sigs[0] && strcmp(sigs[k].iana, p->sigalgs[i]) != 0)
                k++;
            if (k == sizeof sigs / sizeof sigs[0])
                return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                                      "profile %s: signature scheme %s not supported by the gnutls backend", p->key,
                                      p->sigalgs[i]);
            put(&b, ":+%s", sigs[k].gnutls);
        }
    } else {
        /* The backend's defaults, as OpenSSL's security level 2: no SHA-1. */
        put(&b, "%s", ":+SIGN-ALL:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1");
    }
    put(&b, "%s", ":+COMP-NULL:+CTYPE-X509");
    if (role == DTP_ROLE_SERVER)
        put(&b, "%s", ":%SERVER_PRECEDENCE");
    if (b.overflow)
        return dtp__set_error(err, DTP_R_INTERNAL, "profile %s: GnuTLS priority string too long", p->key);
    return DTP_OK;
}

static const char *gt_describe(const struct dtp_profile *p, int role, char *buf, size_t len, struct dtp_error *err)
{
    char prio[2048];
    if (!p || !buf || len == 0) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "describe: no profile or buffer");
        return NULL;
    }
    if (build_priority(p, role, NULL, prio, sizeof prio, err) != DTP_OK)
        return NULL;
    size_t n = (size_t)snprintf(buf, len, "profile: %s\nrole: %s\nbackend: gnutls %s\npriority: %s\n", p->key,
                                role == DTP_ROLE_SERVER ? "server" : "client", gnutls_check_version(NULL), prio);
    const char *const *lists[] = {p->tls12_suites, p->fallback_suites, p->tls13_suites};
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; lists[l] && lists[l][i] && n < len; i++)
            if (!gt_suite_available(lists[l][i]))
                n += (size_t)snprintf(buf + n, len - n, "unavailable: %s\n", lists[l][i]);
    return buf;
}

/* ---- context ---------------------------------------------------------- */

struct gt_ctx {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    gnutls_dh_params_t dh;
    /* server: the master key of session tickets (RFC 5077, TLS 1.3), from
     * which GnuTLS derives the keys it uses and rotates them (R37) */
    gnutls_datum_t ticket_key;
    pthread_mutex_t lock;      /* the client's newest session */
    bool lock_ready;
    gnutls_datum_t session;
    bool session_unsaved;
    int own_key_bits;
    bool own_ec;
    bool have_own_cert;
    long long own_not_after; /* the own certificate's notAfter (dtp_ctx_cert_not_after) */
    /* client: the own chain and key, always presented (retrieve_own) */
    gnutls_pcert_st *pcerts;
    unsigned npcerts;
    gnutls_privkey_t pkey;
    /* server: per TLS 1.0-1.2 suite of the profile, a priority naming it
     * alone (see post_client_hello) */
    gnutls_priority_t one[N_SUITES];
};

static struct gt_ctx *GC(const dtp_ctx *ctx) { return ctx->be_ctx; }

/* Client: our certificate chain and key, whatever CAs the server names. */
static int retrieve_own(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn, int nreqs,
                        const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
                        unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    dtp_conn *conn = gnutls_session_get_ptr(s);
    struct gt_ctx *gc = conn ? GC(conn->ctx) : NULL;
    if (!gc || !gc->pcerts) {
        *pcert_length = 0;
        return 0;
    }
    *pcert = gc->pcerts;
    *pcert_length = gc->npcerts;
    *privkey = gc->pkey;
    return 0;
}

static int gfail(struct dtp_error *err, int code, int gerr, const char *fmt, const char *arg)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, arg);
    if (gerr < 0)
        return dtp__set_error(err, code, "%s: %s", msg, gnutls_strerror(gerr));
    return dtp__set_error(err, code, "%s", msg);
}

/* Key bits as key_bits in openssl.c: X25519/Ed25519 count 255. */
static int pk_bits_of(int algo, unsigned bits, const char **type);

/* The key type and size of a certificate. */
static int crt_key_bits(gnutls_x509_crt_t crt, const char **type)
{
    unsigned bits = 0;
    int algo = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    return pk_bits_of(algo, bits, type);
}

static int pk_bits_of(int algo, unsigned bits, const char **type)
{
    const char *t = "other";
    int b = (int)bits;
    switch (algo) {
    case GNUTLS_PK_RSA:
        t = "RSA";
        break;
    case GNUTLS_PK_RSA_PSS:
        t = "RSA-PSS";
        break;
    case GNUTLS_PK_ECDSA:
        t = "EC";
        break;
    case GNUTLS_PK_EDDSA_ED25519:
        t = "ED25519";
        b = 255;
        break;
    case GNUTLS_PK_EDDSA_ED448:
        t = "ED448";
        b = 448;
        break;
    default:
        break;
    }
    if (type)
        *type = t;
    return b;
}

static int min_bits_for(const struct dtp_profile *p, const char *type)
{
    if (strcmp(type, "RSA") == 0 || strcmp(type, "RSA-PSS") == 0)
        return p->min_rsa_bits;
    if (strcmp(type, "EC") == 0)
        return p->min_ec_bits;
    return 0;
}

static int crt_hash_bits(gnutls_x509_crt_t crt)
{
    int sign = gnutls_x509_crt_get_signature_algorithm(crt);
    if (sign < 0)
        return 0;
    gnutls_digest_algorithm_t dig = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sign);
    return dig == GNUTLS_DIG_UNKNOWN ? 0 : (int)gnutls_hash_get_len(dig) * 8;
}

static bool crt_self_signed(gnutls_x509_crt_t crt) { return gnutls_x509_crt_check_issuer(crt, crt) != 0; }

static bool contains(const gnutls_datum_t *d, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; d->data && i + n <= d->size; i++)
        if (memcmp(d->data + i, word, n) == 0)
            return true;
    return false;
}

static int load_file(const char *path, gnutls_datum_t *d)
{
    return gnutls_load_file(path, d);
}

static int load_credentials(dtp_ctx *ctx, const struct dtp_config *cfg, struct dtp_error *err)
{
    if (!cfg->cert_file && !cfg->key_file)
        return DTP_OK;
    if (!cfg->cert_file || !cfg->key_file)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "a private key and a certificate go together (+tls KEY CERT)");
    const struct dtp_profile *p = ctx->profile;
    gnutls_datum_t cd = {NULL, 0}, kd = {NULL, 0};
    gnutls_x509_crt_t *crts = NULL;
    unsigned ncrt = 0;
    gnutls_x509_privkey_t xkey = NULL;
    int rc = DTP_OK, r;

    if ((r = load_file(cfg->cert_file, &cd)) < 0) {
        rc = gfail(err, DTP_R_CERT_UNREADABLE, r, "%s", cfg->cert_file);
        goto out;
    }
    if ((r = gnutls_x509_crt_list_import2(&crts, &ncrt, &cd, GNUTLS_X509_FMT_PEM, 0)) < 0 || ncrt == 0) {
        rc = gfail(err, DTP_R_CERT_UNREADABLE, -1, "%s: not a PEM certificate", cfg->cert_file);
        goto out;
    }
    if ((r = load_file(cfg->key_file, &kd)) < 0) {
        rc = gfail(err, DTP_R_KEY_UNREADABLE, r, "%s", cfg->key_file);
        goto out;
    }
    bool encrypted = contains(&kd, "ENCRYPTED");
    if (encrypted && !cfg->key_password) {
        rc = gfail(err, DTP_R_KEY_PASSWORD, -1, "%s is encrypted and no password was given", cfg->key_file);
        goto out;
    }
    gnutls_x509_privkey_init(&xkey);
    r = gnutls_x509_privkey_import2(xkey, &kd, GNUTLS_X509_FMT_PEM, encrypted ? cfg->key_password : NULL,
                                    encrypted ? 0 : GNUTLS_PKCS_PLAIN);
    if (r < 0) {
        rc = encrypted ? gfail(err, DTP_R_KEY_PASSWORD, r, "%s: cannot decrypt with the given password", cfg->key_file)
                       : gfail(err, DTP_R_KEY_UNREADABLE, r, "%s: not a PEM private key", cfg->key_file);
        goto out;
    }
    unsigned char kid[64], cid[64];
    size_t kidn = sizeof kid, cidn = sizeof cid;
    if (gnutls_x509_privkey_get_key_id(xkey, 0, kid, &kidn) < 0 || gnutls_x509_crt_get_key_id(crts[0], 0, cid, &cidn) < 0 ||
        kidn != cidn || memcmp(kid, cid, kidn) != 0) {
        rc = dtp__set_error(err, DTP_R_KEY_CERT_MISMATCH, "%s does not match %s", cfg->key_file, cfg->cert_file);
        goto out;
    }
    const char *type;
    int kb = crt_key_bits(crts[0], &type);
    int min = min_bits_for(p, type);
    GC(ctx)->own_key_bits = kb;
    GC(ctx)->own_ec = strcmp(type, "EC") == 0;
    if (min && kb < min) {
        if (!ctx->relax_key_sizes) {
            rc = dtp__set_error(err, DTP_R_OWN_KEY_WEAK, "own certificate %s key has %d bits, profile %s requires at least %d",
                                type, kb, p->key, min);
            goto out;
        }
        dtp__log(ctx, DTP_LOG_WARN, "B5 relaxed by option: own certificate %s key of %d bits accepted (profile %s minimum %d)",
                 type, kb, p->key, min);
    }
    if (p->min_cert_hash_bits && !crt_self_signed(crts[0]) && crt_hash_bits(crts[0]) < p->min_cert_hash_bits) {
        /* M31: a peer would refuse it; say so before any connection. */
        rc = dtp__set_error(err, DTP_R_OWN_KEY_WEAK, "%s is signed with a %d-bit hash, profile %s requires at least %d",
                            cfg->cert_file, crt_hash_bits(crts[0]), p->key, p->min_cert_hash_bits);
        goto out;
    }
    r = gnutls_certificate_set_x509_key(GC(ctx)->cred, crts, ncrt, xkey); /* copies */
    if (r >= 0) {
        GC(ctx)->have_own_cert = true;
        GC(ctx)->own_not_after = (long long)gnutls_x509_crt_get_expiration_time(crts[0]);
    }
    if (r < 0) {
        rc = gfail(err, r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? DTP_R_KEY_CERT_MISMATCH : DTP_R_CERT_UNREADABLE, r, "%s",
                   cfg->cert_file);
    } else if (ctx->role == DTP_ROLE_CLIENT) {
        /* A GnuTLS client left to itself sends no certificate whose issuer
         * is not in the server's CA list; OpenSSL's sends it, and the
         * server names the real fault (204 untrusted, not 203 missing). */
        struct gt_ctx *gc = GC(ctx);
        gc->pcerts = gnutls_calloc(ncrt, sizeof *gc->pcerts);
        unsigned n = ncrt;
        if (!gc->pcerts || gnutls_pcert_import_x509_list(gc->pcerts, crts, &n, 0) < 0 ||
            gnutls_privkey_init(&gc->pkey) < 0 ||
            gnutls_privkey_import_x509(gc->pkey, xkey, GNUTLS_PRIVKEY_IMPORT_COPY) < 0) {
            rc = dtp__set_error(err, DTP_R_INTERNAL, "%s", "GnuTLS: cannot prepare the client certificate");
        } else {
            gc->npcerts = n;
            gnutls_certificate_set_retrieve_function2(gc->cred, retrieve_own);
        }
    }
out:
    if (xkey)
        gnutls_x509_privkey_deinit(xkey);
    for (unsigned i = 0; i < ncrt; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    if (kd.data) {
        memset(kd.data, 0, kd.size);
        gnutls_free(kd.data);
    }
    gnutls_free(cd.data);
    return rc;
}

/* Server DH: RFC 7919 groups by default (negotiated through supported
 * groups, or ffdhe of at least min_dhe_bits for a client that lists none),
 * or a file checked against min_dhe_bits (B5, E5). */
static int setup_dh(dtp_ctx *ctx, const char *dh_file, struct dtp_error *err)
{
    struct gt_ctx *gc = GC(ctx);
    if (!dh_file) {
        gnutls_sec_param_t sp = ctx->profile->min_dhe_bits <= 2048   ? GNUTLS_SEC_PARAM_MEDIUM
                                : ctx->profile->min_dhe_bits <= 3072 ? GNUTLS_SEC_PARAM_HIGH
                                                                     : GNUTLS_SEC_PARAM_ULTRA;
        int r = gnutls_certificate_set_known_dh_params(gc->cred, sp);
        return r < 0 ? gfail(err, DTP_R_INTERNAL, r, "%s", "cannot set RFC 7919 DH group") : DTP_OK;
    }
    gnutls_datum_t d = {NULL, 0}, prime = {NULL, 0}, gen = {NULL, 0};
    unsigned bits = 0;
    int r = load_file(dh_file, &d);
    if (r >= 0) {
        gnutls_dh_params_init(&gc->dh);
        r = gnutls_dh_params_import_pkcs3(gc->dh, &d, GNUTLS_X509_FMT_PEM);
    }
    gnutls_free(d.data);
    if (r >= 0)
        r = gnutls_dh_params_export_raw(gc->dh, &prime, &gen, &bits);
    if (r >= 0) {
        size_t i = 0;
        while (i < prime.size && prime.data[i] == 0)
            i++;
        bits = 0;
        if (i < prime.size) {
            unsigned char top = prime.data[i];
            bits = (unsigned)(prime.size - i - 1) * 8;
            while (top) {
                bits++;
                top >>= 1;
            }
        }
    }
    gnutls_free(prime.data);
    gnutls_free(gen.data);
    if (r < 0)
        return gfail(err, DTP_R_DH_PARAMS, -1, "%s: not PEM DH parameters", dh_file);
    if ((int)bits < ctx->profile->min_dhe_bits) {
        if (!ctx->relax_key_sizes)
            return dtp__set_error(err, DTP_R_DH_PARAMS, "%s has %u bits, profile %s requires at least %d", dh_file, bits,
                                  ctx->profile->key, ctx->profile->min_dhe_bits);
        dtp__log(ctx, DTP_LOG_WARN, "B5 relaxed by option: %u-bit DH parameters from %s (profile minimum %d)", bits,
                 dh_file, ctx->profile->min_dhe_bits);
    }
    gnutls_certificate_set_dh_params(gc->cred, gc->dh);
    return DTP_OK;
}

static int verify_function(gnutls_session_t s);

static int setup_trust(dtp_ctx *ctx, const struct dtp_config *cfg, struct dtp_error *err)
{
    struct gt_ctx *gc = GC(ctx);
    if (cfg->ca_file) {
        int r = gnutls_certificate_set_x509_trust_file(gc->cred, cfg->ca_file, GNUTLS_X509_FMT_PEM);
        if (r <= 0)
            return gfail(err, DTP_R_CA_UNREADABLE, r, "%s", cfg->ca_file);
    }
    if (cfg->ca_dir) {
        int r = gnutls_certificate_set_x509_trust_dir(gc->cred, cfg->ca_dir, GNUTLS_X509_FMT_PEM);
        if (r < 0)
            return gfail(err, DTP_R_CA_UNREADABLE, r, "%s", cfg->ca_dir);
    }
    if (cfg->crl_file) {
        int r = gnutls_certificate_set_x509_crl_file(gc->cred, cfg->crl_file, GNUTLS_X509_FMT_PEM);
        if (r <= 0)
            return gfail(err, DTP_R_CRL_UNREADABLE, -1, "%s: no PEM CRL", cfg->crl_file);
    }
    switch (cfg->verify) {
    case DTP_VERIFY_IGNORE:
        dtp__log(ctx, DTP_LOG_WARN, "peer certificate verification is OFF (explicit option): any peer is accepted");
        return DTP_OK;
    case DTP_VERIFY_IF_PRESENT:
    case DTP_VERIFY_REQUIRE:
        break;
    default:
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "unknown verification mode %d", cfg->verify);
    }
    if (!cfg->ca_file && !cfg->ca_dir)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                              "peer verification needs trusted CA certificates (+cf FILE or +cd DIR), or -ic to ignore");
    gnutls_certificate_set_verify_function(gc->cred, verify_function);
    return DTP_OK;
}

/* Client: the newest session of this context, in memory and (optional)
 * in a 0600 file written when the context is freed. */
static void save_session(dtp_ctx *ctx)
{
    struct gt_ctx *gc = GC(ctx);
    if (!ctx->session_file[0] || !gc->session.data || !gc->session_unsaved)
        return;
    gnutls_datum_t pem = {NULL, 0};
    if (gnutls_pem_base64_encode2("GNUTLS SESSION PARAMETERS", &gc->session, &pem) >= 0 &&
        dtp__save_session_file(ctx, pem.data, pem.size))
        gc->session_unsaved = false;
    gnutls_free(pem.data);
}

static void load_session(dtp_ctx *ctx, const char *session_file)
{
    snprintf(ctx->session_file, sizeof ctx->session_file, "%s", session_file);
    gnutls_datum_t d = {NULL, 0};
    if (gnutls_load_file(session_file, &d) < 0)
        return; /* first run */
    if (gnutls_pem_base64_decode2("GNUTLS SESSION PARAMETERS", &d, &GC(ctx)->session) < 0) {
        GC(ctx)->session.data = NULL;
        GC(ctx)->session.size = 0;
        dtp__log(ctx, DTP_LOG_WARN, "ignoring unreadable TLS session file %s", session_file);
    }
    gnutls_free(d.data);
}

static void gt_ctx_free(dtp_ctx *ctx)
{
    struct gt_ctx *gc = GC(ctx);
    if (!gc)
        return;
    save_session(ctx);
    for (unsigned i = 0; gc->pcerts && i < gc->npcerts; i++)
        gnutls_pcert_deinit(&gc->pcerts[i]);
    gnutls_free(gc->pcerts);
    if (gc->pkey)
        gnutls_privkey_deinit(gc->pkey);
    if (gc->cred)
        gnutls_certificate_free_credentials(gc->cred);
    if (gc->prio)
        gnutls_priority_deinit(gc->prio);
    for (size_t i = 0; i < N_SUITES; i++)
        if (gc->one[i])
            gnutls_priority_deinit(gc->one[i]);
    if (gc->dh)
        gnutls_dh_params_deinit(gc->dh);
    if (gc->ticket_key.data) {
        gnutls_memset(gc->ticket_key.data, 0, gc->ticket_key.size);
        gnutls_free(gc->ticket_key.data);
    }
    gnutls_free(gc->session.data);
    if (gc->lock_ready)
        pthread_mutex_destroy(&gc->lock);
    free(gc);
    ctx->be_ctx = NULL;
}

/* HKDF-SHA256 (RFC 5869) with the default salt, HashLen zeros: the same
 * derivation as the OpenSSL backend's, so both name a file's key alike. */
static bool hkdf_sha256(const unsigned char *secret, const char *label, unsigned char *out, size_t len)
{
    unsigned char prk[32], zeros[32] = {0};
    gnutls_datum_t key = {(unsigned char *)(uintptr_t)secret, DTP_TICKET_SECRET_LEN}, salt = {zeros, sizeof zeros};
    gnutls_datum_t info = {(unsigned char *)(uintptr_t)label, (unsigned)strlen(label)}, prkd = {prk, sizeof prk};
    bool ok = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &key, &salt, prk) == 0 &&
              gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &prkd, &info, out, len) == 0;
    gnutls_memset(prk, 0, sizeof prk);
    return ok;
}

/* Server: the ticket master key. From dtp_config.ticket_key_file, its
 * first key: GnuTLS 3.7 takes one master key per session and derives from
 * it a key per period of 3 x the session lifetime, accepting the
 * previous period's only within a session that saw the change, so tickets
 * made under the file's other keys cannot be accepted (full handshake).
 * Without a file, a random one per context, which the processes forked
 * from it share. Tickets live DTP_TICKET_LIFETIME_S (gt_conn_new; R37). */
static int setup_tickets(dtp_ctx *ctx, const char *file, struct dtp_error *err)
{
    struct gt_ctx *gc = GC(ctx);
    if (!file) {
        if (gnutls_session_ticket_key_generate(&gc->ticket_key) < 0)
            return dtp__set_error(err, DTP_R_INTERNAL, "cannot make a session ticket key");
        return DTP_OK;
    }
    struct dtp_ticket_secrets s;
    int rc = dtp__read_ticket_keys(file, &s, err);
    if (rc != DTP_OK)
        return rc;
    unsigned char name[16];
    gc->ticket_key.data = gnutls_malloc(64); /* GnuTLS's TICKET_MASTER_KEY_SIZE */
    gc->ticket_key.size = gc->ticket_key.data ? 64 : 0;
    if (!gc->ticket_key.data || !hkdf_sha256(s.key[0], DTP_HKDF_TICKET_GNUTLS, gc->ticket_key.data, 64) ||
        !hkdf_sha256(s.key[0], DTP_HKDF_TICKET_NAME, name, sizeof name))
        rc = dtp__set_error(err, DTP_R_INTERNAL, "session tickets: cannot derive keys from %s", file);
    size_t n = s.n;
    gnutls_memset(&s, 0, sizeof s);
    if (rc == DTP_OK)
        dtp__log(ctx, DTP_LOG_INFO,
                 "session tickets: %zu key(s) from %s, new tickets under key %02x%02x%02x%02x (R37); "
                 "the gnutls backend accepts tickets of that key only",
                 n, file, name[0], name[1], name[2], name[3]);
    return rc;
}

/* The suites of the kx x cipher x MAC product that the profile does not
 * list: a GnuTLS client offers them, and the ServerHello hook refuses
 * them in either role (E4, M26). Logged so that a scan is explained. */
static void log_product_extras(const dtp_ctx *ctx, gnutls_priority_t prio)
{
    const struct dtp_profile *p = ctx->profile;
    char extra[1024] = "";
    size_t used = 0;
    int n = 0;
    unsigned sidx;
    for (unsigned i = 0; gnutls_priority_get_cipher_suite_index(prio, i, &sidx) != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
         i++) {
        unsigned char id[2];
        const char *name = gnutls_cipher_suite_info(sidx, id, NULL, NULL, NULL, NULL);
        const struct gt_suite *su = name ? suite_by_id(id) : NULL;
        if (!name || (su && (in_list(p->tls12_suites, su->iana) || in_list(p->tls13_suites, su->iana) ||
                             in_list(p->fallback_suites, su->iana))))
            continue;
        n++;
        if (used < sizeof extra)
            used += (size_t)snprintf(extra + used, sizeof extra - used, " %s", name);
    }
    if (n)
        dtp__log(ctx, DTP_LOG_DEBUG,
                 "GnuTLS enables %d suite(s) outside profile %s with the profile's algorithms; offered by a client, "
                 "refused in the ServerHello either way:%s",
                 n, p->key, extra);
}

static int gt_ctx_setup(dtp_ctx *ctx, const struct dtp_config *cfg, struct dtp_error *err)
{
    const struct dtp_profile *p = ctx->profile;
    if (gnutls_check_version("3.7.0") == NULL)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "the gnutls backend needs GnuTLS 3.7 or later (found %s)",
                              gnutls_check_version(NULL));
    struct gt_ctx *gc = calloc(1, sizeof *gc);
    if (!gc)
        return dtp__set_error(err, DTP_R_INTERNAL, "out of memory");
    ctx->be_ctx = gc;
    if (pthread_mutex_init(&gc->lock, NULL) != 0)
        return dtp__set_error(err, DTP_R_INTERNAL, "pthread_mutex_init");
    gc->lock_ready = true;
    if (gnutls_certificate_allocate_credentials(&gc->cred) < 0)
        return dtp__set_error(err, DTP_R_INTERNAL, "gnutls_certificate_allocate_credentials");

    char prio[2048];
    int rc = build_priority(p, ctx->role, NULL, prio, sizeof prio, err);
    if (rc != DTP_OK)
        return rc;
    const char *where = NULL;
    int r = gnutls_priority_init2(&gc->prio, prio, &where, 0);
    if (r < 0)
        return dtp__set_error(err, DTP_R_INTERNAL, "profile %s: GnuTLS refuses priority string at '%s': %s", p->key,
                              where ? where : "?", gnutls_strerror(r));
    dtp__log(ctx, DTP_LOG_DEBUG, "GnuTLS priority for %s: %s", p->key, prio);
    log_product_extras(ctx, gc->prio);

    rc = load_credentials(ctx, cfg, err);
    if (rc == DTP_OK && ctx->role == DTP_ROLE_SERVER)
        rc = setup_dh(ctx, cfg->dh_file, err);
    const char *const *lists12[] = {p->tls12_suites, p->fallback_suites};
    for (size_t l = 0; rc == DTP_OK && ctx->role == DTP_ROLE_SERVER && l < 2; l++)
        for (size_t i = 0; rc == DTP_OK && lists12[l] && lists12[l][i]; i++) {
            const struct gt_suite *su = suite_by_iana(lists12[l][i]);
            if (!su || !gnutls_has_id(su->id) || gc->one[su - suites])
                continue;
            rc = build_priority(p, ctx->role, su, prio, sizeof prio, err);
            if (rc == DTP_OK && (r = gnutls_priority_init2(&gc->one[su - suites], prio, &where, 0)) < 0)
                rc = dtp__set_error(err, DTP_R_INTERNAL, "profile %s: GnuTLS refuses priority string at '%s': %s",
                                    p->key, where ? where : "?", gnutls_strerror(r));
        }
    if (rc == DTP_OK)
        rc = setup_trust(ctx, cfg, err);
    if (rc == DTP_OK && ctx->role == DTP_ROLE_SERVER)
        rc = setup_tickets(ctx, cfg->ticket_key_file, err);
    if (rc == DTP_OK && ctx->role == DTP_ROLE_CLIENT && cfg->session_file)
        load_session(ctx, cfg->session_file);
    return rc;
}

/* ---- connection -------------------------------------------------------- */

struct gt_conn {
    gnutls_session_t s;
    int last_ret;     /* GnuTLS result of the last call that failed */
    int io_errno;     /* errno of the last failed send/recv */
    unsigned char hdr[5];
    size_t hdr_n;
    /* the incoming record stream, to see a plaintext alert that GnuTLS
     * would try to decrypt (a TLS 1.3 peer failing before its keys) */
    unsigned char rec[5];
    size_t rec_have, rec_left;
    unsigned char alert[2];
    size_t alert_have;
    unsigned verify_status; /* gnutls_certificate_status_t bits of a refused peer */
    bool cert_missing, cert_weak, cert_checked;
    char cert_detail[160];
    bool outside_suite;   /* the suite hook refused */
    unsigned char offered[512]; /* the client's suites (server), 2 bytes each */
    size_t n_offered;
    uint16_t groups[64];        /* and its supported groups */
    size_t n_groups;
    bool got_close;       /* close_notify seen by peek */
    unsigned char *peek;  /* one record read ahead by peek */
    size_t peek_off, peek_len;
};

static struct gt_conn *GCN(const dtp_conn *conn) { return conn->be_conn; }

ssize_t dtp__gt_send(gnutls_session_t s, int fd, const void *buf, size_t len, int *io_errno)
{
    ssize_t n;
    do
        n = send(fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        *io_errno = errno;
        gnutls_transport_set_errno(s, errno);
    }
    return n;
}

ssize_t dtp__gt_recv(gnutls_session_t s, int fd, void *buf, size_t len, int *io_errno)
{
    ssize_t n;
    do
        n = recv(fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        *io_errno = errno;
        gnutls_transport_set_errno(s, errno);
    } else {
        *io_errno = 0;
    }
    return n;
}

static ssize_t push_fn(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    dtp_conn *conn = ptr;
    return dtp__gt_send(GCN(conn)->s, conn->fd, buf, len, &GCN(conn)->io_errno);
}

/* Follows the record headers of what the peer sends: a 2-byte record of
 * type alert is a plaintext alert (encrypted ones are longer, or typed
 * application_data in TLS 1.3); a fatal one is noted. */
static void track_records(dtp_conn *conn, const unsigned char *p, size_t n)
{
    struct gt_conn *gc = GCN(conn);
    while (n > 0) {
        if (gc->rec_left == 0) {
            gc->rec[gc->rec_have++] = *p++;
            n--;
            if (gc->rec_have == 5) {
                gc->rec_have = 0;
                gc->rec_left = (size_t)gc->rec[3] << 8 | gc->rec[4];
                gc->alert_have = 0;
            }
            continue;
        }
        size_t take = n < gc->rec_left ? n : gc->rec_left;
        if (gc->rec[0] == 21 && gc->rec[3] == 0 && gc->rec[4] == 2)
            for (size_t i = 0; i < take && gc->alert_have < 2; i++)
                gc->alert[gc->alert_have++] = p[i];
        gc->rec_left -= take;
        p += take;
        n -= take;
        if (gc->rec_left == 0 && gc->rec[0] == 21 && gc->rec[3] == 0 && gc->rec[4] == 2 && gc->alert_have == 2 &&
            gc->alert[0] == 2)
            dtp__conn_note_alert(conn, gc->alert[1]);
    }
}

static ssize_t pull_fn(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
    dtp_conn *conn = ptr;
    struct gt_conn *gc = GCN(conn);
    ssize_t n = dtp__gt_recv(gc->s, conn->fd, buf, len, &gc->io_errno);
    if (n < 0)
        return n;
    track_records(conn, buf, (size_t)n);
    /* The peer's first record header: "not TLS at all" (C1). */
    if (!conn->have_first_header && n > 0) {
        size_t take = (size_t)n < 5 - gc->hdr_n ? (size_t)n : 5 - gc->hdr_n;
        memcpy(gc->hdr + gc->hdr_n, buf, take);
        gc->hdr_n += take;
        if (gc->hdr_n == 5)
            dtp__conn_note_header(conn, gc->hdr);
    }
    return n;
}

static int pull_timeout_fn(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    dtp_conn *conn = ptr;
    struct pollfd pfd = {conn->fd, POLLIN, 0};
    int n;
    do
        n = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
    while (n < 0 && errno == EINTR);
    return n;
}

static void keylog_write(const dtp_ctx *ctx, const char *label, const gnutls_datum_t *random,
                         const gnutls_datum_t *secret)
{
    FILE *f = fopen(ctx->keylog_file, "a");
    if (!f)
        return;
    fprintf(f, "%s ", label);
    for (unsigned i = 0; i < random->size; i++)
        fprintf(f, "%02x", random->data[i]);
    fputc(' ', f);
    for (unsigned i = 0; i < secret->size; i++)
        fprintf(f, "%02x", secret->data[i]);
    fputc('\n', f);
    fclose(f);
}

/* NSS key log format, for tshark (debugging only). */
static int keylog_fn(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
    dtp_conn *conn = gnutls_session_get_ptr(s);
    gnutls_datum_t crandom, srandom;
    gnutls_session_get_random(s, &crandom, &srandom);
    keylog_write(conn->ctx, label, &crandom, secret);
    return 0;
}

/* Client: keep the newest session of the context (a TLS 1.3 ticket
 * arrives after the handshake; TLS 1.2's is stored when it completes). */
static void remember_session(dtp_conn *conn)
{
    struct gt_ctx *gx = GC(conn->ctx);
    gnutls_datum_t d = {NULL, 0};
    if (gnutls_session_get_data2(GCN(conn)->s, &d) < 0 || !d.data)
        return;
    pthread_mutex_lock(&gx->lock);
    gnutls_free(gx->session.data);
    gx->session = d;
    gx->session_unsaved = true;
    pthread_mutex_unlock(&gx->lock);
}

static int ticket_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                       const gnutls_datum_t *msg)
{
    (void)htype;
    (void)when;
    (void)incoming;
    (void)msg;
    dtp_conn *conn = gnutls_session_get_ptr(s);
    if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3)
        remember_session(conn);
    return 0;
}

struct hello_scan {
    bool tls13, ems, versions;
    struct gt_conn *gc;
};

static int hello_ext(void *ctx, unsigned tls_id, const unsigned char *data, unsigned size)
{
    struct hello_scan *h = ctx;
    if (tls_id == 23)
        h->ems = true;
    if (tls_id == 10 && size >= 2)
        for (unsigned i = 2; i + 1 < size && h->gc->n_groups < 64; i += 2)
            h->gc->groups[h->gc->n_groups++] = (uint16_t)(data[i] << 8 | data[i + 1]);
    if (tls_id == 43) {
        h->versions = true;
        for (unsigned i = 1; size >= 1 && i + 1 < size && i + 1 <= data[0]; i += 2)
            if (data[i] == 0x03 && data[i + 1] == 0x04)
                h->tls13 = true;
    }
    return 0;
}

/* The server's look at each ClientHello, before GnuTLS processes it:
 * - C2, R7, Q8: a hello whose best version is SSL 3.0 gets protocol_version;
 * - R36, RFC 7627 5.2: where the profile requires the extended master
 *   secret, a client that can only reach TLS 1.2 and does not offer it is
 *   refused with handshake_failure inside the handshake. */
static int client_hello_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                             const gnutls_datum_t *msg)
{
    (void)htype;
    (void)when;
    (void)incoming;
    dtp_conn *conn = gnutls_session_get_ptr(s);
    const struct dtp_profile *p = conn->ctx->profile;
    if (!msg || msg->size < 2)
        return 0;
    struct hello_scan h = {false, false, false, GCN(conn)};
    /* version(2) random(32) session_id(1 + n) cipher_suites(2 + n) */
    if (msg->size >= 35 && msg->size >= 35u + msg->data[34] + 2) {
        size_t at = 35u + msg->data[34], n = (size_t)msg->data[at] << 8 | msg->data[at + 1];
        if (at + 2 + n <= msg->size && n <= sizeof GCN(conn)->offered) {
            memcpy(GCN(conn)->offered, msg->data + at + 2, n);
            GCN(conn)->n_offered = n / 2;
        }
    }
    gnutls_ext_raw_parse(&h, hello_ext, msg, GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
    if (msg->data[0] == 3 && msg->data[1] == 0 && !h.versions) {
        conn->hello_refusal = DTP_R_VERSION_REFUSED;
        return GNUTLS_E_UNSUPPORTED_VERSION_PACKET;
    }
    if (p->require_ems && !conn->ctx->allow_no_ems && !(p->max_version >= DTP_TLS1_3 && h.tls13) && !h.ems) {
        conn->hello_refusal = DTP_R_EMS_MISSING;
        return GNUTLS_E_INSUFFICIENT_SECURITY;
    }
    return 0;
}

/* The IANA name of the session's suite, or NULL. gnutls_ciphersuite_get()
 * knows it only once the handshake is done; before, the suite is found
 * from its kx, cipher and MAC. */
static const char *session_suite(gnutls_session_t s)
{
    const char *gname = gnutls_ciphersuite_get(s);
    bool tls13 = gnutls_protocol_get_version(s) == GNUTLS_TLS1_3;
    gnutls_kx_algorithm_t kx = gnutls_kx_get(s), skx;
    gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(s), sc;
    gnutls_mac_algorithm_t mac = gnutls_mac_get(s), sm;
    gnutls_protocol_t minver;
    unsigned char id[2];
    const char *name;
    for (size_t i = 0; (name = gnutls_cipher_suite_info(i, id, &skx, &sc, &sm, &minver)) != NULL; i++) {
        bool hit = gname ? strcmp(name, gname) == 0
                         : sc == cipher && sm == mac && (tls13 ? minver == GNUTLS_TLS1_3 : skx == kx && minver != GNUTLS_TLS1_3);
        if (hit) {
            const struct gt_suite *su = suite_by_id(id);
            return su ? su->iana : NULL;
        }
    }
    return NULL;
}

/* Both roles, on the ServerHello as sent or received: the suite chosen
 * must be one of the profile's lists (E4, M26), not merely of GnuTLS's
 * kx x cipher x MAC product. The server then refuses with
 * handshake_failure, the client with illegal_parameter. The suite is read
 * from the message: GnuTLS names it only after the handshake. */
static int server_hello_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                             const gnutls_datum_t *msg)
{
    (void)htype;
    (void)when;
    (void)incoming;
    dtp_conn *conn = gnutls_session_get_ptr(s);
    const struct dtp_profile *p = conn->ctx->profile;
    /* legacy_version(2) random(32) session_id(1 + n) cipher_suite(2) */
    if (!msg || !msg->data || msg->size < 35 || msg->size < 35u + msg->data[34] + 2)
        return 0;
    const unsigned char *id = msg->data + 35 + msg->data[34];
    const struct gt_suite *su = suite_by_id(id);
    const char *suite = su ? su->iana : NULL;
    if (suite && (id[0] == 0x13 ? in_list(p->tls13_suites, suite)
                                : in_list(p->tls12_suites, suite) || in_list(p->fallback_suites, suite)))
        return 0;
    const char *gname = suite;
    unsigned char sid[2];
    for (size_t i = 0; !gname && gnutls_cipher_suite_info(i, sid, NULL, NULL, NULL, NULL); i++)
        if (sid[0] == id[0] && sid[1] == id[1])
            gname = gnutls_cipher_suite_info(i, sid, NULL, NULL, NULL, NULL); /* GnuTLS's spelling */
    GCN(conn)->outside_suite = true;
    snprintf(GCN(conn)->cert_detail, sizeof GCN(conn)->cert_detail, "suite 0x%02x%02x %s is not in profile %s", id[0],
             id[1], gname ? gname : "(unknown)", p->key);
    return GNUTLS_E_NO_CIPHER_SUITES;
}

static int group_id(const char *name)
{
    static const struct {
        const char *name;
        int id;
    } ids[] = {{"secp256r1", 23}, {"secp384r1", 24}, {"secp521r1", 25}, {"x25519", 29}, {"x448", 30}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (strcmp(ids[i].name, name) == 0)
            return ids[i].id;
    return -1;
}

/* Server, TLS 1.0-1.2: GnuTLS picks from the kx x cipher x MAC product of
 * the priority, which may rank a suite the profile does not list (then
 * refused) above one it does. Here the server's choice is made in the
 * profile's own order (R25, B2) among what the client offers, fits our
 * certificate and the version, and the session gets a priority naming that
 * suite first. TLS 1.3 suites are exactly the profile's already. */
static int post_client_hello(gnutls_session_t s)
{
    dtp_conn *conn = gnutls_session_get_ptr(s);
    struct gt_conn *gc = GCN(conn);
    struct gt_ctx *gx = GC(conn->ctx);
    const struct dtp_profile *p = conn->ctx->profile;
    gnutls_protocol_t v = gnutls_protocol_get_version(s);
    if (v == GNUTLS_TLS1_3)
        return 0;
    bool ec_shared = gc->n_groups == 0; /* no extension: RFC 4492's default */
    for (size_t g = 0; p->groups && p->groups[g] && !ec_shared; g++)
        for (size_t k = 0; k < gc->n_groups; k++)
            ec_shared |= group_id(p->groups[g]) == gc->groups[k];
    const char *const *lists[] = {p->tls12_suites, p->fallback_suites};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && lists[l][i]; i++) {
            const struct gt_suite *su = suite_by_iana(lists[l][i]);
            if (!su || !gx->one[su - suites])
                continue;
            bool ecdsa = strcmp(su->kx, "ECDHE-ECDSA") == 0, ecdhe = strncmp(su->kx, "ECDHE", 5) == 0;
            bool aead = strcmp(su->mac, "AEAD") == 0;
            if (ecdsa != gx->own_ec || (aead && v != GNUTLS_TLS1_2) || (ecdhe && !ec_shared))
                continue;
            bool offered = false;
            for (size_t k = 0; k < gc->n_offered && !offered; k++)
                offered = gc->offered[2 * k] == su->id[0] && gc->offered[2 * k + 1] == su->id[1];
            if (offered)
                return gnutls_priority_set(s, gx->one[su - suites]) < 0 ? -1 : 0;
        }
    return 0; /* nothing of the profile: GnuTLS finds nothing acceptable either */
}

/* Dispatches GnuTLS's single handshake hook: the server's ClientHello
 * check (before processing), the ServerHello suite check (the server's as
 * sent, the client's as received), the client's new TLS 1.3 tickets. */
static int handshake_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                          const gnutls_datum_t *msg)
{
    dtp_conn *conn = gnutls_session_get_ptr(s);
    bool server = conn->ctx->role == DTP_ROLE_SERVER;
    if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && server && incoming && when == GNUTLS_HOOK_PRE)
        return client_hello_hook(s, htype, when, incoming, msg);
    if (htype == GNUTLS_HANDSHAKE_SERVER_HELLO && when == GNUTLS_HOOK_POST && (server ? !incoming : incoming))
        return server_hello_hook(s, htype, when, incoming, msg);
    if (htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET && !server && incoming && when == GNUTLS_HOOK_POST)
        return ticket_hook(s, htype, when, incoming, msg);
    return 0;
}

static int gt_conn_new(dtp_conn *conn, struct dtp_error *err)
{
    struct gt_conn *gc = calloc(1, sizeof *gc);
    if (!gc)
        return dtp__set_error(err, DTP_R_INTERNAL, "out of memory");
    conn->be_conn = gc;
    dtp_ctx *ctx = conn->ctx;
    struct gt_ctx *gx = GC(ctx);
    bool server = ctx->role == DTP_ROLE_SERVER;
    int r = gnutls_init(&gc->s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK);
    if (r < 0)
        return dtp__set_error(err, DTP_R_INTERNAL, "gnutls_init: %s", gnutls_strerror(r));
    gnutls_session_set_ptr(gc->s, conn);
    gnutls_transport_set_ptr(gc->s, conn);
    gnutls_transport_set_push_function(gc->s, push_fn);
    gnutls_transport_set_pull_function(gc->s, pull_fn);
    gnutls_transport_set_pull_timeout_function(gc->s, pull_timeout_fn);
    if ((r = gnutls_priority_set(gc->s, gx->prio)) < 0 ||
        (r = gnutls_credentials_set(gc->s, GNUTLS_CRD_CERTIFICATE, gx->cred)) < 0)
        return dtp__set_error(err, DTP_R_INTERNAL, "GnuTLS session setup: %s", gnutls_strerror(r));
    const struct dtp_profile *p = ctx->profile;
    if (server) {
        gnutls_certificate_server_set_request(gc->s, ctx->verify == DTP_VERIFY_REQUIRE      ? GNUTLS_CERT_REQUIRE
                                                     : ctx->verify == DTP_VERIFY_IF_PRESENT ? GNUTLS_CERT_REQUEST
                                                                                            : GNUTLS_CERT_IGNORE);
        /* R37: the lifetime of tickets and resumable sessions, as the
         * OpenSSL backend's; set first, as GnuTLS's key rotation period
         * follows from it. */
        gnutls_db_set_cache_expiration(gc->s, DTP_TICKET_LIFETIME_S);
        gnutls_session_ticket_enable_server(gc->s, &gx->ticket_key);
        gnutls_handshake_set_post_client_hello_function(gc->s, post_client_hello);
    } else {
        /* E5, B5, M15: a server's DH prime below the profile's minimum
         * fails the handshake. */
        gnutls_dh_set_prime_bits(gc->s, ctx->relax_key_sizes ? 1024 : (unsigned)p->min_dhe_bits);
        pthread_mutex_lock(&gx->lock);
        if (gx->session.data)
            gnutls_session_set_data(gc->s, gx->session.data, gx->session.size); /* the server decides */
        pthread_mutex_unlock(&gx->lock);
    }
    /* A session has one hook: it sees every handshake message. */
    gnutls_handshake_set_hook_function(gc->s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH, handshake_hook);
    if (p->alpn) {
        /* R39: a server refuses a client list without it (mandatory); a
         * client that sends no ALPN is served. */
        gnutls_datum_t proto = {(unsigned char *)(uintptr_t)p->alpn, (unsigned)strlen(p->alpn)};
        if ((r = gnutls_alpn_set_protocols(gc->s, &proto, 1, server ? GNUTLS_ALPN_MANDATORY : 0)) < 0)
            return dtp__set_error(err, DTP_R_INTERNAL, "ALPN: %s", gnutls_strerror(r));
    }
    if (ctx->keylog_file[0])
        gnutls_session_set_keylog_function(gc->s, keylog_fn);
    return DTP_OK;
}

static void gt_conn_free(dtp_conn *conn)
{
    struct gt_conn *gc = GCN(conn);
    if (!gc)
        return;
    if (gc->s)
        gnutls_deinit(gc->s);
    free(gc->peek);
    free(gc);
    conn->be_conn = NULL;
}

static int gt_set_server_name(dtp_conn *conn, const char *name)
{
    int r = gnutls_server_name_set(GCN(conn)->s, GNUTLS_NAME_DNS, name, strlen(name));
    return r < 0 ? dtp__set_error(&conn->error, DTP_R_INTERNAL, "cannot set SNI %s: %s", name, gnutls_strerror(r))
                 : DTP_OK;
}

/* Maps a GnuTLS result (< 0) to what happened. */
static enum dtp_io io_result(dtp_conn *conn, int ret)
{
    struct gt_conn *gc = GCN(conn);
    gc->last_ret = ret;
    switch (ret) {
    case GNUTLS_E_AGAIN:
        if (gc->io_errno != 0 && gc->io_errno != EAGAIN && gc->io_errno != EWOULDBLOCK) {
            errno = gc->io_errno; /* part of a record sent, then the socket failed */
            return DTP_IO_TRANSPORT;
        }
        errno = EAGAIN;
        return gnutls_record_get_direction(gc->s) ? DTP_IO_WANT_WRITE : DTP_IO_WANT_READ;
    case GNUTLS_E_PREMATURE_TERMINATION:
        /* An EOF without close_notify (errno 0), or a send/recv that
         * failed with ECONNRESET/EPIPE, which GnuTLS reports the same
         * way: keep the errno so a reset stays an I/O error (C6). */
    case GNUTLS_E_PUSH_ERROR:
    case GNUTLS_E_PULL_ERROR:
        errno = gc->io_errno;
        return DTP_IO_TRANSPORT;
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
        dtp__conn_note_alert(conn, (int)gnutls_alert_get(gc->s));
        return DTP_IO_FAILED;
    default:
        return DTP_IO_FAILED;
    }
}

/* The alert we send for a failed handshake: the certificate verdict in
 * the words OpenSSL uses, our hello checks, else GnuTLS's choice. */
static void send_failure_alert(dtp_conn *conn, int ret)
{
    struct gt_conn *gc = GCN(conn);
    int desc = -1;
    if (gc->cert_missing)
        desc = gnutls_protocol_get_version(gc->s) == GNUTLS_TLS1_3 ? GNUTLS_A_CERTIFICATE_REQUIRED
                                                                    : GNUTLS_A_HANDSHAKE_FAILURE;
    else if (gc->cert_weak)
        desc = GNUTLS_A_BAD_CERTIFICATE;
    else if (gc->verify_status & GNUTLS_CERT_REVOKED)
        desc = GNUTLS_A_CERTIFICATE_REVOKED;
    else if (gc->verify_status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
        desc = GNUTLS_A_CERTIFICATE_EXPIRED;
    else if (gc->verify_status)
        desc = GNUTLS_A_UNKNOWN_CA;
    else if (conn->hello_refusal == DTP_R_EMS_MISSING)
        desc = GNUTLS_A_HANDSHAKE_FAILURE;
    else if (conn->hello_refusal == DTP_R_VERSION_REFUSED)
        desc = GNUTLS_A_PROTOCOL_VERSION;
    else if (gc->outside_suite)
        desc = conn->ctx->role == DTP_ROLE_SERVER ? GNUTLS_A_HANDSHAKE_FAILURE : GNUTLS_A_ILLEGAL_PARAMETER;
    if (desc >= 0)
        gnutls_alert_send(gc->s, GNUTLS_AL_FATAL, (gnutls_alert_description_t)desc);
    else if (ret != GNUTLS_E_FATAL_ALERT_RECEIVED && ret != GNUTLS_E_PREMATURE_TERMINATION &&
             ret != GNUTLS_E_PULL_ERROR && ret != GNUTLS_E_PUSH_ERROR)
        gnutls_alert_send_appropriate(gc->s, ret);
}

static enum dtp_io gt_handshake(dtp_conn *conn)
{
    struct gt_conn *gc = GCN(conn);
    int r;
    /* GNUTLS_E_AGAIN without a socket that would block: a message was
     * processed, call again. */
    do {
        gc->io_errno = 0;
        r = gnutls_handshake(gc->s);
    } while (r < 0 && (r == GNUTLS_E_AGAIN ? gc->io_errno == 0 : !gnutls_error_is_fatal(r)));
    if (r == 0) {
        if (conn->ctx->role == DTP_ROLE_CLIENT && gnutls_protocol_get_version(gc->s) != GNUTLS_TLS1_3)
            remember_session(conn);
        return DTP_IO_OK;
    }
    enum dtp_io io = io_result(conn, r);
    int saved = errno;
    if (io == DTP_IO_FAILED) {
        send_failure_alert(conn, r);
        errno = saved;
    }
    return io;
}

/* One record's worth of application data, read and kept by peek. */
static enum dtp_io recv_some(dtp_conn *conn, void *buf, size_t len, size_t *got)
{
    struct gt_conn *gc = GCN(conn);
    *got = 0;
    if (gc->got_close)
        return DTP_IO_CLOSED;
    for (;;) {
        gc->io_errno = 0;
        ssize_t n = gnutls_record_recv(gc->s, buf, len);
        if (n > 0) {
            *got = (size_t)n;
            return DTP_IO_OK;
        }
        if (n == 0) {
            gc->got_close = true;
            return DTP_IO_CLOSED;
        }
        if (n == GNUTLS_E_AGAIN && gc->io_errno == 0)
            continue; /* a post-handshake message (TLS 1.3 ticket) was processed */
        if (n == GNUTLS_E_AGAIN || gnutls_error_is_fatal((int)n)) {
            enum dtp_io io = io_result(conn, (int)n);
            if (io == DTP_IO_FAILED) {
                /* C6: a record that fails its check ends the session with
                 * our fatal alert (bad_record_mac ...), so the peer knows
                 * why; GnuTLS, unlike OpenSSL, leaves sending it to us. */
                int saved = errno;
                send_failure_alert(conn, (int)n);
                errno = saved;
            }
            return io;
        }
        /* non-fatal: warning alerts, a renegotiation request (ignored) */
    }
}

static enum dtp_io gt_read(dtp_conn *conn, void *buf, size_t len, size_t *got)
{
    struct gt_conn *gc = GCN(conn);
    if (gc->peek_len > gc->peek_off) {
        size_t n = gc->peek_len - gc->peek_off < len ? gc->peek_len - gc->peek_off : len;
        memcpy(buf, gc->peek + gc->peek_off, n);
        gc->peek_off += n;
        *got = n;
        return DTP_IO_OK;
    }
    return recv_some(conn, buf, len, got);
}

/* GnuTLS has no SSL_peek: one record is read into our buffer, which read
 * and pending honour. */
static enum dtp_io gt_peek(dtp_conn *conn)
{
    struct gt_conn *gc = GCN(conn);
    if (gc->peek_len > gc->peek_off)
        return DTP_IO_OK;
    if (!gc->peek && !(gc->peek = malloc(DTP_RECORD_MAX))) {
        errno = ENOMEM;
        return DTP_IO_TRANSPORT;
    }
    size_t got = 0;
    enum dtp_io io = recv_some(conn, gc->peek, DTP_RECORD_MAX, &got);
    gc->peek_off = 0;
    gc->peek_len = io == DTP_IO_OK ? got : 0;
    return io;
}

static enum dtp_io gt_write(dtp_conn *conn, const void *buf, size_t len, size_t *put)
{
    struct gt_conn *gc = GCN(conn);
    unsigned stuck = 0;
    *put = 0;
    while (*put < len) {
        gc->io_errno = 0;
        ssize_t n = gnutls_record_send(gc->s, (const unsigned char *)buf + *put, len - *put);
        if (n > 0) {
            *put += (size_t)n;
            stuck = 0;
            continue;
        }
        if (n == GNUTLS_E_INTERRUPTED)
            continue;
        /* GnuTLS says AGAIN whenever a record went out only in part: with
         * no socket error, the rest is buffered and the next call (same
         * data) flushes it; io_result reports a socket error (a reset
         * arriving mid-record). */
        if (n == GNUTLS_E_AGAIN && gc->io_errno == 0 && ++stuck < 64)
            continue;
        if (n == GNUTLS_E_AGAIN && *put > 0 && (gc->io_errno == EAGAIN || gc->io_errno == EWOULDBLOCK))
            return DTP_IO_OK; /* timed out after some records: the rest times out next time */
        return io_result(conn, (int)n);
    }
    return DTP_IO_OK;
}

static size_t gt_pending(dtp_conn *conn)
{
    struct gt_conn *gc = GCN(conn);
    return gc->peek_len - gc->peek_off + gnutls_record_check_pending(gc->s);
}

static bool gt_buffered(dtp_conn *conn) { return gt_pending(conn) > 0; }

static void gt_clear_error(dtp_conn *conn) { GCN(conn)->last_ret = 0; }

static int gt_shutdown(dtp_conn *conn)
{
    int r;
    do
        r = gnutls_bye(GCN(conn)->s, GNUTLS_SHUT_WR);
    while (r == GNUTLS_E_INTERRUPTED);
    return r < 0 ? DTP_R_IO_ERROR : DTP_OK;
}

/* ---- certificates ------------------------------------------------------ */

/* Checks one certificate's key (and hash) against the profile. */
static bool cert_policy_ok(const dtp_ctx *ctx, gnutls_x509_crt_t crt, bool check_hash, char *why, size_t len)
{
    const struct dtp_profile *p = ctx->profile;
    const char *type;
    int kb = crt_key_bits(crt, &type);
    int min = min_bits_for(p, type);
    if (min && kb < min && !ctx->relax_key_sizes) {
        snprintf(why, len, "certificate %s key has %d bits, profile %s requires at least %d", type, kb, p->key, min);
        return false;
    }
    if (check_hash && p->min_cert_hash_bits && crt_hash_bits(crt) < p->min_cert_hash_bits) {
        snprintf(why, len, "certificate signed with a %d-bit hash, profile %s requires at least %d", crt_hash_bits(crt),
                 p->key, p->min_cert_hash_bits);
        return false;
    }
    return true;
}

/* Verification during the handshake (GnuTLS's checks, then the profile's):
 * - the chain to a trusted CA, validity, CRL (gnutls_certificate_verify_peers2);
 * - the key of the peer's leaf, and with check_chain of every certificate
 *   up to the trust anchor, meets the profile minimum (B5, M27-M30, Q4);
 * - with min_cert_hash_bits, the leaf's and intermediates' signatures use
 *   a hash that large (M31), the anchor's self-signature excepted (Q4). */
static int verify_function(gnutls_session_t s)
{
    dtp_conn *conn = gnutls_session_get_ptr(s);
    struct gt_conn *gc = GCN(conn);
    const dtp_ctx *ctx = conn->ctx;
    if (ctx->verify == DTP_VERIFY_IGNORE)
        return 0;
    gc->cert_checked = true;
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
    if (!certs || n == 0) {
        if (ctx->role == DTP_ROLE_SERVER && ctx->verify == DTP_VERIFY_IF_PRESENT)
            return 0;
        gc->cert_missing = true;
        return -1;
    }
    unsigned status = 0;
    if (gnutls_certificate_verify_peers2(s, &status) < 0)
        status |= GNUTLS_CERT_INVALID;
    if (status) {
        gc->verify_status = status | GNUTLS_CERT_INVALID;
        gnutls_datum_t out = {NULL, 0};
        if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) >= 0)
            snprintf(gc->cert_detail, sizeof gc->cert_detail, "certificate verification: %s", (char *)out.data);
        gnutls_free(out.data);
        return -1;
    }
    gnutls_x509_crt_t crt = NULL, last = NULL;
    bool ok = true;
    char why[160] = "";
    unsigned check = ctx->profile->check_chain ? n : 1;
    for (unsigned i = 0; ok && i < check; i++) {
        gnutls_x509_crt_init(&crt);
        if (gnutls_x509_crt_import(crt, &certs[i], GNUTLS_X509_FMT_DER) < 0) {
            gnutls_x509_crt_deinit(crt);
            break;
        }
        ok = cert_policy_ok(ctx, crt, !crt_self_signed(crt), why, sizeof why);
        if (last)
            gnutls_x509_crt_deinit(last);
        last = crt;
    }
    if (ok && ctx->profile->check_chain && last && !crt_self_signed(last)) {
        /* The trust anchor: its key, not its self-signature (Q4). */
        gnutls_x509_trust_list_t tl = NULL;
        gnutls_x509_crt_t anchor = NULL;
        gnutls_certificate_get_trust_list(GC(ctx)->cred, &tl);
        if (tl && gnutls_x509_trust_list_get_issuer(tl, last, &anchor, GNUTLS_TL_GET_COPY) >= 0 && anchor) {
            ok = cert_policy_ok(ctx, anchor, false, why, sizeof why);
            gnutls_x509_crt_deinit(anchor);
        }
    }
    if (last)
        gnutls_x509_crt_deinit(last);
    if (!ok) {
        gc->cert_weak = true;
        snprintf(gc->cert_detail, sizeof gc->cert_detail, "certificate verification: %s", why);
        return -1;
    }
    return 0;
}

/* ---- what went wrong ---------------------------------------------------- */

static int classify_alert(int alert, bool in_handshake)
{
    if (alert == GNUTLS_A_PROTOCOL_VERSION && in_handshake)
        return DTP_R_VERSION_REFUSED;
    if (alert == GNUTLS_A_INAPPROPRIATE_FALLBACK)
        return DTP_R_INAPPROPRIATE_FALLBACK;
    if (alert == GNUTLS_A_BAD_RECORD_MAC && !in_handshake)
        return DTP_R_INTEGRITY_ALERT;
    if (alert == GNUTLS_A_NO_APPLICATION_PROTOCOL && in_handshake)
        return DTP_R_ALPN_MISMATCH;
    return in_handshake ? DTP_R_PEER_ALERT : DTP_R_SESSION_ALERT;
}

static int classify_ret(dtp_conn *conn, int ret, bool in_handshake)
{
    struct gt_conn *gc = GCN(conn);
    if (conn->hello_refusal)
        return conn->hello_refusal;
    if (gc->cert_missing)
        return DTP_R_PEER_CERT_MISSING;
    if (gc->cert_weak)
        return DTP_R_PEER_CERT_WEAK;
    if (gc->verify_status) {
        if (gc->verify_status & GNUTLS_CERT_REVOKED)
            return DTP_R_PEER_CERT_REVOKED;
        if (gc->verify_status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
            return DTP_R_PEER_CERT_EXPIRED;
        if (gc->verify_status & GNUTLS_CERT_INSECURE_ALGORITHM)
            return DTP_R_PEER_CERT_WEAK;
        return DTP_R_PEER_CERT_UNTRUSTED;
    }
    if (gc->outside_suite)
        return conn->ctx->role == DTP_ROLE_SERVER ? DTP_R_NO_SHARED_SUITE : DTP_R_OUTSIDE_PROFILE;
    /* A plaintext alert GnuTLS could not read as such. */
    if (in_handshake && conn->alert_received >= 0 && ret != GNUTLS_E_FATAL_ALERT_RECEIVED)
        return classify_alert(conn->alert_received, in_handshake);
    switch (ret) {
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
        return classify_alert((int)gnutls_alert_get(gc->s), in_handshake);
    case GNUTLS_E_PREMATURE_TERMINATION:
        return in_handshake ? DTP_R_HANDSHAKE_EOF : DTP_R_TRUNCATED;
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
        return in_handshake && dtp__conn_not_tls(conn) ? DTP_R_NOT_TLS : DTP_R_VERSION_REFUSED;
    case GNUTLS_E_INAPPROPRIATE_FALLBACK:
        return DTP_R_INAPPROPRIATE_FALLBACK;
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
    case GNUTLS_E_NO_COMMON_KEY_SHARE:
    case GNUTLS_E_ECC_NO_SUPPORTED_CURVES:
    case GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM:
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
    case GNUTLS_E_NO_PRIORITIES_WERE_SET:
        return DTP_R_NO_SHARED_SUITE;
    case GNUTLS_E_NO_APPLICATION_PROTOCOL:
        return DTP_R_ALPN_MISMATCH;
    case GNUTLS_E_DH_PRIME_UNACCEPTABLE:
        return DTP_R_EPHEMERAL_KEY_WEAK;
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
    case GNUTLS_E_CERTIFICATE_REQUIRED:
        return DTP_R_PEER_CERT_MISSING;
    case GNUTLS_E_CERTIFICATE_ERROR:
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
        return DTP_R_PEER_CERT_UNTRUSTED;
    case GNUTLS_E_DECRYPTION_FAILED:
        return DTP_R_RECORD_INTEGRITY;
    default:
        break;
    }
    return dtp__classify_other(conn, in_handshake);
}

static int gt_classify(dtp_conn *conn, enum dtp_io io, int saved_errno, bool in_handshake)
{
    struct gt_conn *gc = GCN(conn);
    struct dtp_error *e = &conn->error;
    int code;
    switch (io) {
    case DTP_IO_CLOSED:
    case DTP_IO_WANT_READ:
    case DTP_IO_WANT_WRITE:
    case DTP_IO_TRANSPORT:
        code = dtp__classify_io(conn, io, saved_errno, in_handshake);
        break;
    default:
        code = classify_ret(conn, gc->last_ret, in_handshake);
        if (gc->cert_detail[0] && code >= DTP_R_PEER_CERT_MISSING && code <= DTP_R_PEER_CERT_WEAK)
            snprintf(e->detail, sizeof e->detail, "%s", gc->cert_detail);
        else if (gc->outside_suite)
            snprintf(e->detail, sizeof e->detail, "GnuTLS: %s", gc->cert_detail);
        else
            snprintf(e->detail, sizeof e->detail, "GnuTLS: %s", gnutls_strerror(gc->last_ret));
        break;
    }
    gc->last_ret = 0;
    return code;
}

/* ---- what was negotiated ------------------------------------------------ */

void dtp__gt_oneline_dn(const char *rfc, char *out, size_t len)
{
    const char *parts[32];
    size_t plen[32], n = 0;
    const char *start = rfc;
    for (const char *c = rfc;; c++) {
        if (*c == '\\' && c[1]) {
            c++;
            continue;
        }
        if (*c == ',' || *c == '\0') {
            if (n < 32) {
                parts[n] = start;
                plen[n++] = (size_t)(c - start);
            }
            if (*c == '\0')
                break;
            start = c + 1;
        }
    }
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = n; i-- > 0 && used < len;)
        used += (size_t)snprintf(out + used, len - used, "/%.*s", (int)plen[i], parts[i]);
}

static void gt_negotiated(dtp_conn *conn, struct dtp_session_info *in)
{
    gnutls_session_t s = GCN(conn)->s;
    switch (gnutls_protocol_get_version(s)) {
    case GNUTLS_TLS1_0:
        in->version = DTP_TLS1_0;
        break;
    case GNUTLS_TLS1_1:
        in->version = DTP_TLS1_1;
        break;
    case GNUTLS_TLS1_2:
        in->version = DTP_TLS1_2;
        break;
    case GNUTLS_TLS1_3:
        in->version = DTP_TLS1_3;
        break;
    default:
        in->version = DTP_TLS_NONE;
        break;
    }
    const char *suite = session_suite(s);
    snprintf(in->suite, sizeof in->suite, "%s", suite ? suite : gnutls_ciphersuite_get(s));
    in->resumed = gnutls_session_is_resumed(s) != 0;
    in->ems = in->version >= DTP_TLS1_3 || gnutls_session_ext_master_secret_status(s) != 0;

    gnutls_datum_t alpn = {NULL, 0};
    if (gnutls_alpn_get_selected_protocol(s, &alpn) == 0 && alpn.data)
        snprintf(in->alpn, sizeof in->alpn, "%.*s", (int)(alpn.size < sizeof in->alpn ? alpn.size : sizeof in->alpn - 1),
                 (const char *)alpn.data);
    if (conn->ctx->role == DTP_ROLE_SERVER) {
        char name[256];
        size_t nlen = sizeof name;
        unsigned type = 0;
        if (gnutls_server_name_get(s, name, &nlen, &type, 0) == 0 && type == GNUTLS_NAME_DNS)
            snprintf(in->sni, sizeof in->sni, "%s", name);
    }

    gnutls_group_t g = gnutls_group_get(s);
    const char *gname = g != GNUTLS_GROUP_INVALID ? gnutls_group_get_name(g) : NULL;
    if (gname) {
        size_t k = 0;
        for (; gname[k] && k < sizeof in->group - 1; k++)
            in->group[k] = (char)(gname[k] >= 'A' && gname[k] <= 'Z' ? gname[k] + 32 : gname[k]);
        in->group[k] = '\0';
        in->kx_bits = dtp__group_bits(in->group);
        in->kx_finite_field = strncmp(in->group, "ffdhe", 5) == 0;
    }
    /* TLS 1.2 DHE: GnuTLS names an RFC 7919 group even when the server sent
     * other parameters; the prime says which it was. */
    if (in->kx_finite_field || gnutls_kx_get(s) == GNUTLS_KX_DHE_RSA || gnutls_kx_get(s) == GNUTLS_KX_DHE_DSS) {
        gnutls_datum_t gen = {NULL, 0}, prime = {NULL, 0};
        static const struct {
            const gnutls_datum_t *prime;
            const char *name;
        } named[] = {{&gnutls_ffdhe_2048_group_prime, "ffdhe2048"},
                     {&gnutls_ffdhe_3072_group_prime, "ffdhe3072"},
                     {&gnutls_ffdhe_4096_group_prime, "ffdhe4096"}};
        const char *name = "DH";
        if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3 && gnutls_dh_get_group(s, &gen, &prime) >= 0) {
            for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
                if (named[i].prime->size == prime.size && memcmp(named[i].prime->data, prime.data, prime.size) == 0)
                    name = named[i].name;
            snprintf(in->group, sizeof in->group, "%s", name);
            in->kx_finite_field = true;
            in->kx_bits = gnutls_dh_get_prime_bits(s); /* the size sent, not the name's */
        }
        gnutls_free(gen.data);
        gnutls_free(prime.data);
    }
    if (!in->group[0] && (gnutls_kx_get(s) == GNUTLS_KX_DHE_RSA || gnutls_kx_get(s) == GNUTLS_KX_DHE_DSS)) {
        /* TLS 1.2 DHE with explicit parameters */
        snprintf(in->group, sizeof in->group, "DH");
        in->kx_finite_field = true;
        in->kx_bits = gnutls_dh_get_prime_bits(s);
    }

    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
    gnutls_x509_crt_t crt;
    if (certs && n > 0 && gnutls_x509_crt_init(&crt) >= 0) {
        if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0) {
            gnutls_datum_t dn = {NULL, 0};
            if (gnutls_x509_crt_get_dn3(crt, &dn, GNUTLS_X509_DN_FLAG_COMPAT) >= 0 && dn.data)
                dtp__gt_oneline_dn((const char *)dn.data, in->peer_subject, sizeof in->peer_subject);
            gnutls_free(dn.data);
            const char *type;
            in->peer_key_bits = crt_key_bits(crt, &type);
            snprintf(in->peer_key_type, sizeof in->peer_key_type, "%s", type);
        }
        gnutls_x509_crt_deinit(crt);
    }
}

static size_t gt_peer_cert_der(dtp_conn *conn, void *buf, size_t len)
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(GCN(conn)->s, &n);
    if (!certs || n == 0)
        return 0;
    if (buf && len >= certs[0].size)
        memcpy(buf, certs[0].data, certs[0].size);
    return certs[0].size;
}

static int gt_cert_not_after(const dtp_ctx *ctx, long long *unix_time)
{
    const struct gt_ctx *gc = GC(ctx);
    if (!gc || !gc->have_own_cert || gc->own_not_after == -1)
        return DTP_R_CONFIG_INVALID;
    *unix_time = gc->own_not_after;
    return DTP_OK;
}

const struct dtp_backend dtp_backend_gnutls = {
    .name = "gnutls",
    .ctx_setup = gt_ctx_setup,
    .ctx_free = gt_ctx_free,
    .warm_up = NULL,
    .native_ctx = NULL,
    .describe = gt_describe,
    .suite_available = gt_suite_available,
    .conn_new = gt_conn_new,
    .conn_free = gt_conn_free,
    .set_server_name = gt_set_server_name,
    .handshake = gt_handshake,
    .read = gt_read,
    .peek = gt_peek,
    .write = gt_write,
    .pending = gt_pending,
    .buffered = gt_buffered,
    .shutdown = gt_shutdown,
    .negotiated = gt_negotiated,
    .classify = gt_classify,
    .clear_error = gt_clear_error,
    .peer_cert_der = gt_peer_cert_der,
    .cert_not_after = gt_cert_not_after,
};
