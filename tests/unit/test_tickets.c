/* Session tickets shared by several server contexts (R37): the key file
 * (dtp_config.ticket_key_file), rotation, the bad files it refuses with
 * TICKET_KEYS, the ticket lifetime; and dtp_ctx_cert_not_after. Real
 * handshakes over socketpairs, on every backend built in. PKI fixture
 * directory in argv[2]. */
#define _DEFAULT_SOURCE /* timegm, mkdtemp */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "fixture.h"
#include "pair.h" /* struct side, server_thread */

/* ---- key files --------------------------------------------------------- */

#define SCRATCH_PREFIX "dtp-tickets"
#include "scratch.h"

/* A fresh random key as the file holds it: 64 hex digits. */
static void new_key(char hex[65])
{
    unsigned char k[32];
    if (RAND_bytes(k, sizeof k) != 1)
        abort();
    for (size_t i = 0; i < sizeof k; i++)
        snprintf(hex + 2 * i, 3, "%02x", k[i]);
}

/* Writes text to scratch file name with mode; returns its path. */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
    const char *path = scratch(name);
    unlink(path);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

/* A key file of the given keys (NULL-terminated), mode 0600. */
static const char *key_file(const char *name, const char *const *keys)
{
    char text[2048] = "# dtp test ticket keys: the first encrypts\n";
    for (; *keys; keys++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s\n", *keys);
    return write_file(name, text, 0600);
}

/* ---- contexts and connections ----------------------------------------- */

/* Collects the log lines of a context. */
struct logbuf {
    char text[4096];
};

static void log_cb(void *user, int level, const char *msg)
{
    (void)level;
    struct logbuf *l = user;
    snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), "%s\n", msg);
}

struct ctx_opts {
    const char *backend;
    const struct dtp_profile *p;
    int role;
    const char *ticket_file;
    const char *session_file;
    const char *cert; /* fixture name; "" none */
    struct logbuf *log;
};

static dtp_ctx *make_ctx(struct ctx_opts o, struct dtp_error *err)
{
    struct dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = o.p ? o.p : dtp_profile_find("bcp195-8996", NULL);
    cfg.backend = o.backend;
    cfg.role = o.role;
    const char *name = o.cert ? o.cert : o.role == DTP_ROLE_SERVER ? "server-rsa" : "client-rsa";
    char cert[64], key[64];
    snprintf(cert, sizeof cert, "%s.pem", name);
    snprintf(key, sizeof key, "%s.key", name);
    if (name[0]) {
        cfg.cert_file = pki(cert);
        cfg.key_file = pki(key);
    }
    cfg.ca_file = pki("ca.pem");
    cfg.handshake_timeout_ms = 5000;
    cfg.ticket_key_file = o.ticket_file;
    cfg.session_file = o.session_file;
    if (o.log) {
        cfg.log = log_cb;
        cfg.log_user = o.log;
    }
    memset(err, 0, sizeof *err);
    return dtp_ctx_new(&cfg, err);
}

static dtp_ctx *server(const char *backend, const char *ticket_file)
{
    struct dtp_error e;
    dtp_ctx *c = make_ctx((struct ctx_opts){.backend = backend, .role = DTP_ROLE_SERVER, .ticket_file = ticket_file}, &e);
    if (!c)
        fprintf(stderr, "server context (%s): reason %d %s\n", backend, e.code, e.detail);
    return c;
}

static dtp_ctx *client(const char *backend, const struct dtp_profile *p)
{
    struct dtp_error e;
    dtp_ctx *c = make_ctx((struct ctx_opts){.backend = backend, .p = p, .role = DTP_ROLE_CLIENT}, &e);
    if (!c)
        fprintf(stderr, "client context (%s): reason %d %s\n", backend, e.code, e.detail);
    return c;
}

/* What one connection negotiated. */
struct outcome {
    int client_rc, server_rc;
    int version;
    bool client_resumed, server_resumed;
};

/* One connection of cctx to sctx with one exchange of data (a TLS 1.3
 * client takes its ticket with the first read), closed cleanly. */
static int connect_once(dtp_ctx *cctx, dtp_ctx *sctx, struct outcome *out)
{
    memset(out, 0, sizeof *out);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return -1;
    struct side s = {sctx, sv[1], NULL, -1};
    pthread_t t;
    pthread_create(&t, NULL, server_thread, &s);
    dtp_conn *c = dtp_conn_new(cctx, sv[0], NULL);
    out->client_rc = c ? dtp_conn_handshake(c) : DTP_R_INTERNAL;
    if (out->client_rc != DTP_OK)
        shutdown(sv[0], SHUT_RDWR);
    pthread_join(t, NULL);
    out->server_rc = s.rc;
    int rc = 0;
    if (out->client_rc == DTP_OK && out->server_rc == DTP_OK) {
        char buf[8];
        if (dtp_conn_write(s.conn, "ok", 2) != 2 || dtp_conn_read(c, buf, sizeof buf) != 2)
            rc = -1;
        out->version = dtp_conn_info(c)->version;
        out->client_resumed = dtp_conn_info(c)->resumed;
        out->server_resumed = dtp_conn_info(s.conn)->resumed;
        dtp_conn_close_notify(c);
    } else {
        fprintf(stderr, "handshake: client %d (%s), server %d (%s)\n", out->client_rc,
                c ? dtp_conn_error(c)->detail : "", out->server_rc, s.conn ? dtp_conn_error(s.conn)->detail : "");
    }
    dtp_conn_free(c);
    dtp_conn_free(s.conn);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

/* Connects and checks the handshake succeeded with the version asked for
 * and resumed (both sides agreeing) as expected. */
static int expect(dtp_ctx *cctx, dtp_ctx *sctx, int version, bool resumed, const char *what)
{
    struct outcome o;
    int rc = connect_once(cctx, sctx, &o);
    printf("%s: %s resumed=%d/%d\n", what, dtp_tls_version_name(o.version), o.client_resumed, o.server_resumed);
    CHECK(rc == 0);
    CHECK_REASON(DTP_OK, o.client_rc, what);
    CHECK_REASON(DTP_OK, o.server_rc, what);
    CHECK(o.version == version);
    CHECK(o.client_resumed == resumed);
    CHECK(o.server_resumed == resumed);
    return 0;
}

/* The profile under test and the client's version: bcp195-8996 allows
 * TLS 1.2 and 1.3; a client row capped at TLS 1.2 gets 1.2. */
static struct dtp_profile tls12_row;

static const struct dtp_profile *client_row(int version)
{
    const struct dtp_profile *p = dtp_profile_find("bcp195-8996", NULL);
    if (version == DTP_TLS1_3)
        return p;
    tls12_row = *p;
    tls12_row.max_version = DTP_TLS1_2;
    tls12_row.tls13_suites = NULL;
    return &tls12_row;
}

static const int versions[] = {DTP_TLS1_2, DTP_TLS1_3};
#define N_VERSIONS (sizeof versions / sizeof versions[0])

/* ---- cases ---------------------------------------------------------------- */

static int shared_file_resumes_across_contexts(void)
{
    /* Two server contexts (two nodes behind one address) with the same
     * file: a session from A resumes on B, and the other way round. */
    char k1[65];
    new_key(k1);
    const char *file = key_file("shared.keys", (const char *const[]){k1, NULL});
    for (size_t b = 0; b < dtp_backend_count(); b++)
        for (size_t v = 0; v < N_VERSIONS; v++) {
            const char *be = dtp_backend_name(b);
            dtp_ctx *a = server(be, file), *bb = server(be, file), *c = client(be, client_row(versions[v]));
            CHECK(a && bb && c);
            char what[64];
            snprintf(what, sizeof what, "%s %s", be, dtp_tls_version_name(versions[v]));
            CHECK(expect(c, a, versions[v], false, what) == 0);
            CHECK(expect(c, bb, versions[v], true, what) == 0);
            CHECK(expect(c, a, versions[v], true, what) == 0);
            dtp_ctx_free(a);
            dtp_ctx_free(bb);
            dtp_ctx_free(c);
        }
    cleanup();
    return 0;
}

static int rotation_keeps_old_tickets(void)
{
    /* Rotation: the new key first, the old one second. OpenSSL: a ticket
     * made under the old key still resumes and is renewed under the new
     * key (a node with only the new key then resumes it). GnuTLS takes the
     * first key only: the old ticket gets a full handshake, as dtp.h says. */
    char k1[65], k2[65];
    new_key(k1);
    new_key(k2);
    const char *old_file = key_file("old.keys", (const char *const[]){k1, NULL});
    const char *rotated = key_file("rotated.keys", (const char *const[]){k2, k1, NULL});
    const char *new_only = key_file("new.keys", (const char *const[]){k2, NULL});
    for (size_t b = 0; b < dtp_backend_count(); b++)
        for (size_t v = 0; v < N_VERSIONS; v++) {
            const char *be = dtp_backend_name(b);
            bool openssl = strcmp(be, "openssl") == 0;
            dtp_ctx *a = server(be, old_file), *r = server(be, rotated), *n = server(be, new_only);
            dtp_ctx *c = client(be, client_row(versions[v]));
            CHECK(a && r && n && c);
            char what[96];
            snprintf(what, sizeof what, "%s %s before rotation", be, dtp_tls_version_name(versions[v]));
            CHECK(expect(c, a, versions[v], false, what) == 0);
            snprintf(what, sizeof what, "%s %s old ticket, rotated file", be, dtp_tls_version_name(versions[v]));
            CHECK(expect(c, r, versions[v], openssl, what) == 0);
            snprintf(what, sizeof what, "%s %s renewed ticket, new key only", be, dtp_tls_version_name(versions[v]));
            CHECK(expect(c, n, versions[v], true, what) == 0);
            dtp_ctx_free(a);
            dtp_ctx_free(r);
            dtp_ctx_free(n);
            dtp_ctx_free(c);
        }
    cleanup();
    return 0;
}

static int other_file_full_handshake(void)
{
    /* A node with other keys cannot read the ticket: a full handshake,
     * which succeeds. Without a file, each context has its own keys: it
     * resumes its own sessions only. */
    char k1[65], k3[65];
    new_key(k1);
    new_key(k3);
    const char *f1 = key_file("one.keys", (const char *const[]){k1, NULL});
    const char *f3 = key_file("three.keys", (const char *const[]){k3, NULL});
    for (size_t b = 0; b < dtp_backend_count(); b++)
        for (size_t v = 0; v < N_VERSIONS; v++) {
            const char *be = dtp_backend_name(b);
            dtp_ctx *a = server(be, f1), *o = server(be, f3), *p1 = server(be, NULL), *p2 = server(be, NULL);
            dtp_ctx *c = client(be, client_row(versions[v]));
            CHECK(a && o && p1 && p2 && c);
            char what[96];
            snprintf(what, sizeof what, "%s %s", be, dtp_tls_version_name(versions[v]));
            CHECK(expect(c, a, versions[v], false, what) == 0);
            CHECK(expect(c, o, versions[v], false, what) == 0);
            CHECK(expect(c, p1, versions[v], false, what) == 0);
            CHECK(expect(c, p1, versions[v], true, what) == 0);
            CHECK(expect(c, p2, versions[v], false, what) == 0);
            dtp_ctx_free(a);
            dtp_ctx_free(o);
            dtp_ctx_free(p1);
            dtp_ctx_free(p2);
            dtp_ctx_free(c);
        }
    cleanup();
    return 0;
}

/* One bad file: every backend refuses it with TICKET_KEYS and a detail
 * containing want (and never the key text `secret`, if given). */
static int refused(const char *path, const char *want, const char *secret)
{
    for (size_t b = 0; b < dtp_backend_count(); b++) {
        struct dtp_error e;
        dtp_ctx *c = make_ctx(
            (struct ctx_opts){.backend = dtp_backend_name(b), .role = DTP_ROLE_SERVER, .ticket_file = path}, &e);
        printf("%s: %s: %d %s\n", dtp_backend_name(b), path, e.code, e.detail);
        CHECK(c == NULL);
        CHECK_REASON(DTP_R_TICKET_KEYS, e.code, e.detail);
        CHECK(strstr(e.detail, want) != NULL);
        CHECK(!secret || strstr(e.detail, secret) == NULL);
    }
    return 0;
}

static int bad_files_refused(void)
{
    char k[65], text[4096];
    new_key(k);
    snprintf(text, sizeof text, "%s\n", k);

    CHECK(refused(scratch("missing.keys"), "No such file", NULL) == 0);
    CHECK(refused(write_file("world.keys", text, 0644), "chmod 600", NULL) == 0);
    CHECK(refused(write_file("group-write.keys", text, 0620), "mode 0620", NULL) == 0);
    CHECK(refused(write_file("group-exec.keys", text, 0610), "mode 0610", NULL) == 0);
    const char *d = scratch("a-directory");
    CHECK(mkdir(d, 0700) == 0);
    CHECK(refused(d, "not a regular file", NULL) == 0);
    CHECK(refused(write_file("empty.keys", "", 0600), "no key", NULL) == 0);
    CHECK(refused(write_file("comments.keys", "# only\n\n   # comments\n", 0600), "no key", NULL) == 0);

    /* A bad line: its number, never its text. */
    char shorter[64];
    memcpy(shorter, k, 63);
    shorter[63] = '\0';
    snprintf(text, sizeof text, "# keys\n%s\n%s\n", k, shorter);
    CHECK(refused(write_file("short.keys", text, 0600), "line 3: expected 64 hex digits", shorter) == 0);
    snprintf(text, sizeof text, "%s0\n", k);
    CHECK(refused(write_file("long.keys", text, 0600), "line 1: expected 64 hex digits", k) == 0);
    char nonhex[65];
    memcpy(nonhex, k, 65);
    nonhex[10] = 'g';
    snprintf(text, sizeof text, "\n%s\n", nonhex);
    CHECK(refused(write_file("nonhex.keys", text, 0600), "line 2: character 11 is not a hex digit", nonhex) == 0);
    snprintf(text, sizeof text, "%.32s %.32s\n", k, k + 32);
    CHECK(refused(write_file("split.keys", text, 0600), "line 1: expected 64 hex digits", NULL) == 0);

    /* Nine keys: one too many, named at the ninth key's line. */
    text[0] = '\0';
    for (int i = 0; i < DTP_TICKET_KEYS_MAX + 1; i++) {
        char ki[65];
        new_key(ki);
        snprintf(text + strlen(text), sizeof text - strlen(text), "# key %d\n%s\n", i + 1, ki);
    }
    CHECK(refused(write_file("nine.keys", text, 0600), "line 18: more than 8 keys", NULL) == 0);

    /* A client has no use for ticket keys. */
    struct dtp_error e;
    CHECK(make_ctx((struct ctx_opts){.role = DTP_ROLE_CLIENT, .ticket_file = scratch("missing.keys")}, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    cleanup();
    return 0;
}

static int good_file_forms(void)
{
    /* Eight keys with comments, blank lines, indentation, CRLF and mode
     * 0400 are accepted; both backends log the same id for the first key
     * (derived by HKDF alike), and none logs key material. */
    char text[4096] = "# ticket keys\r\n\r\n", keys[DTP_TICKET_KEYS_MAX][65];
    for (int i = 0; i < DTP_TICKET_KEYS_MAX; i++) {
        new_key(keys[i]);
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s%s\r\n   # old\n", i % 2 ? "  " : "", keys[i],
                 i % 3 ? "\t" : "");
    }
    const char *path = write_file("good.keys", text, 0400);
    char first_id[2][64] = {"", ""};
    for (size_t b = 0; b < dtp_backend_count() && b < 2; b++) {
        struct logbuf log = {""};
        struct dtp_error e;
        dtp_ctx *c = make_ctx(
            (struct ctx_opts){.backend = dtp_backend_name(b), .role = DTP_ROLE_SERVER, .ticket_file = path, .log = &log},
            &e);
        CHECK_REASON(DTP_OK, e.code, e.detail);
        CHECK(c != NULL);
        printf("%s log:\n%s", dtp_backend_name(b), log.text);
        const char *id = strstr(log.text, "new tickets under key ");
        CHECK(id != NULL);
        CHECK(strstr(log.text, "8 key(s)") != NULL);
        snprintf(first_id[b], sizeof first_id[b], "%.8s", id + strlen("new tickets under key "));
        for (int i = 0; i < DTP_TICKET_KEYS_MAX; i++)
            CHECK(strstr(log.text, keys[i]) == NULL);
        dtp_ctx_free(c);
    }
    CHECK(strlen(first_id[0]) == 8);
    CHECK(dtp_backend_count() < 2 || strcmp(first_id[0], first_id[1]) == 0);
    cleanup();
    return 0;
}

static int ticket_lifetime_bounded(void)
{
    /* R37: a ticket lives DTP_TICKET_LIFETIME_S (2 hours) on either server
     * backend: the lifetime the server announces, read from an OpenSSL
     * client's session file. */
    for (size_t b = 0; b < dtp_backend_count(); b++)
        for (size_t v = 0; v < N_VERSIONS; v++) {
            const char *be = dtp_backend_name(b);
            const char *sess = scratch("session.pem");
            unlink(sess);
            struct dtp_error e;
            dtp_ctx *s = server(be, NULL);
            dtp_ctx *c = make_ctx(
                (struct ctx_opts){.p = client_row(versions[v]), .role = DTP_ROLE_CLIENT, .session_file = sess}, &e);
            CHECK(s && c);
            struct outcome o;
            CHECK(connect_once(c, s, &o) == 0 && o.version == versions[v]);
            dtp_ctx_free(c); /* writes the session file */
            dtp_ctx_free(s);
            FILE *f = fopen(sess, "r");
            CHECK(f != NULL);
            SSL_SESSION *ss = PEM_read_SSL_SESSION(f, NULL, NULL, NULL);
            fclose(f);
            CHECK(ss != NULL);
            unsigned long hint = SSL_SESSION_get_ticket_lifetime_hint(ss);
            printf("%s server, %s: ticket lifetime %lu s\n", be, dtp_tls_version_name(versions[v]), hint);
            SSL_SESSION_free(ss);
            CHECK(hint == DTP_TICKET_LIFETIME_S);
        }
    cleanup();
    return 0;
}

/* notAfter of a fixture certificate as the openssl command prints it
 * ("notAfter=2035-01-01 12:00:00Z"), in seconds since the epoch. */
static long long openssl_enddate(const char *cert)
{
    char cmd[1200], line[128];
    snprintf(cmd, sizeof cmd, "openssl x509 -noout -enddate -dateopt iso_8601 -in '%s'", pki(cert));
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char *got = fgets(line, sizeof line, p);
    int status = pclose(p);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!got || status != 0 || sscanf(line, "notAfter=%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        fprintf(stderr, "%s: unexpected output: %s\n", cmd, got ? line : "(none)");
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

static int cert_not_after(void)
{
    static const char *const certs[] = {"server-rsa", "server-ec", "expired-server-rsa"};
    for (size_t b = 0; b < dtp_backend_count(); b++) {
        const char *be = dtp_backend_name(b);
        for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) {
            char pem[64];
            snprintf(pem, sizeof pem, "%s.pem", certs[i]);
            long long want = openssl_enddate(pem), got = 0;
            CHECK(want > 0);
            struct dtp_error e;
            dtp_ctx *c = make_ctx((struct ctx_opts){.backend = be, .role = DTP_ROLE_SERVER, .cert = certs[i]}, &e);
            CHECK_REASON(DTP_OK, e.code, e.detail);
            CHECK_REASON(DTP_OK, dtp_ctx_cert_not_after(c, &got), certs[i]);
            printf("%s %s: notAfter %lld, openssl x509 says %lld\n", be, certs[i], got, want);
            CHECK(got == want);
            CHECK_REASON(DTP_R_CONFIG_INVALID, dtp_ctx_cert_not_after(c, NULL), "NULL out");
            dtp_ctx_free(c);
        }
        /* A client with a certificate has one; without, none. */
        struct dtp_error e;
        long long got = 42;
        dtp_ctx *c = make_ctx((struct ctx_opts){.backend = be, .role = DTP_ROLE_CLIENT}, &e);
        CHECK(c != NULL);
        CHECK_REASON(DTP_OK, dtp_ctx_cert_not_after(c, &got), "client-rsa");
        CHECK(got == openssl_enddate("client-rsa.pem"));
        dtp_ctx_free(c);
        got = 42;
        c = make_ctx((struct ctx_opts){.backend = be, .role = DTP_ROLE_CLIENT, .cert = ""}, &e);
        CHECK(c != NULL);
        CHECK_REASON(DTP_R_CONFIG_INVALID, dtp_ctx_cert_not_after(c, &got), "no certificate");
        CHECK(got == 42);
        dtp_ctx_free(c);
    }
    long long t;
    CHECK_REASON(DTP_R_CONFIG_INVALID, dtp_ctx_cert_not_after(NULL, &t), "NULL ctx");
    return 0;
}

static const struct check_case cases[] = {
    CASE(shared_file_resumes_across_contexts), CASE(rotation_keeps_old_tickets), CASE(other_file_full_handshake),
    CASE(bad_files_refused), CASE(good_file_forms), CASE(ticket_lifetime_bounded), CASE(cert_not_after),
};

int main(int argc, char **argv)
{
    int rc = check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
    cleanup(); /* a failed CHECK returns early */
    return rc;
}
