/*
 * A server scan's plan and grade (include/dtp/check.h): which probes to
 * make, built from the profile table, and what their results mean under
 * one profile row. Plain data in, plain data out: no TLS library, no
 * allocation, no global state.
 *
 * The grader never asks which profile it grades: every requirement ID and
 * level a finding carries comes from the row's reqs (struct
 * dtp_profile_reqs in dtp.h), every limit from the row's other fields
 * (min_dhe_bits, tls12_suites, ...). A rule whose ID is NULL in the row
 * does not apply; a rule of level info reports and never fails.
 */
#include "internal.h"
#include "grade.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Offers: static tables the probes point into                          */

#define TLS13_FIVE                                                                                                     \
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",     \
        "TLS_AES_128_CCM_8_SHA256"
#define TLS12_ECDHE_AEAD                                                                                               \
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",                               \
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",                           \
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",               \
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", \
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"
#define TLS12_DHE_AEAD                                                                                                 \
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",                                     \
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_DHE_RSA_WITH_AES_128_CCM", "TLS_DHE_RSA_WITH_AES_256_CCM"
/* CBC and static RSA: what TLS 1.0/1.1 servers (B2) and old stacks have. */
#define TLS_CBC_SHA                                                                                                    \
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",                                     \
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",                                 \
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",       \
        "TLS_RSA_WITH_AES_256_CBC_SHA"
#define TLS12_OTHER                                                                                                    \
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",                               \
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",                           \
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",  \
        "TLS_RSA_WITH_AES_128_CBC_SHA256"

static const char *const tls13_offer[] = {TLS13_FIVE, NULL};
/* SSL 3.0, TLS 1.0, TLS 1.1: suites those versions can negotiate. */
static const char *const old_offer[] = {TLS_CBC_SHA, NULL};
/* TLS 1.2 alone: AEAD first, then everything a TLS 1.2 server may have. */
static const char *const tls12_offer[] = {TLS12_ECDHE_AEAD, TLS12_DHE_AEAD, TLS12_OTHER, TLS_CBC_SHA, NULL};
/* TLS 1.2 and 1.3: the server's choice among all of them. */
static const char *const broad_offer[] = {TLS13_FIVE, TLS12_ECDHE_AEAD, TLS12_DHE_AEAD, TLS12_OTHER, TLS_CBC_SHA, NULL};
/* A group alone: only suites that use that kind of group, so the server
 * cannot complete the handshake with another key exchange. */
static const char *const ecdhe_offer[] = {TLS13_FIVE, TLS12_ECDHE_AEAD, NULL};
static const char *const dhe_offer[] = {TLS13_FIVE, TLS12_DHE_AEAD, NULL};
/* R32, M10: a client with nothing but SHA-1 signatures. */
static const char *const sha1_sigalgs[] = {"rsa_pkcs1_sha1", "ecdsa_sha1", NULL};

/* Every suite a SUITE probe offers alone, each as a NULL-terminated list of
 * one. Every suite a profile row names (its offers and its reqs) is here
 * (test_scan checks it); `unlisted` marks the suites no profile allows
 * that a scan probes anyway: CBC, static RSA, 3DES, RC4, DES, NULL,
 * export, anonymous, ARIA, Camellia-CBC. */
static const struct {
    const char *const one[2];
    bool unlisted;
} suite_table[] = {
    {{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, false},
    {{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}, false},
    {{"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"}, false},
    {{"TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}, false},
    {{"TLS_RSA_WITH_AES_128_CBC_SHA"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384"}, false},
    {{"TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"}, false},
    {{"TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"}, false},
    {{"TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"}, false},
    {{"TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_AES_128_CCM"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_AES_256_CCM"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"}, false},
    {{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}, false},
    {{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}, false},
    {{"TLS_DHE_RSA_WITH_AES_128_CCM"}, false},
    {{"TLS_DHE_RSA_WITH_AES_256_CCM"}, false},
    {{"TLS_DHE_RSA_WITH_AES_128_CCM_8"}, false},
    {{"TLS_DHE_RSA_WITH_AES_256_CCM_8"}, false},
    {{"TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}, false},
    {{"TLS_AES_128_GCM_SHA256"}, false},
    {{"TLS_AES_256_GCM_SHA384"}, false},
    {{"TLS_CHACHA20_POLY1305_SHA256"}, false},
    {{"TLS_AES_128_CCM_SHA256"}, false},
    {{"TLS_AES_128_CCM_8_SHA256"}, false},
    /* allowed by no profile */
    {{"TLS_RSA_WITH_AES_128_CBC_SHA256"}, true},
    {{"TLS_RSA_WITH_AES_128_GCM_SHA256"}, true},
    {{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"}, true},
    {{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"}, true},
    {{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"}, true},
    {{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"}, true},
    {{"TLS_DHE_RSA_WITH_AES_128_CBC_SHA"}, true},
    {{"TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"}, true},
    {{"TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256"}, true},
    {{"TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"}, true},
    {{"TLS_RSA_WITH_3DES_EDE_CBC_SHA"}, true},
    {{"TLS_RSA_WITH_RC4_128_SHA"}, true},
    {{"TLS_RSA_WITH_DES_CBC_SHA"}, true},
    {{"TLS_RSA_EXPORT_WITH_RC4_40_MD5"}, true},
    {{"TLS_RSA_WITH_NULL_SHA256"}, true},
    {{"TLS_ECDHE_ECDSA_WITH_NULL_SHA"}, true},
    {{"TLS_DH_anon_WITH_AES_128_GCM_SHA256"}, true},
};

/* Every group a GROUP probe offers alone (IANA names). secp224r1 is the
 * smallest group OpenSSL still offers; a DH group below 2048 bits cannot
 * be offered (the DHE suite probes show the size the server picks). */
static const char *const group_table[][2] = {
    {"x25519"}, {"secp256r1"}, {"secp384r1"}, {"secp521r1"}, {"x448"},
    {"ffdhe2048"}, {"ffdhe3072"}, {"ffdhe4096"}, {"secp224r1"},
};

static const struct {
    const char *name; /* param of a VERSION probe */
    int version;
    const char *const *offer;
} version_table[] = {
    {"SSLv3", DTP_SSL3_0, old_offer},     {"TLSv1.0", DTP_TLS1_0, old_offer},     {"TLSv1.1", DTP_TLS1_1, old_offer},
    {"TLSv1.2", DTP_TLS1_2, tls12_offer}, {"TLSv1.3", DTP_TLS1_3, tls13_offer},
};

const char *dtp_probe_kind_name(int kind)
{
    static const char *const names[] = {"preferred",     "version",      "suite",          "group",
                                        "fallback-scsv", "compression",  "renegotiation",  "no-ems",
                                        "sha1-sigalgs",  "no-client-cert", "alpn-other", "tls13-offer"};
    return kind >= 0 && (size_t)kind < COUNT(names) ? names[kind] : "unknown";
}

/* ------------------------------------------------------------------ */
/* Names                                                                */

static bool has(const char *s, const char *part) { return strstr(s, part) != NULL; }

/* Whether the row names the suite: offers it or a requirement lists it. */
static bool row_names_suite(const struct dtp_profile *p, const char *s)
{
    const struct dtp_profile_reqs *q = &p->reqs;
    return dtp__in_list(p->tls12_suites, s) || dtp__in_list(p->fallback_suites, s) ||
           dtp__in_list(p->tls13_suites, s) || dtp__in_list(q->required_tls12.suites, s) ||
           dtp__in_list(q->required_tls13.suites, s) || dtp__in_list(q->recommended.suites, s) ||
           dtp__in_list(q->allowed.suites, s);
}

/* ------------------------------------------------------------------ */
/* 1. The plan                                                          */

struct plan {
    const struct dtp_scan_options *opt;
    struct dtp_scan_entry *entries;
    size_t max, n;
    const char *alpn; /* the first ALPN id of the table ("dicom") */
};

/* A new entry with the options every probe shares; NULL when full. */
static struct dtp_scan_entry *plan_add(struct plan *pl, int kind, const char *param, int min, int max,
                                       const char *const *suites)
{
    if (pl->n >= pl->max)
        return NULL;
    struct dtp_scan_entry *e = &pl->entries[pl->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    dtp__fmt(e->param, sizeof e->param, "%s", param);
    struct dtp_probe *pr = &e->probe;
    pr->min_version = min;
    pr->max_version = max;
    pr->suites = suites;
    pr->server_name = pl->opt->server_name;
    pr->cert_file = pl->opt->cert_file;
    pr->key_file = pl->opt->key_file;
    pr->ca_file = pl->opt->ca_file;
    pr->ca_dir = pl->opt->ca_dir;
    pr->timeout_ms = pl->opt->timeout_ms;
    /* Until the caller runs it, the probe reads as "not checked". */
    e->result.outcome = DTP_PROBE_LOCAL;
    e->result.alert = -1;
    e->result.version = DTP_TLS_NONE;
    e->result.verify_result = -1;
    dtp__fmt(e->result.detail, sizeof e->result.detail, "not run");
    return e;
}

static bool planned(const struct plan *pl, int kind, const char *param)
{
    for (size_t i = 0; i < pl->n; i++)
        if (pl->entries[i].kind == kind && strcmp(pl->entries[i].param, param) == 0)
            return true;
    return false;
}

static void plan_suite(struct plan *pl, const char *name)
{
    if (planned(pl, DTP_PK_SUITE, name))
        return;
    for (size_t t = 0; t < COUNT(suite_table); t++) {
        if (strcmp(suite_table[t].one[0], name) != 0)
            continue;
        int v = dtp__suite_is_tls13(name) ? DTP_TLS1_3 : DTP_TLS1_2;
        struct dtp_scan_entry *e = plan_add(pl, DTP_PK_SUITE, name, v, v, suite_table[t].one);
        if (!e)
            return;
        for (size_t i = 0; i < dtp_profile_count(); i++)
            if (row_names_suite(dtp_profile_at(i), name))
                dtp__append_word(e->listed_by, sizeof e->listed_by, dtp_profile_at(i)->key);
        if (!e->listed_by[0])
            dtp__fmt(e->listed_by, sizeof e->listed_by, "none");
        /* OpenSSL has no Camellia-GCM suite; GnuTLS has all six (E3, K3, M22). */
        if (pl->opt->with_gnutls && has(name, "_CAMELLIA_") && has(name, "_GCM_"))
            e->probe.backend = "gnutls";
        return;
    }
}

size_t dtp_scan_plan(const struct dtp_scan_options *opt, struct dtp_scan_entry *entries, size_t max)
{
    static const struct dtp_scan_options none = {0};
    struct plan pl = {opt ? opt : &none, entries, entries ? max : 0, 0, NULL};
    for (size_t i = 0; i < dtp_profile_count() && !pl.alpn; i++)
        pl.alpn = dtp_profile_at(i)->alpn;

    struct dtp_scan_entry *e = plan_add(&pl, DTP_PK_PREFERRED, "", DTP_TLS1_2, DTP_TLS1_3, broad_offer);
    if (e)
        e->probe.alpn = pl.alpn;
    plan_add(&pl, DTP_PK_TLS13_OFFER, "", DTP_TLS1_2, DTP_TLS1_3, broad_offer);

    for (size_t v = 0; v < COUNT(version_table); v++) {
        int ver = version_table[v].version;
        e = plan_add(&pl, DTP_PK_VERSION, version_table[v].name, ver, ver, version_table[v].offer);
        for (size_t i = 0; e && i < dtp_profile_count(); i++) {
            const struct dtp_profile *p = dtp_profile_at(i);
            if (ver >= p->min_version && ver <= p->max_version)
                dtp__append_word(e->listed_by, sizeof e->listed_by, p->key);
        }
        if (e && !e->listed_by[0])
            dtp__fmt(e->listed_by, sizeof e->listed_by, "none");
    }

    /* Every suite of every row, in table order, each once. */
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        const char *const *lists[] = {p->tls12_suites,
                                      p->fallback_suites,
                                      p->tls13_suites,
                                      p->reqs.required_tls12.suites,
                                      p->reqs.required_tls13.suites,
                                      p->reqs.recommended.suites,
                                      p->reqs.allowed.suites};
        for (size_t l = 0; l < COUNT(lists); l++)
            for (size_t s = 0; lists[l] && lists[l][s]; s++)
                plan_suite(&pl, lists[l][s]);
    }
    for (size_t t = 0; t < COUNT(suite_table); t++)
        if (suite_table[t].unlisted)
            plan_suite(&pl, suite_table[t].one[0]);

    for (size_t g = 0; g < COUNT(group_table); g++) {
        const char *name = group_table[g][0];
        e = plan_add(&pl, DTP_PK_GROUP, name, DTP_TLS1_2, DTP_TLS1_3,
                     dtp__group_is_ff(name) ? dhe_offer : ecdhe_offer);
        if (!e)
            break;
        e->probe.groups = group_table[g];
        for (size_t i = 0; i < dtp_profile_count(); i++)
            if (dtp__in_list(dtp_profile_at(i)->groups, name))
                dtp__append_word(e->listed_by, sizeof e->listed_by, dtp_profile_at(i)->key);
        if (!e->listed_by[0])
            dtp__fmt(e->listed_by, sizeof e->listed_by, "none");
    }

    /* B3: TLS 1.1 at most, with the SCSV; meaningful when TLS 1.2 is accepted. */
    e = plan_add(&pl, DTP_PK_FALLBACK_SCSV, "", DTP_TLS1_0, DTP_TLS1_1, old_offer);
    if (e)
        e->probe.fallback_scsv = true;
    e = plan_add(&pl, DTP_PK_COMPRESSION, "", DTP_TLS1_2, DTP_TLS1_2, tls12_offer); /* C4, R34 */
    if (e)
        e->probe.compression = true;
    e = plan_add(&pl, DTP_PK_RENEGOTIATION, "", DTP_TLS1_2, DTP_TLS1_2, tls12_offer); /* C5, R35 */
    if (e)
        e->probe.renegotiate = true;
    e = plan_add(&pl, DTP_PK_NO_EMS, "", DTP_TLS1_2, DTP_TLS1_2, tls12_offer); /* R36 */
    if (e)
        e->probe.no_ems = true;
    e = plan_add(&pl, DTP_PK_SHA1_SIGALGS, "", DTP_TLS1_2, DTP_TLS1_2, tls12_offer); /* R32, M10 */
    if (e)
        e->probe.sigalgs = sha1_sigalgs;
    e = plan_add(&pl, DTP_PK_NO_CLIENT_CERT, "", DTP_TLS1_2, DTP_TLS1_3, broad_offer); /* R44, M38 */
    if (e) {
        e->probe.alpn = pl.alpn;
        e->probe.cert_file = NULL;
        e->probe.key_file = NULL;
    }
    e = plan_add(&pl, DTP_PK_ALPN_OTHER, "", DTP_TLS1_2, DTP_TLS1_3, broad_offer); /* R39 */
    if (e)
        e->probe.alpn = "http/1.1";
    return pl.n;
}

/* ------------------------------------------------------------------ */
/* 3. The grade                                                         */

struct grader {
    const struct dtp_scan_entry *entries;
    size_t n;
    const struct dtp_profile *p;
    const struct dtp_profile_reqs *q;
    struct dtp__sink sink;
    long long now;
};

#define add(c, ...) dtp__add(&(c)->sink, __VA_ARGS__)

static const struct dtp_scan_entry *find(const struct grader *c, int kind, const char *param)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->entries[i].kind == kind && (!param || strcmp(c->entries[i].param, param) == 0))
            return &c->entries[i];
    return NULL;
}

static bool accepted(const struct dtp_scan_entry *e) { return e && e->result.outcome == DTP_PROBE_ACCEPTED; }

/* "accepted with TLSv1.2 TLS_...", "refused (alert 70: protocol_version)", ... */
static const char *said(const struct dtp_probe_result *r, char *buf, size_t len)
{
    switch (r->outcome) {
    case DTP_PROBE_ACCEPTED:
        dtp__fmt(buf, len, "accepted with %s (%s)", r->suite, dtp__version_name(r->version));
        break;
    case DTP_PROBE_REFUSED:
        if (r->detail[0]) /* the probe engine names the alert */
            dtp__fmt(buf, len, "refused (%s)", r->detail);
        else
            dtp__fmt(buf, len, "refused (alert %d)", r->alert);
        break;
    case DTP_PROBE_CLOSED:
        dtp__fmt(buf, len, "closed without an alert");
        break;
    case DTP_PROBE_TIMEOUT:
        dtp__fmt(buf, len, "no answer in time");
        break;
    case DTP_PROBE_NOT_TLS:
        dtp__fmt(buf, len, "not TLS (%s)", r->detail);
        break;
    case DTP_PROBE_UNREACHABLE:
        dtp__fmt(buf, len, "unreachable (%s)", r->detail);
        break;
    default:
        dtp__fmt(buf, len, "not checked (%s)", r->detail);
        break;
    }
    return buf;
}

/* A missing or LOCAL probe: an info finding "not checked", and true. */
static bool not_checked(struct grader *c, const char *req, const struct dtp_scan_entry *e, const char *what)
{
    if (!e)
        add(c, req, DTP_LEVEL_INFO, true, "not checked: no %s probe in the scan", what);
    else if (e->result.outcome == DTP_PROBE_LOCAL)
        add(c, req, DTP_LEVEL_INFO, true, "not checked: %s: %s", what, e->result.detail);
    return !e || e->result.outcome == DTP_PROBE_LOCAL;
}

/* The probe must not complete a handshake. */
static void must_refuse(struct grader *c, const struct dtp_req *r, const struct dtp_scan_entry *e, const char *what)
{
    char buf[400];
    if (!r->id || not_checked(c, r->id, e, what))
        return;
    add(c, r->id, r->level, !accepted(e), "%s %s%s", what, said(&e->result, buf, sizeof buf),
        accepted(e) && r->level == DTP_LEVEL_INFO ? " (allowed)" : "");
}

/* The probe must complete a handshake. */
static void must_accept(struct grader *c, const struct dtp_req *r, const struct dtp_scan_entry *e, const char *what)
{
    char buf[400];
    if (!r->id || not_checked(c, r->id, e, what))
        return;
    add(c, r->id, r->level, accepted(e), "%s %s", what, said(&e->result, buf, sizeof buf));
}

/* The server's certificate chain: the preferred probe's, else any. */
static const struct dtp_probe_result *chain_source(const struct grader *c)
{
    const struct dtp_scan_entry *e = find(c, DTP_PK_PREFERRED, NULL);
    if (accepted(e) && e->result.chain_len > 0)
        return &e->result;
    for (size_t i = 0; i < c->n; i++)
        if (accepted(&c->entries[i]) && c->entries[i].result.chain_len > 0)
            return &c->entries[i].result;
    return NULL;
}

/* The server's distinct certificate chains, the preferred probe's first:
 * a server may hold one certificate per key type (RSA and EC) and present
 * each with the suites of its type, so every one is graded (16). */
#define MAX_CHAINS 4
static size_t chains(const struct grader *c, const struct dtp_probe_result *out[MAX_CHAINS])
{
    size_t n = 0;
    const struct dtp_probe_result *first = chain_source(c);
    if (first)
        out[n++] = first;
    for (size_t i = 0; first && i < c->n && n < MAX_CHAINS; i++) {
        const struct dtp_probe_result *r = &c->entries[i].result;
        if (!accepted(&c->entries[i]) || r->chain_len == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(out[k]->chain[0].subject, r->chain[0].subject) == 0 &&
                   strcmp(out[k]->chain[0].key_type, r->chain[0].key_type) == 0 &&
                   out[k]->chain[0].key_bits == r->chain[0].key_bits &&
                   strcmp(out[k]->chain[0].sig_hash, r->chain[0].sig_hash) == 0;
        if (!seen)
            out[n++] = r;
    }
    return n;
}

/* Why a suite the server refused may be out of its reach: no certificate
 * of the suite's key type among those it presented. */
static const char *cert_hint(const struct grader *c, const char *suite)
{
    const struct dtp_probe_result *all[MAX_CHAINS];
    size_t n = chains(c, all);
    bool rsa = false, ec = false;
    for (size_t k = 0; k < n; k++) {
        rsa |= strncmp(all[k]->chain[0].key_type, "RSA", 3) == 0;
        ec |= strcmp(all[k]->chain[0].key_type, "EC") == 0;
    }
    if (rsa && !ec && has(suite, "_ECDSA_"))
        return " (an ECDSA suite: the server's certificate is RSA)";
    if (ec && !rsa && (has(suite, "_ECDHE_RSA_") || has(suite, "_DHE_RSA_")))
        return " (an RSA suite: the server's certificate is EC)";
    return "";
}

/* A suite of the other key type than the server's certificate, and no
 * suite of that type accepted at all: a server with one certificate
 * cannot serve it. Where the server serves some suites of a requirement
 * list, those of the other key type are reported, not failed (the
 * project's reading, README "dtp-check"); a list it serves none of fails
 * whole (an EC-only server does not meet N2's four RSA suites). */
static bool out_of_reach(const struct grader *c, const char *suite)
{
    if (!cert_hint(c, suite)[0])
        return false;
    const char *auth = has(suite, "_ECDSA_") ? "_ECDSA_" : "_RSA_";
    for (size_t i = 0; i < c->n; i++)
        if (c->entries[i].kind == DTP_PK_SUITE && accepted(&c->entries[i]) && has(c->entries[i].param, auth))
            return false;
    return true;
}

/* 1-4: versions. */
static void rule_versions(struct grader *c)
{
    const struct dtp_profile_reqs *q = c->q;
    must_refuse(c, &q->ssl3, find(c, DTP_PK_VERSION, "SSLv3"), "SSLv3");
    must_refuse(c, &q->old_versions, find(c, DTP_PK_VERSION, "TLSv1.0"), "TLSv1.0");
    must_refuse(c, &q->old_versions, find(c, DTP_PK_VERSION, "TLSv1.1"), "TLSv1.1");
    must_accept(c, &q->tls12, find(c, DTP_PK_VERSION, "TLSv1.2"), "TLSv1.2");
    must_refuse(c, &q->tls13_refused, find(c, DTP_PK_VERSION, "TLSv1.3"), "TLSv1.3");
    must_accept(c, &q->tls13_required, find(c, DTP_PK_VERSION, "TLSv1.3"), "TLSv1.3");

    /* R6, M35: offered 1.2 and 1.3, a server that has 1.3 picks it. */
    const struct dtp_req *r = &q->tls13_preferred;
    const struct dtp_scan_entry *v13 = find(c, DTP_PK_VERSION, "TLSv1.3"), *o = find(c, DTP_PK_TLS13_OFFER, NULL);
    char buf[400];
    if (!r->id || not_checked(c, r->id, v13, "TLSv1.3"))
        return;
    if (!accepted(v13))
        add(c, r->id, r->level, true, "TLSv1.3 not accepted: no TLS 1.3 to prefer");
    else if (!not_checked(c, r->id, o, "TLSv1.2 + TLSv1.3 offer"))
        add(c, r->id, r->level, accepted(o) && o->result.version == DTP_TLS1_3, "TLSv1.2 and TLSv1.3 offered: %s",
            said(&o->result, buf, sizeof buf));
}

/* 5, 6: suites the server supports, each alone. */
static void rule_suite_list(struct grader *c, const struct dtp_req_suites *rs, bool applies, const char *why_not)
{
    const struct dtp_req *r = &rs->req;
    if (!r->id || !rs->suites)
        return;
    if (!applies) {
        add(c, r->id, DTP_LEVEL_INFO, true, "not checked: %s", why_not);
        return;
    }
    char ok_list[256] = "", buf[400];
    int total = 0, ok = 0, local = 0, bad = 0;
    bool served = false; /* some suite of the list accepted */
    for (size_t s = 0; rs->suites[s]; s++)
        served |= accepted(find(c, DTP_PK_SUITE, rs->suites[s]));
    for (size_t s = 0; rs->suites[s]; s++) {
        const char *name = rs->suites[s];
        const struct dtp_scan_entry *e = find(c, DTP_PK_SUITE, name);
        total++;
        if (!e || e->result.outcome == DTP_PROBE_LOCAL) {
            local++;
            not_checked(c, r->id, e, name);
        } else if (accepted(e)) {
            ok++;
            size_t n = strlen(ok_list);
            dtp__fmt(ok_list + n, sizeof ok_list - n, "%s%s", n ? ", " : "", name);
        } else if (!rs->any && served && out_of_reach(c, name)) {
            add(c, r->id, DTP_LEVEL_INFO, true, "%s not applicable%s", name, cert_hint(c, name));
        } else if (!rs->any) {
            bad++;
            add(c, r->id, r->level, false, "%s %s%s", name, said(&e->result, buf, sizeof buf), cert_hint(c, name));
        }
    }
    if (rs->any) {
        if (ok)
            add(c, r->id, r->level, true, "%d of %d accepted: %s", ok, total, ok_list);
        else if (local)
            add(c, r->id, DTP_LEVEL_INFO, true, "not checked: none of %d checked accepted, %d not checkable here",
                total - local, local);
        else
            add(c, r->id, r->level, false, "none of the %d suites accepted", total);
    } else if (!bad && ok) {
        add(c, r->id, r->level, true, "%d of %d accepted: %s", ok, total, ok_list);
    }
}

static void rule_suites(struct grader *c)
{
    const struct dtp_scan_entry *v13 = find(c, DTP_PK_VERSION, "TLSv1.3");
    rule_suite_list(c, &c->q->required_tls12, true, "");
    rule_suite_list(c, &c->q->required_tls13, accepted(v13), "TLS 1.3 not accepted");
    rule_suite_list(c, &c->q->recommended, true, "");
}

/* 7, 8: what the server negotiated that it should not, by the classes of
 * each suite (a suite in several classes cites each class's ID). */
static void rule_negotiated_suites(struct grader *c)
{
    char buf[400], ids[16];
    int level, weak_bad = 0, other_bad = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct dtp_scan_entry *e = &c->entries[i];
        const char *s = accepted(e) ? e->result.suite
                        : e->kind == DTP_PK_SUITE && e->result.outcome == DTP_PROBE_LOCAL ? e->param
                                                                                         : "";
        bool seen = !s[0];
        for (size_t j = 0; j < i && !seen; j++)
            seen = accepted(&c->entries[j]) && strcmp(c->entries[j].result.suite, s) == 0;
        if (seen)
            continue;
        /* "in TLSv1.2 (suite probe)", "in TLSv1.1 (version probe TLSv1.1)" */
        if (accepted(e))
            dtp__fmt(buf, sizeof buf, "in %s (%s probe%s%s)", dtp__version_name(e->result.version),
                     dtp_probe_kind_name(e->kind), e->param[0] && strcmp(e->param, s) != 0 ? " " : "",
                     strcmp(e->param, s) != 0 ? e->param : "");
        const char *how = buf;
        int place = dtp__suite_place(c->p, s, ids, sizeof ids, &level);
        if (place == DTP__IN_ROW || !ids[0])
            continue;
        if (place == DTP__ALLOWED_SUITE) {
            if (accepted(e))
                add(c, ids, level, true, "%s accepted %s: allowed, not in the profile's suites", s, how);
        } else if (!accepted(e)) {
            not_checked(c, ids, e, s);
        } else if (place == DTP__WEAK_SUITE) {
            weak_bad++;
            add(c, ids, level, false, "%s accepted %s", s, how);
        } else {
            other_bad += level > DTP_LEVEL_INFO;
            add(c, ids, level, false, "%s accepted %s: not in the profile's suites%s", s, how,
                level == DTP_LEVEL_INFO ? " (of similar strength)" : "");
        }
    }
    dtp__suite_classes_ok(&c->sink, c->q, weak_bad, other_bad, "accepted");
}

/* 9: ephemeral key sizes: the DH group a server picks for a DHE suite,
 * and each group it accepts alone (X25519 counts 255 bits). */
static void rule_key_exchange(struct grader *c)
{
    const struct dtp_req *dh = &c->q->dh_size, *ec = &c->q->ec_size;
    int dh_bad = 0, ec_bad = 0, dh_seen = 0, ec_seen = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct dtp_scan_entry *e = &c->entries[i];
        const struct dtp_probe_result *r = &e->result;
        if (e->kind == DTP_PK_SUITE && dtp__suite_is_dhe(e->param) && accepted(e) && r->group_bits > 0 && dh->id) {
            dh_seen++;
            if (r->group_bits < c->p->min_dhe_bits) {
                dh_bad++;
                add(c, dh->id, dh->level, false, "%s: the server's DH group has %d bits (minimum %d)", e->param,
                    r->group_bits, c->p->min_dhe_bits);
            }
        }
        if (e->kind != DTP_PK_GROUP)
            continue;
        const char *g = accepted(e) && r->group[0] ? r->group : e->param;
        bool ff = dtp__group_is_ff(g);
        const struct dtp_req *q = ff ? dh : ec;
        if (!q->id || (!accepted(e) && r->outcome != DTP_PROBE_LOCAL))
            continue;
        if (not_checked(c, q->id, e, e->param))
            continue;
        int bits = r->group_bits > 0 ? r->group_bits : dtp__group_bits(g), min = ff ? c->p->min_dhe_bits : c->p->min_ecdhe_bits;
        *(ff ? &dh_seen : &ec_seen) += 1;
        if (bits > 0 && bits < min) {
            *(ff ? &dh_bad : &ec_bad) += 1;
            add(c, q->id, q->level, false, "%s offered alone: accepted with %s of %d bits (minimum %d)", e->param, g,
                bits, min);
        }
    }
    if (dh->id && !dh_bad)
        add(c, dh->id, dh->level, true, "%d DH key exchanges seen, none below %d bits", dh_seen, c->p->min_dhe_bits);
    if (ec->id && !ec_bad)
        add(c, ec->id, ec->level, true, "%d EC groups accepted, none below %d bits", ec_seen, c->p->min_ecdhe_bits);
}

/* 10-14: one probe each. */
static void rule_features(struct grader *c)
{
    const struct dtp_profile_reqs *q = c->q;
    char buf[400];
    const struct dtp_req *r = &q->fallback_scsv; /* B3 */
    const struct dtp_scan_entry *e = find(c, DTP_PK_FALLBACK_SCSV, NULL), *v12 = find(c, DTP_PK_VERSION, "TLSv1.2");
    if (r->id && !not_checked(c, r->id, e, "TLS_FALLBACK_SCSV")) {
        if (!accepted(v12))
            add(c, r->id, DTP_LEVEL_INFO, true, "not checked: TLSv1.2 not accepted, so a TLSv1.1 fallback is appropriate");
        else if (accepted(e))
            add(c, r->id, r->level, false, "TLSv1.1 with TLS_FALLBACK_SCSV %s, although the server has TLSv1.2",
                said(&e->result, buf, sizeof buf));
        else
            add(c, r->id, r->level, true, "TLSv1.1 with TLS_FALLBACK_SCSV %s", said(&e->result, buf, sizeof buf));
    }

    r = &q->compression; /* C4, R34 */
    e = find(c, DTP_PK_COMPRESSION, NULL);
    if (r->id && !not_checked(c, r->id, e, "compression"))
        add(c, r->id, r->level, !(accepted(e) && e->result.compression), "DEFLATE offered: %s%s",
            said(&e->result, buf, sizeof buf),
            accepted(e) ? (e->result.compression ? ", compression on" : ", compression off") : "");

    /* C5, R35 (renegotiation_info) and R36 (EMS) in every TLS <= 1.2
     * handshake that completed: a certificate was seen (a hand-made hello
     * answered by a ServerHello alone, as for the compression probe and
     * suites OpenSSL lacks, does not report the extensions); not the
     * probe without EMS. */
    const struct {
        const struct dtp_req *r;
        const char *what;
        int skip_kind;
        int min_version;
    } ext[] = {{&q->renegotiation, "renegotiation_info", DTP_PK_COMPRESSION, DTP_TLS1_0},
               {&q->ems, "extended_master_secret", DTP_PK_NO_EMS, DTP_TLS1_2}};
    for (size_t k = 0; k < COUNT(ext); k++) {
        if (!ext[k].r->id)
            continue;
        int seen = 0, bad = 0;
        const struct dtp_scan_entry *first = NULL;
        for (size_t i = 0; i < c->n; i++) {
            const struct dtp_scan_entry *x = &c->entries[i];
            int v = x->result.version;
            if (!accepted(x) || v < ext[k].min_version || v > DTP_TLS1_2 || x->result.chain_len == 0 ||
                x->kind == DTP_PK_COMPRESSION || x->kind == ext[k].skip_kind)
                continue;
            seen++;
            bool got = k == 0 ? x->result.secure_renegotiation : x->result.ems;
            if (!got && !bad++)
                first = x;
        }
        if (!seen)
            add(c, ext[k].r->id, DTP_LEVEL_INFO, true, "not checked: no TLS 1.2 or older handshake completed");
        else if (bad)
            add(c, ext[k].r->id, ext[k].r->level, false, "no %s in %d of %d TLS <= 1.2 handshakes, e.g. %s %s %s",
                ext[k].what, bad, seen, dtp_probe_kind_name(first->kind), first->param,
                said(&first->result, buf, sizeof buf));
        else
            add(c, ext[k].r->id, ext[k].r->level, true, "%s in all %d TLS <= 1.2 handshakes", ext[k].what, seen);
    }
    e = find(c, DTP_PK_RENEGOTIATION, NULL);
    if (q->renegotiation.id && accepted(e))
        add(c, q->renegotiation.id, DTP_LEVEL_INFO, true, "client-initiated renegotiation %s",
            e->result.renegotiated ? "accepted" : "not completed");
    e = find(c, DTP_PK_NO_EMS, NULL);
    if (q->ems.id && e && e->result.outcome != DTP_PROBE_LOCAL) /* refusing it is this project's choice (Q1) */
        add(c, q->ems.id, DTP_LEVEL_INFO, true, "a TLS 1.2 client without extended_master_secret %s",
            said(&e->result, buf, sizeof buf));

    must_refuse(c, &q->sha1_sigalgs, find(c, DTP_PK_SHA1_SIGALGS, NULL), "a client with only SHA-1 signatures");
}

/* 15: client certificates (R44, M38; R46, M40 allow a server without). */
static void rule_client_auth(struct grader *c)
{
    const struct dtp_req *r = &c->q->client_auth;
    const struct dtp_scan_entry *e = find(c, DTP_PK_NO_CLIENT_CERT, NULL), *pre = find(c, DTP_PK_PREFERRED, NULL);
    const char *id = r->id ? r->id : "";
    char buf[400], how[400];
    if (not_checked(c, id, e, "client certificate"))
        return;
    bool never = accepted(e) && !e->result.cert_requested && !(accepted(pre) && pre->result.cert_requested);
    if (e->result.outcome == DTP_PROBE_REFUSED)
        dtp__fmt(buf, sizeof buf, "required: a client without one is %s", said(&e->result, how, sizeof how));
    else if (accepted(e))
        dtp__fmt(buf, sizeof buf, "%s", never ? "never requested" : "requested but optional");
    else
        said(&e->result, buf, sizeof buf);
    add(c, id, r->id ? r->level : DTP_LEVEL_INFO, !never, "client certificate %s", buf);
}

/* 16: one chain the server presented. */
static void grade_chain(struct grader *c, const struct dtp_probe_result *r)
{
    const struct dtp_profile *p = c->p;
    const struct dtp_profile_reqs *q = c->q;
    size_t n = r->chain_len < DTP_PROBE_MAX_CHAIN ? r->chain_len : DTP_PROBE_MAX_CHAIN;
    char key_ids[16] = "", hash_ids[16] = "";
    int key_bad = 0, hash_bad = 0, key_level = DTP_LEVEL_INFO;
    for (size_t i = 0; i < n; i++) {
        const struct dtp_cert_info *x = &r->chain[i];
        bool rsa = strncmp(x->key_type, "RSA", 3) == 0, ec = strcmp(x->key_type, "EC") == 0;
        const char *role = i == 0 ? "server certificate" : x->self_signed ? "root certificate" : "CA certificate";
        /* The leaf's key (B5, R31, M27, M28); with check_chain every other
         * certificate's key, the trust anchor's included (M29, M30, Q4). */
        const struct dtp_req *k = i == 0 ? (rsa ? &q->cert_rsa : &q->cert_ec)
                                  : p->check_chain ? (rsa ? &q->chain_rsa : &q->chain_ec)
                                                   : NULL;
        int min = rsa ? p->min_rsa_bits : p->min_ec_bits;
        if (k && k->id && (rsa || ec)) {
            dtp__join_id(key_ids, sizeof key_ids, k->id);
            key_level = k->level > key_level ? k->level : key_level;
            if (x->key_bits < min) {
                key_bad++;
                add(c, k->id, k->level, false, "%s %s: %s key of %d bits (minimum %d)", role, x->subject, x->key_type,
                    x->key_bits, min);
            }
        }
        /* Signature hash of the leaf (and with check_chain the other
         * certificates), never a self-signature (Q4; R32, M31). */
        const struct dtp_req *h = &q->cert_hash;
        if (h->id && p->min_cert_hash_bits > 0 && (i == 0 || p->check_chain) && !x->self_signed) {
            dtp__join_id(hash_ids, sizeof hash_ids, h->id);
            if (x->sig_hash_bits > 0 && x->sig_hash_bits < p->min_cert_hash_bits) {
                hash_bad++;
                add(c, h->id, h->level, false, "%s %s signed with %s (minimum %d bits)", role, x->subject, x->sig_hash,
                    p->min_cert_hash_bits);
            }
        }
        if (x->not_after && x->not_after < c->now)
            add(c, "", DTP_LEVEL_INFO, true, "%s %s has expired", role, x->subject);
        if (x->not_before > c->now)
            add(c, "", DTP_LEVEL_INFO, true, "%s %s is not valid yet", role, x->subject);
    }
    if (key_ids[0] && !key_bad)
        add(c, key_ids, key_level, true, "server certificate %s %d bits; %zu certificate(s) checked",
            r->chain[0].key_type, r->chain[0].key_bits, p->check_chain ? n : (size_t)1);
    if (hash_ids[0] && !hash_bad)
        add(c, hash_ids, q->cert_hash.level, true, "certificate signatures of %d bits or more (leaf: %s)",
            p->min_cert_hash_bits, r->chain[0].sig_hash);
    if (r->verify_result > 0)
        add(c, "", DTP_LEVEL_INFO, true, "the server's chain does not verify against the given CA (error %d)",
            r->verify_result);
    else if (r->verify_result == 0)
        add(c, "", DTP_LEVEL_INFO, true, "the server's chain verifies against the given CA");
}

/* 16: the server's certificates, every chain it presented. */
static void rule_certificate(struct grader *c)
{
    const struct dtp_probe_result *all[MAX_CHAINS];
    size_t n = chains(c, all);
    if (n == 0) {
        const char *id = c->q->cert_rsa.id ? c->q->cert_rsa.id : c->q->cert_ec.id;
        if (id)
            add(c, id, DTP_LEVEL_INFO, true, "not checked: no handshake showed the server's certificate");
        return;
    }
    for (size_t k = 0; k < n; k++)
        grade_chain(c, all[k]);
}

/* 17: ALPN (R39): the profile's id selected, a foreign list refused with
 * no_application_protocol (120). */
static void rule_alpn(struct grader *c)
{
    const struct dtp_req *r = &c->q->alpn;
    const char *want = c->p->alpn;
    const struct dtp_scan_entry *pre = find(c, DTP_PK_PREFERRED, NULL), *oth = find(c, DTP_PK_ALPN_OTHER, NULL);
    char buf[400];
    if (!r->id || !want || not_checked(c, r->id, pre, "preferred") || not_checked(c, r->id, oth, "ALPN"))
        return;
    bool has_alpn = accepted(pre) && pre->result.alpn[0];
    if (has_alpn && strcmp(pre->result.alpn, want) != 0)
        add(c, r->id, r->level, false, "'%s' offered: the server selected '%s'", want, pre->result.alpn);
    else if (accepted(oth) && oth->result.alpn[0])
        add(c, r->id, r->level, false, "only 'http/1.1' offered: the server selected '%s'", oth->result.alpn);
    else if (accepted(oth) && !has_alpn)
        add(c, r->id, DTP_LEVEL_INFO, true, "the server ignores ALPN (no protocol selected for '%s' or 'http/1.1')",
            want);
    else if (accepted(oth))
        add(c, r->id, r->level, false, "only 'http/1.1' offered: %s without no_application_protocol",
            said(&oth->result, buf, sizeof buf));
    else
        add(c, r->id, r->level, oth->result.outcome == DTP_PROBE_REFUSED && oth->result.alert == 120,
            "'%s' %s; only 'http/1.1' offered: %s", want, has_alpn ? "selected" : "offered",
            said(&oth->result, buf, sizeof buf));
}

/* No probe reached a TLS handshake: no verdict, and why. */
static bool unreachable(struct grader *c)
{
    size_t tried = 0, reached = 0, by[DTP_PROBE_LOCAL + 1] = {0};
    const struct dtp_probe_result *first = NULL, *not_tls = NULL, *local = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const struct dtp_probe_result *r = &c->entries[i].result;
        if (r->outcome < 0 || r->outcome >= DTP_PROBE_LOCAL) {
            if (!local)
                local = r;
            continue;
        }
        tried++;
        by[r->outcome]++;
        reached += r->outcome == DTP_PROBE_ACCEPTED || r->outcome == DTP_PROBE_REFUSED;
        if (!first)
            first = r;
        if (!not_tls && r->outcome == DTP_PROBE_NOT_TLS)
            not_tls = r;
    }
    if (reached)
        return false;
    c->sink.g->unreachable = true;
    if (!tried)
        add(c, "", DTP_LEVEL_SHALL, false, "no probe reached the server: %s",
            local ? local->detail : "the scan is empty");
    else if (not_tls)
        add(c, "", DTP_LEVEL_SHALL, false, "not TLS: %s", not_tls->detail);
    else if (by[DTP_PROBE_UNREACHABLE] == tried)
        add(c, "", DTP_LEVEL_SHALL, false, "the server is unreachable: %s", first->detail);
    else if (by[DTP_PROBE_TIMEOUT] == tried)
        add(c, "", DTP_LEVEL_SHALL, false, "no probe got an answer in time");
    else
        add(c, "", DTP_LEVEL_SHALL, false, "the server dropped every probe (%s)", first->detail);
    return true;
}

void dtp_grade(const struct dtp_scan_entry *entries, size_t n, const struct dtp_profile *profile,
               struct dtp_grade *out)
{
    if (!out)
        return;
    struct grader c = {entries, entries ? n : 0, profile, profile ? &profile->reqs : NULL, {NULL, 0},
                       (long long)time(NULL)};
    dtp__sink_begin(&c.sink, out, profile);
    if (!profile)
        return; /* conforms stays false */
    if (!unreachable(&c)) {
        static void (*const rules[])(struct grader *) = {rule_versions,  rule_suites,      rule_negotiated_suites,
                                                         rule_key_exchange, rule_features, rule_client_auth,
                                                         rule_certificate, rule_alpn};
        for (size_t i = 0; i < COUNT(rules); i++)
            rules[i](&c);
    }
    dtp__sink_end(&c.sink);
}
