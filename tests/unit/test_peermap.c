/* AE titles bound to certificates (dtp/peermap.h): the map file's syntax,
 * each way a line is refused (with its line number), and the check of
 * every identity kind against the PKI fixture's certificates, whose
 * fingerprints are computed here with OpenSSL. */
#include "fixture.h"

#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dtp/peermap.h"

static dtp_peer_map *parse(const char *text, struct dtp_error *err)
{
    memset(err, 0, sizeof *err);
    return dtp_peer_map_parse(text, strlen(text), "peers.map", err);
}

/* ---- syntax --------------------------------------------------------- */

static int accepted_forms(void)
{
    static const char text[] =
        "# peers of the archive\n"
        "\n"
        "   # indented comment\n"
        "CT1 cn:ct-scanner-1\n"
        "CT1\tdns:CT1.Example.ORG   # trailing comment\r\n"
        "\"MR 2\" cn:\"MR scanner 2\" bcp195-8996-mod\n"
        "  PACS  ip:192.0.2.7\n"
        "PACS ip:2001:db8::7\n"
        "WS sha256:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\n"
        "WS spki:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789 bcp195-8996\n"
        "CT2 cn:ct-scanner-1\n" /* one identity, several AE titles */
        "CT1 cn:ct-scanner-1 bcp195-8996 # contradicts line 4\n"
        "last cn:x#not-a-comment"; /* no final newline */
    struct dtp_error err;
    /* Line 12 repeats CT1 + cn:ct-scanner-1 with another profile: refused. */
    CHECK(parse(text, &err) == NULL);
    CHECK_REASON(DTP_R_PEER_MAP, err.code, err.detail);
    CHECK(strstr(err.detail, "peers.map line 12: contradicts line 4") == err.detail);

    /* Without that line, everything else is accepted. */
    char *copy = strdup(text);
    CHECK(copy);
    char *l12 = strstr(copy, "CT1 cn:ct-scanner-1 bcp195-8996");
    CHECK(l12);
    memset(l12, ' ', (size_t)(strchr(l12, '\n') - l12));
    dtp_peer_map *m = parse(copy, &err);
    free(copy);
    CHECK(m != NULL);
    CHECK_REASON(DTP_OK, err.code, err.detail);
    CHECK(dtp_peer_map_count(m) == 9);
    CHECK(strcmp(dtp_peer_map_name(m), "peers.map") == 0);
    CHECK(dtp_peer_map_lists(m, "CT1"));
    CHECK(dtp_peer_map_lists(m, "  CT1 ")); /* spaces around an AE title are not significant */
    CHECK(!dtp_peer_map_lists(m, "ct1"));   /* case is */
    CHECK(dtp_peer_map_lists(m, "MR 2"));
    CHECK(dtp_peer_map_lists(m, "PACS"));
    CHECK(dtp_peer_map_lists(m, "last"));
    CHECK(!dtp_peer_map_lists(m, "MR"));
    CHECK(!dtp_peer_map_lists(m, ""));
    dtp_peer_map_free(m);
    dtp_peer_map_free(NULL);
    return 0;
}

static int every_error_names_its_line(void)
{
    static const char hex64[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char long_field[400];
    memset(long_field, 'a', sizeof long_field - 1);
    long_field[sizeof long_field - 1] = '\0';
    char buf[1024];
    static const struct {
        const char *line; /* the bad line, after three good lines and a comment */
        const char *why;  /* what the detail says after "peers.map line 5: " */
    } cases[] = {
        {"AE foo:bar", "unknown identity kind 'foo:'"},
        {"AE localhost", "identity 'localhost' has no kind"},
        {"AE cn:", "cn: without a value"},
        {"AE sha256:0011zz", "'z' is not a hex digit"},
        {"AE sha256:001122", "expected 64 hex digits (SHA-256), found 6"},
        {"AE spki:00112233445566778899aabbccddeeff00112233445566778899aabbccddeef", "found 63"},
        {"AE sha256:0:0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "colons must separate pairs"},
        {"AE ip:300.1.2.3", "ip:300.1.2.3 is not an IPv4 or IPv6 address"},
        {"AE dns:bad/name", "'/' does not belong in a DNS name"},
        {"TOO-LONG-AE-TITLE1 cn:x", "AE title 'TOO-LONG-AE-TITLE1' has 18 characters, at most 16"},
        {"A\\B cn:x", "contains a backslash"},
        {"\"   \" cn:x", "empty AE title"},
        {"AE cn:x no-such-profile", "unknown profile 'no-such-profile' (known: bcp195,"},
        {"AE cn:x basic", "profile 'basic' is the retired"},
        {"AE cn:x bcp195 extra", "more than 3 fields"},
        {"AE", "found one field 'AE'"},
        {"AE cn:\"unterminated", "unterminated double quote"},
        {"AE cn:tab\"\t\"inside", "control character 0x09"},
        {"GOOD cn:good bcp195-8996-mod",
         "contradicts line 2: AE title 'GOOD' with cn:good requires profile (any) there, bcp195-8996-mod here"},
        {"GOOD2 dns:HOST.example", "repeats line 3 (AE title 'GOOD2', dns:host.example)"},
        {"GOOD3 ip:::1", "contradicts line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf,
                 "GOOD3 ip:0:0::1 bcp195\nGOOD cn:good\nGOOD2 dns:host.example\n# comment\n%s\n"
                 "AFTER cn:never-read\n",
                 cases[i].line);
        struct dtp_error err;
        dtp_peer_map *m = parse(buf, &err);
        if (m || err.code != DTP_R_PEER_MAP || strncmp(err.detail, "peers.map line 5: ", 18) != 0 ||
            !strstr(err.detail, cases[i].why)) {
            fprintf(stderr, "line '%s': got reason %d '%s', expected line 5 and '%s'\n", cases[i].line, err.code,
                    err.detail, cases[i].why);
            dtp_peer_map_free(m);
            return 1;
        }
    }
    /* A field too long, a NUL byte, and a line on its own. */
    struct dtp_error err;
    snprintf(buf, sizeof buf, "AE cn:%s\n", long_field);
    CHECK(parse(buf, &err) == NULL);
    CHECK_REASON(DTP_R_PEER_MAP, err.code, err.detail);
    CHECK(strstr(err.detail, "peers.map line 1: field 2 longer than 255 characters"));
    static const char nul[] = "AE cn:x\nAE2 cn:a\0b\n";
    memset(&err, 0, sizeof err);
    CHECK(dtp_peer_map_parse(nul, sizeof nul - 1, "peers.map", &err) == NULL);
    CHECK(strstr(err.detail, "peers.map line 2: NUL byte"));
    snprintf(buf, sizeof buf, "AE sha256:%s\nAE sha256:%s\n", hex64, hex64);
    CHECK(parse(buf, &err) == NULL);
    CHECK(strstr(err.detail, "peers.map line 2: repeats line 1"));
    /* A map without a peer line refuses everybody: refused as a mistake. */
    CHECK(parse("# nothing yet\n\n", &err) == NULL);
    CHECK_REASON(DTP_R_PEER_MAP, err.code, err.detail);
    CHECK(strstr(err.detail, "peers.map: no peer line"));
    CHECK(parse("", &err) == NULL);
    CHECK_REASON(DTP_R_PEER_MAP, err.code, err.detail);
    return 0;
}

static int load_names_file_and_line(void)
{
    char dir[] = "/tmp/dtp-peermap-XXXXXX";
    CHECK(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/peers.map", dir);
    struct dtp_error err = {0};
    CHECK(dtp_peer_map_load(path, &err) == NULL); /* missing */
    CHECK_REASON(DTP_R_PEER_MAP, err.code, err.detail);
    CHECK(strstr(err.detail, path) == err.detail && strstr(err.detail, "No such file"));
    CHECK(dtp_peer_map_load(dir, &err) == NULL); /* a directory */
    CHECK(strstr(err.detail, "not a regular file"));
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("# test\nSTORE cn:a\nSTORE sha256:12\n", f);
    fclose(f);
    CHECK(dtp_peer_map_load(path, &err) == NULL);
    char want[300];
    snprintf(want, sizeof want, "%s line 3: sha256:12: expected 64 hex digits", path);
    CHECK(strstr(err.detail, want) == err.detail);
    f = fopen(path, "w");
    CHECK(f);
    fputs("STORE cn:a\n", f);
    fclose(f);
    dtp_peer_map *m = dtp_peer_map_load(path, &err);
    CHECK(m && dtp_peer_map_count(m) == 1 && strcmp(dtp_peer_map_name(m), path) == 0);
    dtp_peer_map_free(m);
    unlink(path);
    rmdir(dir);
    return 0;
}

/* ---- checks against the fixture ------------------------------------- */

struct cert {
    unsigned char der[8192];
    size_t len;
    char sha256[65], sha256_colons[96], spki[65], bitstr[65];
};

static void hex(const unsigned char *b, size_t n, char *out, bool colons_upper)
{
    for (size_t i = 0; i < n; i++)
        out += sprintf(out, colons_upper ? "%s%02X" : "%s%02x", colons_upper && i ? ":" : "", b[i]);
}

/* The fixture certificate NAME: DER and its fingerprints, computed here:
 * the certificate's SHA-256 over the DER bytes, the SPKI pin over the
 * public key as i2d_PUBKEY writes it (DER SubjectPublicKeyInfo), and, as
 * a decoy, X509_pubkey_digest (the key's BIT STRING only). */
static int load_cert(const char *name, struct cert *c)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(pki(name), "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", pki(name));
        return 1;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    CHECK(x);
    unsigned char *p = c->der;
    int n = i2d_X509(x, NULL);
    CHECK(n > 0 && (size_t)n <= sizeof c->der);
    i2d_X509(x, &p);
    c->len = (size_t)n;
    unsigned char md[32];
    unsigned int mlen = 0;
    CHECK(EVP_Digest(c->der, c->len, md, &mlen, EVP_sha256(), NULL) == 1 && mlen == 32);
    hex(md, 32, c->sha256, false);
    hex(md, 32, c->sha256_colons, true);
    unsigned char *spki = NULL;
    int slen = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
    CHECK(slen > 0 && EVP_Digest(spki, (size_t)slen, md, &mlen, EVP_sha256(), NULL) == 1);
    OPENSSL_free(spki);
    hex(md, 32, c->spki, false);
    CHECK(X509_pubkey_digest(x, EVP_sha256(), md, &mlen) == 1);
    hex(md, 32, c->bitstr, false);
    X509_free(x);
    return 0;
}

static int check(const dtp_peer_map *m, const char *ae, const struct cert *c, const char *profile,
                 struct dtp_error *err)
{
    memset(err, 0, sizeof *err);
    return dtp_peer_map_check(m, ae, c ? c->der : NULL, c ? c->len : 0, profile, err);
}

static int each_identity_kind(void)
{
    struct cert client, client_ec, server, other;
    if (load_cert("client-rsa.pem", &client) || load_cert("client-ec.pem", &client_ec) ||
        load_cert("server-rsa.pem", &server) || load_cert("other-client-rsa.pem", &other))
        return 1;
    char text[2048];
    snprintf(text, sizeof text,
             "CN cn:\"dtp test client\"\n"
             "DNS dns:LOCALHOST\n"
             "IP ip:127.0.0.1\n"
             "IP6 ip:::1\n"
             "SHA sha256:%s\n"
             "SPKI spki:%s\n"
             "DECOY spki:%s\n"
             "MULTI cn:nobody\n"
             "MULTI sha256:%s\n",
             client.sha256_colons, client_ec.spki, client.bitstr, client_ec.sha256);
    struct dtp_error err;
    dtp_peer_map *m = parse(text, &err);
    CHECK(m != NULL);
    const char *p = "bcp195-8996";

    /* cn: both "dtp test client" certificates, not the server's. */
    CHECK(check(m, "CN", &client, p, &err) == DTP_PEER_ADMITTED);
    CHECK_REASON(DTP_OK, err.code, err.detail);
    CHECK(strstr(err.detail, "AE title \"CN\" with certificate subject /CN=dtp test client"));
    CHECK(strstr(err.detail, "admitted by peers.map line 1 (cn:dtp test client)"));
    CHECK(check(m, "CN", &client_ec, p, &err) == DTP_PEER_ADMITTED);
    CHECK(check(m, "CN", &other, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK_REASON(DTP_R_PEER_CERT_NOT_BOUND, err.code, err.detail);
    CHECK(strstr(err.detail, "AE title \"CN\" with certificate subject /CN=dtp other client"));
    CHECK(strstr(err.detail, other.sha256));
    CHECK(strstr(err.detail, "tried line 1 (cn:dtp test client)"));

    /* dns: and ip: read the subjectAltName (server-rsa: DNS:localhost, IP:127.0.0.1). */
    CHECK(check(m, "DNS", &server, p, &err) == DTP_PEER_ADMITTED); /* case-insensitive */
    CHECK(check(m, "DNS", &client, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK(check(m, "IP", &server, p, &err) == DTP_PEER_ADMITTED);
    CHECK(check(m, "IP6", &server, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK(check(m, "IP", &client, p, &err) == DTP_PEER_CERT_MISMATCH);

    /* sha256: the one certificate (written with colons, upper case). */
    CHECK(check(m, "SHA", &client, p, &err) == DTP_PEER_ADMITTED);
    CHECK(check(m, "SHA", &client_ec, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK(strstr(err.detail, "tried line 5 (sha256:"));

    /* spki: the whole DER SubjectPublicKeyInfo, not the key's BIT STRING. */
    CHECK(check(m, "SPKI", &client_ec, p, &err) == DTP_PEER_ADMITTED);
    CHECK(check(m, "SPKI", &client, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK(strcmp(client.bitstr, client.spki) != 0);
    CHECK(check(m, "DECOY", &client, p, &err) == DTP_PEER_CERT_MISMATCH);

    /* Several lines: any one admits, and the detail says which. */
    CHECK(check(m, "MULTI", &client_ec, p, &err) == DTP_PEER_ADMITTED);
    CHECK(strstr(err.detail, "line 9 (sha256:"));
    CHECK(check(m, "MULTI", &client, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK(strstr(err.detail, "tried line 8 (cn:nobody), line 9 (sha256:"));

    /* AE titles: trimmed, case-sensitive; unlisted ones name the certificate. */
    CHECK(check(m, "  SHA ", &client, p, &err) == DTP_PEER_ADMITTED);
    CHECK(check(m, "sha", &client, p, &err) == DTP_PEER_AE_UNLISTED);
    CHECK_REASON(DTP_R_PEER_AE_UNLISTED, err.code, err.detail);
    CHECK(strstr(err.detail, "AE title \"sha\" is not in peers.map; certificate subject /CN=dtp test client (sha256:"));

    /* No certificate, or one that does not parse: listed AE titles refuse. */
    CHECK(check(m, "CN", NULL, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK(strstr(err.detail, "with no certificate"));
    struct cert junk = client;
    junk.len = 40;
    CHECK(check(m, "CN", &junk, p, &err) == DTP_PEER_CERT_MISMATCH);
    CHECK(strstr(err.detail, "unparseable certificate of 40 bytes"));
    CHECK(check(NULL, "CN", &client, p, &err) == DTP_PEER_AE_UNLISTED);
    dtp_peer_map_free(m);
    return 0;
}

static int profile_bound_lines(void)
{
    struct cert server, client;
    if (load_cert("server-rsa.pem", &server) || load_cert("client-rsa.pem", &client))
        return 1;
    struct dtp_error err;
    dtp_peer_map *m = parse("MOD cn:localhost bcp195-8996-mod\n"
                            "EITHER cn:localhost bcp195-8996-mod\n"
                            "EITHER dns:localhost\n",
                            &err);
    CHECK(m != NULL);
    CHECK(check(m, "MOD", &server, "bcp195-8996-mod", &err) == DTP_PEER_ADMITTED);
    CHECK(strstr(err.detail, "line 1 (cn:localhost), profile bcp195-8996-mod"));
    CHECK(check(m, "MOD", &server, "bcp195-8996", &err) == DTP_PEER_PROFILE_MISMATCH);
    CHECK_REASON(DTP_R_PEER_PROFILE_MISMATCH, err.code, err.detail);
    CHECK(strstr(err.detail, "AE title \"MOD\" with certificate subject /CN=localhost"));
    CHECK(strstr(err.detail, "which requires profile bcp195-8996-mod; the peer uses bcp195-8996"));
    CHECK(check(m, "MOD", &server, NULL, &err) == DTP_PEER_PROFILE_MISMATCH);
    /* The identity is checked first: another certificate is not bound. */
    CHECK(check(m, "MOD", &client, "bcp195-8996-mod", &err) == DTP_PEER_CERT_MISMATCH);
    /* A line without a profile admits under any. */
    CHECK(check(m, "EITHER", &server, "bcp195-8996", &err) == DTP_PEER_ADMITTED);
    CHECK(strstr(err.detail, "line 3 (dns:localhost)"));
    dtp_peer_map_free(m);
    return 0;
}

static const struct check_case cases[] = {
    CASE(accepted_forms),     CASE(every_error_names_its_line), CASE(load_names_file_and_line),
    CASE(each_identity_kind), CASE(profile_bound_lines),
};
CHECK_MAIN(cases)
