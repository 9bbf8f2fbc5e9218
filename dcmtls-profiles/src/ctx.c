/*
 * The backend-neutral context: validates a configuration, keeps what every
 * backend needs (profile, role, verification, relaxations, timeouts, log),
 * and hands the rest to the TLS backend (struct dtp_backend).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

/* The backends built in, the default first. */
static const struct dtp_backend *const backends[] = {
    &dtp_backend_openssl,
#ifdef DTP_WITH_GNUTLS
    &dtp_backend_gnutls,
#endif
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

static const struct dtp_backend *default_backend(void) { return backends[0]; }

static const struct dtp_backend *find_backend(const char *name)
{
    if (!name)
        return default_backend();
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

size_t dtp_backend_count(void) { return N_BACKENDS; }
const char *dtp_backend_name(size_t i) { return i < N_BACKENDS ? backends[i]->name : NULL; }

bool dtp_backend_suite_available(const char *backend, const char *iana)
{
    const struct dtp_backend *be = find_backend(backend);
    return be && iana && be->suite_available(iana);
}

void dtp__log(const dtp_ctx *ctx, int level, const char *fmt, ...)
{
    if (!ctx || !ctx->log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, level, msg);
}

int dtp__set_error(struct dtp_error *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof err->detail, fmt, ap);
        va_end(ap);
    }
    return code;
}

bool dtp__save_session_file(const dtp_ctx *ctx, const void *data, size_t len)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", ctx->session_file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
    if (fd >= 0)
        ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp, ctx->session_file) != 0) {
        dtp__log(ctx, DTP_LOG_WARN, "cannot save TLS session to %s: %s", ctx->session_file, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

/* memset through a volatile function pointer, which the compiler cannot
 * prove is memset and drop as a dead store (OPENSSL_cleanse's technique):
 * for the key file text, which this backend-neutral file reads without a
 * TLS library at hand. */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void dtp__wipe(void *p, size_t len)
{
    if (p && len)
        wipe_memset(p, 0, len);
}

static int hex_value(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One line of the key file, blanks trimmed: exactly 64 hex digits into a
 * 32-byte key; false otherwise, saying why in why (never the content). */
static bool parse_key_line(const char *p, size_t len, unsigned char *key, char *why, size_t why_len)
{
    if (len != 2 * DTP_TICKET_SECRET_LEN) {
        snprintf(why, why_len, "expected 64 hex digits (openssl rand -hex 32), found %zu characters", len);
        return false;
    }
    for (size_t i = 0; i < DTP_TICKET_SECRET_LEN; i++) {
        int hi = hex_value((unsigned char)p[2 * i]), lo = hex_value((unsigned char)p[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(why, why_len, "character %zu is not a hex digit", hi < 0 ? 2 * i + 1 : 2 * i + 2);
            return false;
        }
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

int dtp__read_small_file(const char *path, long max, bool private_only, int reason, const char *what, char **text,
                         size_t *len, struct dtp_error *err)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return dtp__set_error(err, reason, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return dtp__set_error(err, reason, "%s: not a regular file", path);
    }
    if (private_only && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        close(fd);
        return dtp__set_error(err, reason, "%s: mode %04o gives group or others access to %s; chmod 600 it", path,
                              (unsigned)(st.st_mode & 07777), what);
    }
    if (st.st_size > max) {
        close(fd);
        return dtp__set_error(err, reason, "%s: %lld bytes is too large for %s (at most %ld)", path,
                              (long long)st.st_size, what, max);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return dtp__set_error(err, DTP_R_INTERNAL, "out of memory");
    }
    ssize_t r = 0;
    while (n < cap - 1 && ((r = read(fd, buf + n, cap - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    int read_errno = r < 0 ? errno : 0;
    close(fd);
    buf[n] = '\0';
    if (read_errno) {
        dtp__wipe(buf, cap);
        free(buf);
        return dtp__set_error(err, reason, "%s: %s", path, strerror(read_errno));
    }
    *text = buf;
    *len = n;
    return DTP_OK;
}

int dtp__read_ticket_keys(const char *path, struct dtp_ticket_secrets *out, struct dtp_error *err)
{
    out->n = 0;
    char *text = NULL;
    size_t len = 0;
    /* As ssh with a private key: secrets others can read are not secret,
     * and keys others can write let them forge tickets (R37). */
    int rc = dtp__read_small_file(path, 65536, true, DTP_R_TICKET_KEYS, "ticket keys", &text, &len, err);
    if (rc != DTP_OK)
        return rc;

    unsigned line = 0;
    for (char *p = text; rc == DTP_OK && p < text + len;) {
        char *end = memchr(p, '\n', (size_t)(text + len - p));
        char *next = end ? end + 1 : text + len;
        if (!end)
            end = text + len;
        line++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        if (p < end && *p != '#') {
            char why[128];
            if (out->n == DTP_TICKET_KEYS_MAX)
                rc = dtp__set_error(err, DTP_R_TICKET_KEYS,
                                    "%s line %u: more than %d keys (the first encrypts, the others only decrypt: "
                                    "drop the oldest)",
                                    path, line, DTP_TICKET_KEYS_MAX);
            else if (!parse_key_line(p, (size_t)(end - p), out->key[out->n], why, sizeof why))
                rc = dtp__set_error(err, DTP_R_TICKET_KEYS, "%s line %u: %s", path, line, why);
            else
                out->n++;
        }
        p = next;
    }
    if (rc == DTP_OK && out->n == 0)
        rc = dtp__set_error(err, DTP_R_TICKET_KEYS, "%s: no key (one line of 64 hex digits: openssl rand -hex 32)",
                            path);
    dtp__wipe(text, len + 1);
    free(text);
    if (rc != DTP_OK) {
        dtp__wipe(out, sizeof *out);
        out->n = 0;
    }
    return rc;
}

bool dtp_suite_available(const char *iana) { return iana && default_backend()->suite_available(iana); }

const char *dtp_profile_describe(const struct dtp_profile *p, int role, char *buf, size_t len, struct dtp_error *err)
{
    if (!p || !buf || len == 0) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "describe: no profile or buffer");
        return NULL;
    }
    return default_backend()->describe(p, role, buf, len, err);
}

static bool listed(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* The suites of `from` that `only` names, in the profile's order. */
static const char *const *keep(const char *const *from, const char *const *only, const char **out)
{
    size_t n = 0;
    for (; from && *from && n < DTP_NARROW_MAX; from++)
        if (listed(only, *from))
            out[n++] = *from;
    out[n] = NULL;
    return out;
}

/* dtp_config.suites (DCMTK's +cs): the profile with only those of its
 * suites, in its own order; a name outside the profile is refused, so the
 * option can narrow a profile but never widen it. */
static int narrow_profile(dtp_ctx *ctx, const struct dtp_profile *p, const char *const *only, struct dtp_error *err)
{
    for (const char *const *s = only; *s; s++)
        if (!listed(p->tls12_suites, *s) && !listed(p->fallback_suites, *s) && !listed(p->tls13_suites, *s))
            return dtp__set_error(err, DTP_R_CONFIG_INVALID, "suite %s is not in profile %s (--list-profiles lists its suites)",
                                  *s, p->key);
    struct dtp_profile *n = &ctx->narrowed;
    *n = *p;
    n->tls12_suites = keep(p->tls12_suites, only, ctx->narrowed_lists[0]);
    n->tls12_client_order = p->tls12_client_order ? keep(p->tls12_client_order, only, ctx->narrowed_lists[1]) : NULL;
    n->fallback_suites = keep(p->fallback_suites, only, ctx->narrowed_lists[2]);
    n->tls13_suites = keep(p->tls13_suites, only, ctx->narrowed_lists[3]);
    if (!n->tls13_suites[0]) {
        n->tls13_suites = NULL;
        if (n->max_version > DTP_TLS1_2)
            n->max_version = DTP_TLS1_2;
    }
    if (!n->tls12_suites[0] && !n->fallback_suites[0] && n->tls13_suites)
        n->min_version = n->strong_min_version = DTP_TLS1_3;
    if (n->strong_min_version > n->max_version)
        n->strong_min_version = n->max_version;
    ctx->profile = n;
    return DTP_OK;
}

dtp_ctx *dtp_ctx_new(const struct dtp_config *cfg, struct dtp_error *err)
{
    if (err) {
        err->code = DTP_OK;
        err->detail[0] = '\0';
    }
    if (!cfg || !cfg->profile) {
        dtp__set_error(err, DTP_R_PROFILE_UNKNOWN, "no profile given");
        return NULL;
    }
    const struct dtp_profile *p = cfg->profile;
    if (cfg->role != DTP_ROLE_CLIENT && cfg->role != DTP_ROLE_SERVER) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "unknown role %d", cfg->role);
        return NULL;
    }
    if (cfg->relax_key_sizes && !p->key_sizes_relaxable) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID,
                       "profile %s makes its key sizes a requirement (shall); they cannot be relaxed", p->key);
        return NULL;
    }
    if (cfg->role == DTP_ROLE_SERVER && (!cfg->cert_file || !cfg->key_file)) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "a TLS server needs a private key and certificate (+tls KEY CERT)");
        return NULL;
    }

    const struct dtp_backend *be = find_backend(cfg->backend);
    if (!be) {
        char names[128] = "";
        for (size_t i = 0; i < N_BACKENDS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", backends[i]->name);
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "no TLS backend '%s' in this build (built in: %s)", cfg->backend,
                       names);
        return NULL;
    }

    if (cfg->ticket_key_file && cfg->role != DTP_ROLE_SERVER) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "a ticket key file is for a server; a client keeps its session "
                                                  "in a session file");
        return NULL;
    }

    if (cfg->on_client_hello && (cfg->role != DTP_ROLE_SERVER || !be->records_client_hello)) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID,
                       "on_client_hello needs a server context of a backend that records ClientHellos (openssl); "
                       "this is a %s context of backend %s",
                       cfg->role == DTP_ROLE_SERVER ? "server" : "client", be->name);
        return NULL;
    }

    dtp_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        dtp__set_error(err, DTP_R_INTERNAL, "out of memory");
        return NULL;
    }
    ctx->be = be;
    ctx->profile = p;
    ctx->role = cfg->role;
    ctx->verify = cfg->verify;
    ctx->relax_key_sizes = cfg->relax_key_sizes;
    ctx->allow_no_ems = cfg->allow_no_ems && p->require_ems;
    ctx->handshake_timeout_ms = cfg->handshake_timeout_ms > 0 ? cfg->handshake_timeout_ms : 15000;
    ctx->log = cfg->log;
    ctx->log_user = cfg->log_user;
    ctx->on_client_hello = cfg->on_client_hello;
    ctx->on_client_hello_user = cfg->on_client_hello_user;
    if (cfg->keylog_file)
        snprintf(ctx->keylog_file, sizeof ctx->keylog_file, "%s", cfg->keylog_file);
    if (cfg->relax_key_sizes)
        dtp__log(ctx, DTP_LOG_WARN, "B5 key-size minimums of profile %s are relaxed by explicit option", p->key);
    if (ctx->allow_no_ems)
        dtp__log(ctx, DTP_LOG_WARN,
                 "R36 relaxed by explicit option: profile %s accepts TLS 1.2 peers without extended master secret",
                 p->key);
    if (ctx->keylog_file[0])
        dtp__log(ctx, DTP_LOG_WARN, "TLS session keys are written to %s (debugging only)", ctx->keylog_file);
    if (cfg->suites && cfg->suites[0]) {
        if (narrow_profile(ctx, p, cfg->suites, err) != DTP_OK) {
            free(ctx);
            return NULL;
        }
        char names[1024] = "";
        for (const char *const *s = cfg->suites; *s; s++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", s == cfg->suites ? "" : " ", *s);
        dtp__log(ctx, DTP_LOG_INFO, "profile %s narrowed by explicit option to: %s", p->key, names);
    }

    if (ctx->be->ctx_setup(ctx, cfg, err) != DTP_OK) {
        dtp_ctx_free(ctx);
        return NULL;
    }
    dtp__log(ctx, DTP_LOG_DEBUG, "profile %s (%s) ready as %s, %s..%s, backend %s", p->key, p->title,
             cfg->role == DTP_ROLE_SERVER ? "server" : "client", dtp_tls_version_name(ctx->profile->min_version),
             dtp_tls_version_name(ctx->profile->max_version), ctx->be->name);
    return ctx;
}

void dtp_ctx_free(dtp_ctx *ctx)
{
    if (!ctx)
        return;
    ctx->be->ctx_free(ctx);
    free(ctx);
}

const struct dtp_profile *dtp_ctx_profile(const dtp_ctx *ctx) { return ctx ? ctx->profile : NULL; }
int dtp_ctx_role(const dtp_ctx *ctx) { return ctx ? ctx->role : -1; }
void *dtp_ctx_ssl_ctx(dtp_ctx *ctx) { return ctx && ctx->be->native_ctx ? ctx->be->native_ctx(ctx) : NULL; }

int dtp_ctx_cert_not_after(const dtp_ctx *ctx, long long *unix_time)
{
    if (!ctx || !unix_time || !ctx->be->cert_not_after)
        return DTP_R_CONFIG_INVALID;
    return ctx->be->cert_not_after(ctx, unix_time);
}

int dtp_ctx_warm_up(dtp_ctx *ctx)
{
    if (!ctx || ctx->role != DTP_ROLE_SERVER || !ctx->be->warm_up)
        return DTP_OK;
    return ctx->be->warm_up(ctx);
}

int dtp_read_password(const char *spec, char *out, size_t len, struct dtp_error *err)
{
    if (!spec || !out || len == 0)
        return dtp__set_error(err, DTP_R_KEY_PASSWORD, "no password source given");
    out[0] = '\0';
    if (strncmp(spec, "pass:", 5) == 0) {
        snprintf(out, len, "%s", spec + 5);
    } else if (strncmp(spec, "env:", 4) == 0) {
        const char *v = getenv(spec + 4);
        if (!v)
            return dtp__set_error(err, DTP_R_KEY_PASSWORD, "environment variable %s is not set", spec + 4);
        snprintf(out, len, "%s", v);
    } else if (strncmp(spec, "file:", 5) == 0) {
        FILE *f = fopen(spec + 5, "r");
        if (!f)
            return dtp__set_error(err, DTP_R_KEY_PASSWORD, "%s: %s", spec + 5, strerror(errno));
        if (!fgets(out, (int)len, f))
            out[0] = '\0';
        fclose(f);
        out[strcspn(out, "\r\n")] = '\0'; /* first line, as openssl -passin file: */
    } else {
        return dtp__set_error(err, DTP_R_KEY_PASSWORD, "password source must be file:PATH, env:NAME or pass:TEXT");
    }
    return DTP_OK;
}
