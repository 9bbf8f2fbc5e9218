/*
 * The OpenSSL 3.0 backend (struct dtp_backend): an SSL_CTX per (profile,
 * role, credentials) with the profile translated into OpenSSL's syntax,
 * and an SSL per connection. The only file, with warmup.c, that includes
 * <openssl/...>. Policy that any backend shares (what was negotiated
 * against the profile, deadlines, coalescing, not-TLS detection) lives in
 * policy.c and conn.c.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "openssl_be.h"
#include "dtp/check.h" /* struct dtp_client_hello */

static int cert_hash_bits(X509 *cert);
static void refuse_hello(SSL *ssl, int code);

static int ossl_fail(struct dtp_error *err, int code, bool with_openssl, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->detail, sizeof err->detail, fmt, ap);
        va_end(ap);
        unsigned long e = with_openssl ? ERR_peek_last_error() : 0;
        if (e && n >= 0 && (size_t)n < sizeof err->detail - 8) {
            char ossl[256];
            ERR_error_string_n(e, ossl, sizeof ossl);
            snprintf(err->detail + n, sizeof err->detail - (size_t)n, ": %s", ossl);
        }
    }
    if (with_openssl)
        ERR_clear_error();
    return code;
}

/* ---- a socket BIO without SIGPIPE ---------------------------------- */

/* OpenSSL's socket BIO writes with write(2): a peer that vanished kills
 * the whole process with SIGPIPE unless the application ignores it. This
 * method is the stock socket BIO with send(MSG_NOSIGNAL) as its writer,
 * so a dropped peer is an error code (IO_ERROR), as it must be. */
static int nosig_write(BIO *b, const char *buf, int len)
{
    int fd = -1;
    BIO_get_fd(b, &fd);
    ssize_t n;
    do
        n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    BIO_clear_retry_flags(b);
    if (n <= 0 && BIO_sock_should_retry((int)n))
        BIO_set_retry_write(b);
    return (int)n;
}

BIO_METHOD *dtp__ossl_nosig_method(void)
{
    const BIO_METHOD *base = BIO_s_socket();
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "dtp socket");
    if (!m)
        return NULL;
    BIO_meth_set_write(m, nosig_write);
    BIO_meth_set_read(m, BIO_meth_get_read(base));
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    return m;
}

/* ---- key sizes ---------------------------------------------------- */

static int key_bits(const EVP_PKEY *key)
{
    if (!key)
        return 0;
    /* RFC 7748: X25519 is a 255-bit curve (EVP reports 253, the order's
     * size). 255 < 256: it does not meet "256 bits or more" (E5, M17). */
    if (EVP_PKEY_is_a(key, "X25519") || EVP_PKEY_is_a(key, "ED25519"))
        return 255;
    return EVP_PKEY_get_bits(key);
}

static const char *key_type(const EVP_PKEY *key)
{
    static const char *const types[] = {"RSA", "RSA-PSS", "EC", "DH", "DHX", "X25519", "X448", "ED25519", "ED448"};
    for (size_t i = 0; key && i < sizeof types / sizeof types[0]; i++)
        if (EVP_PKEY_is_a(key, types[i]))
            return types[i];
    return key ? "other" : "none";
}

static int min_cert_bits(const struct dtp_profile *profile, const EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS"))
        return profile->min_rsa_bits;
    if (EVP_PKEY_is_a(key, "EC"))
        return profile->min_ec_bits;
    return 0;
}


/* ---- suites ------------------------------------------------------- */

/* OpenSSL's name of an IANA suite name, or NULL when this build lacks it. */
static const char *openssl_suite_name(const char *iana)
{
    if (strncmp(iana, "TLS_AES_", 8) == 0 || strncmp(iana, "TLS_CHACHA20_", 13) == 0)
        return iana; /* TLS 1.3 suites have one name */
    const char *name = OPENSSL_cipher_name(iana);
    return (name && strcmp(name, "(NONE)") != 0) ? name : NULL;
}

static bool is_tls13_suite(const char *iana)
{
    return strncmp(iana, "TLS_AES_", 8) == 0 || strncmp(iana, "TLS_CHACHA20_", 13) == 0;
}

static bool ossl_suite_available(const char *iana)
{
    const char *name = iana ? openssl_suite_name(iana) : NULL;
    if (!name)
        return false;
    SSL_CTX *c = SSL_CTX_new(TLS_method());
    if (!c)
        return false;
    SSL_CTX_set_security_level(c, 0);
    bool ok = is_tls13_suite(iana) ? SSL_CTX_set_ciphersuites(c, name) == 1 : SSL_CTX_set_cipher_list(c, name) == 1;
    SSL_CTX_free(c);
    ERR_clear_error();
    return ok;
}

/* Appends the OpenSSL names of the suites this build knows to out (sep
 * ':'). OpenSSL skips a known name it cannot use; the post-handshake check
 * holds the line either way. */
static void append_suites(char *out, size_t len, const char *const *suites)
{
    for (size_t i = 0; suites && suites[i]; i++) {
        const char *name = openssl_suite_name(suites[i]);
        if (!name)
            continue;
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? ":" : "", name);
    }
}

/* OpenSSL takes IANA group and signature scheme names as they are: join. */
static void join_names(char *out, size_t len, const char *const *names)
{
    out[0] = '\0';
    for (size_t i = 0; names && names[i]; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? ":" : "", names[i]);
    }
}

/* The security level is an OpenSSL detail derived from the profile: 2
 * (112-bit keys, no SHA-1 signatures) for every profile, 0 only where a
 * TLS 1.0/1.1 fallback must still sign with MD5/SHA-1 (B2). The profile's
 * own minimums are enforced by the library at any level. */
static int openssl_security_level(const struct dtp_profile *p) { return p->min_version < DTP_TLS1_2 ? 0 : 2; }

/* R39 and section 7 of the decisions: a client that sends ALPN must list
 * the profile's protocol; one that sends none is served. */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                          unsigned int inlen, void *arg)
{
    (void)ssl;
    const char *want = arg;
    size_t wlen = strlen(want);
    for (unsigned int i = 0; i < inlen;) {
        unsigned int n = in[i];
        if (i + 1 + n > inlen)
            break;
        if (n == wlen && memcmp(in + i + 1, want, n) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

/* true if the ClientHello's supported_versions lists TLS 1.3. */
static bool hello_offers_tls13(SSL *ssl)
{
    const unsigned char *ext;
    size_t len;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext, &len) != 1 || len < 1 ||
        (size_t)ext[0] + 1 > len)
        return false;
    for (size_t i = 1; i + 1 <= ext[0]; i += 2)
        if (ext[i] == 0x03 && ext[i + 1] == 0x04)
            return true;
    return false;
}

/* The server's look at each ClientHello, before OpenSSL picks a version:
 * - dtp_config.on_client_hello: the hello is recorded first, whatever
 *   follows (dtp-check's client mode grades it).
 * - C2, R7, Q8: a hello whose best version is SSL 3.0 gets a
 *   protocol_version alert like any version below the profile's. Left to
 *   OpenSSL it is answered in SSL 3.0's terms, handshake_failure, as SSL 3.0
 *   has no protocol_version alert.
 * - R36, RFC 7627 5.2: where the profile requires the extended master
 *   secret, a client that can only reach TLS 1.2 and does not offer it is
 *   refused with handshake_failure inside the handshake, so it sees why
 *   (the post-handshake check would only close the connection). */
/* dtp_config.on_client_hello: what the client offered, in the library's
 * neutral struct (hello.c parses the parts). */
static void record_hello(SSL *ssl, const dtp_ctx *ctx)
{
    struct dtp_client_hello h;
    const unsigned char *p;
    size_t n;
    int *types = NULL;
    dtp__hello_begin(&h, (int)SSL_client_hello_get0_legacy_version(ssl));
    n = SSL_client_hello_get0_ciphers(ssl, &p);
    dtp__hello_suites(&h, p, n);
    n = SSL_client_hello_get0_compression_methods(ssl, &p);
    dtp__hello_compression(&h, p, n);
    size_t ntypes = 0;
    if (SSL_client_hello_get1_extensions_present(ssl, &types, &ntypes) == 1) {
        for (size_t i = 0; i < ntypes; i++)
            if (SSL_client_hello_get0_ext(ssl, (unsigned int)types[i], &p, &n) == 1)
                dtp__hello_extension(&h, (unsigned int)types[i], p, n);
        OPENSSL_free(types);
    }
    ctx->on_client_hello(ctx->on_client_hello_user, &h);
}

static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
    const struct dtp_profile *p = arg;
    const dtp_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    const unsigned char *ext;
    size_t len;
    if (ctx && ctx->on_client_hello)
        record_hello(ssl, ctx);
    bool has_versions = SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext, &len) == 1;
    if (SSL_client_hello_get0_legacy_version(ssl) < TLS1_VERSION && !has_versions) {
        *al = SSL_AD_PROTOCOL_VERSION;
        refuse_hello(ssl, DTP_R_VERSION_REFUSED);
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (p->require_ems && !(ctx && ctx->allow_no_ems) && !(p->max_version >= DTP_TLS1_3 && hello_offers_tls13(ssl)) &&
        SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_extended_master_secret, &ext, &len) != 1) {
        *al = SSL_AD_HANDSHAKE_FAILURE;
        refuse_hello(ssl, DTP_R_EMS_MISSING);
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static int apply_profile(SSL_CTX *c, const struct dtp_profile *p, int role, struct dtp_error *err)
{
    /* Security level on this context only, never globally. */
    SSL_CTX_set_security_level(c, openssl_security_level(p));
    /* Q8: an explicit floor, so an older hello gets protocol_version. */
    if (!SSL_CTX_set_min_proto_version(c, p->min_version) || !SSL_CTX_set_max_proto_version(c, p->max_version))
        return ossl_fail(err, DTP_R_INTERNAL, true, "cannot set protocol versions of profile %s", p->key);

    /* C4: no compression. C5: secure renegotiation only (OpenSSL's default;
     * legacy renegotiation options are left unset). Server preference so
     * the profile's order decides. R36: OpenSSL negotiates EMS by default
     * (SSL_OP_NO_EXTENDED_MASTER_SECRET stays clear); require_ems is
     * enforced by the ClientHello callback (server) and after the
     * handshake (both roles). */
    uint64_t opts = SSL_OP_NO_COMPRESSION;
    if (role == DTP_ROLE_SERVER) {
        opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
        SSL_CTX_set_client_hello_cb(c, client_hello_cb, (void *)p);
    }
    SSL_CTX_set_options(c, opts);
    /* Read ahead: fill a 64 KiB buffer per read(2) instead of one read for
     * each record header and one for its body (two syscalls per 16 KiB). */
    SSL_CTX_set_read_ahead(c, 1);
    SSL_CTX_set_default_read_buffer_len(c, 65536);
    SSL_CTX_clear_options(c, SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION | SSL_OP_LEGACY_SERVER_CONNECT |
                                 SSL_OP_NO_EXTENDED_MASTER_SECRET);

    char list[2048] = "";
    append_suites(list, sizeof list,
                  role == DTP_ROLE_CLIENT && p->tls12_client_order ? p->tls12_client_order : p->tls12_suites);
    append_suites(list, sizeof list, p->fallback_suites);
    /* A profile narrowed to TLS 1.3 suites (dtp_config.suites) has no
     * TLS 1.2 list, and no TLS 1.2 either. */
    if (p->min_version <= DTP_TLS1_2 && (!list[0] || SSL_CTX_set_cipher_list(c, list) != 1))
        return ossl_fail(err, DTP_R_NO_SUITE_AVAILABLE, true, "profile %s: none of its TLS 1.2 suites is available",
                         p->key);
    char list13[512] = "";
    append_suites(list13, sizeof list13, p->tls13_suites);
    if (SSL_CTX_set_ciphersuites(c, list13) != 1)
        return ossl_fail(err, DTP_R_NO_SUITE_AVAILABLE, true, "profile %s: TLS 1.3 suites", p->key);
    char names[1024];
    join_names(names, sizeof names, p->groups);
    if (SSL_CTX_set1_groups_list(c, names) != 1)
        return ossl_fail(err, DTP_R_INTERNAL, true, "profile %s: groups %s", p->key, names);
    if (p->sigalgs) {
        /* Ours and the peer's handshake signatures (R32, M10, M12): what
         * we offer, accept and sign with; the same for client
         * authentication (CertificateRequest, client CertificateVerify). */
        join_names(names, sizeof names, p->sigalgs);
        if (SSL_CTX_set1_sigalgs_list(c, names) != 1 || SSL_CTX_set1_client_sigalgs_list(c, names) != 1)
            return ossl_fail(err, DTP_R_INTERNAL, true, "profile %s: signature algorithms %s", p->key, names);
    }
    if (p->alpn) {
        if (role == DTP_ROLE_SERVER) {
            SSL_CTX_set_alpn_select_cb(c, alpn_select_cb, (void *)p->alpn);
        } else {
            unsigned char wire[256];
            size_t n = strlen(p->alpn);
            if (n == 0 || n >= sizeof wire)
                return ossl_fail(err, DTP_R_CONFIG_INVALID, false, "profile %s: bad ALPN id", p->key);
            wire[0] = (unsigned char)n;
            memcpy(wire + 1, p->alpn, n);
            if (SSL_CTX_set_alpn_protos(c, wire, (unsigned int)n + 1) != 0) /* 0 is success here */
                return ossl_fail(err, DTP_R_INTERNAL, true, "profile %s: ALPN", p->key);
        }
    }
    return DTP_OK;
}

static const char *ossl_describe(const struct dtp_profile *p, int role, char *buf, size_t len, struct dtp_error *err)
{
    if (!p || !buf || len == 0) {
        ossl_fail(err, DTP_R_CONFIG_INVALID, false, "describe: no profile or buffer");
        return NULL;
    }
    SSL_CTX *c = SSL_CTX_new(role == DTP_ROLE_SERVER ? TLS_server_method() : TLS_client_method());
    if (!c) {
        ossl_fail(err, DTP_R_INTERNAL, true, "SSL_CTX_new");
        return NULL;
    }
    if (apply_profile(c, p, role, err) != DTP_OK) {
        SSL_CTX_free(c);
        return NULL;
    }
    size_t n = 0;
#define PUT(...) n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__)
    PUT("profile: %s\nrole: %s\n", p->key, role == DTP_ROLE_SERVER ? "server" : "client");
    PUT("versions: %s..%s\n", dtp_tls_version_name((int)SSL_CTX_get_min_proto_version(c)),
        dtp_tls_version_name((int)SSL_CTX_get_max_proto_version(c)));
    PUT("security_level: %d\n", SSL_CTX_get_security_level(c));
    PUT("options: no_compression=%d server_preference=%d legacy_renegotiation=%d\n",
        (SSL_CTX_get_options(c) & SSL_OP_NO_COMPRESSION) != 0,
        (SSL_CTX_get_options(c) & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0,
        (SSL_CTX_get_options(c) & SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION) != 0);
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(c);
    for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
        const SSL_CIPHER *ci = sk_SSL_CIPHER_value(sk, i);
        /* TLS 1.3 suites are listed even when the ceiling excludes them;
         * show only what this profile can negotiate. */
        if (strcmp(SSL_CIPHER_get_version(ci), "TLSv1.3") == 0 && p->max_version < DTP_TLS1_3)
            continue;
        PUT("suite: %s\n", SSL_CIPHER_standard_name(ci));
    }
    const char *const *lists[] = {p->tls12_suites, p->fallback_suites, p->tls13_suites};
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; lists[l] && lists[l][i]; i++)
            if (!ossl_suite_available(lists[l][i]))
                PUT("unavailable: %s\n", lists[l][i]);
    char names[1024];
    join_names(names, sizeof names, p->groups);
    PUT("groups: %s\n", names);
    join_names(names, sizeof names, p->sigalgs);
    PUT("sigalgs: %s\n", p->sigalgs ? names : "(OpenSSL defaults for the security level)");
    PUT("min_bits: dhe=%d ecdhe=%d rsa=%d ec=%d relaxable=%d\n", p->min_dhe_bits, p->min_ecdhe_bits,
        p->min_rsa_bits, p->min_ec_bits, p->key_sizes_relaxable);
    PUT("certificates: chain=%s min_hash_bits=%d\n", p->check_chain ? "all" : "leaf", p->min_cert_hash_bits);
    PUT("alpn: %s\nsni: %s\nrequire_ems: %d\n", p->alpn ? p->alpn : "none",
        role == DTP_ROLE_CLIENT ? (p->send_sni ? "sent for DNS names" : "not sent") : "accepted, not required",
        p->require_ems);
#undef PUT
    SSL_CTX_free(c);
    return buf;
}

/* ---- credentials -------------------------------------------------- */

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > (16u << 20)) /* a key or certificate file is small */
                break;
            char *nd = realloc(data, ncap);
            if (!nd)
                break;
            data = nd;
            cap = ncap;
        }
        size_t r = fread(data + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    if (data) {
        data[n] = '\0';
        *size = n;
    }
    return data;
}

struct pw_arg {
    const char *password;
    bool asked;
};

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    struct pw_arg *a = u;
    a->asked = true;
    if (!a->password)
        return -1; /* never prompt on a terminal: a server has none */
    size_t n = strlen(a->password);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, a->password, n);
    return (int)n;
}

static int check_key_size(const dtp_ctx *ctx, const EVP_PKEY *key, const char *what, int weak_code,
                          struct dtp_error *err)
{
    int min = min_cert_bits(ctx->profile, key), bits = key_bits(key);
    if (min == 0 || bits >= min)
        return DTP_OK;
    if (ctx->relax_key_sizes) {
        dtp__log(ctx, DTP_LOG_WARN, "B5 relaxed by option: %s %s key of %d bits accepted (profile %s minimum %d)",
                 what, key_type(key), bits, ctx->profile->key, min);
        return DTP_OK;
    }
    return ossl_fail(err, weak_code, false, "%s %s key has %d bits, profile %s requires at least %d", what,
                     key_type(key), bits, ctx->profile->key, min);
}

static int load_credentials(dtp_ctx *ctx, const struct dtp_config *cfg, struct dtp_error *err)
{
    if (!cfg->cert_file && !cfg->key_file)
        return DTP_OK;
    if (!cfg->cert_file || !cfg->key_file)
        return ossl_fail(err, DTP_R_CONFIG_INVALID, false, "a private key and a certificate go together (+tls KEY CERT)");

    BIO *b = BIO_new_file(cfg->cert_file, "r");
    X509 *cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!cert)
        return ossl_fail(err, DTP_R_CERT_UNREADABLE, true, "%s: %s", cfg->cert_file,
                         b ? "not a PEM certificate" : strerror(errno));

    size_t size = 0;
    char *pem = read_file(cfg->key_file, &size);
    if (!pem) {
        X509_free(cert);
        return ossl_fail(err, DTP_R_KEY_UNREADABLE, false, "%s: %s", cfg->key_file, strerror(errno));
    }
    bool encrypted = strstr(pem, "ENCRYPTED") != NULL;
    struct pw_arg pw = {cfg->key_password, false};
    BIO *mb = BIO_new_mem_buf(pem, (int)size);
    EVP_PKEY *key = mb ? PEM_read_bio_PrivateKey(mb, NULL, password_cb, &pw) : NULL;
    BIO_free(mb);
    OPENSSL_cleanse(pem, size);
    free(pem);

    int rc = DTP_OK;
    if (!key) {
        if (encrypted && !cfg->key_password)
            rc = ossl_fail(err, DTP_R_KEY_PASSWORD, false, "%s is encrypted and no password was given", cfg->key_file);
        else if (encrypted)
            rc = ossl_fail(err, DTP_R_KEY_PASSWORD, true, "%s: cannot decrypt with the given password", cfg->key_file);
        else
            rc = ossl_fail(err, DTP_R_KEY_UNREADABLE, true, "%s: not a PEM private key", cfg->key_file);
    } else if (X509_check_private_key(cert, key) != 1) {
        rc = ossl_fail(err, DTP_R_KEY_CERT_MISMATCH, false, "%s does not match %s", cfg->key_file, cfg->cert_file);
        ERR_clear_error();
    } else if ((rc = check_key_size(ctx, key, "own certificate", DTP_R_OWN_KEY_WEAK, err)) != DTP_OK) {
        /* reported */
    } else if (ctx->profile->min_cert_hash_bits && !(X509_get_extension_flags(cert) & EXFLAG_SS) &&
               cert_hash_bits(cert) < ctx->profile->min_cert_hash_bits) {
        /* M31: a peer would refuse it; say so before any connection. */
        rc = ossl_fail(err, DTP_R_OWN_KEY_WEAK, false, "%s is signed with a %d-bit hash, profile %s requires at least %d",
                       cfg->cert_file, cert_hash_bits(cert), ctx->profile->key, ctx->profile->min_cert_hash_bits);
    } else if (SSL_CTX_use_certificate_chain_file(OC(ctx)->ssl_ctx, cfg->cert_file) != 1) {
        unsigned long e = ERR_peek_last_error();
        int code = ERR_GET_REASON(e) == SSL_R_EE_KEY_TOO_SMALL || ERR_GET_REASON(e) == SSL_R_CA_KEY_TOO_SMALL ||
                           ERR_GET_REASON(e) == SSL_R_CA_MD_TOO_WEAK
                       ? DTP_R_OWN_KEY_WEAK
                       : DTP_R_CERT_UNREADABLE;
        rc = ossl_fail(err, code, true, "%s", cfg->cert_file);
    } else if (SSL_CTX_use_PrivateKey(OC(ctx)->ssl_ctx, key) != 1) {
        rc = ossl_fail(err, DTP_R_KEY_CERT_MISMATCH, true, "%s", cfg->key_file);
    }
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

static EVP_PKEY *ffdhe_params(int bits)
{
    const char *name = bits <= 2048 ? "ffdhe2048" : bits <= 3072 ? "ffdhe3072" : "ffdhe4096";
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)name, 0),
                           OSSL_PARAM_construct_end()};
    if (!pc || EVP_PKEY_fromdata_init(pc) != 1 || EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_KEY_PARAMETERS, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(pc);
    return pkey;
}

/* Server DH: RFC 7919 group of at least the profile minimum by default, or
 * a user file checked against it (B5, E5). Never OpenSSL's auto sizing,
 * which follows the certificate and would pick 1024 bits for a weak one. */
static int setup_dh(dtp_ctx *ctx, const char *dh_file, struct dtp_error *err)
{
    EVP_PKEY *dh = NULL;
    if (dh_file) {
        BIO *b = BIO_new_file(dh_file, "r");
        dh = b ? PEM_read_bio_Parameters(b, NULL) : NULL;
        BIO_free(b);
        if (!dh || !(EVP_PKEY_is_a(dh, "DH") || EVP_PKEY_is_a(dh, "DHX"))) {
            EVP_PKEY_free(dh);
            return ossl_fail(err, DTP_R_DH_PARAMS, true, "%s: not PEM DH parameters", dh_file);
        }
        int bits = EVP_PKEY_get_bits(dh);
        if (bits < ctx->profile->min_dhe_bits) {
            if (!ctx->relax_key_sizes) {
                EVP_PKEY_free(dh);
                return ossl_fail(err, DTP_R_DH_PARAMS, false, "%s has %d bits, profile %s requires at least %d", dh_file,
                                 bits, ctx->profile->key, ctx->profile->min_dhe_bits);
            }
            dtp__log(ctx, DTP_LOG_WARN, "B5 relaxed by option: %d-bit DH parameters from %s (profile minimum %d)", bits,
                     dh_file, ctx->profile->min_dhe_bits);
        }
    } else {
        dh = ffdhe_params(ctx->profile->min_dhe_bits);
        if (!dh)
            return ossl_fail(err, DTP_R_INTERNAL, true, "cannot create RFC 7919 DH group");
    }
    if (SSL_CTX_set0_tmp_dh_pkey(OC(ctx)->ssl_ctx, dh) != 1) {
        EVP_PKEY_free(dh);
        return ossl_fail(err, DTP_R_DH_PARAMS, true, "DH parameters refused by OpenSSL");
    }
    return DTP_OK; /* ownership passed to the SSL_CTX */
}

/* Enforce the profile's minimums inside the handshake, so a refusal is a
 * TLS alert the peer sees rather than a silent close afterwards. */

/* Security callback: a peer's ephemeral DH key below min_dhe_bits fails the
 * handshake (OpenSSL: DH_KEY_TOO_SMALL, alert handshake_failure), also on
 * the BCP195 context whose security level 0 would accept 1024 bits (E5, B5).
 * Everything else is OpenSSL's default policy for this context's level. */
static int security_cb(const SSL *s, const SSL_CTX *c, int op, int bits, int nid, void *other, void *ex)
{
    const dtp_ctx *ctx = SSL_CTX_get_app_data(c ? c : SSL_get_SSL_CTX(s));
    if (ctx && op == SSL_SECOP_TMP_DH && other && !ctx->relax_key_sizes &&
        EVP_PKEY_get_bits((const EVP_PKEY *)other) < ctx->profile->min_dhe_bits)
        return 0;
    return ctx && OC(ctx)->default_security_cb ? OC(ctx)->default_security_cb(s, c, op, bits, nid, other, ex) : 1;
}

/* Bits of the hash a certificate is signed with (SHA-256: 256); 0 when
 * there is no separate hash (EdDSA, which M12 excludes) or it is unknown. */
static int cert_hash_bits(X509 *cert)
{
    int mdnid = NID_undef;
    if (X509_get_signature_info(cert, &mdnid, NULL, NULL, NULL) != 1 || mdnid == NID_undef)
        return 0;
    const EVP_MD *md = EVP_get_digestbynid(mdnid);
    return md ? EVP_MD_get_size(md) * 8 : 0;
}

/* Verify callback, after OpenSSL's own checks of each certificate:
 * - the key of the peer's leaf, and with check_chain of every certificate
 *   up to the trust anchor, meets the profile minimum (B5, M27-M30, Q4):
 *   EE_KEY_TOO_SMALL / CA_KEY_TOO_SMALL;
 * - with min_cert_hash_bits, the leaf's and intermediates' signatures use
 *   a hash that large (M31), the anchor's self-signature excepted (Q4):
 *   CA_MD_TOO_WEAK.
 * Whatever the security level of the context. */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
    if (!ok)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    const dtp_ctx *ctx = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    int depth = X509_STORE_CTX_get_error_depth(store);
    if (!ctx || !cert || (depth > 0 && !ctx->profile->check_chain))
        return ok;
    const struct dtp_profile *p = ctx->profile;
    EVP_PKEY *key = X509_get0_pubkey(cert);
    int min = key ? min_cert_bits(p, key) : 0;
    if (min && key_bits(key) < min && !ctx->relax_key_sizes) {
        X509_STORE_CTX_set_error(store, depth == 0 ? X509_V_ERR_EE_KEY_TOO_SMALL : X509_V_ERR_CA_KEY_TOO_SMALL);
        return 0;
    }
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(store);
    bool anchor = chain && depth == sk_X509_num(chain) - 1;
    if (p->min_cert_hash_bits && !anchor && cert_hash_bits(cert) < p->min_cert_hash_bits) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CA_MD_TOO_WEAK);
        return 0;
    }
    return ok;
}

static int setup_trust(dtp_ctx *ctx, const struct dtp_config *cfg, struct dtp_error *err)
{
    if ((cfg->ca_file || cfg->ca_dir) && SSL_CTX_load_verify_locations(OC(ctx)->ssl_ctx, cfg->ca_file, cfg->ca_dir) != 1)
        return ossl_fail(err, DTP_R_CA_UNREADABLE, true, "%s%s%s", cfg->ca_file ? cfg->ca_file : "",
                         cfg->ca_file && cfg->ca_dir ? ", " : "", cfg->ca_dir ? cfg->ca_dir : "");
    if (cfg->ca_file && ctx->role == DTP_ROLE_SERVER) {
        /* Tell clients which CAs we accept, so they can pick a certificate. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
        if (names)
            SSL_CTX_set_client_CA_list(OC(ctx)->ssl_ctx, names);
        ERR_clear_error();
    }
    if (cfg->crl_file) {
        BIO *b = BIO_new_file(cfg->crl_file, "r");
        X509_STORE *store = SSL_CTX_get_cert_store(OC(ctx)->ssl_ctx);
        int n = 0;
        X509_CRL *crl;
        while (b && (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
            X509_STORE_add_crl(store, crl);
            X509_CRL_free(crl);
            n++;
        }
        BIO_free(b);
        if (n == 0)
            return ossl_fail(err, DTP_R_CRL_UNREADABLE, true, "%s: no PEM CRL", cfg->crl_file);
        ERR_clear_error(); /* the read loop ends on "no start line" */
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }

    bool have_trust = cfg->ca_file || cfg->ca_dir;
    int mode;
    switch (cfg->verify) {
    case DTP_VERIFY_IGNORE:
        mode = SSL_VERIFY_NONE;
        dtp__log(ctx, DTP_LOG_WARN, "peer certificate verification is OFF (explicit option): any peer is accepted");
        break;
    case DTP_VERIFY_IF_PRESENT:
        mode = SSL_VERIFY_PEER;
        break;
    case DTP_VERIFY_REQUIRE:
        mode = SSL_VERIFY_PEER | (ctx->role == DTP_ROLE_SERVER ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        break;
    default:
        return ossl_fail(err, DTP_R_CONFIG_INVALID, false, "unknown verification mode %d", cfg->verify);
    }
    if (mode != SSL_VERIFY_NONE && !have_trust)
        return ossl_fail(err, DTP_R_CONFIG_INVALID, false,
                         "peer verification needs trusted CA certificates (+cf FILE or +cd DIR), or -ic to ignore");
    SSL_CTX_set_verify(OC(ctx)->ssl_ctx, mode, verify_cb);
    return DTP_OK;
}

static void keylog_cb(const SSL *ssl, const char *line)
{
    const dtp_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    FILE *f = ctx && ctx->keylog_file[0] ? fopen(ctx->keylog_file, "a") : NULL;
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
}

/* Client session cache of one entry: the newest session of this context.
 * The session file is written when the context is freed, not here: the
 * ticket arrives in the middle of an association, which should not wait
 * for a file to be written. */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    dtp_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!ctx)
        return 0;
    SSL_SESSION_free(OC(ctx)->session);
    OC(ctx)->session = sess; /* returning 1 keeps OpenSSL's reference for us */
    OC(ctx)->session_unsaved = true;
    return 1;
}

/* The newest session, as PEM, into the session file (written atomically, 0600). */
static void save_session(dtp_ctx *ctx)
{
    if (!ctx->session_file[0] || !OC(ctx)->session || !OC(ctx)->session_unsaved)
        return;
    BIO *mem = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long len = mem && PEM_write_bio_SSL_SESSION(mem, OC(ctx)->session) == 1 ? BIO_get_mem_data(mem, &pem) : 0;
    if (len > 0 && dtp__save_session_file(ctx, pem, (size_t)len))
        OC(ctx)->session_unsaved = false;
    BIO_free(mem);
}

static void setup_session_cache(dtp_ctx *ctx, const char *session_file)
{
    if (ctx->role != DTP_ROLE_CLIENT)
        return; /* servers resume through tickets, whose keys every forked
                   process of one context shares */
    SSL_CTX_set_session_cache_mode(OC(ctx)->ssl_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(OC(ctx)->ssl_ctx, new_session_cb);
    if (!session_file)
        return;
    snprintf(ctx->session_file, sizeof ctx->session_file, "%s", session_file);
    FILE *f = fopen(session_file, "r");
    if (!f)
        return; /* first run */
    OC(ctx)->session = PEM_read_SSL_SESSION(f, NULL, NULL, NULL);
    fclose(f);
    if (!OC(ctx)->session)
        dtp__log(ctx, DTP_LOG_WARN, "ignoring unreadable TLS session file %s", session_file);
    ERR_clear_error();
}

/* ---- session tickets (R37) ------------------------------------------ */

/* What encrypts and authenticates one generation of tickets: AES-256-CBC
 * and HMAC-SHA256, RFC 5077 4's recommended construction, which is also
 * OpenSSL's own. The name travels in the clear in every ticket. */
#define TICKET_NAME_LEN 16 /* key_name[16] of SSL_CTX_set_tlsext_ticket_key_evp_cb */
struct ticket_key {
    unsigned char name[TICKET_NAME_LEN];
    unsigned char aes[32];
    unsigned char hmac[32];
};

struct dtp_ossl_tickets {
    EVP_KDF *hkdf;
    EVP_CIPHER *cipher;
    /* dtp_config.ticket_key_file: its keys, [0] encrypts, all decrypt. */
    size_t n;
    struct ticket_key keys[DTP_TICKET_KEYS_MAX];
    /* Without a file (n == 0): the context's random secret, from which the
     * key of each day is derived when needed, so nothing is shared or
     * changed between the processes forked from the context. */
    unsigned char secret[DTP_TICKET_SECRET_LEN];
};

/* HKDF-SHA256 (RFC 5869, no salt): secret -> out, info = label || context. */
static bool hkdf_sha256(EVP_KDF *kdf, const unsigned char *secret, const char *label, const unsigned char *context,
                        size_t context_len, unsigned char *out, size_t out_len)
{
    unsigned char info[128];
    size_t n = strlen(label);
    if (n + context_len > sizeof info)
        return false;
    memcpy(info, label, n);
    if (context_len)
        memcpy(info + n, context, context_len);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, DTP_TICKET_SECRET_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n + context_len), OSSL_PARAM_construct_end()};
    bool ok = kc && EVP_KDF_derive(kc, out, out_len, params) == 1;
    EVP_KDF_CTX_free(kc);
    return ok;
}

/* The three parts of a key, each under its own label; context: none for
 * a file's key, the day for a per-context one. */
static bool derive_ticket_key(EVP_KDF *kdf, const unsigned char *secret, const unsigned char *context,
                              size_t context_len, struct ticket_key *k)
{
    return hkdf_sha256(kdf, secret, DTP_HKDF_TICKET_NAME, context, context_len, k->name, sizeof k->name) &&
           hkdf_sha256(kdf, secret, DTP_HKDF_TICKET_AES, context, context_len, k->aes, sizeof k->aes) &&
           hkdf_sha256(kdf, secret, DTP_HKDF_TICKET_HMAC, context, context_len, k->hmac, sizeof k->hmac);
}

/* The per-context key of a day (days since 1970-01-01 UTC). */
static bool day_key(const struct dtp_ossl_tickets *t, int64_t day, struct ticket_key *k)
{
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)((uint64_t)day >> (56 - 8 * i));
    return derive_ticket_key(t->hkdf, t->secret, be, sizeof be, k);
}

/* OpenSSL's ticket callback, for TLS 1.2 tickets and TLS 1.3's stateless
 * ones alike. Encrypt: with the file's first key, or today's. Decrypt:
 * with the key the ticket names, among the file's keys or today's and
 * yesterday's; 2 asks OpenSSL to issue a new ticket under the current key,
 * 0 (no such key: an old, foreign or forged ticket) means a full handshake. */
static int ticket_key_cb(SSL *ssl, unsigned char name[TICKET_NAME_LEN], unsigned char *iv,
                         EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    const dtp_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    const struct dtp_ossl_tickets *t = ctx ? OC(ctx)->tickets : NULL;
    if (!t)
        return -1;
    struct ticket_key days[2];
    const struct ticket_key *k = NULL;
    int rc = 1;
    int64_t today = (int64_t)(time(NULL) / 86400);
    if (enc) {
        if (t->n)
            k = &t->keys[0];
        else if (day_key(t, today, &days[0]))
            k = &days[0];
        int iv_len = EVP_CIPHER_get_iv_length(t->cipher);
        if (!k || iv_len <= 0 || iv_len > EVP_MAX_IV_LENGTH || RAND_bytes(iv, iv_len) != 1 ||
            EVP_EncryptInit_ex2(cctx, t->cipher, k->aes, iv, NULL) != 1)
            rc = -1;
        else
            memcpy(name, k->name, sizeof k->name);
    } else {
        for (size_t i = 0; i < t->n && !k; i++)
            if (CRYPTO_memcmp(name, t->keys[i].name, sizeof t->keys[i].name) == 0) {
                k = &t->keys[i];
                rc = i == 0 ? 1 : 2;
            }
        for (int d = 0; t->n == 0 && d < 2 && !k; d++) {
            if (!day_key(t, today - d, &days[d])) {
                rc = -1;
                break;
            }
            if (CRYPTO_memcmp(name, days[d].name, sizeof days[d].name) == 0) {
                k = &days[d];
                rc = d == 0 ? 1 : 2;
            }
        }
        if (!k && rc != -1)
            rc = 0;
        else if (k && EVP_DecryptInit_ex2(cctx, t->cipher, k->aes, iv, NULL) != 1)
            rc = -1;
        /* TLS 1.3: a client uses a ticket once (RFC 8446 C.4), so a
         * resumed handshake gets a new one, else every other association
         * of a client would be a full handshake. */
        if (k && rc == 1 && SSL_version(ssl) >= TLS1_3_VERSION)
            rc = 2;
    }
    if (k && rc > 0) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof k->hmac),
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
        if (EVP_MAC_CTX_set_params(hctx, params) != 1)
            rc = -1;
    }
    OPENSSL_cleanse(days, sizeof days);
    return rc;
}

/* Server: ticket keys from the file, or a random secret for per-day keys;
 * tickets and sessions live DTP_TICKET_LIFETIME_S (R37). */
static int setup_tickets(dtp_ctx *ctx, const char *file, struct dtp_error *err)
{
    struct dtp_ossl_tickets *t = OPENSSL_zalloc(sizeof *t);
    if (!t)
        return ossl_fail(err, DTP_R_INTERNAL, false, "out of memory");
    OC(ctx)->tickets = t;
    t->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    t->cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    if (!t->hkdf || !t->cipher)
        return ossl_fail(err, DTP_R_INTERNAL, true, "session tickets: HKDF or AES-256-CBC unavailable");
    if (file) {
        struct dtp_ticket_secrets s;
        int rc = dtp__read_ticket_keys(file, &s, err);
        for (size_t i = 0; rc == DTP_OK && i < s.n; i++)
            if (!derive_ticket_key(t->hkdf, s.key[i], NULL, 0, &t->keys[i]))
                rc = ossl_fail(err, DTP_R_INTERNAL, true, "session tickets: cannot derive keys from %s", file);
        if (rc == DTP_OK)
            t->n = s.n;
        OPENSSL_cleanse(&s, sizeof s);
        if (rc != DTP_OK)
            return rc;
        char id[2 * 4 + 1];
        for (int i = 0; i < 4; i++)
            snprintf(id + 2 * i, 3, "%02x", t->keys[0].name[i]);
        dtp__log(ctx, DTP_LOG_INFO, "session tickets: %zu key(s) from %s, new tickets under key %s (R37)", t->n, file,
                 id);
    } else if (RAND_priv_bytes(t->secret, sizeof t->secret) != 1) {
        return ossl_fail(err, DTP_R_INTERNAL, true, "session tickets: no random secret");
    }
    SSL_CTX_set_tlsext_ticket_key_evp_cb(OC(ctx)->ssl_ctx, ticket_key_cb);
    SSL_CTX_set_timeout(OC(ctx)->ssl_ctx, DTP_TICKET_LIFETIME_S);
    return DTP_OK;
}

static void free_tickets(struct dtp_ossl_tickets *t)
{
    if (!t)
        return;
    EVP_KDF_free(t->hkdf);
    EVP_CIPHER_free(t->cipher);
    OPENSSL_clear_free(t, sizeof *t);
}

/* ---- context ------------------------------------------------------- */

static void ossl_ctx_free(dtp_ctx *ctx)
{
    struct dtp_ossl_ctx *oc = OC(ctx);
    if (!oc)
        return;
    save_session(ctx);
    SSL_SESSION_free(oc->session);
    SSL_CTX_free(oc->ssl_ctx);
    free_tickets(oc->tickets);
    BIO_meth_free(oc->sock_method);
    free(oc);
    ctx->be_ctx = NULL;
}

static int ossl_ctx_setup(dtp_ctx *ctx, const struct dtp_config *cfg, struct dtp_error *err)
{
    const struct dtp_profile *p = ctx->profile;
    struct dtp_ossl_ctx *oc = calloc(1, sizeof *oc);
    if (!oc)
        return ossl_fail(err, DTP_R_INTERNAL, false, "out of memory");
    ctx->be_ctx = oc;
    oc->ssl_ctx = SSL_CTX_new(ctx->role == DTP_ROLE_SERVER ? TLS_server_method() : TLS_client_method());
    if (!oc->ssl_ctx)
        return ossl_fail(err, DTP_R_INTERNAL, true, "SSL_CTX_new");
    SSL_CTX_set_app_data(oc->ssl_ctx, ctx);
    oc->sock_method = dtp__ossl_nosig_method();
    if (!oc->sock_method)
        return ossl_fail(err, DTP_R_INTERNAL, true, "BIO_meth_new");

    oc->default_security_cb = SSL_CTX_get_security_callback(oc->ssl_ctx);
    SSL_CTX_set_security_callback(oc->ssl_ctx, security_cb);

    int rc = apply_profile(oc->ssl_ctx, p, ctx->role, err);
    if (rc == DTP_OK)
        rc = load_credentials(ctx, cfg, err);
    if (rc == DTP_OK && ctx->role == DTP_ROLE_SERVER)
        rc = setup_dh(ctx, cfg->dh_file, err);
    if (rc == DTP_OK)
        rc = setup_trust(ctx, cfg, err);
    if (rc == DTP_OK && ctx->role == DTP_ROLE_SERVER) {
        /* Needed for resumption when client certificates are verified. */
        static const unsigned char sid_ctx[] = "dcmtls-profiles";
        SSL_CTX_set_session_id_context(oc->ssl_ctx, sid_ctx, sizeof sid_ctx - 1);
        /* TLS 1.3: one ticket per handshake, not OpenSSL's two; our clients
         * keep only the newest session, and each ticket carries the client
         * certificate (about 1 KiB to encrypt and send). */
        SSL_CTX_set_num_tickets(oc->ssl_ctx, 1);
        rc = setup_tickets(ctx, cfg->ticket_key_file, err);
    }
    if (rc == DTP_OK)
        setup_session_cache(ctx, cfg->session_file);
    if (rc == DTP_OK && ctx->keylog_file[0])
        SSL_CTX_set_keylog_callback(oc->ssl_ctx, keylog_cb);
    if (rc == DTP_OK)
        dtp__log(ctx, DTP_LOG_DEBUG, "OpenSSL: security level %d on this context",
                 SSL_CTX_get_security_level(oc->ssl_ctx));
    return rc;
}

static void *ossl_native_ctx(dtp_ctx *ctx) { return OC(ctx) ? OC(ctx)->ssl_ctx : NULL; }

/* ---- connection ------------------------------------------------------ */

struct dtp_ossl_conn {
    SSL *ssl;
    int last_err; /* SSL_get_error() of the last SSL_* call that did not succeed */
};

static struct dtp_ossl_conn *OCN(const dtp_conn *conn) { return conn->be_conn; }
static SSL *SSLOF(const dtp_conn *conn) { return OCN(conn)->ssl; }

/* What the peer sends: its first record header (not TLS at all?) and
 * fatal alerts, for the neutral layer. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    dtp_conn *conn = arg;
    if (write_p)
        return;
    if (content_type == SSL3_RT_HEADER && len >= 5)
        dtp__conn_note_header(conn, buf);
    else if (content_type == SSL3_RT_ALERT && len >= 2 && ((const unsigned char *)buf)[0] == SSL3_AL_FATAL)
        dtp__conn_note_alert(conn, ((const unsigned char *)buf)[1]);
}

/* The server's ClientHello callback refused: the connection says why. */
static void refuse_hello(SSL *ssl, int code)
{
    dtp_conn *conn = SSL_get_app_data(ssl);
    if (conn)
        conn->hello_refusal = code;
}

static int ossl_conn_new(dtp_conn *conn, struct dtp_error *err)
{
    struct dtp_ossl_conn *oc = calloc(1, sizeof *oc);
    if (!oc)
        return ossl_fail(err, DTP_R_INTERNAL, false, "out of memory");
    conn->be_conn = oc;
    oc->ssl = SSL_new(OC(conn->ctx)->ssl_ctx);
    BIO *bio = oc->ssl ? BIO_new(OC(conn->ctx)->sock_method) : NULL;
    if (!bio)
        return ossl_fail(err, DTP_R_INTERNAL, true, "SSL_new");
    BIO_set_fd(bio, conn->fd, BIO_NOCLOSE);
    SSL_set_bio(oc->ssl, bio, bio);
    SSL_set_app_data(oc->ssl, conn);
    SSL_set_msg_callback(oc->ssl, msg_cb);
    SSL_set_msg_callback_arg(oc->ssl, conn);
    if (conn->ctx->role == DTP_ROLE_SERVER) {
        SSL_set_accept_state(oc->ssl);
    } else {
        SSL_set_connect_state(oc->ssl);
        SSL_SESSION *session = OC(conn->ctx)->session;
        if (session && SSL_SESSION_is_resumable(session))
            SSL_set_session(oc->ssl, session); /* the server decides */
    }
    return DTP_OK;
}

static void ossl_conn_free(dtp_conn *conn)
{
    struct dtp_ossl_conn *oc = OCN(conn);
    if (!oc)
        return;
    SSL_free(oc->ssl);
    free(oc);
    conn->be_conn = NULL;
}

static int ossl_set_server_name(dtp_conn *conn, const char *name)
{
    if (SSL_set_tlsext_host_name(SSLOF(conn), name) != 1)
        return ossl_fail(&conn->error, DTP_R_INTERNAL, true, "cannot set SNI %s", name);
    return DTP_OK;
}

/* Maps the result of an SSL_* call: ret > 0 is done. */
static enum dtp_io io_result(dtp_conn *conn, int ret)
{
    if (ret > 0)
        return DTP_IO_OK;
    struct dtp_ossl_conn *oc = OCN(conn);
    oc->last_err = SSL_get_error(oc->ssl, ret);
    switch (oc->last_err) {
    case SSL_ERROR_WANT_READ:
        return DTP_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return DTP_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return DTP_IO_CLOSED;
    case SSL_ERROR_SYSCALL:
        return DTP_IO_TRANSPORT;
    default:
        return DTP_IO_FAILED;
    }
}

/* Client: a TLS 1.2 server may renew the ticket in an abbreviated
 * handshake (a ticket under an older key of its file, R37). OpenSSL hands
 * new_session_cb only the sessions of full handshakes, and retires the
 * one just resumed: keep the renewed one, or the next association would
 * start over with a full handshake. */
static void keep_renewed_session(dtp_conn *conn)
{
    SSL *ssl = SSLOF(conn);
    struct dtp_ossl_ctx *oc = OC(conn->ctx);
    SSL_SESSION *now = SSL_get0_session(ssl);
    if (!SSL_session_reused(ssl) || SSL_version(ssl) >= TLS1_3_VERSION || !now || now == oc->session ||
        !SSL_SESSION_is_resumable(now) || !SSL_SESSION_up_ref(now))
        return;
    SSL_SESSION_free(oc->session);
    oc->session = now;
    oc->session_unsaved = true;
}

static enum dtp_io ossl_handshake(dtp_conn *conn)
{
    enum dtp_io io = io_result(conn, SSL_do_handshake(SSLOF(conn)));
    if (io == DTP_IO_OK && conn->ctx->role == DTP_ROLE_CLIENT)
        keep_renewed_session(conn);
    return io;
}

static enum dtp_io ossl_read(dtp_conn *conn, void *buf, size_t len, size_t *got)
{
    *got = 0;
    return io_result(conn, SSL_read_ex(SSLOF(conn), buf, len, got));
}

static enum dtp_io ossl_peek(dtp_conn *conn)
{
    char c;
    size_t got = 0;
    return io_result(conn, SSL_peek_ex(SSLOF(conn), &c, 1, &got));
}

static enum dtp_io ossl_write(dtp_conn *conn, const void *buf, size_t len, size_t *put)
{
    *put = 0;
    return io_result(conn, SSL_write_ex(SSLOF(conn), buf, len, put));
}

static size_t ossl_pending(dtp_conn *conn) { return (size_t)SSL_pending(SSLOF(conn)); }
static bool ossl_buffered(dtp_conn *conn) { return SSL_has_pending(SSLOF(conn)) != 0; }
static void ossl_clear_error(dtp_conn *conn)
{
    (void)conn;
    ERR_clear_error();
}

static int ossl_shutdown(dtp_conn *conn)
{
    ERR_clear_error();
    if (SSL_shutdown(SSLOF(conn)) < 0) {
        ERR_clear_error();
        return DTP_R_IO_ERROR;
    }
    return DTP_OK;
}

/* ---- what went wrong ------------------------------------------------ */

static int classify_verify(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        return DTP_R_PEER_CERT_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
        return DTP_R_PEER_CERT_REVOKED;
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
        return DTP_R_PEER_CERT_WEAK;
    default:
        return DTP_R_PEER_CERT_UNTRUSTED;
    }
}

/* Maps an OpenSSL reason of the error queue to a reason row. */
static int classify_ssl_reason(const dtp_conn *conn, int reason, bool in_handshake)
{
    if (reason >= SSL_AD_REASON_OFFSET) { /* the peer sent this alert */
        int alert = reason - SSL_AD_REASON_OFFSET;
        if (alert == SSL_AD_PROTOCOL_VERSION && in_handshake)
            return DTP_R_VERSION_REFUSED;
        if (alert == SSL_AD_INAPPROPRIATE_FALLBACK)
            return DTP_R_INAPPROPRIATE_FALLBACK;
        if (alert == SSL_AD_BAD_RECORD_MAC && !in_handshake)
            return DTP_R_INTEGRITY_ALERT;
        if (alert == SSL_AD_NO_APPLICATION_PROTOCOL && in_handshake)
            return DTP_R_ALPN_MISMATCH;
        return in_handshake ? DTP_R_PEER_ALERT : DTP_R_SESSION_ALERT;
    }
    switch (reason) {
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return in_handshake ? DTP_R_HANDSHAKE_EOF : DTP_R_TRUNCATED;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
        return DTP_R_VERSION_REFUSED;
    case SSL_R_CALLBACK_FAILED: /* the server's ClientHello callback said why */
        return conn->hello_refusal ? conn->hello_refusal : DTP_R_HANDSHAKE_FAILED;
    case SSL_R_INAPPROPRIATE_FALLBACK:
        return DTP_R_INAPPROPRIATE_FALLBACK;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_CIPHERS_AVAILABLE:
        return DTP_R_NO_SHARED_SUITE;
    case SSL_R_WRONG_CIPHER_RETURNED:
        return DTP_R_OUTSIDE_PROFILE;
    case SSL_R_NO_APPLICATION_PROTOCOL:
        return DTP_R_ALPN_MISMATCH;
    case SSL_R_DH_KEY_TOO_SMALL:
    case SSL_R_WRONG_CURVE:
        return DTP_R_EPHEMERAL_KEY_WEAK;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return classify_verify(SSL_get_verify_result(SSLOF(conn)));
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return DTP_R_PEER_CERT_MISSING;
    case SSL_R_EE_KEY_TOO_SMALL:
    case SSL_R_CA_KEY_TOO_SMALL:
    case SSL_R_CA_MD_TOO_WEAK:
        return DTP_R_PEER_CERT_WEAK;
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_DECRYPTION_FAILED:
    case SSL_R_BLOCK_CIPHER_PAD_IS_WRONG:
        return DTP_R_RECORD_INTEGRITY;
    default:
        break;
    }
    return dtp__classify_other(conn, in_handshake);
}

static int ossl_classify(dtp_conn *conn, enum dtp_io io, int saved_errno, bool in_handshake)
{
    struct dtp_error *e = &conn->error;
    unsigned long packed = ERR_peek_error(); /* the first, root cause */
    char ossl[256] = "";
    if (packed)
        ERR_error_string_n(packed, ossl, sizeof ossl);
    /* From io, not the last call's state: the neutral layer may have
     * peeked (another SSL call) between the failure and this question. */
    int ssl_err = io == DTP_IO_CLOSED      ? SSL_ERROR_ZERO_RETURN
                  : io == DTP_IO_WANT_READ  ? SSL_ERROR_WANT_READ
                  : io == DTP_IO_WANT_WRITE ? SSL_ERROR_WANT_WRITE
                  : io == DTP_IO_TRANSPORT  ? SSL_ERROR_SYSCALL
                                            : OCN(conn)->last_err;
    int code;
    switch (ssl_err) {
    case SSL_ERROR_ZERO_RETURN:
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        code = dtp__classify_io(conn, io, saved_errno, in_handshake);
        break;
    case SSL_ERROR_SYSCALL:
        if (packed) {
            code = classify_ssl_reason(conn, ERR_GET_REASON(packed), in_handshake);
            snprintf(e->detail, sizeof e->detail, "%s", ossl);
        } else {
            code = dtp__classify_io(conn, DTP_IO_TRANSPORT, saved_errno, in_handshake);
        }
        break;
    case SSL_ERROR_SSL:
        code = packed ? classify_ssl_reason(conn, ERR_GET_REASON(packed), in_handshake)
                      : (in_handshake ? DTP_R_HANDSHAKE_FAILED : DTP_R_PROTOCOL_ERROR);
        snprintf(e->detail, sizeof e->detail, "%s", ossl[0] ? ossl : "TLS protocol error");
        break;
    default:
        code = in_handshake ? DTP_R_HANDSHAKE_FAILED : DTP_R_IO_ERROR;
        snprintf(e->detail, sizeof e->detail, "SSL error %d", ssl_err);
        break;
    }
    /* The certificate's own words, which OpenSSL's queue does not carry. */
    long v = SSL_get_verify_result(SSLOF(conn));
    if (code >= DTP_R_PEER_CERT_MISSING && code <= DTP_R_PEER_CERT_WEAK && v != X509_V_OK)
        snprintf(e->detail, sizeof e->detail, "certificate verification: %s", X509_verify_cert_error_string(v));
    ERR_clear_error();
    return code;
}

/* ---- what was negotiated ------------------------------------------- */


static void ossl_negotiated(dtp_conn *conn, struct dtp_session_info *in)
{
    SSL *ssl = SSLOF(conn);
    in->version = SSL_version(ssl);
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    snprintf(in->suite, sizeof in->suite, "%s", ci ? SSL_CIPHER_standard_name(ci) : "none");
    in->resumed = SSL_session_reused(ssl) == 1;
    in->ems = in->version >= DTP_TLS1_3 || SSL_get_extms_support(ssl) == 1;

    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    /* A longer id is cut: it differs from the profile's all the same. */
    snprintf(in->alpn, sizeof in->alpn, "%.*s", (int)(alpn_len < sizeof in->alpn ? alpn_len : sizeof in->alpn - 1),
             alpn ? (const char *)alpn : "");
    if (conn->ctx->role == DTP_ROLE_SERVER) {
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        snprintf(in->sni, sizeof in->sni, "%s", sni ? sni : "");
    }

    int nid = SSL_get_negotiated_group(ssl);
    const char *gname = nid > 0 ? SSL_group_to_name(ssl, nid) : NULL;
    EVP_PKEY *tmp = NULL;
    if (SSL_get_peer_tmp_key(ssl, &tmp) == 1 && tmp) {
        in->kx_bits = key_bits(tmp);
        in->kx_finite_field = EVP_PKEY_is_a(tmp, "DH") || EVP_PKEY_is_a(tmp, "DHX");
        snprintf(in->group, sizeof in->group, "%s", gname ? gname : (in->kx_finite_field ? "DH" : key_type(tmp)));
        EVP_PKEY_free(tmp);
    } else {
        /* A TLS 1.2 server keeps no copy of the client's share; the group
         * it picked from its own list says the size. */
        snprintf(in->group, sizeof in->group, "%s", gname ? gname : "");
        in->kx_bits = dtp__group_bits(in->group);
        in->kx_finite_field = strncmp(in->group, "ffdhe", 5) == 0;
    }

    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (peer) {
        X509_NAME_oneline(X509_get_subject_name(peer), in->peer_subject, sizeof in->peer_subject);
        EVP_PKEY *pk = X509_get0_pubkey(peer);
        in->peer_key_bits = key_bits(pk);
        snprintf(in->peer_key_type, sizeof in->peer_key_type, "%s", key_type(pk));
    }
}

static size_t ossl_peer_cert_der(dtp_conn *conn, void *buf, size_t len)
{
    X509 *peer = SSL_get0_peer_certificate(SSLOF(conn));
    if (!peer)
        return 0;
    int n = i2d_X509(peer, NULL);
    if (n <= 0)
        return 0;
    if (buf && len >= (size_t)n) {
        unsigned char *p = buf;
        i2d_X509(peer, &p);
    }
    return (size_t)n;
}

static int ossl_cert_not_after(const dtp_ctx *ctx, long long *unix_time)
{
    X509 *cert = OC(ctx) ? SSL_CTX_get0_certificate(OC(ctx)->ssl_ctx) : NULL;
    const ASN1_TIME *not_after = cert ? X509_get0_notAfter(cert) : NULL;
    ASN1_TIME *epoch = not_after ? ASN1_TIME_set(NULL, 0) : NULL;
    int days = 0, secs = 0;
    bool ok = epoch && ASN1_TIME_diff(&days, &secs, epoch, not_after) == 1;
    ASN1_TIME_free(epoch);
    ERR_clear_error();
    if (!ok)
        return DTP_R_CONFIG_INVALID;
    *unix_time = (long long)days * 86400 + secs;
    return DTP_OK;
}

const struct dtp_backend dtp_backend_openssl = {
    .name = "openssl",
    .records_client_hello = true,
    .ctx_setup = ossl_ctx_setup,
    .ctx_free = ossl_ctx_free,
    .warm_up = dtp__ossl_warm_up,
    .native_ctx = ossl_native_ctx,
    .describe = ossl_describe,
    .suite_available = ossl_suite_available,
    .conn_new = ossl_conn_new,
    .conn_free = ossl_conn_free,
    .set_server_name = ossl_set_server_name,
    .handshake = ossl_handshake,
    .read = ossl_read,
    .peek = ossl_peek,
    .write = ossl_write,
    .pending = ossl_pending,
    .buffered = ossl_buffered,
    .shutdown = ossl_shutdown,
    .negotiated = ossl_negotiated,
    .classify = ossl_classify,
    .clear_error = ossl_clear_error,
    .peer_cert_der = ossl_peer_cert_der,
    .cert_not_after = ossl_cert_not_after,
};
