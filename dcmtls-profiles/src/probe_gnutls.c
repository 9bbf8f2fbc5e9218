/*
 * The GnuTLS half of dtp_probe_run (probe.c): one client handshake with
 * GnuTLS 3.7, for the Camellia-GCM suites OpenSSL 3.0 lacks (E3, K3, M21).
 * It offers suites, versions, groups, SNI, ALPN, a client certificate and
 * trust, nothing else (cannot_do: LOCAL). The priority string
 * starts from NONE and names exactly the suites asked for; GnuTLS enables
 * the product of key exchanges x ciphers x MACs, so a list whose product
 * holds a suite not asked for is refused here (LOCAL) rather than offered.
 * The outcome follows the same rule as OpenSSL's (dtp__probe_stopped).
 */
#include "probe_internal.h"
#include "internal.h"
#include "gnutls_be.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define VERDICT_MS 300 /* as probe.c: RFC 8446 4.4.2 */
#define MAX_OWN_CHAIN 8

struct dtp__gt_probe {
    const struct dtp_probe *probe;
    struct dtp_probe_result *out;
    struct dtp__probe_seen seen;
    gnutls_session_t s;
    gnutls_priority_t prio;
    gnutls_certificate_credentials_t cred;
    gnutls_pcert_st pcert[MAX_OWN_CHAIN];
    unsigned npcert;
    gnutls_privkey_t key;
    int fd;
    int io_errno; /* errno of the last failed send/recv */
    long long deadline;
    int timeout_ms;
};

static const char *cannot_do(const struct dtp_probe *p)
{
    if (p->max_version < DTP_TLS1_0)
        return "offer SSL 3.0";
    if (p->compression)
        return "offer compression";
    if (p->renegotiate)
        return "renegotiate";
    if (p->no_ems)
        return "leave out extended_master_secret";
    if (p->fallback_scsv)
        return "send TLS_FALLBACK_SCSV";
    if (p->sigalgs)
        return "restrict the signature algorithms";
    return NULL;
}

/* ---- the priority string ------------------------------------------------ */

struct strbuf {
    char *s;
    size_t len;
    bool overflow;
};

/* Appends ":+name" once. */
static void add(struct strbuf *b, const char *name)
{
    char tok[96];
    snprintf(tok, sizeof tok, ":+%s", name);
    const char *hit = strstr(b->s, tok);
    size_t n = strlen(tok), used = strlen(b->s);
    if (hit && (hit[n] == ':' || hit[n] == '\0'))
        return;
    if ((size_t)snprintf(b->s + used, b->len - used, "%s", tok) >= b->len - used)
        b->overflow = true;
}

/* The GnuTLS suite with this code point: its index, or -1. */
static int gnutls_suite_index(unsigned code)
{
    unsigned char id[2];
    for (size_t i = 0; gnutls_cipher_suite_info(i, id, NULL, NULL, NULL, NULL) != NULL; i++)
        if ((unsigned)(id[0] << 8 | id[1]) == code)
            return (int)i;
    return -1;
}

/* Key exchange, cipher and MAC of each suite asked for (TLS 1.3 suites
 * name no key exchange); NULL or why not. */
static const char *add_suites(struct strbuf *b, const char *const *suites)
{
    for (size_t i = 0; suites[i]; i++) {
        int code = dtp__probe_suite_code(suites[i]);
        int idx = code < 0 ? -1 : gnutls_suite_index((unsigned)code);
        if (idx < 0)
            return suites[i];
        unsigned char id[2];
        gnutls_kx_algorithm_t kx;
        gnutls_cipher_algorithm_t cipher;
        gnutls_mac_algorithm_t mac;
        gnutls_cipher_suite_info((size_t)idx, id, &kx, &cipher, &mac, NULL);
        const char *kx_name = kx != GNUTLS_KX_UNKNOWN ? gnutls_kx_get_name(kx) : NULL;
        if (kx_name)
            add(b, kx_name);
        add(b, gnutls_cipher_get_name(cipher));
        add(b, gnutls_mac_get_name(mac));
    }
    return NULL;
}

static void add_groups(struct strbuf *b, const char *const *groups)
{
    if (!groups) {
        add(b, "GROUP-ALL");
        return;
    }
    for (size_t i = 0; groups[i]; i++) {
        char name[48] = "GROUP-";
        size_t k = strlen(name);
        for (const char *c = groups[i]; *c && k < sizeof name - 1; c++)
            name[k++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        name[k] = '\0';
        add(b, name);
    }
}

/* The probe's offer as a priority string; false (out set LOCAL) if a suite
 * has no GnuTLS equivalent. */
static bool build_priority(const struct dtp_probe *p, char *out, size_t len, struct dtp_probe_result *res)
{
    static const struct {
        int v;
        const char *name;
    } vers[] = {{DTP_TLS1_3, "VERS-TLS1.3"}, {DTP_TLS1_2, "VERS-TLS1.2"}, {DTP_TLS1_1, "VERS-TLS1.1"},
                {DTP_TLS1_0, "VERS-TLS1.0"}};
    struct strbuf b = {out, len, false};
    snprintf(out, len, "%s", p->suites ? "NONE" : "NORMAL:-VERS-ALL:-GROUP-ALL");
    for (size_t i = 0; i < sizeof vers / sizeof vers[0]; i++)
        if (vers[i].v >= p->min_version && vers[i].v <= p->max_version)
            add(&b, vers[i].name);
    const char *missing = p->suites ? add_suites(&b, p->suites) : NULL;
    if (missing) {
        dtp__probe_set(res, DTP_PROBE_LOCAL, "GnuTLS %s lacks %s", gnutls_check_version(NULL), missing);
        return false;
    }
    add_groups(&b, p->groups);
    if (p->suites)
        add(&b, "SIGN-ALL"), add(&b, "COMP-NULL"), add(&b, "CTYPE-X509");
    if (b.overflow)
        dtp__probe_set(res, DTP_PROBE_LOCAL, "too many suites for one GnuTLS priority string");
    return !b.overflow;
}

static bool asked_for(const char *const *suites, const unsigned char id[2])
{
    for (size_t i = 0; suites[i]; i++)
        if (dtp__probe_suite_code(suites[i]) == (id[0] << 8 | id[1]))
            return true;
    return false;
}

/* The priority, refused (LOCAL) when its kx x cipher x MAC product offers
 * a suite that was not asked for: the probe offers exactly its list. */
static bool init_priority(struct dtp__gt_probe *g)
{
    char prio[2048];
    const char *where = NULL;
    if (!build_priority(g->probe, prio, sizeof prio, g->out))
        return false;
    int r = gnutls_priority_init2(&g->prio, prio, &where, 0);
    if (r < 0) {
        g->prio = NULL;
        dtp__probe_set(g->out, DTP_PROBE_LOCAL, "GnuTLS refuses the priority string at '%.60s': %s", where ? where : "?",
                       gnutls_strerror(r));
        return false;
    }
    unsigned sidx;
    for (unsigned i = 0; g->probe->suites && (r = gnutls_priority_get_cipher_suite_index(g->prio, i, &sidx)) !=
                                                 GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
         i++) {
        unsigned char id[2] = {0, 0};
        const char *name = r < 0 ? NULL : gnutls_cipher_suite_info(sidx, id, NULL, NULL, NULL, NULL);
        bool tls13_out_of_range = id[0] == 0x13 && g->probe->max_version < DTP_TLS1_3;
        if (name && !tls13_out_of_range && !asked_for(g->probe->suites, id)) {
            dtp__probe_set(g->out, DTP_PROBE_LOCAL, "GnuTLS would also offer %s with these algorithms", name);
            return false;
        }
    }
    return true;
}

/* ---- credentials ---------------------------------------------------------- */

/* The client certificate is presented whatever CAs the server names (as
 * OpenSSL's client does): the server then judges it. */
static int retrieve_own(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn, int nreqs,
                        const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
                        unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    struct dtp__gt_probe *g = gnutls_session_get_ptr(s);
    *pcert = g->pcert;
    *pcert_length = g->npcert;
    *privkey = g->key;
    return 0;
}

static bool load_client_cert(struct dtp__gt_probe *g)
{
    const struct dtp_probe *p = g->probe;
    unsigned n = MAX_OWN_CHAIN;
    gnutls_datum_t d = {NULL, 0};
    int r = gnutls_pcert_list_import_x509_file(g->pcert, &n, p->cert_file, GNUTLS_X509_FMT_PEM, NULL, NULL, 0);
    if (r >= 0) {
        g->npcert = n;
        r = gnutls_load_file(p->key_file, &d);
    }
    if (r >= 0 && (r = gnutls_privkey_init(&g->key)) >= 0)
        r = gnutls_privkey_import_x509_raw(g->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (d.data) {
        memset(d.data, 0, d.size);
        gnutls_free(d.data);
    }
    if (r < 0) {
        dtp__probe_set(g->out, DTP_PROBE_LOCAL, "cannot use client certificate %.80s with key %.80s: %s", p->cert_file,
                       p->key_file, gnutls_strerror(r));
        return false;
    }
    gnutls_certificate_set_retrieve_function2(g->cred, retrieve_own);
    return true;
}

static bool init_credentials(struct dtp__gt_probe *g)
{
    const struct dtp_probe *p = g->probe;
    int r = gnutls_certificate_allocate_credentials(&g->cred);
    if (r >= 0 && p->ca_file)
        r = gnutls_certificate_set_x509_trust_file(g->cred, p->ca_file, GNUTLS_X509_FMT_PEM);
    if (r >= 0 && p->ca_dir)
        r = gnutls_certificate_set_x509_trust_dir(g->cred, p->ca_dir, GNUTLS_X509_FMT_PEM);
    if (r < 0) {
        dtp__probe_set(g->out, DTP_PROBE_LOCAL, "cannot load trusted CAs: %s", gnutls_strerror(r));
        return false;
    }
    return !p->cert_file || load_client_cert(g);
}

/* ---- the session ------------------------------------------------------------ */

static ssize_t push_fn(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    struct dtp__gt_probe *g = ptr;
    return dtp__gt_send(g->s, g->fd, buf, len, &g->io_errno);
}

/* recv, noting the server's first bytes (C1). */
static ssize_t pull_fn(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
    struct dtp__gt_probe *g = ptr;
    ssize_t n = dtp__gt_recv(g->s, g->fd, buf, len, &g->io_errno);
    if (n > 0)
        dtp__probe_seen_bytes(&g->seen, buf, (size_t)n);
    return n;
}

static int pull_timeout_fn(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    struct dtp__gt_probe *g = ptr;
    long long until = dtp__probe_now() + (ms == GNUTLS_INDEFINITE_TIMEOUT ? 0 : ms);
    return dtp__probe_wait(g->fd, POLLIN, ms == GNUTLS_INDEFINITE_TIMEOUT || until > g->deadline ? g->deadline : until);
}

/* The server's CertificateRequest and TLS 1.3 NewSessionTicket. */
static int hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming, const gnutls_datum_t *msg)
{
    (void)when;
    (void)msg;
    struct dtp__gt_probe *g = gnutls_session_get_ptr(s);
    if (incoming && htype == GNUTLS_HANDSHAKE_CERTIFICATE_REQUEST)
        g->seen.cert_requested = true;
    if (incoming && htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET)
        g->seen.ticket = true;
    return 0;
}

static bool init_session(struct dtp__gt_probe *g)
{
    const struct dtp_probe *p = g->probe;
    int r = gnutls_init(&g->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    if (r < 0) {
        g->s = NULL;
    } else {
        gnutls_session_set_ptr(g->s, g);
        gnutls_transport_set_ptr(g->s, g);
        gnutls_transport_set_push_function(g->s, push_fn);
        gnutls_transport_set_pull_function(g->s, pull_fn);
        gnutls_transport_set_pull_timeout_function(g->s, pull_timeout_fn);
        gnutls_handshake_set_hook_function(g->s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_POST, hook);
        gnutls_dh_set_prime_bits(g->s, 512); /* a probe: see the server's DH, however weak */
        if ((r = gnutls_priority_set(g->s, g->prio)) >= 0)
            r = gnutls_credentials_set(g->s, GNUTLS_CRD_CERTIFICATE, g->cred);
        if (r >= 0 && p->server_name)
            r = gnutls_server_name_set(g->s, GNUTLS_NAME_DNS, p->server_name, strlen(p->server_name));
        gnutls_datum_t proto = {(unsigned char *)(uintptr_t)p->alpn, p->alpn ? (unsigned)strlen(p->alpn) : 0};
        if (r >= 0 && p->alpn)
            r = gnutls_alpn_set_protocols(g->s, &proto, 1, 0);
    }
    if (r < 0)
        dtp__probe_set(g->out, DTP_PROBE_LOCAL, "GnuTLS session setup: %s", gnutls_strerror(r));
    return r >= 0;
}

/* After a GnuTLS call that returned ret < 0: 0 go on (the socket is
 * ready), -1 stopped with the outcome set. */
static int settle(struct dtp__gt_probe *g, int ret, long long deadline)
{
    if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
        int w = dtp__probe_wait(g->fd, gnutls_record_get_direction(g->s) ? POLLOUT : POLLIN, deadline);
        if (w > 0)
            return 0;
        dtp__probe_stopped(g->out, &g->seen, w == 0 ? DTP__STOP_TIMEOUT : DTP__STOP_ERRNO, errno, "", g->timeout_ms);
        return -1;
    }
    if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED || !gnutls_error_is_fatal(ret)) {
        if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED)
            g->seen.warning = (int)gnutls_alert_get(g->s);
        return 0;
    }
    enum dtp__probe_stop why = DTP__STOP_TLS;
    if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
        g->seen.alert = (int)gnutls_alert_get(g->s);
    else if (ret == GNUTLS_E_PREMATURE_TERMINATION || ret == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)
        why = DTP__STOP_EOF;
    else if ((ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PUSH_ERROR) && g->io_errno)
        why = DTP__STOP_ERRNO;
    dtp__probe_stopped(g->out, &g->seen, why, g->io_errno, gnutls_strerror(ret), g->timeout_ms);
    return -1;
}

static bool run_handshake(struct dtp__gt_probe *g)
{
    for (;;) {
        int ret = gnutls_handshake(g->s);
        if (ret == 0)
            return true;
        if (settle(g, ret, g->deadline) < 0)
            return false;
    }
}

/* TLS 1.3 (RFC 8446 4.4.2): the verdict on the client's certificate comes
 * after the handshake; as probe.c's await_verdict. */
static bool await_verdict(struct dtp__gt_probe *g)
{
    long long until = dtp__probe_now() + VERDICT_MS;
    if (until > g->deadline)
        until = g->deadline;
    for (;;) {
        char buf[512];
        ssize_t n = gnutls_record_recv(g->s, buf, sizeof buf);
        if (n > 0 || g->seen.ticket)
            return true;
        if (n == 0) {
            dtp__probe_stopped(g->out, &g->seen, DTP__STOP_EOF, 0, "", g->timeout_ms);
            return false;
        }
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
            int w = dtp__probe_wait(g->fd, POLLIN, until);
            if (w == 0)
                return true; /* silence: accepted */
            if (w < 0) {
                dtp__probe_stopped(g->out, &g->seen, DTP__STOP_ERRNO, errno, "", g->timeout_ms);
                return false;
            }
        } else if (settle(g, (int)n, until) < 0) {
            return false;
        }
    }
}

/* ---- what was negotiated --------------------------------------------------- */

static int version_of(gnutls_session_t s)
{
    switch (gnutls_protocol_get_version(s)) {
    case GNUTLS_TLS1_0:
        return DTP_TLS1_0;
    case GNUTLS_TLS1_1:
        return DTP_TLS1_1;
    case GNUTLS_TLS1_2:
        return DTP_TLS1_2;
    case GNUTLS_TLS1_3:
        return DTP_TLS1_3;
    default:
        return DTP_TLS_NONE;
    }
}

/* The IANA name of the session's suite, from its code point. */
static void fill_suite(gnutls_session_t s, int version, struct dtp_probe_result *out)
{
    gnutls_kx_algorithm_t kx = gnutls_kx_get(s), skx;
    gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(s), sc;
    gnutls_mac_algorithm_t mac = gnutls_mac_get(s), sm;
    gnutls_protocol_t minver;
    unsigned char id[2];
    for (size_t i = 0; gnutls_cipher_suite_info(i, id, &skx, &sc, &sm, &minver) != NULL; i++) {
        bool tls13 = minver == GNUTLS_TLS1_3;
        if (sc == cipher && sm == mac && tls13 == (version == DTP_TLS1_3) && (tls13 || skx == kx)) {
            const char *iana = dtp__probe_suite_name((unsigned)(id[0] << 8 | id[1]));
            snprintf(out->suite, sizeof out->suite, "%s", iana ? iana : gnutls_ciphersuite_get(s));
            return;
        }
    }
    snprintf(out->suite, sizeof out->suite, "%s", gnutls_ciphersuite_get(s));
}

/* The group by name (lower case, IANA); TLS 1.2 DHE by its prime: an
 * RFC 7919 group's name, else "dh", with the prime's bits. */
static void fill_group(gnutls_session_t s, int version, struct dtp_probe_result *out)
{
    gnutls_group_t grp = gnutls_group_get(s);
    const char *name = grp != GNUTLS_GROUP_INVALID ? gnutls_group_get_name(grp) : NULL;
    size_t k = 0;
    for (; name && name[k] && k < sizeof out->group - 1; k++)
        out->group[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
    out->group[k] = '\0';
    out->group_bits = dtp__group_bits(out->group);
    gnutls_kx_algorithm_t kx = gnutls_kx_get(s);
    gnutls_datum_t gen = {NULL, 0}, prime = {NULL, 0};
    if (version <= DTP_TLS1_2 && (kx == GNUTLS_KX_DHE_RSA || kx == GNUTLS_KX_DHE_DSS) &&
        gnutls_dh_get_group(s, &gen, &prime) >= 0) {
        static const struct {
            const gnutls_datum_t *prime;
            const char *name;
        } named[] = {{&gnutls_ffdhe_2048_group_prime, "ffdhe2048"},
                     {&gnutls_ffdhe_3072_group_prime, "ffdhe3072"},
                     {&gnutls_ffdhe_4096_group_prime, "ffdhe4096"}};
        snprintf(out->group, sizeof out->group, "dh");
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
            if (named[i].prime->size == prime.size && memcmp(named[i].prime->data, prime.data, prime.size) == 0)
                snprintf(out->group, sizeof out->group, "%s", named[i].name);
        out->group_bits = gnutls_dh_get_prime_bits(s);
    }
    gnutls_free(gen.data);
    gnutls_free(prime.data);
}

static void fill_dn(gnutls_x509_crt_t crt, bool issuer, char *out, size_t len)
{
    gnutls_datum_t dn = {NULL, 0};
    int r = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, GNUTLS_X509_DN_FLAG_COMPAT)
                   : gnutls_x509_crt_get_dn3(crt, &dn, GNUTLS_X509_DN_FLAG_COMPAT);
    if (r >= 0 && dn.data)
        dtp__gt_oneline_dn((const char *)dn.data, out, len);
    gnutls_free(dn.data);
}

static void fill_key(gnutls_x509_crt_t crt, struct dtp_cert_info *ci)
{
    static const struct {
        int algo;
        const char *type;
    } types[] = {{GNUTLS_PK_RSA, "RSA"},        {GNUTLS_PK_RSA_PSS, "RSA-PSS"},         {GNUTLS_PK_ECDSA, "EC"},
                 {GNUTLS_PK_DSA, "DSA"},        {GNUTLS_PK_EDDSA_ED25519, "Ed25519"}, {GNUTLS_PK_EDDSA_ED448, "Ed448"}};
    unsigned bits = 0;
    int algo = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    snprintf(ci->key_type, sizeof ci->key_type, "other");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].algo == algo)
            snprintf(ci->key_type, sizeof ci->key_type, "%s", types[i].type);
    /* Ed25519 counts 255 bits, as the library counts X25519 (E5, M17). */
    ci->key_bits = algo == GNUTLS_PK_EDDSA_ED25519 ? 255 : algo == GNUTLS_PK_EDDSA_ED448 ? 448 : (int)bits;
}

static void fill_cert(const gnutls_datum_t *der, struct dtp_cert_info *ci)
{
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0) {
        fill_dn(crt, false, ci->subject, sizeof ci->subject);
        fill_dn(crt, true, ci->issuer, sizeof ci->issuer);
        fill_key(crt, ci);
        int sign = gnutls_x509_crt_get_signature_algorithm(crt);
        gnutls_digest_algorithm_t dig =
            sign < 0 ? GNUTLS_DIG_UNKNOWN : gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sign);
        if (dig != GNUTLS_DIG_UNKNOWN) {
            snprintf(ci->sig_hash, sizeof ci->sig_hash, "%s", gnutls_digest_get_name(dig));
            ci->sig_hash_bits = (int)gnutls_hash_get_len(dig) * 8;
        }
        ci->not_before = (long long)gnutls_x509_crt_get_activation_time(crt);
        ci->not_after = (long long)gnutls_x509_crt_get_expiration_time(crt);
        ci->self_signed = gnutls_x509_crt_check_issuer(crt, crt) != 0;
    }
    gnutls_x509_crt_deinit(crt);
}

/* The server's chain as sent, and its verification against the probe's
 * CAs (after the handshake, never enforced). */
static void fill_chain(struct dtp__gt_probe *g)
{
    struct dtp_probe_result *out = g->out;
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(g->s, &n);
    for (unsigned i = 0; certs && i < n && out->chain_len < DTP_PROBE_MAX_CHAIN; i++)
        fill_cert(&certs[i], &out->chain[out->chain_len++]);
    unsigned status = 0;
    if (!out->chain_len || (!g->probe->ca_file && !g->probe->ca_dir))
        return;
    if (gnutls_certificate_verify_peers2(g->s, &status) < 0)
        status |= GNUTLS_CERT_INVALID;
    out->verify_result = (int)status;
    gnutls_datum_t words = {NULL, 0};
    if (status && out->outcome == DTP_PROBE_ACCEPTED &&
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &words, 0) >= 0)
        dtp__probe_note(out, "; certificate: %s (%u)", (const char *)words.data, status);
    gnutls_free(words.data);
}

static void fill_accepted(struct dtp__gt_probe *g)
{
    gnutls_session_t s = g->s;
    struct dtp_probe_result *out = g->out;
    out->version = version_of(s);
    fill_suite(s, out->version, out);
    fill_group(s, out->version, out);
    /* TLS 1.3 binds every session to its handshake (RFC 8446 7.1). */
    out->ems = out->version >= DTP_TLS1_3 || gnutls_session_ext_master_secret_status(s) != 0;
    out->secure_renegotiation = out->version <= DTP_TLS1_2 && gnutls_safe_renegotiation_status(s) != 0;
    gnutls_datum_t alpn = {NULL, 0};
    if (gnutls_alpn_get_selected_protocol(s, &alpn) == 0 && alpn.data)
        snprintf(out->alpn, sizeof out->alpn, "%.*s",
                 (int)(alpn.size < sizeof out->alpn ? alpn.size : sizeof out->alpn - 1), (const char *)alpn.data);
    dtp__probe_set(out, DTP_PROBE_ACCEPTED, "%s %s%s%s", dtp__probe_version_name(out->version), out->suite,
                   out->group[0] ? " " : "", out->group);
}

struct dtp__gt_probe *dtp__probe_gnutls_new(const struct dtp_probe *probe, struct dtp_probe_result *out)
{
    const char *cannot = cannot_do(probe);
    if (cannot) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "the gnutls probe cannot %s", cannot);
        return NULL;
    }
    struct dtp__gt_probe *g = calloc(1, sizeof *g);
    if (!g) {
        dtp__probe_set(out, DTP_PROBE_LOCAL, "out of memory");
        return NULL;
    }
    g->probe = probe;
    g->out = out;
    dtp__probe_seen_init(&g->seen);
    if (init_priority(g) && init_credentials(g))
        return g;
    dtp__probe_gnutls_free(g);
    return NULL;
}

void dtp__probe_gnutls_free(struct dtp__gt_probe *g)
{
    if (!g)
        return;
    if (g->s)
        gnutls_deinit(g->s);
    if (g->prio)
        gnutls_priority_deinit(g->prio);
    if (g->cred)
        gnutls_certificate_free_credentials(g->cred);
    for (unsigned i = 0; i < g->npcert; i++)
        gnutls_pcert_deinit(&g->pcert[i]);
    if (g->key)
        gnutls_privkey_deinit(g->key);
    free(g);
}

void dtp__probe_gnutls_run(struct dtp__gt_probe *g, int fd, long long deadline, int timeout_ms)
{
    g->fd = fd;
    g->deadline = deadline;
    g->timeout_ms = timeout_ms;
    if (!init_session(g))
        return;
    if (run_handshake(g)) {
        bool ok = version_of(g->s) != DTP_TLS1_3 || !g->seen.cert_requested || await_verdict(g);
        if (ok) {
            fill_accepted(g);
            gnutls_bye(g->s, GNUTLS_SHUT_WR); /* close_notify; non-blocking, once */
        } else {
            dtp__probe_note(g->out, " after the handshake");
        }
    }
    g->out->cert_requested = g->seen.cert_requested;
    fill_chain(g);
}
