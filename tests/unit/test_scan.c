/* The scan plan and the grader (dtp/check.h) on synthetic scans: no TLS.
 * A "perfect server" for a profile answers every probe of the plan as a
 * server configured exactly per that profile row would; planted faults
 * must each fail (or warn) under the right requirement ID. */
#include "check.h"
/* tests/unit/check.h and dtp/check.h share the guard DTP_CHECK_H. */
#undef DTP_CHECK_H
#include "dtp/check.h"
#include "profile_data.h"

#include <stdlib.h>
#include <time.h>

#define MAX_ENTRIES 512

static const struct dtp_profile *get(const char *key) { return dtp_profile_find(key, NULL); }

static bool in(const char *const *list, const char *name)
{
    for (size_t i = 0; list && name && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static int group_bits(const char *g)
{
    static const struct {
        const char *name;
        int bits;
    } t[] = {{"x25519", 255},   {"x448", 448},       {"secp224r1", 224},  {"secp256r1", 256},
             {"secp384r1", 384}, {"secp521r1", 521}, {"ffdhe2048", 2048}, {"ffdhe3072", 3072},
             {"ffdhe4096", 4096}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, g) == 0)
            return t[i].bits;
    return 0;
}

/* Whether a suite can be negotiated at a version (AEAD and SHA-2 MACs
 * need TLS 1.2; TLS 1.3 suites have no "_WITH_"). */
static bool suite_at(const char *s, int v)
{
    bool t13 = strstr(s, "_WITH_") == NULL;
    if (v == DTP_TLS1_3 || t13)
        return v == DTP_TLS1_3 && t13;
    if (v == DTP_TLS1_2)
        return true;
    return !strstr(s, "GCM") && !strstr(s, "CCM") && !strstr(s, "CHACHA") && !strstr(s, "_SHA256") &&
           !strstr(s, "_SHA384");
}

/* The server's choice: its own order among what the client offered. */
static const char *pick(const struct dtp_profile *p, int v, const char *const *offer)
{
    const char *const *lists[] = {v == DTP_TLS1_3 ? p->tls13_suites : p->tls12_suites,
                                  v == DTP_TLS1_3 ? NULL : p->fallback_suites};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && lists[l][i]; i++)
            if (suite_at(lists[l][i], v) && (!offer || in(offer, lists[l][i])))
                return lists[l][i];
    return NULL;
}

static void refuse(struct dtp_probe_result *r, int alert)
{
    r->outcome = DTP_PROBE_REFUSED;
    r->alert = alert;
    snprintf(r->detail, sizeof r->detail, "%s",
             alert == 40    ? "handshake_failure"
             : alert == 70  ? "protocol_version"
             : alert == 86  ? "inappropriate_fallback"
             : alert == 116 ? "certificate_required"
                            : "no_application_protocol");
}

static void perfect_chain(struct dtp_probe_result *r)
{
    long long now = (long long)time(NULL);
    struct dtp_cert_info leaf = {"/CN=server", "/CN=ca", "RSA", 2048, "SHA256", 256, now - 86400, now + 86400 * 365,
                                 false};
    struct dtp_cert_info root = {"/CN=ca", "/CN=ca", "RSA", 2048, "SHA256", 256, now - 86400, now + 86400 * 3650,
                                 true};
    r->chain[0] = leaf;
    r->chain[1] = root;
    r->chain_len = 2;
    r->verify_result = 0;
}

/* How a server configured exactly per row p answers entry e. */
static void answer(const struct dtp_profile *p, const struct dtp_scan_entry *e, struct dtp_probe_result *r)
{
    const struct dtp_probe *pr = &e->probe;
    memset(r, 0, sizeof *r);
    r->alert = -1;
    r->verify_result = -1;
    int lo = pr->min_version > p->min_version ? pr->min_version : p->min_version;
    int hi = pr->max_version < p->max_version ? pr->max_version : p->max_version;
    if (e->kind == DTP_PK_NO_CLIENT_CERT)
        return refuse(r, 116); /* certificate_required (Q11) */
    if (e->kind == DTP_PK_ALPN_OTHER && p->alpn)
        return refuse(r, 120); /* no_application_protocol (R39) */
    if (e->kind == DTP_PK_NO_EMS && p->require_ems)
        return refuse(r, 40); /* R36 */
    /* SHA-1 signatures only at security level 0, the downgrading row's. */
    if (e->kind == DTP_PK_SHA1_SIGALGS && p->min_version >= DTP_TLS1_2)
        return refuse(r, 40);
    if (e->kind == DTP_PK_GROUP && !in(p->groups, e->param))
        return refuse(r, 40);
    if (lo > hi)
        return refuse(r, 70); /* protocol_version (Q8) */
    if (e->kind == DTP_PK_FALLBACK_SCSV && p->max_version > pr->max_version)
        return refuse(r, 86); /* inappropriate_fallback (B3) */
    for (int v = hi; v >= lo; v--) {
        const char *s = pick(p, v, pr->suites);
        if (!s)
            continue;
        r->outcome = DTP_PROBE_ACCEPTED;
        r->version = v;
        snprintf(r->suite, sizeof r->suite, "%s", s);
        const char *g = NULL;
        if (e->kind == DTP_PK_GROUP)
            g = e->param;
        else if (strncmp(s, "TLS_DHE_", 8) == 0)
            g = "ffdhe2048";
        else
            for (size_t i = 0; !g && p->groups[i]; i++)
                if (v == DTP_TLS1_3 || strncmp(p->groups[i], "ffdhe", 5) != 0)
                    g = p->groups[i];
        size_t gl = strlen(g) < sizeof r->group - 1 ? strlen(g) : sizeof r->group - 1;
        memcpy(r->group, g, gl);
        r->group_bits = group_bits(g);
        r->ems = e->kind != DTP_PK_NO_EMS;
        r->secure_renegotiation = v <= DTP_TLS1_2;
        r->cert_requested = true;
        if (pr->alpn && p->alpn && strcmp(pr->alpn, p->alpn) == 0)
            snprintf(r->alpn, sizeof r->alpn, "%s", p->alpn);
        perfect_chain(r);
        snprintf(r->detail, sizeof r->detail, "ok");
        return;
    }
    refuse(r, 40); /* handshake_failure: no suite in common */
}

static struct dtp_scan_options options(bool with_gnutls)
{
    struct dtp_scan_options o = {"client.pem", "client.key", "ca.pem", NULL, "server.example", with_gnutls, 5000};
    return o;
}

/* A plan (with GnuTLS: every suite checkable) answered by p's perfect server. */
static size_t perfect(const struct dtp_profile *p, struct dtp_scan_entry *e)
{
    struct dtp_scan_options o = options(true);
    size_t n = dtp_scan_plan(&o, e, MAX_ENTRIES);
    for (size_t i = 0; i < n; i++)
        answer(p, &e[i], &e[i].result);
    return n;
}

/* The planned entry of a kind (and param); the test aborts without one. */
static struct dtp_scan_entry *entry(struct dtp_scan_entry *e, size_t n, int kind, const char *param)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == kind && (!param || strcmp(e[i].param, param) == 0))
            return &e[i];
    fprintf(stderr, "no planned entry %s %s\n", dtp_probe_kind_name(kind), param ? param : "");
    abort();
}

static void dump(const struct dtp_grade *g)
{
    static const char *const lv[] = {"info", "SHOULD", "SHALL"};
    fprintf(stderr, "  grade %s: conforms=%d failures=%d warnings=%d unreachable=%d\n", g->profile->key, g->conforms,
            g->failures, g->warnings, g->unreachable);
    for (size_t i = 0; i < g->n; i++)
        fprintf(stderr, "    %-8s %-6s %-4s %s\n", g->findings[i].req, lv[g->findings[i].level],
                g->findings[i].ok ? "ok" : "FAIL", g->findings[i].evidence);
}

/* A finding citing id (one "/"-token of req) at level with ok; its evidence. */
static const struct dtp_finding *finding(const struct dtp_grade *g, const char *id, int level, bool ok)
{
    size_t il = strlen(id);
    for (size_t i = 0; i < g->n; i++) {
        const struct dtp_finding *f = &g->findings[i];
        if (f->level != level || f->ok != ok)
            continue;
        for (const char *t = f->req; *t;) {
            size_t tl = strcspn(t, "/");
            if (tl == il && strncmp(t, id, il) == 0)
                return f;
            t += tl + (t[tl] == '/');
        }
    }
    return NULL;
}

#define CHECK_FINDING(g, id, level, ok)                                                                                \
    do {                                                                                                               \
        if (!finding((g), (id), (level), (ok))) {                                                                      \
            fprintf(stderr, "%s:%d: no %s finding %s at level %d\n", __FILE__, __LINE__, (ok) ? "ok" : "violated",   \
                    (id), (level));                                                                                    \
            dump(g);                                                                                                   \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

static struct dtp_scan_entry *alloc_entries(void) { return calloc(MAX_ENTRIES, sizeof(struct dtp_scan_entry)); }

/* A planted handshake: accepted at v with suite, otherwise as a good
 * server's (EMS, renegotiation_info, a good chain). */
static struct dtp_probe_result *plant(struct dtp_scan_entry *x, int v, const char *suite)
{
    struct dtp_probe_result *r = &x->result;
    memset(r, 0, sizeof *r);
    r->outcome = DTP_PROBE_ACCEPTED;
    r->alert = -1;
    r->version = v;
    snprintf(r->suite, sizeof r->suite, "%s", suite);
    snprintf(r->group, sizeof r->group, "secp256r1");
    r->group_bits = 256;
    r->ems = r->secure_renegotiation = r->cert_requested = true;
    perfect_chain(r);
    return r;
}

/* ------------------------------------------------------------------ */

static int perfect_conforms_to_itself(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        size_t n = perfect(p, e);
        dtp_grade(e, n, p, &g);
        if (!g.conforms || g.failures || g.warnings || g.unreachable)
            dump(&g);
        CHECK(g.conforms && g.failures == 0 && g.warnings == 0 && !g.unreachable);
        CHECK(g.profile == p && g.n > 10);
        for (size_t f = 0; f < g.n; f++)
            CHECK(g.findings[f].ok); /* nothing violated, not even a should */
    }
    free(e);
    return 0;
}

/* Rows: the perfect server of a profile; columns: the profile graded.
 * Each "not conforming" cell names one SHALL the server violates:
 *
 *                bcp195  nd   ex   cryptrec  B.12  B.13
 *   bcp195       yes     N1   E1   K1        R8    M37   TLS 1.0/1.1 accepted (B2)
 *   bcp195-nd    yes     yes  E4   B5        yes   M18   nd: TLS 1.3 accepted (E4);
 *                                                        X25519 (255 bits) under
 *                                                        cryptrec's 256 (B5); no
 *                                                        TLS 1.3 CCM suites (M18)
 *   bcp195-ex    yes     yes  yes  yes       yes   M32   no TLS 1.3 (M32)
 *   cryptrec     yes     yes  E4   yes       yes   M18   TLS 1.3 (E4); AES-GCM only
 *                                                        in TLS 1.3 (M18)
 *   bcp195-8996  B1      N2   E2   K2        yes   M18   no DHE suites (B1/N2/E2/K2);
 *                                                        three TLS 1.3 suites (M18)
 *   bcp195-8996-mod B1   N2   E2   K2        yes   yes   no DHE suites (Q7)
 *
 * The "yes" cells off the diagonal hold with warnings only: e.g. the ND
 * server under B.12 accepts DHE suites (R20, should), under bcp195 the
 * ECDSA suites beyond B1 (B2, should); the B.13 server under B.12 accepts
 * CCM, ChaCha20 and Camellia suites B.12 does not list (R1, should). */
static int conformance_table(void)
{
    static const char *const keys[6] = {"bcp195", "bcp195-nd", "bcp195-ex", "cryptrec", "bcp195-8996",
                                        "bcp195-8996-mod"};
    static const char *const expect[6][6] = {
        /* graded:   bcp195 nd    ex    cryptrec B.12  B.13 */
        /* bcp195 */ {NULL, "N1", "E1", "K1", "R8", "M37"},
        /* nd     */ {NULL, NULL, "E4", "B5", NULL, "M18"},
        /* ex     */ {NULL, NULL, NULL, NULL, NULL, "M32"},
        /* crypt. */ {NULL, NULL, "E4", NULL, NULL, "M18"},
        /* B.12   */ {"B1", "N2", "E2", "K2", NULL, "M18"},
        /* B.13   */ {"B1", "N2", "E2", "K2", NULL, NULL},
    };
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    CHECK(dtp_profile_count() == 6);
    for (size_t s = 0; s < 6; s++) {
        size_t n = perfect(get(keys[s]), e);
        for (size_t p = 0; p < 6; p++) {
            dtp_grade(e, n, get(keys[p]), &g);
            bool want = expect[s][p] == NULL;
            if (g.conforms != want || (!want && !finding(&g, expect[s][p], DTP_LEVEL_SHALL, false))) {
                fprintf(stderr, "server %s graded %s: conforms %d, expected %d (%s)\n", keys[s], keys[p], g.conforms,
                        want, want ? "" : expect[s][p]);
                dump(&g);
                return 1;
            }
        }
    }
    free(e);
    return 0;
}

static int tls11_under_nd(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    size_t n = perfect(get("bcp195-nd"), e);
    plant(entry(e, n, DTP_PK_VERSION, "TLSv1.1"), DTP_TLS1_1, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
    dtp_grade(e, n, get("bcp195-nd"), &g);
    CHECK(!g.conforms);
    CHECK_FINDING(&g, "N1", DTP_LEVEL_SHALL, false);
    const struct dtp_finding *f = finding(&g, "N1", DTP_LEVEL_SHALL, false);
    CHECK(strstr(f->evidence, "TLSv1.1 accepted with TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"));
    CHECK_FINDING(&g, "N3", DTP_LEVEL_SHOULD, false); /* and a CBC suite: weaker than N2's */
    /* The same server under bcp195: a downgrade, reported (B2/B6), not a failure. */
    dtp_grade(e, n, get("bcp195"), &g);
    CHECK(g.conforms);
    CHECK_FINDING(&g, "B2", DTP_LEVEL_INFO, true);
    free(e);
    return 0;
}

static int cbc_under_b13(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *b13 = get("bcp195-8996-mod");
    size_t n = perfect(b13, e);
    struct dtp_scan_entry *x = entry(e, n, DTP_PK_SUITE, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
    CHECK(x && strcmp(x->listed_by, "none") == 0);
    plant(x, DTP_TLS1_2, x->param);
    dtp_grade(e, n, b13, &g);
    CHECK(!g.conforms);
    CHECK_FINDING(&g, "M26", DTP_LEVEL_SHALL, false);
    CHECK(strstr(finding(&g, "M26", DTP_LEVEL_SHALL, false)->evidence, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"));
    CHECK_FINDING(&g, "M8", DTP_LEVEL_SHALL, false);
    /* Under B.12 the same suite is a "should not" (R22): a warning. */
    dtp_grade(e, n, get("bcp195-8996"), &g);
    CHECK_FINDING(&g, "R22", DTP_LEVEL_SHOULD, false);
    free(e);
    return 0;
}

/* A 1024-bit DH group picked for a DHE suite. */
static int weak_dh(void)
{
    static const struct {
        const char *key, *id;
        int level;
        bool conforms;
    } t[] = {{"bcp195", "B5", DTP_LEVEL_SHOULD, true},
             {"bcp195-ex", "E5", DTP_LEVEL_SHALL, false},
             {"bcp195-8996", "R29", DTP_LEVEL_SHALL, false}};
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = perfect(get(t[i].key), e);
        struct dtp_probe_result *r = plant(entry(e, n, DTP_PK_SUITE, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
                                           DTP_TLS1_2, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256");
        snprintf(r->group, sizeof r->group, "dh");
        r->group_bits = 1024;
        dtp_grade(e, n, get(t[i].key), &g);
        CHECK_FINDING(&g, t[i].id, t[i].level, false);
        CHECK(strstr(finding(&g, t[i].id, t[i].level, false)->evidence, "1024"));
        CHECK(g.conforms == t[i].conforms);
    }
    free(e);
    return 0;
}

static int sha1_leaf_under_b13(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *b13 = get("bcp195-8996-mod");
    size_t n = perfect(b13, e);
    for (size_t i = 0; i < n; i++) {
        snprintf(e[i].result.chain[0].sig_hash, sizeof e[i].result.chain[0].sig_hash, "SHA1");
        e[i].result.chain[0].sig_hash_bits = 160;
    }
    dtp_grade(e, n, b13, &g);
    CHECK(!g.conforms);
    CHECK_FINDING(&g, "M31", DTP_LEVEL_SHALL, false);
    dtp_grade(e, n, get("bcp195-8996"), &g);
    CHECK_FINDING(&g, "R32", DTP_LEVEL_SHALL, false);
    /* A small intermediate: M29 (check_chain). */
    n = perfect(b13, e);
    for (size_t i = 0; i < n; i++) {
        struct dtp_probe_result *r = &e[i].result;
        if (r->chain_len == 2) {
            r->chain[2] = r->chain[1];
            r->chain[1].key_bits = 1024;
            r->chain[1].self_signed = false;
            r->chain_len = 3;
        }
    }
    dtp_grade(e, n, b13, &g);
    CHECK_FINDING(&g, "M29", DTP_LEVEL_SHALL, false);
    free(e);
    return 0;
}

/* A server with two certificates presents each with the suites of its key
 * type: both chains are graded, not only the preferred probe's (16). */
static int every_chain_graded(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *b13 = get("bcp195-8996-mod");
    size_t n = perfect(b13, e);
    for (size_t i = 0; i < n; i++) {
        struct dtp_cert_info *leaf = &e[i].result.chain[0];
        if (e[i].kind == DTP_PK_SUITE && strstr(e[i].param, "_ECDHE_RSA_")) {
            snprintf(leaf->sig_hash, sizeof leaf->sig_hash, "SHA1"); /* the RSA certificate */
            leaf->sig_hash_bits = 160;
        } else {
            snprintf(leaf->key_type, sizeof leaf->key_type, "EC"); /* the EC one, preferred */
            leaf->key_bits = 256;
        }
    }
    dtp_grade(e, n, b13, &g);
    CHECK(!g.conforms);
    CHECK_FINDING(&g, "M31", DTP_LEVEL_SHALL, false);
    free(e);
    return 0;
}

static int no_client_cert_b12(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *b12 = get("bcp195-8996");
    size_t n = perfect(b12, e);
    for (size_t i = 0; i < n; i++)
        e[i].result.cert_requested = false;
    struct dtp_scan_entry *x = entry(e, n, DTP_PK_NO_CLIENT_CERT, NULL);
    answer(b12, entry(e, n, DTP_PK_PREFERRED, NULL), &x->result); /* accepted without a certificate */
    x->result.cert_requested = false;
    dtp_grade(e, n, b12, &g);
    CHECK_FINDING(&g, "R44", DTP_LEVEL_SHOULD, false);
    CHECK(g.conforms && g.warnings == 1 && g.failures == 0); /* R46: allowed, a warning */
    /* Seeds' profiles: reported only. */
    dtp_grade(e, n, get("bcp195-nd"), &g);
    bool said = false;
    for (size_t i = 0; i < g.n; i++)
        said |= !g.findings[i].req[0] && g.findings[i].level == DTP_LEVEL_INFO &&
                strstr(g.findings[i].evidence, "client certificate never requested");
    CHECK(said);
    free(e);
    return 0;
}

static int compression_accepted(void)
{
    static const struct {
        const char *key, *id;
        int level;
    } t[] = {{"bcp195-nd", "C4", DTP_LEVEL_SHALL}, {"bcp195-8996", "R34", DTP_LEVEL_SHOULD}};
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    for (size_t i = 0; i < 2; i++) {
        size_t n = perfect(get(t[i].key), e);
        entry(e, n, DTP_PK_COMPRESSION, NULL)->result.compression = true;
        dtp_grade(e, n, get(t[i].key), &g);
        CHECK_FINDING(&g, t[i].id, t[i].level, false);
        CHECK(g.conforms == (t[i].level != DTP_LEVEL_SHALL));
    }
    free(e);
    return 0;
}

static int scsv_ignored_bcp195(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *p = get("bcp195");
    size_t n = perfect(p, e);
    struct dtp_scan_entry *x = entry(e, n, DTP_PK_FALLBACK_SCSV, NULL);
    CHECK(x->result.outcome == DTP_PROBE_REFUSED && x->result.alert == 86);
    dtp_grade(e, n, p, &g);
    CHECK_FINDING(&g, "B3", DTP_LEVEL_SHALL, true);
    /* The server ignores the SCSV: TLS 1.1 accepted. */
    answer(p, entry(e, n, DTP_PK_VERSION, "TLSv1.1"), &x->result);
    CHECK(x->result.outcome == DTP_PROBE_ACCEPTED);
    dtp_grade(e, n, p, &g);
    CHECK(!g.conforms);
    CHECK_FINDING(&g, "B3", DTP_LEVEL_SHALL, false);
    free(e);
    return 0;
}

static int x25519_under_ex(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *ex = get("bcp195-ex");
    size_t n = perfect(ex, e);
    struct dtp_scan_entry *x = entry(e, n, DTP_PK_GROUP, "x25519");
    CHECK(x->result.outcome == DTP_PROBE_REFUSED);
    answer(get("bcp195"), x, &x->result); /* a server that has X25519 */
    CHECK(x->result.outcome == DTP_PROBE_ACCEPTED && x->result.group_bits == 255);
    dtp_grade(e, n, ex, &g);
    CHECK(!g.conforms);
    CHECK_FINDING(&g, "E5", DTP_LEVEL_SHALL, false);
    /* B.12 asks 224 bits or more (R30): fine there. */
    dtp_grade(e, n, get("bcp195-8996"), &g);
    CHECK_FINDING(&g, "R30", DTP_LEVEL_SHALL, true);
    free(e);
    return 0;
}

static int ems_missing_b12(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *b12 = get("bcp195-8996");
    size_t n = perfect(b12, e);
    entry(e, n, DTP_PK_VERSION, "TLSv1.2")->result.ems = false;
    dtp_grade(e, n, b12, &g);
    CHECK(!g.conforms);
    CHECK_FINDING(&g, "R36", DTP_LEVEL_SHALL, false);
    /* The probe without EMS accepted: information only (refusing is Q1's choice). */
    n = perfect(b12, e);
    answer(get("bcp195-nd"), entry(e, n, DTP_PK_NO_EMS, NULL), &entry(e, n, DTP_PK_NO_EMS, NULL)->result);
    CHECK(entry(e, n, DTP_PK_NO_EMS, NULL)->result.outcome == DTP_PROBE_ACCEPTED);
    dtp_grade(e, n, b12, &g);
    CHECK(g.conforms);
    CHECK_FINDING(&g, "R36", DTP_LEVEL_INFO, true);
    free(e);
    return 0;
}

static int all_unreachable(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    struct dtp_scan_options o = options(false);
    size_t n = dtp_scan_plan(&o, e, MAX_ENTRIES);
    for (size_t i = 0; i < n; i++) {
        memset(&e[i].result, 0, sizeof e[i].result);
        e[i].result.outcome = DTP_PROBE_UNREACHABLE;
        snprintf(e[i].result.detail, sizeof e[i].result.detail, "connect: Connection refused");
    }
    for (size_t p = 0; p < dtp_profile_count(); p++) {
        dtp_grade(e, n, dtp_profile_at(p), &g);
        CHECK(g.unreachable && !g.conforms && g.n == 1 && !g.findings[0].ok);
        CHECK(strstr(g.findings[0].evidence, "Connection refused"));
    }
    /* A plain DICOM port: not TLS, said so. */
    for (size_t i = 0; i < n; i++)
        e[i].result.outcome = i % 2 ? DTP_PROBE_NOT_TLS : DTP_PROBE_CLOSED;
    dtp_grade(e, n, get("bcp195-8996"), &g);
    CHECK(g.unreachable && !g.conforms && strncmp(g.findings[0].evidence, "not TLS", 7) == 0);
    /* Nothing run at all, or nothing could be offered. */
    n = dtp_scan_plan(&o, e, MAX_ENTRIES);
    dtp_grade(e, n, get("bcp195-8996"), &g);
    CHECK(g.unreachable && !g.conforms && strstr(g.findings[0].evidence, "not run"));
    dtp_grade(e, 0, get("bcp195-8996"), &g);
    CHECK(g.unreachable && !g.conforms);
    free(e);
    return 0;
}

/* A weak suite OpenSSL lacks, answered to a hand-made hello by a
 * ServerHello alone: a violation of its class, and no claim about the
 * extensions such an answer does not show. */
static int hello_only_weak_suite(void)
{
    static const struct {
        const char *key, *id;
    } t[] = {{"bcp195-8996", "R14"}, {"bcp195", "C3"}, {"bcp195-8996-mod", "M9"}};
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = perfect(get(t[i].key), e);
        struct dtp_probe_result *r = plant(entry(e, n, DTP_PK_SUITE, "TLS_RSA_WITH_RC4_128_SHA"), DTP_TLS1_2,
                                           "TLS_RSA_WITH_RC4_128_SHA");
        r->chain_len = 0;
        r->ems = r->secure_renegotiation = false;
        snprintf(r->detail, sizeof r->detail, "ServerHello only: the server chose it; handshake not completed");
        dtp_grade(e, n, get(t[i].key), &g);
        CHECK(!g.conforms);
        CHECK_FINDING(&g, t[i].id, DTP_LEVEL_SHALL, false);
        CHECK(strstr(finding(&g, t[i].id, DTP_LEVEL_SHALL, false)->evidence, "TLS_RSA_WITH_RC4_128_SHA"));
        CHECK(g.failures == 1); /* not C5, R35 or R36 as well */
    }
    free(e);
    return 0;
}

/* Without GnuTLS the probe engine cannot offer Camellia-GCM: not checked. */
static int camellia_local_not_checked(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    for (size_t p = 0; p < dtp_profile_count(); p++) {
        const struct dtp_profile *prof = dtp_profile_at(p);
        struct dtp_scan_options o = options(false);
        size_t n = dtp_scan_plan(&o, e, MAX_ENTRIES), local = 0;
        for (size_t i = 0; i < n; i++) {
            CHECK(e[i].probe.backend == NULL);
            answer(prof, &e[i], &e[i].result);
            if (strstr(e[i].param, "_CAMELLIA_") && strstr(e[i].param, "_GCM_")) {
                memset(&e[i].result, 0, sizeof e[i].result);
                e[i].result.outcome = DTP_PROBE_LOCAL;
                e[i].result.alert = -1;
                snprintf(e[i].result.detail, sizeof e[i].result.detail, "OpenSSL lacks %s", e[i].param);
                local++;
            }
        }
        CHECK(local == 6);
        dtp_grade(e, n, prof, &g);
        if (!g.conforms || g.failures || g.warnings)
            dump(&g);
        CHECK(g.conforms && g.failures == 0 && g.warnings == 0);
        bool said = false;
        for (size_t f = 0; f < g.n; f++) {
            CHECK(g.findings[f].ok);
            said |= g.findings[f].level == DTP_LEVEL_INFO && strstr(g.findings[f].evidence, "not checked") &&
                    strstr(g.findings[f].evidence, "CAMELLIA");
        }
        /* Said where a rule looks at them: E3/K3, or suites outside the
         * row (B2, N3, R1); B.13 lists them and requires none (M22). */
        CHECK(said || !prof->reqs.required_tls13.suites || prof->reqs.allowed.suites);
    }
    /* With GnuTLS, they go to the GnuTLS backend. */
    struct dtp_scan_options o = options(true);
    size_t n = dtp_scan_plan(&o, e, MAX_ENTRIES), gnutls = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].probe.backend) {
            CHECK(strcmp(e[i].probe.backend, "gnutls") == 0 && strstr(e[i].param, "_CAMELLIA_"));
            gnutls++;
        }
    CHECK(gnutls == 6);
    free(e);
    return 0;
}

static size_t count_kind(const struct dtp_scan_entry *e, size_t n, int kind, const char *param)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += e[i].kind == kind && (!param || strcmp(e[i].param, param) == 0);
    return c;
}

static int plan_every_suite_once(void)
{
    static const char *const none[] = {
        "TLS_RSA_WITH_AES_128_CBC_SHA256",       "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",         "TLS_RSA_WITH_RC4_128_SHA",
        "TLS_RSA_WITH_NULL_SHA256",              "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
        "TLS_DH_anon_WITH_AES_128_GCM_SHA256",   "TLS_RSA_WITH_DES_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"};
    static const char *const groups[] = {"x25519",    "secp256r1", "secp384r1", "secp521r1", "x448",
                                         "ffdhe2048", "ffdhe3072", "ffdhe4096", "secp224r1"};
    struct dtp_scan_entry *e = alloc_entries();
    CHECK(e);
    struct dtp_scan_options o = options(false);
    size_t n = dtp_scan_plan(&o, e, MAX_ENTRIES);
    CHECK(n > 0 && n < MAX_ENTRIES);
    for (size_t p = 0; p < dtp_profile_count(); p++) {
        const struct dtp_profile *prof = dtp_profile_at(p);
        const struct dtp_profile_reqs *q = &prof->reqs;
        const char *const *lists[] = {prof->tls12_suites,       prof->fallback_suites,       prof->tls13_suites,
                                      q->required_tls12.suites, q->required_tls13.suites, q->recommended.suites,
                                      q->allowed.suites};
        for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
            for (size_t s = 0; lists[l] && lists[l][s]; s++) {
                const char *name = lists[l][s];
                if (count_kind(e, n, DTP_PK_SUITE, name) != 1)
                    fprintf(stderr, "%s: %s planned %zu times\n", prof->key, name, count_kind(e, n, DTP_PK_SUITE, name));
                CHECK(count_kind(e, n, DTP_PK_SUITE, name) == 1);
                const struct dtp_scan_entry *x = entry(e, n, DTP_PK_SUITE, name);
                CHECK(strstr(x->listed_by, prof->key));
                int v = strstr(name, "_WITH_") ? DTP_TLS1_2 : DTP_TLS1_3; /* at its own version */
                CHECK(x->probe.min_version == v && x->probe.max_version == v);
            }
        for (size_t g = 0; prof->groups[g]; g++)
            CHECK(count_kind(e, n, DTP_PK_GROUP, prof->groups[g]) == 1);
    }
    for (size_t s = 0; s < sizeof none / sizeof none[0]; s++) {
        CHECK(count_kind(e, n, DTP_PK_SUITE, none[s]) == 1);
        CHECK(strcmp(entry(e, n, DTP_PK_SUITE, none[s])->listed_by, "none") == 0);
    }
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        CHECK(count_kind(e, n, DTP_PK_GROUP, groups[g]) == 1);
    CHECK(strcmp(entry(e, n, DTP_PK_GROUP, "secp224r1")->listed_by, "none") == 0);
    CHECK(strcmp(entry(e, n, DTP_PK_VERSION, "TLSv1.0")->listed_by, "bcp195") == 0);
    CHECK(strcmp(entry(e, n, DTP_PK_VERSION, "SSLv3")->listed_by, "none") == 0);
    CHECK(!strstr(entry(e, n, DTP_PK_VERSION, "TLSv1.3")->listed_by, "bcp195-ex"));
    static const char *const versions[] = {"SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    for (size_t v = 0; v < 5; v++)
        CHECK(count_kind(e, n, DTP_PK_VERSION, versions[v]) == 1);
    for (int k = DTP_PK_PREFERRED; k <= DTP_PK_TLS13_OFFER; k++)
        if (k != DTP_PK_VERSION && k != DTP_PK_SUITE && k != DTP_PK_GROUP)
            CHECK(count_kind(e, n, k, NULL) == 1);
    /* Each suite at most once overall. */
    for (size_t i = 0; i < n; i++)
        CHECK(e[i].kind != DTP_PK_SUITE || count_kind(e, n, DTP_PK_SUITE, e[i].param) == 1);
    free(e);
    return 0;
}

static int plan_entries_complete(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    CHECK(e);
    struct dtp_scan_options o = options(true);
    size_t n = dtp_scan_plan(&o, e, MAX_ENTRIES);
    for (size_t i = 0; i < n; i++) {
        const struct dtp_probe *p = &e[i].probe;
        CHECK(p->min_version >= DTP_SSL3_0 && p->max_version >= p->min_version && p->max_version <= DTP_TLS1_3);
        CHECK(p->suites && p->suites[0]); /* no empty offer */
        CHECK(p->timeout_ms == 5000 && strcmp(p->server_name, "server.example") == 0);
        CHECK(strcmp(p->ca_file, "ca.pem") == 0 && p->ca_dir == NULL);
        /* Every probe presents the client certificate but the one that
         * tests whether the server requires it. */
        bool cert = e[i].kind != DTP_PK_NO_CLIENT_CERT;
        CHECK((p->cert_file != NULL) == cert && (p->key_file != NULL) == cert);
        /* A probe of one thing offers exactly that thing. */
        if (e[i].kind == DTP_PK_SUITE)
            CHECK(strcmp(p->suites[0], e[i].param) == 0 && p->suites[1] == NULL);
        if (e[i].kind == DTP_PK_GROUP)
            CHECK(p->groups && strcmp(p->groups[0], e[i].param) == 0 && p->groups[1] == NULL);
        if (e[i].kind == DTP_PK_VERSION || e[i].kind == DTP_PK_SUITE || e[i].kind == DTP_PK_GROUP)
            CHECK(e[i].param[0] && e[i].listed_by[0]);
        else
            CHECK(!e[i].param[0]);
        /* Not yet run: reads as not checked, never as accepted. */
        CHECK(e[i].result.outcome == DTP_PROBE_LOCAL);
    }
    struct dtp_scan_entry *x = entry(e, n, DTP_PK_VERSION, "TLSv1.1");
    CHECK(x->probe.min_version == DTP_TLS1_1 && x->probe.max_version == DTP_TLS1_1);
    bool cbc = false;
    for (size_t s = 0; x->probe.suites[s]; s++)
        cbc |= strcmp(x->probe.suites[s], "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") == 0;
    CHECK(cbc);
    CHECK(entry(e, n, DTP_PK_VERSION, "SSLv3")->probe.min_version == DTP_SSL3_0);
    CHECK(entry(e, n, DTP_PK_FALLBACK_SCSV, NULL)->probe.fallback_scsv);
    CHECK(entry(e, n, DTP_PK_FALLBACK_SCSV, NULL)->probe.max_version == DTP_TLS1_1);
    CHECK(entry(e, n, DTP_PK_COMPRESSION, NULL)->probe.compression);
    CHECK(entry(e, n, DTP_PK_RENEGOTIATION, NULL)->probe.renegotiate);
    CHECK(entry(e, n, DTP_PK_RENEGOTIATION, NULL)->probe.max_version == DTP_TLS1_2);
    CHECK(entry(e, n, DTP_PK_NO_EMS, NULL)->probe.no_ems);
    const struct dtp_probe *sha1 = &entry(e, n, DTP_PK_SHA1_SIGALGS, NULL)->probe;
    CHECK(sha1->max_version == DTP_TLS1_2 && sha1->sigalgs && strcmp(sha1->sigalgs[0], "rsa_pkcs1_sha1") == 0 &&
          strcmp(sha1->sigalgs[1], "ecdsa_sha1") == 0 && !sha1->sigalgs[2]);
    CHECK(strcmp(entry(e, n, DTP_PK_PREFERRED, NULL)->probe.alpn, "dicom") == 0);
    CHECK(strcmp(entry(e, n, DTP_PK_ALPN_OTHER, NULL)->probe.alpn, "http/1.1") == 0);
    CHECK(entry(e, n, DTP_PK_TLS13_OFFER, NULL)->probe.min_version == DTP_TLS1_2);
    CHECK(entry(e, n, DTP_PK_TLS13_OFFER, NULL)->probe.max_version == DTP_TLS1_3);
    /* A short array gets a prefix of the plan. */
    CHECK(dtp_scan_plan(&o, e, 3) == 3 && e[0].kind == DTP_PK_PREFERRED);
    CHECK(dtp_scan_plan(&o, NULL, 0) == 0);
    free(e);
    return 0;
}

static int plan_deterministic(void)
{
    struct dtp_scan_entry *a = alloc_entries(), *b = alloc_entries();
    CHECK(a && b);
    memset(b, 0xA5, MAX_ENTRIES * sizeof *b); /* whatever was there before */
    struct dtp_scan_options o = options(true);
    size_t na = dtp_scan_plan(&o, a, MAX_ENTRIES), nb = dtp_scan_plan(&o, b, MAX_ENTRIES);
    CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
    free(a);
    free(b);
    return 0;
}

/* A profile is data: scan.c never names a profile key. */
static int scan_c_has_no_profile_key(void) { return source_names_no_profile(DTP_SCAN_SOURCE); }

/* The reqs of every row: rules that every profile has, levels that agree
 * with the row's other fields, suite lists the row can meet. */
static int reqs_consistent(void)
{
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        const struct dtp_profile_reqs *q = &p->reqs;
        CHECK(q->ssl3.id && q->ssl3.level == DTP_LEVEL_SHALL);                    /* C2, R7, M37 */
        CHECK(q->old_versions.id && q->tls12.id && q->tls12.level == DTP_LEVEL_SHALL);
        CHECK((q->old_versions.level == DTP_LEVEL_INFO) == p->may_downgrade);     /* B2 vs N1, E1, K1, R8 */
        CHECK(!q->tls13_refused.id || !p->tls13_suites);                          /* E4 */
        CHECK(!q->tls13_required.id || p->tls13_suites);                          /* M32 */
        CHECK((q->fallback_scsv.id != NULL) == p->may_downgrade);                 /* B3 */
        CHECK((q->ems.id != NULL) == p->require_ems);                             /* R36 */
        CHECK((q->alpn.id != NULL) == (p->alpn != NULL));                         /* R39 */
        CHECK(q->required_tls12.req.id && q->required_tls12.suites);
        for (size_t s = 0; q->required_tls12.suites[s]; s++)
            CHECK(in(p->tls12_suites, q->required_tls12.suites[s]));
        for (size_t s = 0; q->required_tls13.suites && q->required_tls13.suites[s]; s++)
            CHECK(in(p->tls13_suites, q->required_tls13.suites[s]));
        for (size_t s = 0; q->allowed.suites && q->allowed.suites[s]; s++)
            CHECK(q->allowed.req.level == DTP_LEVEL_INFO);
        /* Key sizes: should where the row lets a site relax them (B5). */
        int key_level = p->key_sizes_relaxable ? DTP_LEVEL_SHOULD : DTP_LEVEL_SHALL;
        CHECK(q->dh_size.id && q->dh_size.level == key_level);
        CHECK(q->ec_size.id && q->ec_size.level == key_level);
        CHECK(q->cert_rsa.id && q->cert_rsa.level == key_level);
        CHECK(!q->chain_rsa.id || p->check_chain);
        CHECK(!q->cert_hash.id || p->min_cert_hash_bits > 0);
        const struct dtp_req *all[] = {&q->weak_null, &q->weak_export, &q->weak_anon, &q->weak_rc4,
                                       &q->weak_des,  &q->weak_3des,   &q->other};
        for (size_t r = 0; r < sizeof all / sizeof all[0]; r++)
            CHECK(all[r]->id && strlen(all[r]->id) < 16);
        CHECK(q->weak_null.level == DTP_LEVEL_SHALL); /* C3, R13, M13 */
    }
    CHECK(strcmp(dtp_probe_kind_name(DTP_PK_PREFERRED), "preferred") == 0);
    CHECK(strcmp(dtp_probe_kind_name(DTP_PK_TLS13_OFFER), "tls13-offer") == 0);
    CHECK(strcmp(dtp_probe_kind_name(99), "unknown") == 0);
    return 0;
}

/* More findings than the array holds: all counted, the rest summarized. */
static int findings_overflow_counted(void)
{
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    const struct dtp_profile *b13 = get("bcp195-8996-mod");
    size_t n = perfect(b13, e), extra = 150;
    for (size_t i = 0; i < extra; i++) {
        struct dtp_scan_entry *x = &e[n + i];
        *x = *entry(e, n, DTP_PK_PREFERRED, NULL);
        x->result.version = DTP_TLS1_2;
        snprintf(x->result.suite, sizeof x->result.suite, "TLS_RSA_WITH_FAKE_%zu_CBC_SHA", i);
    }
    dtp_grade(e, n + extra, b13, &g);
    CHECK(!g.conforms && g.failures >= (int)extra && g.n == DTP_GRADE_MAX_FINDINGS);
    CHECK(g.findings[g.n - 1].level == DTP_LEVEL_INFO && strstr(g.findings[g.n - 1].evidence, "not listed"));
    free(e);
    return 0;
}

/* Not a case: DTP_SCAN_DUMP=SERVER:PROFILE test_scan dump prints how the
 * perfect SERVER grades under PROFILE, for reading the evidence. */
static int dump_grade(void)
{
    const char *spec = getenv("DTP_SCAN_DUMP");
    char server[64];
    const char *colon = spec ? strchr(spec, ':') : NULL;
    CHECK(colon && (size_t)(colon - spec) < sizeof server);
    snprintf(server, sizeof server, "%.*s", (int)(colon - spec), spec);
    CHECK(get(server) && get(colon + 1));
    struct dtp_scan_entry *e = alloc_entries();
    struct dtp_grade g;
    CHECK(e);
    size_t n = perfect(get(server), e);
    dtp_grade(e, n, get(colon + 1), &g);
    dump(&g);
    free(e);
    return 0;
}

static const struct check_case cases[] = {
    CASE(perfect_conforms_to_itself), CASE(conformance_table),    CASE(tls11_under_nd),
    CASE(cbc_under_b13),              CASE(weak_dh),              CASE(sha1_leaf_under_b13),
    CASE(no_client_cert_b12),         CASE(compression_accepted), CASE(scsv_ignored_bcp195),
    CASE(x25519_under_ex),            CASE(ems_missing_b12),      CASE(all_unreachable),
    CASE(camellia_local_not_checked), CASE(plan_every_suite_once), CASE(plan_entries_complete),
    CASE(plan_deterministic),         CASE(scan_c_has_no_profile_key), CASE(reqs_consistent),
    CASE(findings_overflow_counted),  CASE(hello_only_weak_suite), CASE(every_chain_graded),
};
int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "dump") == 0)
        return dump_grade();
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
