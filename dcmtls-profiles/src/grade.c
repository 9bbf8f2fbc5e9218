/*
 * The parts of a grade (dtp/check.h) that the server grader (scan.c) and
 * the client grader (hello.c) share: writing findings, naming versions,
 * and sorting suites into the classes a profile row cites. Plain data, no
 * allocation, no global state.
 */
#include "grade.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void dtp__fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
}

void dtp__append_word(char *buf, size_t len, const char *word)
{
    size_t n = strlen(buf);
    dtp__fmt(buf + n, len - n, "%s%s", n ? " " : "", word);
}

void dtp__sink_begin(struct dtp__sink *s, struct dtp_grade *g, const struct dtp_profile *p)
{
    memset(g, 0, sizeof *g);
    g->profile = p;
    s->g = g;
    s->omitted = 0;
}

void dtp__add(struct dtp__sink *s, const char *req, int level, bool ok, const char *f, ...)
{
    struct dtp_grade *g = s->g;
    if (level == DTP_LEVEL_INFO)
        ok = true; /* info reports, it never fails */
    if (!ok && level == DTP_LEVEL_SHALL)
        g->failures++;
    else if (!ok)
        g->warnings++;
    if (g->n + 1 >= DTP_GRADE_MAX_FINDINGS) { /* the last slot says how many were left out */
        s->omitted++;
        return;
    }
    struct dtp_finding *x = &g->findings[g->n++];
    dtp__fmt(x->req, sizeof x->req, "%s", req ? req : "");
    x->level = level;
    x->ok = ok;
    va_list ap;
    va_start(ap, f);
    vsnprintf(x->evidence, sizeof x->evidence, f, ap);
    va_end(ap);
}

void dtp__sink_end(struct dtp__sink *s)
{
    struct dtp_grade *g = s->g;
    if (s->omitted) {
        struct dtp_finding *x = &g->findings[g->n++];
        memset(x, 0, sizeof *x);
        x->level = DTP_LEVEL_INFO;
        x->ok = true;
        dtp__fmt(x->evidence, sizeof x->evidence, "%d more findings not listed (counted in failures and warnings)",
                 s->omitted);
    }
    g->conforms = g->profile && !g->unreachable && g->failures == 0;
}

void dtp__join_id(char *dst, size_t len, const char *ids)
{
    for (const char *t = ids; t && *t;) {
        size_t tl = strcspn(t, "/");
        bool seen = false;
        for (const char *d = dst; *d;) {
            size_t dl = strcspn(d, "/");
            seen |= dl == tl && strncmp(d, t, tl) == 0;
            d += dl + (d[dl] == '/');
        }
        size_t n = strlen(dst);
        if (!seen && n + (n > 0) + tl < len)
            dtp__fmt(dst + n, len - n, "%s%.*s", n ? "/" : "", (int)tl, t);
        t += tl + (t[tl] == '/');
    }
}

bool dtp__in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list && name && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

const char *dtp__version_name(int version)
{
    static const struct {
        int v;
        const char *name;
    } names[] = {{DTP_SSL3_0, "SSLv3"},     {DTP_TLS1_0, "TLSv1.0"}, {DTP_TLS1_1, "TLSv1.1"},
                 {DTP_TLS1_2, "TLSv1.2"}, {DTP_TLS1_3, "TLSv1.3"}};
    for (size_t i = 0; i < COUNT(names); i++)
        if (names[i].v == version)
            return names[i].name;
    return dtp_tls_version_name(version);
}

static bool has(const char *s, const char *part) { return strstr(s, part) != NULL; }
bool dtp__suite_is_tls13(const char *s) { return !has(s, "_WITH_"); }
static bool is_null(const char *s) { return has(s, "_WITH_NULL_") || strncmp(s, "TLS_NULL_", 9) == 0; }
static bool is_export(const char *s) { return has(s, "_EXPORT"); }
static bool is_anon(const char *s) { return has(s, "_anon_"); }
static bool is_rc4(const char *s) { return has(s, "_RC4_"); }
static bool is_des(const char *s) { return has(s, "_DES_") || has(s, "_DES40_"); }
static bool is_3des(const char *s) { return has(s, "_3DES_"); }
static bool is_static_rsa(const char *s) { return strncmp(s, "TLS_RSA_", 8) == 0; }
static bool is_cbc(const char *s) { return has(s, "_CBC"); }
bool dtp__suite_is_dhe(const char *s) { return strncmp(s, "TLS_DHE_", 8) == 0; }
bool dtp__group_is_ff(const char *g)
{
    return strncmp(g, "ffdhe", 5) == 0 || strcmp(g, "dh") == 0 || strcmp(g, "DH") == 0;
}

bool dtp__row_offers_suite(const struct dtp_profile *p, const char *s)
{
    if (dtp__suite_is_tls13(s))
        return dtp__in_list(p->tls13_suites, s);
    return dtp__in_list(p->tls12_suites, s) || dtp__in_list(p->fallback_suites, s);
}

/* A class of suites by name and the member of struct dtp_profile_reqs
 * whose ID it cites. */
struct suite_class {
    size_t req;
    bool (*match)(const char *suite);
};
static const struct suite_class weak_classes[] = {
    {offsetof(struct dtp_profile_reqs, weak_null), is_null},
    {offsetof(struct dtp_profile_reqs, weak_export), is_export},
    {offsetof(struct dtp_profile_reqs, weak_anon), is_anon},
    {offsetof(struct dtp_profile_reqs, weak_rc4), is_rc4},
    {offsetof(struct dtp_profile_reqs, weak_des), is_des},
    {offsetof(struct dtp_profile_reqs, weak_3des), is_3des},
};
static const struct suite_class other_classes[] = {
    {offsetof(struct dtp_profile_reqs, other_static_rsa), is_static_rsa},
    {offsetof(struct dtp_profile_reqs, other_cbc), is_cbc},
    {offsetof(struct dtp_profile_reqs, other_dhe), dtp__suite_is_dhe},
};

bool dtp__classify(const struct dtp_profile_reqs *q, int family, const char *suite, char *ids, size_t len,
                   int *level)
{
    const struct suite_class *k = family == DTP__WEAK ? weak_classes : other_classes;
    size_t nk = family == DTP__WEAK ? COUNT(weak_classes) : COUNT(other_classes);
    bool matched = false;
    ids[0] = '\0';
    *level = DTP_LEVEL_INFO;
    for (size_t i = 0; i < nk; i++) {
        const struct dtp_req *r = (const struct dtp_req *)((const char *)q + k[i].req);
        if (suite && !k[i].match(suite))
            continue;
        matched = true;
        if (r->id) {
            dtp__join_id(ids, len, r->id);
            *level = r->level > *level ? r->level : *level;
        }
    }
    return matched;
}

int dtp__suite_place(const struct dtp_profile *p, const char *suite, char *ids, size_t len, int *level)
{
    const struct dtp_profile_reqs *q = &p->reqs;
    if (dtp__classify(q, DTP__WEAK, suite, ids, len, level))
        return DTP__WEAK_SUITE;
    if (dtp__row_offers_suite(p, suite)) {
        ids[0] = '\0';
        return DTP__IN_ROW;
    }
    if (q->allowed.req.id && dtp__in_list(q->allowed.suites, suite)) {
        dtp__fmt(ids, len, "%s", q->allowed.req.id);
        *level = q->allowed.req.level;
        return DTP__ALLOWED_SUITE;
    }
    if (!dtp__classify(q, DTP__OTHER, suite, ids, len, level) && q->other.id) {
        dtp__fmt(ids, len, "%s", q->other.id);
        *level = q->other.level;
    }
    return DTP__OTHER_SUITE;
}

void dtp__suite_classes_ok(struct dtp__sink *s, const struct dtp_profile_reqs *q, bool weak_bad, bool other_bad,
                           const char *verb)
{
    char ids[16];
    int level;
    if (!weak_bad && dtp__classify(q, DTP__WEAK, NULL, ids, sizeof ids, &level) && ids[0])
        dtp__add(s, ids, level, true, "no NULL, export, anonymous, RC4, DES or 3DES suite %s", verb);
    dtp__classify(q, DTP__OTHER, NULL, ids, sizeof ids, &level);
    if (q->other.id) {
        dtp__join_id(ids, sizeof ids, q->other.id);
        level = q->other.level > level ? q->other.level : level;
    }
    if (!other_bad && ids[0])
        dtp__add(s, ids, level, true, "no suite outside the profile's lists %s", verb);
}
