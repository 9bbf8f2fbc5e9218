/* Client mode (dtp/check.h): ClientHellos recorded by a server context
 * (dtp_config.on_client_hello) in real handshakes, and graded
 * (dtp_grade_client) from synthetic hellos: a row's own client conforms to
 * the row, and planted offers fail under the right requirement ID. */
#include "pair.h" /* first: it sets _POSIX_C_SOURCE */
#include "dtp/check.h"
#include "profile_data.h"

#include <stdlib.h>

static const struct dtp_profile *get(const char *key) { return dtp_profile_find(key, NULL); }

/* ---- synthetic hellos ---------------------------------------------------- */

static int group_bits(const char *g)
{
    static const struct {
        const char *name;
        int bits;
    } t[] = {{"x25519", 255},    {"x448", 448},       {"secp224r1", 224},  {"secp256r1", 256},  {"secp384r1", 384},
             {"secp521r1", 521}, {"ffdhe2048", 2048}, {"ffdhe3072", 3072}, {"ffdhe4096", 4096}, {"ffdhe1024", 1024}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, g) == 0)
            return t[i].bits;
    return 0;
}

/* The hash of a SignatureScheme name, as the recorder's table has it. */
static int hash_bits(const char *s)
{
    static const struct {
        const char *part;
        int bits;
    } t[] = {{"sha1", 160}, {"md5", 128}, {"sha224", 224}, {"sha256", 256}, {"sha384", 384}, {"sha512", 512}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strstr(s, t[i].part))
            return t[i].bits;
    return 0;
}

static void add_suite(struct dtp_client_hello *h, const char *name)
{
    h->suites[h->n_suites++] = (struct dtp_hello_code){0, name, 0};
}

static void add_suites(struct dtp_client_hello *h, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        add_suite(h, list[i]);
}

static void set_groups(struct dtp_client_hello *h, const char *const *list)
{
    h->has_groups = true;
    h->n_groups = 0;
    for (size_t i = 0; list && list[i]; i++)
        h->groups[h->n_groups++] = (struct dtp_hello_code){0, list[i], group_bits(list[i])};
}

static void set_sigalgs(struct dtp_client_hello *h, const char *const *list)
{
    h->has_sigalgs = true;
    h->n_sigalgs = 0;
    for (size_t i = 0; list && list[i]; i++)
        h->sigalgs[h->n_sigalgs++] = (struct dtp_hello_code){0, list[i], hash_bits(list[i])};
}

/* What a client configured exactly per the row offers: its versions
 * (supported_versions when it has TLS 1.3), its suites in the client's
 * order, its groups and signature schemes, EMS, ALPN, the SCSV. */
static void own_hello(const struct dtp_profile *p, struct dtp_client_hello *h)
{
    static const char *const sha2_sigalgs[] = {"ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256",
                                               "ecdsa_secp384r1_sha384", "rsa_pkcs1_sha384", NULL};
    memset(h, 0, sizeof *h);
    h->legacy_version = p->max_version > DTP_TLS1_2 ? DTP_TLS1_2 : p->max_version;
    if (p->max_version >= DTP_TLS1_3) {
        h->has_supported_versions = true;
        for (int v = p->max_version; v >= p->min_version; v--)
            h->versions[h->n_versions++] = v;
    }
    add_suites(h, p->tls13_suites);
    add_suites(h, p->tls12_client_order ? p->tls12_client_order : p->tls12_suites);
    add_suites(h, p->fallback_suites);
    h->renegotiation_scsv = true;
    h->n_compression = 1; /* null */
    set_groups(h, p->groups);
    h->has_key_shares = p->max_version >= DTP_TLS1_3;
    h->n_key_shares = h->has_key_shares;
    h->key_shares[0] = h->groups[0];
    set_sigalgs(h, p->sigalgs ? p->sigalgs : sha2_sigalgs);
    h->has_point_formats = true;
    h->n_point_formats = 1; /* uncompressed */
    h->ems = true;
    if (p->alpn) {
        h->n_alpn = 1;
        snprintf(h->alpn[0], sizeof h->alpn[0], "%s", p->alpn);
    }
}

static struct dtp_client_hello *hello_of(const char *key)
{
    static struct dtp_client_hello h;
    own_hello(get(key), &h);
    return &h;
}

static void dump(const struct dtp_grade *g)
{
    for (size_t i = 0; i < g->n; i++)
        fprintf(stderr, "  %s %-8s %-6s %s\n", g->findings[i].ok ? "ok  " : "FAIL", g->findings[i].req,
                g->findings[i].level == DTP_LEVEL_SHALL    ? "shall"
                : g->findings[i].level == DTP_LEVEL_SHOULD ? "should"
                                                           : "info",
                g->findings[i].evidence);
}

/* Whether a violated finding of the grade cites id (one token of "M26/M8")
 * at that level. */
static bool violated(const struct dtp_grade *g, const char *id, int level)
{
    size_t n = strlen(id);
    for (size_t i = 0; i < g->n; i++) {
        const struct dtp_finding *f = &g->findings[i];
        if (f->ok || f->level != level)
            continue;
        for (const char *t = f->req; *t; t += strcspn(t, "/") + (t[strcspn(t, "/")] == '/'))
            if (strncmp(t, id, n) == 0 && (t[n] == '/' || t[n] == '\0'))
                return true;
    }
    return false;
}

static bool cites_ok(const struct dtp_grade *g, const char *id)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->findings[i].ok && strstr(g->findings[i].req, id))
            return true;
    return false;
}

/* Grades h under key; prints the findings when expect does not hold. */
static struct dtp_grade *grade(const struct dtp_client_hello *h, const char *key)
{
    static struct dtp_grade g;
    dtp_grade_client(h, true, get(key), &g);
    return &g;
}

#define EXPECT_VIOLATED(g, id, level)                                                                                  \
    do {                                                                                                               \
        if (!violated(g, id, level)) {                                                                                 \
            fprintf(stderr, "%s: expected %s violated\n", (g)->profile->key, id);                                      \
            dump(g);                                                                                                   \
        }                                                                                                              \
        CHECK(violated(g, id, level));                                                                                 \
    } while (0)

/* ---- grading ------------------------------------------------------------- */

/* Every row's own client conforms to the row, without a warning: the
 * grader and the profile table agree. */
static int own_hello_conforms(void)
{
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        struct dtp_grade *g = grade(hello_of(p->key), p->key);
        printf("%s: %d failures, %d warnings, %zu findings\n", p->key, g->failures, g->warnings, g->n);
        if (!g->conforms || g->warnings)
            dump(g);
        CHECK(g->conforms && g->warnings == 0 && !g->unreachable && g->n > 8);
    }
    return 0;
}

/* A B.13-like hello (TLS 1.3 and the 14 suites, P-256 first, no X25519)
 * conforms to B.13, and to B.12 with warnings (R26: no X25519; CCM
 * suites outside B.12's lists, R1). */
static int b13_hello_conforms_to_b13(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-8996-mod");
    CHECK(grade(h, "bcp195-8996-mod")->conforms);
    struct dtp_grade *g = grade(h, "bcp195-8996");
    CHECK(g->conforms && g->warnings > 0);
    EXPECT_VIOLATED(g, "R26", DTP_LEVEL_SHOULD);
    /* and X25519 offered fails M17 (255 bits, Q2) */
    static const char *const with_x25519[] = {"x25519", "secp256r1", NULL};
    set_groups(h, with_x25519);
    EXPECT_VIOLATED(grade(h, "bcp195-8996-mod"), "M17", DTP_LEVEL_SHALL);
    return 0;
}

/* N1: a TLS 1.1 hello (no supported_versions) fails bcp195-nd; under
 * bcp195 the downgrade is allowed (info) but TLS 1.2 is not offered (B1). */
static int tls11_under_nd(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-nd");
    h->has_supported_versions = false;
    h->n_versions = 0;
    h->legacy_version = DTP_TLS1_1;
    struct dtp_grade *g = grade(h, "bcp195-nd");
    EXPECT_VIOLATED(g, "N1", DTP_LEVEL_SHALL);
    EXPECT_VIOLATED(g, "N2", DTP_LEVEL_SHALL);
    CHECK(!g->conforms);
    g = grade(h, "bcp195");
    CHECK(!violated(g, "B2", DTP_LEVEL_INFO) && cites_ok(g, "B2/B6"));
    EXPECT_VIOLATED(g, "B1", DTP_LEVEL_SHALL);
    /* TLS 1.1 in supported_versions: the same (R8 under B.12). */
    h = hello_of("bcp195-8996");
    h->versions[h->n_versions++] = DTP_TLS1_1;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R8", DTP_LEVEL_SHALL);
    EXPECT_VIOLATED(grade(h, "bcp195-8996-mod"), "M37", DTP_LEVEL_SHALL);
    return 0;
}

/* One TLS 1.2 hello without supported_versions cannot show the client's
 * lowest version: not a violation, an info finding. */
static int lowest_version_unseen(void)
{
    struct dtp_grade *g = grade(hello_of("bcp195-ex"), "bcp195-ex");
    CHECK(g->conforms && cites_ok(g, "E1") && cites_ok(g, "C2"));
    bool info = false;
    for (size_t i = 0; i < g->n; i++)
        info |= strcmp(g->findings[i].req, "E1") == 0 && g->findings[i].level == DTP_LEVEL_INFO &&
                strstr(g->findings[i].evidence, "not visible");
    CHECK(info);
    return 0;
}

/* CBC offered: E4 (shall) under bcp195-ex, M26 with M8 under B.13, R22
 * (should) under B.12; static RSA CBC cites M5 as well. */
static int cbc_offered(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-8996-mod");
    add_suite(h, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256");
    struct dtp_grade *g = grade(h, "bcp195-8996-mod");
    EXPECT_VIOLATED(g, "M26", DTP_LEVEL_SHALL);
    EXPECT_VIOLATED(g, "M8", DTP_LEVEL_SHALL);
    CHECK(!g->conforms);
    add_suite(h, "TLS_RSA_WITH_AES_128_CBC_SHA");
    EXPECT_VIOLATED(grade(h, "bcp195-8996-mod"), "M5", DTP_LEVEL_SHALL);
    h = hello_of("bcp195-ex");
    add_suite(h, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
    EXPECT_VIOLATED(grade(h, "bcp195-ex"), "E4", DTP_LEVEL_SHALL);
    h = hello_of("bcp195-8996");
    add_suite(h, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
    g = grade(h, "bcp195-8996");
    EXPECT_VIOLATED(g, "R22", DTP_LEVEL_SHOULD);
    CHECK(g->conforms);
    return 0;
}

/* Weak suites: C3 (shall) under the seeds' rows, R14 (RC4) and R16 (3DES,
 * should) under B.12; an unknown code counts as "other" (M26). */
static int weak_and_unknown_suites(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-nd");
    add_suite(h, "TLS_RSA_WITH_RC4_128_SHA");
    EXPECT_VIOLATED(grade(h, "bcp195-nd"), "C3", DTP_LEVEL_SHALL);
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R14", DTP_LEVEL_SHALL);
    h = hello_of("bcp195-8996");
    add_suite(h, "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
    struct dtp_grade *g = grade(h, "bcp195-8996");
    EXPECT_VIOLATED(g, "R16", DTP_LEVEL_SHOULD);
    CHECK(g->conforms);
    h = hello_of("bcp195-8996-mod");
    h->suites[h->n_suites++] = (struct dtp_hello_code){0xFF85, NULL, 0};
    g = grade(h, "bcp195-8996-mod");
    EXPECT_VIOLATED(g, "M26", DTP_LEVEL_SHALL);
    bool hex = false;
    for (size_t i = 0; i < g->n; i++)
        hex |= strstr(g->findings[i].evidence, "0xFF,0x85") != NULL;
    CHECK(hex);
    /* M25's DHE suites are allowed (info) to a B.13 client (M24). */
    h = hello_of("bcp195-8996-mod");
    add_suite(h, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384");
    g = grade(h, "bcp195-8996-mod");
    CHECK(g->conforms && cites_ok(g, "M25"));
    return 0;
}

/* R36: a TLS 1.2 offer without extended_master_secret. */
static int no_ems_b12(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-8996");
    h->ems = false;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R36", DTP_LEVEL_SHALL);
    h = hello_of("bcp195-nd");
    h->ems = false;
    CHECK(grade(h, "bcp195-nd")->conforms); /* no EMS rule in the seeds' rows */
    return 0;
}

/* C4: DEFLATE offered fails the seeds' rows; R34 warns under B.12. */
static int compression_c4(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-nd");
    h->compression[0] = 1;
    h->compression[1] = 0;
    h->n_compression = 2;
    EXPECT_VIOLATED(grade(h, "bcp195-nd"), "C4", DTP_LEVEL_SHALL);
    h = hello_of("bcp195-8996");
    h->compression[0] = 1;
    h->compression[1] = 0;
    h->n_compression = 2;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R34", DTP_LEVEL_SHOULD);
    return 0;
}

/* E5: X25519 (255 bits) offered under bcp195-ex; B5 under cryptrec. */
static int x25519_under_ex(void)
{
    static const char *const groups[] = {"x25519", "secp256r1", NULL};
    struct dtp_client_hello *h = hello_of("bcp195-ex");
    set_groups(h, groups);
    struct dtp_grade *g = grade(h, "bcp195-ex");
    EXPECT_VIOLATED(g, "E5", DTP_LEVEL_SHALL);
    CHECK(!g->conforms);
    EXPECT_VIOLATED(grade(h, "cryptrec"), "B5", DTP_LEVEL_SHALL);
    CHECK(grade(h, "bcp195-nd")->conforms); /* 224 bits there */
    return 0;
}

/* R32, R33 (B.12) and M10 (B.13): SHA-1-only signature schemes; SHA-1
 * among SHA-256 ones still fails R32 (RFC 9155), and under bcp195 is
 * info (B2). No signature_algorithms at all fails R33. */
static int sha1_sigalgs(void)
{
    static const char *const sha1_only[] = {"rsa_pkcs1_sha1", "ecdsa_sha1", NULL};
    static const char *const mixed[] = {"rsa_pss_rsae_sha256", "rsa_pkcs1_sha1", NULL};
    struct dtp_client_hello *h = hello_of("bcp195-8996");
    set_sigalgs(h, sha1_only);
    struct dtp_grade *g = grade(h, "bcp195-8996");
    EXPECT_VIOLATED(g, "R32", DTP_LEVEL_SHALL);
    EXPECT_VIOLATED(g, "R33", DTP_LEVEL_SHALL);
    EXPECT_VIOLATED(grade(h, "bcp195-8996-mod"), "M10", DTP_LEVEL_SHALL);
    set_sigalgs(h, mixed);
    g = grade(h, "bcp195-8996");
    EXPECT_VIOLATED(g, "R32", DTP_LEVEL_SHALL);
    CHECK(!violated(g, "R33", DTP_LEVEL_SHALL));
    h = hello_of("bcp195");
    set_sigalgs(h, mixed);
    CHECK(grade(h, "bcp195")->conforms);
    h = hello_of("bcp195-8996");
    h->has_sigalgs = false;
    h->n_sigalgs = 0;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R33", DTP_LEVEL_SHALL);
    /* M12, M14: EdDSA and SHA-224 are outside B.13's closed lists. */
    static const char *const eddsa[] = {"rsa_pss_rsae_sha256", "ed25519", "ecdsa_sha224", NULL};
    h = hello_of("bcp195-8996-mod");
    set_sigalgs(h, eddsa);
    EXPECT_VIOLATED(grade(h, "bcp195-8996-mod"), "M12", DTP_LEVEL_SHALL);
    CHECK(grade(h, "bcp195-8996")->conforms);
    return 0;
}

/* R3 vs M33: a TLS 1.3-only client fails B.12 (TLS 1.2 is a shall for
 * clients too) and meets B.13; R5/M34 are info, one hello cannot tell
 * whether a client has TLS 1.3. */
static int tls13_only(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-8996-mod");
    h->n_versions = 1; /* TLS 1.3 */
    struct dtp_grade *g = grade(h, "bcp195-8996-mod");
    if (!g->conforms)
        dump(g);
    CHECK(g->conforms && cites_ok(g, "M33"));
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R3", DTP_LEVEL_SHALL);
    h = hello_of("bcp195-8996-mod");
    h->has_supported_versions = false;
    h->n_versions = 0; /* a TLS 1.2 client */
    g = grade(h, "bcp195-8996");
    CHECK(g->conforms && cites_ok(g, "R5"));
    g = grade(h, "bcp195-8996-mod");
    CHECK(g->conforms && cites_ok(g, "M19")); /* not checked: no TLS 1.3 offered */
    return 0;
}

/* B3 vs R9: TLS_FALLBACK_SCSV marks a retry below the client's best
 * version; allowed (info) under bcp195, a violation under B.12/B.13. */
static int fallback_scsv(void)
{
    struct dtp_client_hello *h = hello_of("bcp195");
    h->fallback_scsv = true;
    CHECK(grade(h, "bcp195")->conforms);
    h = hello_of("bcp195-8996");
    h->fallback_scsv = true;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R9", DTP_LEVEL_SHALL);
    return 0;
}

/* R23: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 first among the TLS 1.2
 * suites (TLS 1.3 suites before it do not count); a should. */
static int first_suite_r23(void)
{
    const struct dtp_profile *p = get("bcp195-8996");
    struct dtp_client_hello *h = hello_of("bcp195-8996");
    CHECK(cites_ok(grade(h, p->key), "R23"));
    h->n_suites = 0;
    add_suites(h, p->tls13_suites);
    add_suites(h, p->tls12_suites); /* the server's order: AES-256 first */
    struct dtp_grade *g = grade(h, p->key);
    EXPECT_VIOLATED(g, "R23", DTP_LEVEL_SHOULD);
    CHECK(g->conforms);
    return 0;
}

/* R21 (should) and N2/K2 (shall) name suites to offer; E3 one of, K3
 * each of. A Camellia-GCM-only TLS 1.2 offer meets E3 and M24, not N2. */
static int required_suites(void)
{
    static const char *const camellia[] = {"TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
                                           "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", NULL};
    struct dtp_client_hello *h = hello_of("bcp195-ex");
    h->n_suites = 0;
    add_suites(h, camellia);
    struct dtp_grade *g = grade(h, "bcp195-ex");
    CHECK(cites_ok(g, "E3"));
    EXPECT_VIOLATED(g, "E2", DTP_LEVEL_SHALL);
    EXPECT_VIOLATED(grade(h, "cryptrec"), "K3", DTP_LEVEL_SHOULD);
    EXPECT_VIOLATED(grade(h, "bcp195-nd"), "N2", DTP_LEVEL_SHALL);
    g = grade(h, "bcp195-8996");
    EXPECT_VIOLATED(g, "R21", DTP_LEVEL_SHOULD);
    CHECK(g->conforms);
    CHECK(cites_ok(grade(h, "bcp195-8996-mod"), "M24"));
    return 0;
}

/* ALPN (R39), SNI (R38, Q9), 0-RTT (R41), renegotiation_info (C5, R35),
 * point formats (R26). */
static int extensions(void)
{
    struct dtp_client_hello *h = hello_of("bcp195-8996");
    h->n_alpn = 0;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R39", DTP_LEVEL_SHOULD);
    snprintf(h->sni, sizeof h->sni, "127.0.0.1");
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R38", DTP_LEVEL_SHOULD);
    snprintf(h->sni, sizeof h->sni, "pacs.example");
    CHECK(cites_ok(grade(h, "bcp195-8996"), "R38"));
    h->early_data = true;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R41", DTP_LEVEL_SHALL);
    h = hello_of("bcp195-nd");
    h->renegotiation_scsv = false;
    EXPECT_VIOLATED(grade(h, "bcp195-nd"), "C5", DTP_LEVEL_SHALL);
    h->renegotiation_info = true;
    CHECK(grade(h, "bcp195-nd")->conforms);
    h = hello_of("bcp195-8996");
    h->point_formats[1] = 1;
    h->n_point_formats = 2;
    EXPECT_VIOLATED(grade(h, "bcp195-8996"), "R26", DTP_LEVEL_SHOULD);
    return 0;
}

/* No hello: no verdict. A failed handshake is said, the grade is the
 * hello's. No profile: nothing conforms. */
static int no_hello_and_failed_handshake(void)
{
    struct dtp_grade g;
    dtp_grade_client(NULL, false, get("bcp195-nd"), &g);
    CHECK(g.unreachable && !g.conforms && g.failures == 1);
    dtp_grade_client(hello_of("bcp195-nd"), false, get("bcp195-nd"), &g);
    CHECK(g.conforms && g.n > 0 && g.findings[0].level == DTP_LEVEL_INFO && strstr(g.findings[0].evidence, "did not"));
    dtp_grade_client(hello_of("bcp195-nd"), true, NULL, &g);
    CHECK(!g.conforms && g.n == 0);
    dtp_grade_client(NULL, true, NULL, NULL); /* no crash */
    return 0;
}

/* A profile is data: hello.c names no profile key. */
static int hello_c_has_no_profile_key(void) { return source_names_no_profile(DTP_HELLO_SOURCE); }

/* The rows' client reqs: every row has the version and suite rules;
 * the suites each names are ones the row's own client offers. */
static int client_reqs_consistent(void)
{
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        const struct dtp_client_reqs *q = &p->reqs.client;
        CHECK(q->tls12.id && q->required_tls12.req.id && q->required_tls12.suites);
        CHECK(!q->first_suite.id || p->tls12_client_order);
        CHECK(!q->sigalgs_outside.id || p->sigalgs);
        CHECK(!q->required_tls13.req.id || p->tls13_suites);
        CHECK(q->tls13.level == DTP_LEVEL_INFO); /* R5, M34: one hello cannot tell */
        CHECK((q->fallback.level == DTP_LEVEL_INFO) == p->may_downgrade || !q->fallback.id);
    }
    return 0;
}

/* ---- recording (real handshakes) ------------------------------------------ */

struct recorded {
    int count;
    struct dtp_client_hello first, last;
};

static void record(void *user, const struct dtp_client_hello *h)
{
    struct recorded *r = user;
    if (r->count++ == 0)
        r->first = *h;
    r->last = *h;
}

/* The checker's server: bcp195, the widest row, with the observer. */
static dtp_ctx *observing(struct recorded *rec, int role, const char *backend, struct dtp_error *err)
{
    struct dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = dtp_profile_at(0);
    cfg.role = role;
    cfg.backend = backend;
    cfg.cert_file = pki("server-rsa.pem");
    cfg.key_file = pki("server-rsa.key");
    cfg.ca_file = pki("ca.pem");
    cfg.verify = role == DTP_ROLE_SERVER ? DTP_VERIFY_IF_PRESENT : DTP_VERIFY_REQUIRE;
    cfg.handshake_timeout_ms = 5000;
    cfg.on_client_hello = record;
    cfg.on_client_hello_user = rec;
    memset(err, 0, sizeof *err);
    return dtp_ctx_new(&cfg, err);
}

static bool all_named(const struct dtp_hello_code *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!x[i].name) {
            fprintf(stderr, "unnamed code 0x%04X\n", x[i].code);
            return false;
        }
    return true;
}

/* Each row's own client against the observing server: the handshake
 * completes, one hello is recorded with every code named, and its grade
 * under the row conforms (R26's point formats warn: OpenSSL 3.0 lists the
 * compressed ones). */
static int recorded_from_each_profile(void)
{
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        static struct recorded rec;
        memset(&rec, 0, sizeof rec);
        struct dtp_error err;
        struct side c, s;
        CHECK(run_pair(mk(CLIENT(p->key, "rsa")), observing(&rec, DTP_ROLE_SERVER, NULL, &err), &c, &s) == 0);
        CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
        CHECK_REASON(DTP_OK, s.rc, DETAIL(s));
        done(&c, &s);
        const struct dtp_client_hello *h = &rec.first;
        printf("%s: %d hello(s), %zu suites, %zu groups, %zu sigalgs, %zu extensions\n", p->key, rec.count,
               h->n_suites, h->n_groups, h->n_sigalgs, h->n_extensions);
        CHECK(rec.count == 1 && h->dropped == 0);
        CHECK(all_named(h->suites, h->n_suites) && all_named(h->groups, h->n_groups) &&
              all_named(h->sigalgs, h->n_sigalgs));
        CHECK(h->legacy_version == DTP_TLS1_2 && h->n_compression == 1 && h->compression[0] == 0);
        CHECK(h->has_supported_versions == (p->max_version >= DTP_TLS1_3));
        CHECK(h->ems && (h->renegotiation_scsv || h->renegotiation_info));
        CHECK(h->n_groups > 0 && strcmp(h->groups[0].name, p->groups[0]) == 0);
        CHECK((h->n_alpn == 1) == (p->alpn != NULL));
        CHECK(!p->alpn || strcmp(h->alpn[0], p->alpn) == 0);
        /* the client's TLS 1.2 order (R23) */
        const char *const *order = p->tls12_client_order ? p->tls12_client_order : p->tls12_suites;
        size_t first12 = 0;
        while (first12 < h->n_suites && strstr(h->suites[first12].name, "_WITH_") == NULL)
            first12++;
        CHECK(first12 < h->n_suites && strcmp(h->suites[first12].name, order[0]) == 0);
        struct dtp_grade g;
        dtp_grade_client(h, true, p, &g);
        if (!g.conforms)
            dump(&g);
        CHECK(g.conforms);
    }
    return 0;
}

/* A hello whose offer the server cannot serve is recorded all the same
 * (a B.13 client with TLS 1.2 CCM_8 alone: the bcp195 server has none). */
static int failed_handshake_still_recorded(void)
{
    static const char *const ccm8[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", NULL};
    struct dtp_profile cp = *get("bcp195-8996-mod");
    cp.max_version = DTP_TLS1_2;
    cp.tls13_suites = NULL;
    cp.tls12_suites = cp.tls12_client_order = ccm8;
    struct fx cf = CLIENT(NULL, "rsa");
    cf.p = &cp;
    static struct recorded rec;
    struct dtp_error err;
    struct side c, s;
    CHECK(run_pair(mk(cf), observing(&rec, DTP_ROLE_SERVER, NULL, &err), &c, &s) == 0);
    CHECK(c.rc != DTP_OK);
    CHECK_REASON(DTP_R_NO_SHARED_SUITE, s.rc, DETAIL(s));
    done(&c, &s);
    CHECK(rec.count == 1 && rec.first.n_suites == 1);
    CHECK(strcmp(rec.first.suites[0].name, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8") == 0);
    struct dtp_grade g;
    dtp_grade_client(&rec.first, false, get("bcp195-8996-mod"), &g);
    CHECK(g.conforms); /* M24: one M21 suite is enough for a B.13 client */
    dtp_grade_client(&rec.first, false, get("bcp195-8996"), &g);
    CHECK(violated(&g, "R21", DTP_LEVEL_SHOULD) && violated(&g, "R1", DTP_LEVEL_SHOULD));
    return 0;
}

/* A client whose key share the server lacks (X448 first: bcp195 has no
 * X448) gets a HelloRetryRequest: the observer sees both hellos, the
 * first with the client's own share. */
static int hello_retry_request(void)
{
    static const char *const groups[] = {"x448", "secp256r1", NULL};
    struct dtp_profile cp = *get("bcp195-8996");
    cp.groups = groups;
    struct fx cf = CLIENT(NULL, "rsa");
    cf.p = &cp;
    static struct recorded rec;
    struct dtp_error err;
    struct side c, s;
    CHECK(run_pair(mk(cf), observing(&rec, DTP_ROLE_SERVER, NULL, &err), &c, &s) == 0);
    CHECK_REASON(DTP_OK, c.rc, DETAIL(c));
    done(&c, &s);
    printf("%d hellos, first key share %s, last %s\n", rec.count, rec.first.key_shares[0].name,
           rec.last.key_shares[0].name);
    CHECK(rec.count == 2);
    CHECK(strcmp(rec.first.key_shares[0].name, "x448") == 0 && rec.first.key_shares[0].bits == 448);
    CHECK(strcmp(rec.last.key_shares[0].name, "secp256r1") == 0);
    return 0;
}

/* The observer is a server's, and the OpenSSL backend's: elsewhere the
 * option is refused, not ignored. */
static int observer_refused_elsewhere(void)
{
    static struct recorded rec;
    struct dtp_error err;
    dtp_ctx *ctx = observing(&rec, DTP_ROLE_CLIENT, NULL, &err);
    CHECK(!ctx);
    CHECK_REASON(DTP_R_CONFIG_INVALID, err.code, err.detail);
    for (size_t i = 0; i < dtp_backend_count(); i++) {
        ctx = observing(&rec, DTP_ROLE_SERVER, dtp_backend_name(i), &err);
        printf("backend %s: %s\n", dtp_backend_name(i), ctx ? "records" : err.detail);
        if (strcmp(dtp_backend_name(i), "openssl") == 0)
            CHECK(ctx != NULL);
        else
            CHECK(!ctx && err.code == DTP_R_CONFIG_INVALID);
        dtp_ctx_free(ctx);
    }
    return 0;
}

static const struct check_case cases[] = {
    CASE(own_hello_conforms),
    CASE(b13_hello_conforms_to_b13),
    CASE(tls11_under_nd),
    CASE(lowest_version_unseen),
    CASE(cbc_offered),
    CASE(weak_and_unknown_suites),
    CASE(no_ems_b12),
    CASE(compression_c4),
    CASE(x25519_under_ex),
    CASE(sha1_sigalgs),
    CASE(tls13_only),
    CASE(fallback_scsv),
    CASE(first_suite_r23),
    CASE(required_suites),
    CASE(extensions),
    CASE(no_hello_and_failed_handshake),
    CASE(hello_c_has_no_profile_key),
    CASE(client_reqs_consistent),
    CASE(recorded_from_each_profile),
    CASE(failed_handshake_still_recorded),
    CASE(hello_retry_request),
    CASE(observer_refused_elsewhere),
};
CHECK_MAIN(cases)
