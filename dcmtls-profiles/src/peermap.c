/*
 * AE titles bound to certificates (dtp/peermap.h): the map file's parser
 * and the check of a peer against it. Certificates are read with OpenSSL
 * (d2i_X509, subject CNs, subjectAltName entries, digests); nothing here
 * parses ASN.1 by hand.
 */
#include "dtp/peermap.h"

#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define AE_MAX 16     /* PS3.5 6.2: AE VR, 16 characters */
#define FIELD_MAX 256 /* one field of a line, quotes removed */
#define MAP_FILE_MAX (1L << 20)

enum id_kind { ID_CN, ID_DNS, ID_IP, ID_SHA256, ID_SPKI };

static const char *const kind_names[] = {"cn", "dns", "ip", "sha256", "spki"};

struct peer_line {
    char ae[AE_MAX + 1];
    int kind;              /* enum id_kind */
    char value[FIELD_MAX]; /* cn: as written; dns: lower-cased; ip/digests: as written (display) */
    unsigned char bin[32]; /* ip: 4 or 16 bytes; sha256/spki: the digest */
    size_t bin_len;
    const struct dtp_profile *profile; /* NULL: any profile */
    unsigned line;
};

struct dtp_peer_map {
    char *name;
    struct peer_line *lines;
    size_t n, cap;
};

/* ---- parsing ---------------------------------------------------------- */

/* The AE title of a field: leading and trailing spaces are not
 * significant (PS3.5 6.2); what remains is 1-16 characters of the default
 * repertoire without backslash or control characters. Returns false with
 * why filled. */
static bool ae_from(const char *s, size_t len, char out[AE_MAX + 1], char *why, size_t wlen)
{
    while (len && *s == ' ')
        s++, len--;
    while (len && s[len - 1] == ' ')
        len--;
    if (len == 0) {
        snprintf(why, wlen, "empty AE title (or spaces only)");
        return false;
    }
    if (len > AE_MAX) {
        snprintf(why, wlen, "AE title '%.*s' has %zu characters, at most %d allowed", (int)len, s, len, AE_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c < 0x20 || c > 0x7e) {
            snprintf(why, wlen, "AE title '%.*s' contains %s (the AE VR allows printable ASCII without backslash)",
                     (int)len, s, c == '\\' ? "a backslash" : "a control or non-ASCII character");
            return false;
        }
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 64 hex digits, or 32 pairs separated by single colons. */
static bool digest_from(const char *s, unsigned char out[32], char *why, size_t wlen)
{
    size_t len = strlen(s), digits = 0;
    bool colons = strchr(s, ':') != NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':')
            continue;
        if (hex_nibble(s[i]) < 0) {
            snprintf(why, wlen, "'%c' is not a hex digit", s[i]);
            return false;
        }
        digits++;
    }
    if (digits != 64) {
        snprintf(why, wlen, "expected 64 hex digits (SHA-256), found %zu", digits);
        return false;
    }
    if (colons) {
        bool pairs = len == 95;
        for (size_t i = 0; pairs && i < len; i++)
            pairs = (i % 3 == 2) == (s[i] == ':');
        if (!pairs) {
            snprintf(why, wlen, "colons must separate pairs of hex digits (AB:CD:...)");
            return false;
        }
    }
    for (size_t i = 0, k = 0; i < len; i++) {
        if (s[i] == ':')
            continue;
        if (k % 2 == 0)
            out[k / 2] = (unsigned char)(hex_nibble(s[i]) << 4);
        else
            out[k / 2] |= (unsigned char)hex_nibble(s[i]);
        k++;
    }
    return true;
}

/* "cn:NAME" etc. into l (kind, value, bin). */
static bool identity_from(const char *s, struct peer_line *l, char *why, size_t wlen)
{
    const char *colon = strchr(s, ':');
    if (!colon) {
        snprintf(why, wlen, "identity '%.64s' has no kind (expected cn:, dns:, ip:, sha256: or spki:)", s);
        return false;
    }
    size_t klen = (size_t)(colon - s);
    l->kind = -1;
    for (int k = 0; k < (int)(sizeof kind_names / sizeof kind_names[0]); k++)
        if (strlen(kind_names[k]) == klen && strncasecmp(s, kind_names[k], klen) == 0)
            l->kind = k;
    if (l->kind < 0) {
        snprintf(why, wlen, "unknown identity kind '%.*s:' (expected cn:, dns:, ip:, sha256: or spki:)",
                 (int)(klen > 32 ? 32 : klen), s);
        return false;
    }
    const char *v = colon + 1;
    snprintf(l->value, sizeof l->value, "%s", v);
    if (!*v) {
        snprintf(why, wlen, "%s: without a value", kind_names[l->kind]);
        return false;
    }
    switch (l->kind) {
    case ID_CN:
        return true;
    case ID_DNS:
        for (char *c = l->value; *c; c++) {
            unsigned char u = (unsigned char)*c;
            if (!((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
                  u == '_' || u == '*')) {
                snprintf(why, wlen, "dns:%.64s: '%c' does not belong in a DNS name", v, *c);
                return false;
            }
            if (u >= 'A' && u <= 'Z')
                *c = (char)(u - 'A' + 'a');
        }
        return true;
    case ID_IP:
        if (inet_pton(AF_INET, v, l->bin) == 1)
            l->bin_len = 4;
        else if (inet_pton(AF_INET6, v, l->bin) == 1)
            l->bin_len = 16;
        else {
            snprintf(why, wlen, "ip:%.64s is not an IPv4 or IPv6 address", v);
            return false;
        }
        return true;
    default: {
        char inner[128];
        if (!digest_from(v, l->bin, inner, sizeof inner)) {
            snprintf(why, wlen, "%s:%.100s: %s", kind_names[l->kind], v, inner);
            return false;
        }
        l->bin_len = 32;
        return true;
    }
    }
}

static bool same_identity(const struct peer_line *a, const struct peer_line *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == ID_CN || a->kind == ID_DNS)
        return strcmp(a->value, b->value) == 0;
    return a->bin_len == b->bin_len && memcmp(a->bin, b->bin, a->bin_len) == 0;
}

/* Splits one line (without its newline) into at most 3 fields: blanks
 * separate, double quotes keep blanks, a field starting with '#' starts a
 * comment. Returns the number of fields, or -1 with why filled. */
static int split_line(const char *p, const char *end, char fields[3][FIELD_MAX], char *why, size_t wlen)
{
    int n = 0;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end || *p == '#')
            return n;
        if (n == 3) {
            snprintf(why, wlen, "more than 3 fields (expected AE_TITLE IDENTITY [PROFILE]; quote blanks)");
            return -1;
        }
        size_t len = 0;
        bool quoted = false;
        for (; p < end && (quoted || (*p != ' ' && *p != '\t')); p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"') {
                quoted = !quoted;
                continue;
            }
            if (c < 0x20 || c == 0x7f) {
                snprintf(why, wlen, "control character 0x%02x", c);
                return -1;
            }
            if (len == FIELD_MAX - 1) {
                snprintf(why, wlen, "field %d longer than %d characters", n + 1, FIELD_MAX - 1);
                return -1;
            }
            fields[n][len++] = (char)c;
        }
        if (quoted) {
            snprintf(why, wlen, "unterminated double quote");
            return -1;
        }
        fields[n++][len] = '\0';
    }
}

/* One non-empty line into map; false with why filled. */
static bool add_line(dtp_peer_map *map, char fields[3][FIELD_MAX], int nf, unsigned lineno, char *why, size_t wlen,
                     bool *oom)
{
    struct peer_line l;
    memset(&l, 0, sizeof l);
    l.line = lineno;
    if (nf < 2) {
        snprintf(why, wlen, "expected AE_TITLE IDENTITY [PROFILE], found one field '%.64s'", fields[0]);
        return false;
    }
    if (!ae_from(fields[0], strlen(fields[0]), l.ae, why, wlen) || !identity_from(fields[1], &l, why, wlen))
        return false;
    if (nf == 3) {
        int reason = 0;
        l.profile = dtp_profile_find(fields[2], &reason);
        if (!l.profile) {
            const struct dtp_retired_profile *r = dtp_retired_profile_find(fields[2]);
            if (r) {
                snprintf(why, wlen, "profile '%.32s' is the retired %s", fields[2], r->title);
                return false;
            }
            char known[256] = "";
            for (size_t i = 0; i < dtp_profile_count(); i++) {
                size_t k = strlen(known);
                snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", dtp_profile_at(i)->key);
            }
            snprintf(why, wlen, "unknown profile '%.32s' (known: %s)", fields[2], known);
            return false;
        }
    }
    for (size_t i = 0; i < map->n; i++) {
        const struct peer_line *o = &map->lines[i];
        if (strcmp(o->ae, l.ae) != 0 || !same_identity(o, &l))
            continue;
        if (o->profile == l.profile)
            snprintf(why, wlen, "repeats line %u (AE title '%s', %s:%.64s)", o->line, l.ae, kind_names[l.kind],
                     l.value);
        else
            snprintf(why, wlen, "contradicts line %u: AE title '%s' with %s:%.64s requires profile %s there, %s here",
                     o->line, l.ae, kind_names[l.kind], l.value, o->profile ? o->profile->key : "(any)",
                     l.profile ? l.profile->key : "(any)");
        return false;
    }
    if (map->n == map->cap) {
        size_t cap = map->cap ? map->cap * 2 : 16;
        struct peer_line *grown = realloc(map->lines, cap * sizeof *grown);
        if (!grown) {
            *oom = true;
            return false;
        }
        map->lines = grown;
        map->cap = cap;
    }
    map->lines[map->n++] = l;
    return true;
}

dtp_peer_map *dtp_peer_map_parse(const char *text, size_t len, const char *name, struct dtp_error *err)
{
    if (!name)
        name = "peer map";
    if (!text && len) {
        dtp__set_error(err, DTP_R_PEER_MAP, "%s: no text", name);
        return NULL;
    }
    dtp_peer_map *map = calloc(1, sizeof *map);
    if (map)
        map->name = strdup(name);
    if (!map || !map->name) {
        dtp_peer_map_free(map);
        dtp__set_error(err, DTP_R_INTERNAL, "out of memory");
        return NULL;
    }
    unsigned lineno = 0;
    const char *end_all = text + len;
    for (const char *p = text; p && p < end_all;) {
        const char *end = memchr(p, '\n', (size_t)(end_all - p));
        const char *next = end ? end + 1 : end_all;
        if (!end)
            end = end_all;
        lineno++;
        if (end > p && end[-1] == '\r')
            end--;
        char fields[3][FIELD_MAX], why[400] = "";
        bool oom = false;
        if (memchr(p, '\0', (size_t)(end - p))) {
            dtp__set_error(err, DTP_R_PEER_MAP, "%s line %u: NUL byte (not a text file?)", name, lineno);
            dtp_peer_map_free(map);
            return NULL;
        }
        int nf = split_line(p, end, fields, why, sizeof why);
        if (nf < 0 || (nf > 0 && !add_line(map, fields, nf, lineno, why, sizeof why, &oom))) {
            if (oom)
                dtp__set_error(err, DTP_R_INTERNAL, "out of memory");
            else
                dtp__set_error(err, DTP_R_PEER_MAP, "%s line %u: %s", name, lineno, why);
            dtp_peer_map_free(map);
            return NULL;
        }
        p = next;
    }
    if (map->n == 0) {
        dtp__set_error(err, DTP_R_PEER_MAP,
                       "%s: no peer line (AE_TITLE IDENTITY [PROFILE]); every AE title would be refused", name);
        dtp_peer_map_free(map);
        return NULL;
    }
    return map;
}

dtp_peer_map *dtp_peer_map_load(const char *path, struct dtp_error *err)
{
    if (!path || !*path) {
        dtp__set_error(err, DTP_R_PEER_MAP, "no peer map file named");
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    if (dtp__read_small_file(path, MAP_FILE_MAX, false, DTP_R_PEER_MAP, "a peer map", &text, &len, err) != DTP_OK)
        return NULL;
    dtp_peer_map *map = dtp_peer_map_parse(text, len, path, err);
    free(text);
    return map;
}

void dtp_peer_map_free(dtp_peer_map *map)
{
    if (!map)
        return;
    free(map->lines);
    free(map->name);
    free(map);
}

size_t dtp_peer_map_count(const dtp_peer_map *map)
{
    return map ? map->n : 0;
}

const char *dtp_peer_map_name(const dtp_peer_map *map)
{
    return map ? map->name : "";
}

/* The AE title as DICOM compares it: without leading and trailing spaces. */
static void trim_ae(const char *ae, char out[FIELD_MAX])
{
    size_t len = ae ? strlen(ae) : 0;
    while (len && *ae == ' ')
        ae++, len--;
    while (len && ae[len - 1] == ' ')
        len--;
    if (len > FIELD_MAX - 1)
        len = FIELD_MAX - 1;
    memcpy(out, ae ? ae : "", len);
    out[len] = '\0';
}

bool dtp_peer_map_lists(const dtp_peer_map *map, const char *ae_title)
{
    char ae[FIELD_MAX];
    trim_ae(ae_title, ae);
    for (size_t i = 0; map && i < map->n; i++)
        if (strcmp(map->lines[i].ae, ae) == 0)
            return true;
    return false;
}

/* ---- the check ------------------------------------------------------- */

/* What the peer certificate shows, read once per check. */
struct cert_facts {
    X509 *x; /* NULL: none sent, or not parseable */
    bool sent;
    char subject[256];
    char sha256_hex[65]; /* "" without a certificate */
    unsigned char sha256[32];
    unsigned char spki[32];
    bool have_spki;
    GENERAL_NAMES *sans;
};

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void read_facts(const void *der, size_t len, struct cert_facts *f)
{
    memset(f, 0, sizeof *f);
    f->sent = der && len > 0;
    if (!f->sent) {
        snprintf(f->subject, sizeof f->subject, "(none)");
        return;
    }
    const unsigned char *p = der;
    f->x = len <= 0x7fffffff ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (!f->x || p != (const unsigned char *)der + len) {
        X509_free(f->x);
        f->x = NULL;
        snprintf(f->subject, sizeof f->subject, "(unparseable certificate of %zu bytes)", len);
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(f->x), f->subject, sizeof f->subject);
    unsigned int n = 0;
    if (X509_digest(f->x, EVP_sha256(), f->sha256, &n) == 1 && n == 32)
        hex_of(f->sha256, 32, f->sha256_hex);
    /* RFC 7469 pin: the whole DER SubjectPublicKeyInfo (X509_pubkey_digest
     * would hash the key's BIT STRING only). */
    unsigned char *spki = NULL;
    int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(f->x), &spki);
    if (spki_len > 0 && EVP_Digest(spki, (size_t)spki_len, f->spki, &n, EVP_sha256(), NULL) == 1 && n == 32)
        f->have_spki = true;
    OPENSSL_free(spki);
    f->sans = X509_get_ext_d2i(f->x, NID_subject_alt_name, NULL, NULL);
}

static void free_facts(struct cert_facts *f)
{
    GENERAL_NAMES_free(f->sans);
    X509_free(f->x);
}

static bool cn_matches(const struct cert_facts *f, const char *cn)
{
    X509_NAME *name = X509_get_subject_name(f->x);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0;) {
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        bool same = n >= 0 && (size_t)n == strlen(cn) && memcmp(utf8, cn, (size_t)n) == 0;
        OPENSSL_free(utf8);
        if (same)
            return true;
    }
    return false;
}

static bool san_matches(const struct cert_facts *f, const struct peer_line *l)
{
    for (int i = 0; f->sans && i < sk_GENERAL_NAME_num(f->sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(f->sans, i);
        if (l->kind == ID_DNS && g->type == GEN_DNS) {
            const ASN1_IA5STRING *s = g->d.dNSName;
            size_t n = (size_t)ASN1_STRING_length(s);
            if (n == strlen(l->value) && strncasecmp((const char *)ASN1_STRING_get0_data(s), l->value, n) == 0)
                return true;
        }
        if (l->kind == ID_IP && g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *s = g->d.iPAddress;
            if ((size_t)ASN1_STRING_length(s) == l->bin_len &&
                memcmp(ASN1_STRING_get0_data(s), l->bin, l->bin_len) == 0)
                return true;
        }
    }
    return false;
}

static bool identity_matches(const struct cert_facts *f, const struct peer_line *l)
{
    if (!f->x)
        return false;
    switch (l->kind) {
    case ID_CN:
        return cn_matches(f, l->value);
    case ID_DNS:
    case ID_IP:
        return san_matches(f, l);
    case ID_SHA256:
        return f->sha256_hex[0] && memcmp(f->sha256, l->bin, 32) == 0;
    default:
        return f->have_spki && memcmp(f->spki, l->bin, 32) == 0;
    }
}

/* "line 3 (sha256:1f2e3d4c5b6a7980...)": digests shortened, names cut. */
static void describe_line(const struct peer_line *l, char *out, size_t len)
{
    if (l->kind == ID_SHA256 || l->kind == ID_SPKI) {
        char hex[65];
        hex_of(l->bin, 32, hex);
        snprintf(out, len, "line %u (%s:%.16s...)", l->line, kind_names[l->kind], hex);
    } else
        snprintf(out, len, "line %u (%s:%.48s)", l->line, kind_names[l->kind], l->value);
}

int dtp_peer_map_check(const dtp_peer_map *map, const char *ae_title, const void *cert_der, size_t cert_len,
                       const char *profile_key, struct dtp_error *err)
{
    char ae[FIELD_MAX];
    trim_ae(ae_title, ae);
    struct cert_facts f;
    read_facts(cert_der, cert_len, &f);
    char cert[400];
    if (f.x)
        snprintf(cert, sizeof cert, "certificate subject %s (sha256:%s)", f.subject, f.sha256_hex);
    else if (f.sent)
        snprintf(cert, sizeof cert, "certificate %s", f.subject);
    else
        snprintf(cert, sizeof cert, "no certificate");
    const char *name = map ? map->name : "peer map";

    const struct peer_line *admitted = NULL, *wrong_profile = NULL;
    char tried[300] = "";
    bool listed = false, cut = false;
    for (size_t i = 0; map && i < map->n && !admitted; i++) {
        const struct peer_line *l = &map->lines[i];
        if (strcmp(l->ae, ae) != 0)
            continue;
        listed = true;
        if (identity_matches(&f, l)) {
            if (!l->profile || (profile_key && strcmp(l->profile->key, profile_key) == 0))
                admitted = l;
            else if (!wrong_profile)
                wrong_profile = l;
            continue;
        }
        char one[96];
        describe_line(l, one, sizeof one);
        size_t k = strlen(tried);
        if (!cut && k + strlen(one) + 8 < sizeof tried)
            snprintf(tried + k, sizeof tried - k, "%s%s", k ? ", " : "", one);
        else if (!cut) {
            snprintf(tried + k, sizeof tried - k, ", ...");
            cut = true;
        }
    }

    int decision;
    char line[96];
    if (admitted) {
        describe_line(admitted, line, sizeof line);
        dtp__set_error(err, DTP_OK, "AE title \"%s\" with %s admitted by %s %s%s%s", ae, cert, name, line,
                       admitted->profile ? ", profile " : "", admitted->profile ? admitted->profile->key : "");
        decision = DTP_PEER_ADMITTED;
    } else if (!listed) {
        dtp__set_error(err, DTP_R_PEER_AE_UNLISTED, "AE title \"%s\" is not in %s; %s", ae, name, cert);
        decision = DTP_PEER_AE_UNLISTED;
    } else if (wrong_profile) {
        describe_line(wrong_profile, line, sizeof line);
        dtp__set_error(err, DTP_R_PEER_PROFILE_MISMATCH,
                       "AE title \"%s\" with %s matches %s %s, which requires profile %s; the peer uses %s", ae, cert,
                       name, line, wrong_profile->profile->key, profile_key ? profile_key : "(unknown)");
        decision = DTP_PEER_PROFILE_MISMATCH;
    } else {
        dtp__set_error(err, DTP_R_PEER_CERT_NOT_BOUND, "AE title \"%s\" with %s: not bound by %s, tried %s", ae, cert,
                       name, tried);
        decision = DTP_PEER_CERT_MISMATCH;
    }
    free_facts(&f);
    return decision;
}
