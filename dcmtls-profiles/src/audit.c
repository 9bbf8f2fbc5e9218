/*
 * Audit trail, the IHE ATNA way (dtp/audit.h): the DICOM audit message
 * (PS3.15 A.5.1) as XML, the RFC 5424 syslog message around it, the spool
 * directory, and the sender (RFC 5425 over this library's TLS client,
 * RFC 5426 over UDP, or a file).
 *
 * The XML writer is small on purpose: the schema has no namespaces, no
 * mixed content and a fixed element order, so a message is written in
 * order into one buffer, every value escaped on the way in. Strings are
 * checked as UTF-8; what is not valid UTF-8, or not an XML 1.0 character,
 * becomes U+FFFD, so a message is always well-formed whatever a peer's
 * AE title, certificate subject or a data set's Patient's Name holds.
 */
#define _GNU_SOURCE /* flock, getaddrinfo, fdatasync beside POSIX */
#include "internal.h"
#include "dtp/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h> /* EVP_EncodeBlock: base64 of ParticipantObjectDetail values */

#define DEFAULT_SPOOL_MAX (64ULL * 1024 * 1024)
#define DEFAULT_TIMEOUT_MS 5000

/* ---- a growing buffer ------------------------------------------------ */

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put_n(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put(struct buf *b, const char *s)
{
    put_n(b, s, strlen(s));
}

static void putf_long(struct buf *b, long long v)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", v);
    put(b, t);
}

/* ---- UTF-8 and XML escaping ----------------------------------------- */

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence (not ASCII: the caller handles that)
 * at s, n bytes left; 0 if there is none. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* s as XML character data or attribute value (double quotes). Line breaks
 * and tabs become character references: attribute normalisation keeps
 * them, and the message stays on one line. */
static void put_escaped(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '&':
                put(b, "&amp;");
                break;
            case '<':
                put(b, "&lt;");
                break;
            case '>':
                put(b, "&gt;");
                break;
            case '"':
                put(b, "&quot;");
                break;
            case '\t':
                put(b, "&#9;");
                break;
            case '\n':
                put(b, "&#10;");
                break;
            case '\r':
                put(b, "&#13;");
                break;
            default:
                if (c < 0x20)
                    put(b, REPLACEMENT); /* not an XML 1.0 character, not even as a reference */
                else
                    put_n(b, (const char *)p + i, 1);
            }
            i++;
            continue;
        }
        /* U+FFFE and U+FFFF are valid UTF-8 but no XML characters: one
         * replacement for the three bytes */
        if (n - i >= 3 && c == 0xEF && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF)) {
            put(b, REPLACEMENT);
            i += 3;
            continue;
        }
        size_t len = utf8_char(p + i, n - i);
        if (len == 0) {
            put(b, REPLACEMENT);
            i++;
        } else {
            put_n(b, (const char *)p + i, len);
            i += len;
        }
    }
}

static void attr(struct buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    put(b, " ");
    put(b, name);
    put(b, "=\"");
    put_escaped(b, value);
    put(b, "\"");
}

static void attr_int(struct buf *b, const char *name, long long v)
{
    put(b, " ");
    put(b, name);
    put(b, "=\"");
    putf_long(b, v);
    put(b, "\"");
}

static void text_element(struct buf *b, const char *name, const char *value)
{
    put(b, "<");
    put(b, name);
    put(b, ">");
    put_escaped(b, value);
    put(b, "</");
    put(b, name);
    put(b, ">");
}

static bool code_complete(const struct dtp_audit_code *c)
{
    return c->code && c->system && c->text;
}

static void coded(struct buf *b, const char *element, const struct dtp_audit_code *c)
{
    put(b, "<");
    put(b, element);
    attr(b, "csd-code", c->code);
    attr(b, "codeSystemName", c->system);
    attr(b, "originalText", c->text);
    put(b, "/>");
}

/* ---- time ------------------------------------------------------------- */

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-11-30T17:12:06.123456Z": xsd:dateTime with its UTC offset
 * (A.5.2.5) and RFC 5424's TIMESTAMP (RFC 3339, TIME-SECFRAC of 6). */
static void format_time(long long us, char out[64])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 64, "1970-01-01T00:00:00.000000Z");
        return;
    }
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 64, "%s.%06lldZ", day, us % 1000000);
}

/* ---- the message ------------------------------------------------------ */

static int check_event(const struct dtp_audit_event *ev, struct dtp_error *err)
{
    if (!ev || !ev->id.code || !code_complete(&ev->id))
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: EventID needs code, system and text");
    if (ev->type.code && !code_complete(&ev->type))
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: EventTypeCode needs code, system and text");
    if (ev->action && !strchr("CRUDE", ev->action))
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: EventActionCode '%c' is none of C R U D E",
                              ev->action);
    if (ev->outcome != 0 && ev->outcome != 4 && ev->outcome != 8 && ev->outcome != 12)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: EventOutcomeIndicator %d is none of 0 4 8 12",
                              ev->outcome);
    if (ev->n_active == 0 || !ev->active)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: no ActiveParticipant");
    for (size_t i = 0; i < ev->n_active; i++) {
        const struct dtp_audit_active *a = &ev->active[i];
        if (!a->user_id)
            return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: ActiveParticipant %zu has no UserID", i);
        if (a->nap_type < 0 || a->nap_type > 5 || (a->nap_type && !a->nap_id))
            return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                                  "audit message: ActiveParticipant %zu: bad NetworkAccessPoint", i);
        if (a->role.code && !code_complete(&a->role))
            return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                                  "audit message: ActiveParticipant %zu: RoleIDCode needs code, system and text", i);
    }
    if (!ev->source_id)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: no AuditSourceID");
    if (ev->n_objects && !ev->objects)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit message: objects missing");
    for (size_t i = 0; i < ev->n_objects; i++) {
        const struct dtp_audit_object *o = &ev->objects[i];
        if (!o->id || !o->id_type.code || !code_complete(&o->id_type))
            return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                                  "audit message: participant object %zu needs an ID and a complete ID type code", i);
        if (o->type_code < 0 || o->type_code > 4 || o->type_role < 0 || o->type_role > 26 || o->life_cycle < 0 ||
            o->life_cycle > 15)
            return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                                  "audit message: participant object %zu: type, role or life cycle out of range", i);
        for (size_t k = 0; k < o->n_details; k++)
            if (!o->details[k].type || (o->details[k].len && !o->details[k].value))
                return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                                      "audit message: participant object %zu: detail %zu incomplete", i, k);
        for (size_t k = 0; k < o->n_sop_classes; k++)
            if (o->sop_classes[k].n_instances && !o->sop_classes[k].instances)
                return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                                      "audit message: participant object %zu: SOP class %zu without instances", i, k);
    }
    return DTP_OK;
}

static void put_detail(struct buf *b, const struct dtp_audit_detail *d)
{
    put(b, "<ParticipantObjectDetail");
    attr(b, "type", d->type);
    put(b, " value=\"");
    if (d->len) {
        /* base64: 4 characters per 3 bytes, plus the NUL EVP_EncodeBlock writes */
        size_t chunk = 3 * 1024;
        unsigned char out[4 * 1024 + 1];
        const unsigned char *in = d->value;
        for (size_t off = 0; off < d->len; off += chunk) {
            size_t n = d->len - off < chunk ? d->len - off : chunk;
            int w = EVP_EncodeBlock(out, in + off, (int)n);
            put_n(b, (const char *)out, (size_t)w);
        }
    }
    put(b, "\"/>");
}

static void put_object(struct buf *b, const struct dtp_audit_object *o)
{
    put(b, "<ParticipantObjectIdentification");
    attr(b, "ParticipantObjectID", o->id);
    if (o->type_code)
        attr_int(b, "ParticipantObjectTypeCode", o->type_code);
    if (o->type_role)
        attr_int(b, "ParticipantObjectTypeCodeRole", o->type_role);
    if (o->life_cycle)
        attr_int(b, "ParticipantObjectDataLifeCycle", o->life_cycle);
    put(b, ">");
    coded(b, "ParticipantObjectIDTypeCode", &o->id_type);
    if (o->name)
        text_element(b, "ParticipantObjectName", o->name);
    for (size_t i = 0; i < o->n_details; i++)
        put_detail(b, &o->details[i]);
    if (o->n_sop_classes) {
        put(b, "<ParticipantObjectDescription>");
        for (size_t i = 0; i < o->n_sop_classes; i++) {
            const struct dtp_audit_sop_class *c = &o->sop_classes[i];
            put(b, "<SOPClass");
            attr(b, "UID", c->uid);
            attr_int(b, "NumberOfInstances", (long long)c->n_instances);
            put(b, ">");
            for (size_t k = 0; k < c->n_instances; k++) {
                put(b, "<Instance");
                attr(b, "UID", c->instances[k] ? c->instances[k] : "");
                put(b, "/>");
            }
            put(b, "</SOPClass>");
        }
        put(b, "</ParticipantObjectDescription>");
    }
    put(b, "</ParticipantObjectIdentification>");
}

char *dtp_audit_xml(const struct dtp_audit_event *ev, size_t *len, struct dtp_error *err)
{
    if (check_event(ev, err) != DTP_OK)
        return NULL;
    struct buf b = {0};
    char when[64];
    format_time(ev->time_us ? ev->time_us : now_us(), when);

    put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AuditMessage><EventIdentification");
    if (ev->action) {
        char a[2] = {ev->action, '\0'};
        attr(&b, "EventActionCode", a);
    }
    attr(&b, "EventDateTime", when);
    attr_int(&b, "EventOutcomeIndicator", ev->outcome);
    put(&b, ">");
    coded(&b, "EventID", &ev->id);
    if (ev->type.code)
        coded(&b, "EventTypeCode", &ev->type);
    if (ev->outcome_desc)
        text_element(&b, "EventOutcomeDescription", ev->outcome_desc);
    put(&b, "</EventIdentification>");

    for (size_t i = 0; i < ev->n_active; i++) {
        const struct dtp_audit_active *a = &ev->active[i];
        put(&b, "<ActiveParticipant");
        attr(&b, "UserID", a->user_id);
        attr(&b, "AlternativeUserID", a->alt_user_id);
        attr(&b, "UserName", a->user_name);
        attr(&b, "UserIsRequestor", a->requestor ? "true" : "false");
        if (a->nap_type) {
            attr(&b, "NetworkAccessPointID", a->nap_id);
            attr_int(&b, "NetworkAccessPointTypeCode", a->nap_type);
        }
        if (a->role.code) {
            put(&b, ">");
            coded(&b, "RoleIDCode", &a->role);
            put(&b, "</ActiveParticipant>");
        } else
            put(&b, "/>");
    }

    put(&b, "<AuditSourceIdentification");
    attr(&b, "AuditEnterpriseSiteID", ev->site_id);
    attr(&b, "AuditSourceID", ev->source_id);
    if (ev->source_type) {
        put(&b, "><AuditSourceTypeCode");
        attr(&b, "csd-code", ev->source_type);
        put(&b, "/></AuditSourceIdentification>");
    } else
        put(&b, "/>");

    for (size_t i = 0; i < ev->n_objects; i++)
        put_object(&b, &ev->objects[i]);
    put(&b, "</AuditMessage>");

    if (b.oom) {
        free(b.p);
        dtp__set_error(err, DTP_R_INTERNAL, "audit message: out of memory");
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

/* ---- RFC 5424 --------------------------------------------------------- */

/* A header field: printable US-ASCII (33..126) only, at most max
 * characters, "-" (NILVALUE) when empty. */
static void put_field(struct buf *b, const char *s, size_t max)
{
    size_t n = 0;
    for (const char *p = s ? s : ""; *p && n < max; p++, n++) {
        char c = (unsigned char)*p >= 33 && (unsigned char)*p <= 126 ? *p : '_';
        put_n(b, &c, 1);
    }
    if (n == 0)
        put(b, "-");
}

char *dtp_audit_syslog(const struct dtp_audit_header *h, const char *msg, size_t msg_len, size_t *len,
                       struct dtp_error *err)
{
    if (!h || !msg || h->severity < 0 || h->severity > 7) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "syslog message: no header or message, or severity outside 0-7");
        return NULL;
    }
    char host[256] = "";
    if (h->hostname)
        snprintf(host, sizeof host, "%s", h->hostname);
    else if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    char when[64];
    format_time(h->time_us ? h->time_us : now_us(), when);
    char procid[32];
    snprintf(procid, sizeof procid, "%ld", h->procid ? h->procid : (long)getpid());

    struct buf b = {0};
    put(&b, "<");
    putf_long(&b, DTP_AUDIT_FACILITY * 8 + h->severity);
    put(&b, ">1 ");
    put(&b, when);
    put(&b, " ");
    put_field(&b, host, 255);
    put(&b, " ");
    put_field(&b, h->app_name, 48);
    put(&b, " ");
    put_field(&b, procid, 128);
    put(&b, " ");
    put_field(&b, DTP_AUDIT_MSGID, 32);
    put(&b, " - \xEF\xBB\xBF"); /* no STRUCTURED-DATA; MSG-UTF8 starts with the BOM */
    put_n(&b, msg, msg_len);
    if (b.oom) {
        free(b.p);
        dtp__set_error(err, DTP_R_INTERNAL, "syslog message: out of memory");
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

size_t dtp_audit_frame_prefix(size_t msg_len, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%zu ", msg_len);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* ---- the spool ---------------------------------------------------------- */

static unsigned long long spool_max(const struct dtp_audit_config *cfg)
{
    return cfg->spool_max_bytes ? cfg->spool_max_bytes : DEFAULT_SPOOL_MAX;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *dir, struct dtp_error *err)
{
    char path[PATH_MAX];
    if (!dir || !*dir || strlen(dir) >= sizeof path)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit spool directory: empty or too long");
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return dtp__set_error(err, DTP_R_IO_ERROR, "audit spool directory %s: mkdir %s: %s", dir, path,
                                      strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)
        return dtp__set_error(err, DTP_R_IO_ERROR, "audit spool directory %s is not a writable directory", dir);
    return DTP_OK;
}

struct entry {
    char name[64];
    unsigned long long size;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static bool is_message_name(const char *n)
{
    size_t l = strlen(n);
    return n[0] != '.' && l > 4 && l < 64 && strcmp(n + l - 4, ".msg") == 0;
}

/* The spooled messages, oldest first; *n entries, *total bytes. NULL with
 * *n 0 when there are none (or the directory cannot be read). */
static struct entry *scan(const char *dir, size_t *n, unsigned long long *total)
{
    *n = 0;
    if (total)
        *total = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    struct entry *v = NULL;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_message_name(de->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct entry *nv = realloc(v, nc * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap = nc;
        }
        snprintf(v[*n].name, sizeof v[*n].name, "%s", de->d_name);
        v[*n].size = (unsigned long long)st.st_size;
        if (total)
            *total += v[*n].size;
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, by_name);
    return v;
}

size_t dtp_audit_spool_count(const struct dtp_audit_config *cfg)
{
    size_t n = 0;
    free(scan(cfg->spool_dir, &n, NULL));
    return n;
}

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len) {
        ssize_t w = write(fd, c, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        len -= (size_t)w;
    }
    return 0;
}

int dtp_audit_spool_put(const struct dtp_audit_config *cfg, const void *msg, size_t len, size_t *dropped,
                        struct dtp_error *err)
{
    if (!cfg || !msg)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit spool: no configuration or message");
    unsigned long long max = spool_max(cfg);
    if (len > max)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID,
                              "audit message of %zu bytes is larger than the spool (%llu bytes)", len, max);
    int rc = make_dirs(cfg->spool_dir, err);
    if (rc != DTP_OK)
        return rc;
    int dfd = open(cfg->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return dtp__set_error(err, DTP_R_IO_ERROR, "audit spool %s: %s", cfg->spool_dir, strerror(errno));

    /* Full: the oldest go. A name another process removed meanwhile (sent
     * or dropped) does not count. */
    size_t n = 0;
    unsigned long long total = 0;
    struct entry *v = scan(cfg->spool_dir, &n, &total);
    for (size_t i = 0; i < n && total + len > max; i++) {
        if (unlinkat(dfd, v[i].name, 0) == 0 && dropped)
            ++*dropped;
        total -= v[i].size;
    }
    free(v);

    long long us = now_us();
    long pid = (long)getpid();
    char tmp[96], name[96];
    int fd = -1;
    for (int k = 0; fd < 0 && k < 1000; k++) {
        snprintf(tmp, sizeof tmp, ".tmp-%ld-%lld-%d", pid, us, k);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        rc = dtp__set_error(err, DTP_R_IO_ERROR, "audit spool %s: cannot create a file: %s", cfg->spool_dir,
                            strerror(errno));
        close(dfd);
        return rc;
    }
    /* fsync before the name appears: a crash never leaves an empty message */
    if (write_all(fd, msg, len) != 0 || fsync(fd) != 0) {
        rc = dtp__set_error(err, DTP_R_IO_ERROR, "audit spool %s: write: %s", cfg->spool_dir, strerror(errno));
        close(fd);
        unlinkat(dfd, tmp, 0);
        close(dfd);
        return rc;
    }
    close(fd);
    /* link() never replaces a name; the next k on a clash (same
     * microsecond, same process). */
    rc = DTP_R_IO_ERROR;
    for (int k = 0; k < 1000; k++) {
        snprintf(name, sizeof name, "%016lld-%010ld-%04d.msg", us, pid, k);
        if (linkat(dfd, tmp, dfd, name, 0) == 0) {
            rc = DTP_OK;
            break;
        }
        if (errno != EEXIST)
            break;
    }
    if (rc != DTP_OK)
        dtp__set_error(err, DTP_R_IO_ERROR, "audit spool %s: link: %s", cfg->spool_dir, strerror(errno));
    unlinkat(dfd, tmp, 0);
    if (rc == DTP_OK)
        fsync(dfd);
    close(dfd);
    return rc;
}

int dtp_audit_record(const struct dtp_audit_config *cfg, const struct dtp_audit_header *h,
                     const struct dtp_audit_event *ev, size_t *dropped, struct dtp_error *err)
{
    size_t xlen = 0, slen = 0;
    char *xml = dtp_audit_xml(ev, &xlen, err);
    if (!xml)
        return err ? err->code : DTP_R_CONFIG_INVALID;
    struct dtp_audit_header hh = {0};
    if (h)
        hh = *h;
    hh.severity = ev->outcome == 0 ? DTP_AUDIT_SEV_NOTICE : DTP_AUDIT_SEV_WARNING;
    char *msg = dtp_audit_syslog(&hh, xml, xlen, &slen, err);
    free(xml);
    if (!msg)
        return err ? err->code : DTP_R_INTERNAL;
    int rc = dtp_audit_spool_put(cfg, msg, slen, dropped, err);
    free(msg);
    return rc;
}

/* ---- the sender --------------------------------------------------------- */

enum kind { K_TLS, K_UDP, K_FILE };

struct dtp_audit_sender {
    struct dtp_audit_config cfg;
    int kind;
    char host[256];
    char port[16];
    char path[PATH_MAX];
    dtp_ctx *ctx;   /* K_TLS */
    int fd;         /* TLS/UDP socket, -1 when not connected */
    dtp_conn *conn; /* K_TLS */
    struct dtp_error error;
};

static void slog(const dtp_audit_sender *s, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void slog(const dtp_audit_sender *s, int level, const char *fmt, ...)
{
    if (!s->cfg.log)
        return;
    char line[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.log_user, level, line);
}

/* "HOST:PORT" (HOST may be "[v6]") into s->host, s->port. */
static int parse_host_port(dtp_audit_sender *s, const char *hp, struct dtp_error *err)
{
    const char *colon;
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close || close[1] != ':')
            return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit URL %s: expected [ADDRESS]:PORT", s->cfg.url);
        snprintf(s->host, sizeof s->host, "%.*s", (int)(close - hp - 1), hp + 1);
        colon = close + 1;
    } else {
        colon = strrchr(hp, ':');
        if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof s->host)
            return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit URL %s: expected HOST:PORT", s->cfg.url);
        snprintf(s->host, sizeof s->host, "%.*s", (int)(colon - hp), hp);
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 1 || port > 65535)
        return dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit URL %s: port must be 1-65535", s->cfg.url);
    snprintf(s->port, sizeof s->port, "%ld", port);
    return DTP_OK;
}

dtp_audit_sender *dtp_audit_sender_new(const struct dtp_audit_config *cfg, struct dtp_error *err)
{
    if (!cfg || !cfg->url || !cfg->spool_dir) {
        dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit: URL and spool directory are required");
        return NULL;
    }
    dtp_audit_sender *s = calloc(1, sizeof *s);
    if (!s) {
        dtp__set_error(err, DTP_R_INTERNAL, "audit sender: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->fd = -1;
    const char *url = cfg->url;
    int rc;
    if (strncmp(url, "tls://", 6) == 0) {
        s->kind = K_TLS;
        rc = parse_host_port(s, url + 6, err);
    } else if (strncmp(url, "udp://", 6) == 0) {
        s->kind = K_UDP;
        rc = parse_host_port(s, url + 6, err);
    } else if (strncmp(url, "file:", 5) == 0 && url[5] && strlen(url + 5) < sizeof s->path) {
        s->kind = K_FILE;
        snprintf(s->path, sizeof s->path, "%s", url + 5);
        rc = DTP_OK;
    } else
        rc = dtp__set_error(err, DTP_R_CONFIG_INVALID,
                            "audit URL '%s': expected tls://HOST:PORT, udp://HOST:PORT or file:PATH", url);
    if (rc == DTP_OK && s->kind == K_TLS) {
        if (!cfg->profile)
            rc = dtp__set_error(err, DTP_R_CONFIG_INVALID, "audit URL %s: tls:// needs a profile", url);
        else {
            struct dtp_config c;
            memset(&c, 0, sizeof c);
            c.profile = cfg->profile;
            c.backend = cfg->backend;
            c.role = DTP_ROLE_CLIENT;
            c.ca_file = cfg->ca_file;
            c.ca_dir = cfg->ca_dir;
            c.crl_file = cfg->crl_file;
            c.cert_file = cfg->cert_file;
            c.key_file = cfg->key_file;
            c.key_password = cfg->key_password;
            c.verify = DTP_VERIFY_REQUIRE;
            c.handshake_timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
            c.log = cfg->log;
            c.log_user = cfg->log_user;
            s->ctx = dtp_ctx_new(&c, err);
            if (!s->ctx)
                rc = err ? err->code : DTP_R_CONFIG_INVALID;
        }
    }
    if (rc == DTP_OK)
        rc = make_dirs(cfg->spool_dir, err);
    if (rc != DTP_OK) {
        dtp_audit_sender_free(s);
        return NULL;
    }
    return s;
}

static void disconnect(dtp_audit_sender *s)
{
    if (s->conn) {
        dtp_conn_close_notify(s->conn);
        dtp_conn_free(s->conn);
        s->conn = NULL;
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

void dtp_audit_sender_free(dtp_audit_sender *s)
{
    if (!s)
        return;
    disconnect(s);
    dtp_ctx_free(s->ctx);
    free(s);
}

const struct dtp_error *dtp_audit_sender_error(const dtp_audit_sender *s)
{
    return &s->error;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int timeout_ms(const dtp_audit_sender *s)
{
    return s->cfg.timeout_ms > 0 ? s->cfg.timeout_ms : DEFAULT_TIMEOUT_MS;
}

/* A socket of type to s->host:s->port, connected before deadline; -1 with
 * s->error set. */
static int open_socket(dtp_audit_sender *s, int type, long long deadline)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = type;
    int g = getaddrinfo(s->host, s->port, &hints, &ai);
    if (g != 0) {
        dtp__set_error(&s->error, DTP_R_IO_ERROR, "audit repository %s: %s", s->cfg.url, gai_strerror(g));
        return -1;
    }
    int fd = -1, last = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            long long left = deadline - mono_ms();
            struct pollfd p = {fd, POLLOUT, 0};
            rc = -1;
            errno = ETIMEDOUT;
            if (left > 0 && poll(&p, 1, (int)left) == 1) {
                int e = 0;
                socklen_t el = sizeof e;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
                errno = e;
                rc = e == 0 ? 0 : -1;
            }
        }
        if (rc != 0) {
            last = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        dtp__set_error(&s->error, DTP_R_IO_ERROR, "audit repository %s: connect: %s", s->cfg.url, strerror(last));
        return -1;
    }
    /* blocking from here, with a bound on each write */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {timeout_ms(s) / 1000, (timeout_ms(s) % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Connected and handshaken (TLS) or connected (UDP); a TLS connection the
 * repository closed is noticed here (it never sends anything, so anything
 * readable is the end of it) and reopened. */
static int ensure_connected(dtp_audit_sender *s, long long deadline)
{
    if (s->kind == K_TLS && s->conn && dtp_conn_wait_readable(s->conn, 0)) {
        char junk[256];
        (void)dtp_conn_read(s->conn, junk, sizeof junk);
        slog(s, DTP_LOG_INFO, "audit repository %s closed the connection; reconnecting", s->cfg.url);
        disconnect(s);
    }
    if (s->fd >= 0)
        return DTP_OK;
    int fd = open_socket(s, s->kind == K_TLS ? SOCK_STREAM : SOCK_DGRAM, deadline);
    if (fd < 0)
        return s->error.code;
    s->fd = fd;
    if (s->kind == K_UDP)
        return DTP_OK;
    s->conn = dtp_conn_new(s->ctx, fd, &s->error);
    if (!s->conn) {
        disconnect(s);
        return s->error.code;
    }
    if (dtp_conn_set_peer_name(s->conn, s->host) != DTP_OK || dtp_conn_handshake(s->conn) != DTP_OK) {
        s->error = *dtp_conn_error(s->conn);
        char d[sizeof s->error.detail];
        snprintf(d, sizeof d, "%s", s->error.detail);
        snprintf(s->error.detail, sizeof s->error.detail, "audit repository %.200s: %.290s", s->cfg.url, d);
        disconnect(s);
        return s->error.code;
    }
    char line[512];
    slog(s, DTP_LOG_INFO, "audit repository %s: TLS %s", s->cfg.url,
         dtp_session_format(dtp_conn_info(s->conn), line, sizeof line));
    return DTP_OK;
}

/* Sends one SYSLOG-MSG. DTP_OK once it is written; else the reason, with
 * the connection closed. A message UDP cannot carry is DTP_R_CONFIG_INVALID
 * (the caller drops it: it would block the spool for ever). */
static int send_one(dtp_audit_sender *s, int file_fd, const char *msg, size_t len, long long deadline)
{
    if (s->kind == K_FILE) {
        struct iovec iov[2] = {{(void *)msg, len}, {(void *)"\n", 1}};
        /* one writev: appenders of the same file never interleave a line */
        ssize_t w = writev(file_fd, iov, 2);
        if (w != (ssize_t)(len + 1))
            return dtp__set_error(&s->error, DTP_R_IO_ERROR, "audit file %s: write: %s", s->path,
                                  w < 0 ? strerror(errno) : "short write");
        return DTP_OK;
    }
    int rc = ensure_connected(s, deadline);
    if (rc != DTP_OK)
        return rc;
    if (s->kind == K_UDP) {
        if (send(s->fd, msg, len, 0) != (ssize_t)len) {
            int e = errno;
            disconnect(s);
            return dtp__set_error(&s->error, e == EMSGSIZE ? DTP_R_CONFIG_INVALID : DTP_R_IO_ERROR,
                                  "audit repository %s: send: %s", s->cfg.url, strerror(e));
        }
        /* A closed port answers with ICMP port unreachable, which the
         * connected socket reports as ECONNREFUSED: on the loopback at
         * once, elsewhere soon. Wait a moment for it, so that a message to
         * a repository that is down stays in the spool. */
        struct pollfd p = {s->fd, 0, 0};
        int e = 0;
        socklen_t el = sizeof e;
        if (poll(&p, 1, 1) > 0 && (p.revents & POLLERR) && getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 &&
            e != 0) {
            disconnect(s);
            return dtp__set_error(&s->error, DTP_R_IO_ERROR, "audit repository %s: %s", s->cfg.url, strerror(e));
        }
        return DTP_OK;
    }
    /* RFC 5425: MSG-LEN SP SYSLOG-MSG, in one write (one TLS record for
     * small messages) */
    char prefix[32];
    size_t pl = dtp_audit_frame_prefix(len, prefix, sizeof prefix);
    char *frame = malloc(pl + len);
    if (!frame)
        return dtp__set_error(&s->error, DTP_R_INTERNAL, "audit sender: out of memory");
    memcpy(frame, prefix, pl);
    memcpy(frame + pl, msg, len);
    size_t off = 0;
    while (off < pl + len) {
        ssize_t w = dtp_conn_write(s->conn, frame + off, pl + len - off);
        if (w <= 0) {
            s->error = *dtp_conn_error(s->conn);
            char d[sizeof s->error.detail];
            snprintf(d, sizeof d, "%s", s->error.detail);
            snprintf(s->error.detail, sizeof s->error.detail, "audit repository %.200s: write: %.280s", s->cfg.url, d);
            disconnect(s);
            free(frame);
            return s->error.code ? s->error.code : DTP_R_IO_ERROR;
        }
        off += (size_t)w;
    }
    free(frame);
    return DTP_OK;
}

static char *read_file_at(int dfd, const char *name, size_t *len)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *p = NULL;
    if (fstat(fd, &st) == 0 && st.st_size >= 0 && (p = malloc((size_t)st.st_size + 1)) != NULL) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got != (size_t)st.st_size) {
            free(p);
            p = NULL;
        } else {
            p[got] = '\0';
            *len = got;
        }
    }
    close(fd);
    return p;
}

/* Temporary files of writers that died before renaming: nobody else will
 * remove them. */
static void sweep_temporaries(int dfd, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long pid = 0;
        if (sscanf(de->d_name, ".tmp-%ld-", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dfd, de->d_name, 0);
    }
    closedir(d);
}

int dtp_audit_sender_flush(dtp_audit_sender *s, int budget_ms, size_t *sent, size_t *left)
{
    size_t n_sent = 0, n = 0;
    if (sent)
        *sent = 0;
    if (left)
        *left = 0;
    memset(&s->error, 0, sizeof s->error);
    long long start = mono_ms();
    long long deadline = budget_ms < 0 ? start + 365LL * 86400 * 1000 : start + budget_ms;
    const char *dir = s->cfg.spool_dir;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return dtp__set_error(&s->error, DTP_R_IO_ERROR, "audit spool %s: %s", dir, strerror(errno));
    int lock = openat(dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
        /* another sender drains this spool */
        if (left)
            *left = dtp_audit_spool_count(&s->cfg);
        if (lock >= 0)
            close(lock);
        close(dfd);
        return DTP_OK;
    }
    sweep_temporaries(dfd, dir);
    struct entry *v = scan(dir, &n, NULL);
    int file_fd = -1, rc = DTP_OK;
    if (n && s->kind == K_FILE) {
        file_fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (file_fd < 0)
            rc = dtp__set_error(&s->error, DTP_R_IO_ERROR, "audit file %s: %s", s->path, strerror(errno));
    }
    size_t i = 0;
    for (; rc == DTP_OK && i < n; i++) {
        if (mono_ms() >= deadline)
            break;
        size_t len = 0;
        char *msg = read_file_at(dfd, v[i].name, &len);
        if (!msg)
            continue; /* dropped or sent by someone else meanwhile */
        rc = send_one(s, file_fd, msg, len, deadline);
        free(msg);
        if (rc == DTP_R_CONFIG_INVALID && s->kind == K_UDP) {
            slog(s, DTP_LOG_ERROR, "audit: dropping spooled message %s: %s", v[i].name, s->error.detail);
            unlinkat(dfd, v[i].name, 0);
            rc = DTP_OK;
            memset(&s->error, 0, sizeof s->error);
            continue;
        }
        if (rc != DTP_OK)
            break;
        unlinkat(dfd, v[i].name, 0);
        n_sent++;
    }
    if (file_fd >= 0) {
        fdatasync(file_fd);
        close(file_fd);
    }
    free(v);
    close(lock); /* releases the flock */
    close(dfd);
    if (sent)
        *sent = n_sent;
    if (left)
        *left = dtp_audit_spool_count(&s->cfg);
    return rc;
}
