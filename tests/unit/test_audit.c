/* The audit trail (dtp/audit.h): the DICOM audit message writer (PS3.15
 * A.5.1: element order, escaping, UTF-8, base64 details, refusals), the
 * RFC 5424 header and RFC 5425 framing, the spool (order, bound, oldest
 * dropped) and the sender to a file, over UDP (a repository that is down
 * keeps its messages) and over TLS (real handshakes with the PKI fixture:
 * octet-counted frames received whole, an untrusted repository refused
 * and nothing lost). PKI fixture directory in argv[2]. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dtp/audit.h"
#include "fixture.h"

/* ---- helpers ------------------------------------------------------------ */

#define SCRATCH_PREFIX "dtp-audit"
#include "scratch.h"

/* Whether s (n bytes) is valid UTF-8 without C0 controls: what an XML
 * parser and a syslog receiver need. */
static int clean_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x20)
            return 0;
        size_t len = c < 0x80                 ? 1
                     : c >= 0xC2 && c <= 0xDF ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
        if (!len || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* Offset of needle in hay at or after from; -1 if absent. */
static long find(const char *hay, const char *needle, long from)
{
    if (from < 0)
        return -1;
    const char *p = strstr(hay + from, needle);
    return p ? (long)(p - hay) : -1;
}

static const struct dtp_audit_code EV_ALERT = {"110113", "DCM", "Security Alert"};
static const struct dtp_audit_code TYPE_NODE_AUTH = {"110126", "DCM", "Node Authentication"};
static const struct dtp_audit_code ROLE_APP = {"110150", "DCM", "Application"};
static const struct dtp_audit_code ID_NODE = {"110182", "DCM", "Node ID"};
static const struct dtp_audit_code ID_STUDY = {"110180", "DCM", "Study Instance UID"};

/* A Security Alert as dtp-storescp writes one, with hostile strings. */
static char *alert_xml(const char *ae, const char *subject, size_t *len, struct dtp_error *err)
{
    static const char reason[] = "204 PEER_CERT_UNTRUSTED";
    struct dtp_audit_active a[2] = {
        {.user_id = "4242",
         .alt_user_id = "AETITLES=DTP-STORESCP",
         .requestor = true,
         .nap_id = "host",
         .nap_type = DTP_AUDIT_NAP_NAME,
         .role = ROLE_APP},
        {.user_id = ae, .nap_id = "127.0.0.1", .nap_type = DTP_AUDIT_NAP_IP},
    };
    struct dtp_audit_detail d = {"Alert Description", reason, sizeof reason - 1};
    struct dtp_audit_object o = {
        .id = "127.0.0.1", .type_code = 2, .id_type = ID_NODE, .name = subject, .details = &d, .n_details = 1};
    struct dtp_audit_event ev = {.id = EV_ALERT,
                                 .action = 'E',
                                 .time_us = 86400LL * 1000000 + 5,
                                 .outcome = 4,
                                 .type = TYPE_NODE_AUTH,
                                 .outcome_desc = "reason 204 PEER_CERT_UNTRUSTED: a <b> & \"c\"\nd",
                                 .active = a,
                                 .n_active = 2,
                                 .source_id = "host",
                                 .source_type = "4",
                                 .objects = &o,
                                 .n_objects = 1};
    return dtp_audit_xml(&ev, len, err);
}

/* ---- the XML writer ------------------------------------------------------- */

static int xml_order_and_codes(void)
{
    struct dtp_error e = {0};
    size_t len = 0;
    char *x = alert_xml("PEER", "/CN=peer", &len, &e);
    CHECK(x != NULL);
    CHECK(strlen(x) == len);
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AuditMessage>";
    CHECK(strncmp(x, head, sizeof head - 1) == 0);
    /* A.5.1 order: EventIdentification (EventID, EventTypeCode,
     * EventOutcomeDescription), ActiveParticipant+, AuditSourceIdentification,
     * ParticipantObjectIdentification* */
    long p = find(x,
                  "<EventIdentification EventActionCode=\"E\" EventDateTime=\"1970-01-02T00:00:00.000005Z\" "
                  "EventOutcomeIndicator=\"4\">",
                  0);
    CHECK(p > 0);
    p = find(x, "<EventID csd-code=\"110113\" codeSystemName=\"DCM\" originalText=\"Security Alert\"/>", p);
    CHECK(p > 0);
    p = find(x, "<EventTypeCode csd-code=\"110126\" codeSystemName=\"DCM\" originalText=\"Node Authentication\"/>", p);
    CHECK(p > 0);
    p = find(x,
             "<EventOutcomeDescription>reason 204 PEER_CERT_UNTRUSTED: a &lt;b&gt; &amp; &quot;c&quot;&#10;d"
             "</EventOutcomeDescription></EventIdentification>",
             p);
    CHECK(p > 0);
    p = find(x,
             "<ActiveParticipant UserID=\"4242\" AlternativeUserID=\"AETITLES=DTP-STORESCP\" UserIsRequestor=\"true\" "
             "NetworkAccessPointID=\"host\" NetworkAccessPointTypeCode=\"1\"><RoleIDCode csd-code=\"110150\"",
             p);
    CHECK(p > 0);
    p = find(x,
             "<ActiveParticipant UserID=\"PEER\" UserIsRequestor=\"false\" NetworkAccessPointID=\"127.0.0.1\" "
             "NetworkAccessPointTypeCode=\"2\"/>",
             p);
    CHECK(p > 0);
    p = find(x,
             "<AuditSourceIdentification AuditSourceID=\"host\"><AuditSourceTypeCode csd-code=\"4\"/>"
             "</AuditSourceIdentification>",
             p);
    CHECK(p > 0);
    /* the detail in base64: "204 PEER_CERT_UNTRUSTED" */
    p = find(x,
             "<ParticipantObjectIdentification ParticipantObjectID=\"127.0.0.1\" ParticipantObjectTypeCode=\"2\">"
             "<ParticipantObjectIDTypeCode csd-code=\"110182\" codeSystemName=\"DCM\" originalText=\"Node ID\"/>"
             "<ParticipantObjectName>/CN=peer</ParticipantObjectName>"
             "<ParticipantObjectDetail type=\"Alert Description\" value=\"MjA0IFBFRVJfQ0VSVF9VTlRSVVNURUQ=\"/>"
             "</ParticipantObjectIdentification></AuditMessage>",
             p);
    CHECK(p > 0);
    CHECK(x[len - 1] == '>');
    free(x);
    return 0;
}

/* Whatever a peer puts into its AE title or certificate, the message stays
 * well-formed UTF-8 on one line: markup escaped, invalid UTF-8 and C0
 * controls replaced, valid UTF-8 kept. */
static int xml_hostile_strings(void)
{
    struct dtp_error e = {0};
    size_t len = 0;
    const char ae[] = "A\"><x y='1'>&amp;\x01\x7f";
    const char subject[] = "/CN=M\xC3\xBCller \xE2\x82\xAC \xC3(\xED\xA0\x80\xEF\xBF\xBE\xF0\x9F\x98\x80\r\t";
    char *x = alert_xml(ae, subject, &len, &e);
    CHECK(x != NULL);
    CHECK(clean_utf8((const unsigned char *)x, len));
    CHECK(strchr(x, '\n') == NULL);
    CHECK(strstr(x, "UserID=\"A&quot;&gt;&lt;x y='1'&gt;&amp;amp;\xEF\xBF\xBD\x7f\"") != NULL);
    /* ü and € and the emoji kept; a lone C3, a surrogate (ED A0 80, three
     * bytes) and U+FFFE replaced; CR and TAB as references */
    CHECK(strstr(x,
                 "<ParticipantObjectName>/CN=M\xC3\xBCller \xE2\x82\xAC \xEF\xBF\xBD("
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xF0\x9F\x98\x80&#13;&#9;</ParticipantObjectName>") !=
          NULL);
    /* no raw markup from the peer survived */
    CHECK(strstr(x, "<x") == NULL);
    free(x);
    return 0;
}

static int xml_study_description(void)
{
    const char *ct[] = {"1.2.3.1", "1.2.3.2"};
    const char *mr[] = {"1.2.3.3"};
    struct dtp_audit_sop_class classes[2] = {{"1.2.840.10008.5.1.4.1.1.2", ct, 2},
                                             {"1.2.840.10008.5.1.4.1.1.4", mr, 1}};
    struct dtp_audit_object o[2] = {
        {.id = "1.2.3",
         .type_code = 2,
         .type_role = 3,
         .id_type = ID_STUDY,
         .sop_classes = classes,
         .n_sop_classes = 2},
        {.id = "PID-1",
         .type_code = 1,
         .type_role = 1,
         .id_type = {"2", "RFC-3881", "Patient Number"},
         .name = "Doe^John"},
    };
    struct dtp_audit_active a = {.user_id = "SCU", .requestor = true, .role = {"110153", "DCM", "Source Role ID"}};
    struct dtp_audit_event ev = {.id = {"110104", "DCM", "DICOM Instances Transferred"},
                                 .action = 'C',
                                 .outcome = 0,
                                 .active = &a,
                                 .n_active = 1,
                                 .source_id = "h",
                                 .objects = o,
                                 .n_objects = 2};
    struct dtp_error e = {0};
    char *x = dtp_audit_xml(&ev, NULL, &e);
    CHECK(x != NULL);
    CHECK(strstr(x, "<ParticipantObjectIdentification ParticipantObjectID=\"1.2.3\" ParticipantObjectTypeCode=\"2\" "
                    "ParticipantObjectTypeCodeRole=\"3\"><ParticipantObjectIDTypeCode csd-code=\"110180\" "
                    "codeSystemName=\"DCM\" originalText=\"Study Instance UID\"/><ParticipantObjectDescription>"
                    "<SOPClass UID=\"1.2.840.10008.5.1.4.1.1.2\" NumberOfInstances=\"2\"><Instance UID=\"1.2.3.1\"/>"
                    "<Instance UID=\"1.2.3.2\"/></SOPClass><SOPClass UID=\"1.2.840.10008.5.1.4.1.1.4\" "
                    "NumberOfInstances=\"1\"><Instance UID=\"1.2.3.3\"/></SOPClass></ParticipantObjectDescription>"
                    "</ParticipantObjectIdentification>") != NULL);
    CHECK(strstr(x, "ParticipantObjectTypeCodeRole=\"1\"><ParticipantObjectIDTypeCode csd-code=\"2\" "
                    "codeSystemName=\"RFC-3881\" originalText=\"Patient Number\"/><ParticipantObjectName>Doe^John"
                    "</ParticipantObjectName></ParticipantObjectIdentification></AuditMessage>") != NULL);
    /* an EventDateTime of "now" carries its UTC offset */
    CHECK(strstr(x, "Z\" EventOutcomeIndicator=\"0\"") != NULL);
    free(x);
    return 0;
}

/* What the schema requires is refused, with which reason. */
static int xml_refusals(void)
{
    struct dtp_audit_active a = {.user_id = "x"};
    struct dtp_audit_event good = {.id = EV_ALERT, .active = &a, .n_active = 1, .source_id = "h"};
    struct dtp_error e;
    char *x = dtp_audit_xml(&good, NULL, &e);
    CHECK(x != NULL);
    free(x);

    struct dtp_audit_event ev = good;
    ev.id.code = NULL;
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    ev = good;
    ev.id.text = NULL; /* the schema wants originalText */
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    ev = good;
    ev.outcome = 5;
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    CHECK(strstr(e.detail, "EventOutcomeIndicator 5") != NULL);
    ev = good;
    ev.action = 'X';
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    ev = good;
    ev.n_active = 0;
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    ev = good;
    ev.source_id = NULL;
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    struct dtp_audit_active noid = {.user_id = NULL};
    ev = good;
    ev.active = &noid;
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    struct dtp_audit_object o = {.id = "1"}; /* no ParticipantObjectIDTypeCode */
    ev = good;
    ev.objects = &o;
    ev.n_objects = 1;
    CHECK(dtp_audit_xml(&ev, NULL, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    return 0;
}

/* ---- RFC 5424 / 5425 ---------------------------------------------------- */

static int syslog_header(void)
{
    struct dtp_error e = {0};
    struct dtp_audit_header h = {.severity = DTP_AUDIT_SEV_NOTICE,
                                 .time_us = 86400LL * 1000000 + 5,
                                 .hostname = "node 1",
                                 .app_name = "dtp-storescp",
                                 .procid = 77};
    size_t len = 0;
    char *m = dtp_audit_syslog(&h, "<x/>", 4, &len, &e);
    CHECK(m != NULL);
    /* facility 10 * 8 + severity 5 = 85; SP in a field becomes '_' */
    const char want[] = "<85>1 1970-01-02T00:00:00.000005Z node_1 dtp-storescp 77 IHE+RFC-3881 - \xEF\xBB\xBF<x/>";
    CHECK(len == sizeof want - 1);
    CHECK(memcmp(m, want, len) == 0);
    free(m);

    char longname[80];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    h = (struct dtp_audit_header){.severity = DTP_AUDIT_SEV_WARNING, .hostname = "", .app_name = longname};
    m = dtp_audit_syslog(&h, "", 0, &len, &e);
    CHECK(m != NULL);
    CHECK(strncmp(m, "<84>1 ", 6) == 0);
    /* TIMESTAMP now, HOSTNAME "" -> NILVALUE, APP-NAME cut to 48, PROCID our pid */
    char host[8], app[64], msgid[40];
    long pid = 0;
    int y, mo, d, hh, mi, ss, us;
    CHECK(sscanf(m, "<84>1 %4d-%2d-%2dT%2d:%2d:%2d.%6dZ %7s %63s %ld %39s - ", &y, &mo, &d, &hh, &mi, &ss, &us, host,
                 app, &pid, msgid) == 11);
    CHECK(y >= 2024 && strcmp(host, "-") == 0 && strlen(app) == 48 && pid == (long)getpid());
    CHECK(strcmp(msgid, DTP_AUDIT_MSGID) == 0);
    free(m);

    h.severity = 8;
    CHECK(dtp_audit_syslog(&h, "", 0, &len, &e) == NULL);
    CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    return 0;
}

/* Reads one RFC 5425 frame from p (n bytes): the message and its length,
 * the bytes used in *used; NULL if p is not a whole frame. */
static const char *parse_frame(const char *p, size_t n, size_t *msg_len, size_t *used)
{
    size_t len = 0, i = 0;
    if (n == 0 || p[0] < '1' || p[0] > '9')
        return NULL;
    while (i < n && p[i] >= '0' && p[i] <= '9' && i < 10)
        len = len * 10 + (size_t)(p[i++] - '0');
    if (i >= n || p[i] != ' ' || n - i - 1 < len)
        return NULL;
    *msg_len = len;
    *used = i + 1 + len;
    return p + i + 1;
}

static int frame_octet_counting(void)
{
    char b[24];
    CHECK(dtp_audit_frame_prefix(5, b, sizeof b) == 2 && strcmp(b, "5 ") == 0);
    CHECK(dtp_audit_frame_prefix(123456, b, sizeof b) == 7 && strcmp(b, "123456 ") == 0);
    CHECK(dtp_audit_frame_prefix(123456, b, 4) == 0);
    /* two frames back to back parse back into the two messages */
    const char *m1 = "<85>1 - - - - - - \xEF\xBB\xBF<a/>", *m2 = "<84>1 x";
    char stream[128];
    size_t off = 0;
    off += dtp_audit_frame_prefix(strlen(m1), stream + off, sizeof stream - off);
    memcpy(stream + off, m1, strlen(m1));
    off += strlen(m1);
    off += dtp_audit_frame_prefix(strlen(m2), stream + off, sizeof stream - off);
    memcpy(stream + off, m2, strlen(m2));
    off += strlen(m2);
    size_t l1, u1, l2, u2;
    const char *p1 = parse_frame(stream, off, &l1, &u1);
    CHECK(p1 && l1 == strlen(m1) && memcmp(p1, m1, l1) == 0);
    const char *p2 = parse_frame(stream + u1, off - u1, &l2, &u2);
    CHECK(p2 && l2 == strlen(m2) && memcmp(p2, m2, l2) == 0 && u1 + u2 == off);
    return 0;
}

/* ---- spool ---------------------------------------------------------------- */

static size_t spool_names(const char *spool, char names[][64], size_t max)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | LC_ALL=C sort", spool);
    FILE *f = popen(cmd, "r");
    size_t n = 0;
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (n < max)
            snprintf(names[n], 64, "%.63s", line);
        n++;
    }
    if (f)
        pclose(f);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = malloc(1 << 20);
    size_t n = p ? fread(p, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (p)
        p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

static int spool_order_and_content(void)
{
    struct dtp_audit_config cfg = {.spool_dir = scratch("spool1/sub")}; /* created, parents too */
    struct dtp_error e = {0};
    const char *msgs[] = {"first", "second", "third"};
    for (int i = 0; i < 3; i++)
        CHECK(dtp_audit_spool_put(&cfg, msgs[i], strlen(msgs[i]), NULL, &e) == DTP_OK);
    CHECK(dtp_audit_spool_count(&cfg) == 3);
    char names[8][64];
    /* only .lock-less message files: no temporaries left, .msg names that
     * sort oldest first */
    CHECK(spool_names(cfg.spool_dir, names, 8) == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(strlen(names[i]) == 36 && strcmp(names[i] + 32, ".msg") == 0);
        char path[800];
        snprintf(path, sizeof path, "%s/%s", cfg.spool_dir, names[i]);
        char *c = slurp(path, NULL);
        CHECK(c && strcmp(c, msgs[i]) == 0);
        free(c);
    }
    return 0;
}

static int spool_bound_drops_oldest(void)
{
    struct dtp_audit_config cfg = {.spool_dir = scratch("spool2"), .spool_max_bytes = 30};
    struct dtp_error e = {0};
    size_t dropped = 0;
    const char *msgs[] = {"0123456789", "abcdefghij", "ABCDEFGHIJ", "klmnopqrst", "KLMNOPQRST"};
    for (int i = 0; i < 5; i++)
        CHECK(dtp_audit_spool_put(&cfg, msgs[i], 10, &dropped, &e) == DTP_OK);
    CHECK(dropped == 2);
    CHECK(dtp_audit_spool_count(&cfg) == 3);
    char names[8][64];
    CHECK(spool_names(cfg.spool_dir, names, 8) == 3);
    char path[800];
    snprintf(path, sizeof path, "%s/%s", cfg.spool_dir, names[0]);
    char *c = slurp(path, NULL);
    CHECK(c && strcmp(c, "ABCDEFGHIJ") == 0); /* the two oldest went */
    free(c);
    /* one message larger than the whole spool is refused, nothing dropped */
    char big[31];
    memset(big, 'x', sizeof big);
    dropped = 0;
    CHECK(dtp_audit_spool_put(&cfg, big, sizeof big, &dropped, &e) == DTP_R_CONFIG_INVALID);
    CHECK(dropped == 0 && dtp_audit_spool_count(&cfg) == 3);
    /* a spool that cannot be made */
    struct dtp_audit_config bad = {.spool_dir = "/proc/dtp-audit-cannot-exist"};
    CHECK(dtp_audit_spool_put(&bad, "x", 1, NULL, &e) == DTP_R_IO_ERROR);
    return 0;
}

/* ---- sender ---------------------------------------------------------------- */

static int sender_file(void)
{
    struct dtp_audit_config cfg = {.spool_dir = scratch("spool3"), .url = NULL};
    char url[800];
    snprintf(url, sizeof url, "file:%s", scratch("audit.log"));
    cfg.url = url;
    struct dtp_error e = {0};
    struct dtp_audit_header h = {.app_name = "test"};
    /* two messages through dtp_audit_record: a failure, then a success */
    struct dtp_audit_active a = {.user_id = "A"};
    struct dtp_audit_event ev = {.id = EV_ALERT,
                                 .action = 'E',
                                 .outcome = 4,
                                 .type = TYPE_NODE_AUTH,
                                 .active = &a,
                                 .n_active = 1,
                                 .source_id = "h"};
    CHECK(dtp_audit_record(&cfg, &h, &ev, NULL, &e) == DTP_OK);
    a.user_id = "B";
    ev.outcome = 0;
    CHECK(dtp_audit_record(&cfg, &h, &ev, NULL, &e) == DTP_OK);
    dtp_audit_sender *s = dtp_audit_sender_new(&cfg, &e);
    CHECK(s != NULL);
    size_t sent = 9, left = 9;
    CHECK(dtp_audit_sender_flush(s, 5000, &sent, &left) == DTP_OK);
    CHECK(sent == 2 && left == 0);
    size_t len = 0;
    char *log = slurp(url + 5, &len);
    CHECK(log != NULL);
    /* two lines, oldest first; severity 4 for the failure, 5 for success */
    char *nl = strchr(log, '\n');
    CHECK(nl && strchr(nl + 1, '\n') == log + len - 1);
    CHECK(strncmp(log, "<84>1 ", 6) == 0 && strncmp(nl + 1, "<85>1 ", 6) == 0);
    CHECK(strstr(log, " test ") && strstr(log, "UserID=\"A\"") < nl && strstr(nl, "UserID=\"B\"") != NULL);
    free(log);
    /* nothing left: a second flush sends nothing */
    CHECK(dtp_audit_sender_flush(s, 5000, &sent, &left) == DTP_OK && sent == 0 && left == 0);
    dtp_audit_sender_free(s);
    return 0;
}

static int sender_bad_urls(void)
{
    const char *bad[] = {"ftp://h:1", "tls://h", "tls://h:0",       "tls://h:65536", "udp://:514",
                         "file:",     "h:514",   "tls://[::1:6514", "udp://h:12x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct dtp_audit_config cfg = {.url = bad[i],
                                       .spool_dir = scratch("spool4"),
                                       .profile = dtp_profile_find("bcp195-8996", NULL),
                                       .ca_file = pki("ca.pem")};
        struct dtp_error e = {0};
        dtp_audit_sender *s = dtp_audit_sender_new(&cfg, &e);
        if (s) {
            fprintf(stderr, "accepted %s\n", bad[i]);
            dtp_audit_sender_free(s);
            return 1;
        }
        CHECK_REASON(DTP_R_CONFIG_INVALID, e.code, e.detail);
    }
    /* tls:// checks its TLS configuration at once: no CA */
    struct dtp_audit_config cfg = {.url = "tls://127.0.0.1:6514",
                                   .spool_dir = scratch("spool4"),
                                   .profile = dtp_profile_find("bcp195-8996", NULL)};
    struct dtp_error e = {0};
    CHECK(dtp_audit_sender_new(&cfg, &e) == NULL);
    CHECK(e.code != DTP_OK);
    return 0;
}

static int udp_socket(unsigned short *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

/* RFC 5426: one message per datagram; a repository that is down (port
 * closed) keeps every message in the spool, and they all arrive once it is
 * up. */
static int sender_udp_down_then_up(void)
{
    unsigned short port = 0;
    int rx = udp_socket(&port);
    CHECK(rx >= 0);
    close(rx); /* down: nothing listens on port */
    char url[64];
    snprintf(url, sizeof url, "udp://127.0.0.1:%u", port);
    struct dtp_audit_config cfg = {.url = url, .spool_dir = scratch("spool5")};
    struct dtp_error e = {0};
    const char *msgs[] = {"<85>1 one", "<85>1 two", "<85>1 three"};
    for (int i = 0; i < 3; i++)
        CHECK(dtp_audit_spool_put(&cfg, msgs[i], strlen(msgs[i]), NULL, &e) == DTP_OK);
    dtp_audit_sender *s = dtp_audit_sender_new(&cfg, &e);
    CHECK(s != NULL);
    size_t sent = 9, left = 0;
    int rc = dtp_audit_sender_flush(s, 2000, &sent, &left);
    CHECK_REASON(DTP_R_IO_ERROR, rc, dtp_audit_sender_error(s)->detail);
    CHECK(strstr(dtp_audit_sender_error(s)->detail, "refused") != NULL);
    CHECK(sent == 0 && left == 3);

    /* up again on the same port */
    rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(rx >= 0 && bind(rx, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(dtp_audit_sender_flush(s, 2000, &sent, &left) == DTP_OK);
    CHECK(sent == 3 && left == 0);
    for (int i = 0; i < 3; i++) {
        char d[256];
        ssize_t n = recv(rx, d, sizeof d, MSG_DONTWAIT);
        CHECK(n == (ssize_t)strlen(msgs[i]) && memcmp(d, msgs[i], (size_t)n) == 0);
    }
    close(rx);
    dtp_audit_sender_free(s);
    return 0;
}

/* A TLS repository: accepts one connection, handshakes with the server
 * context and reads until the client closes. */
struct repo {
    int lfd;
    dtp_ctx *ctx;
    int rc;
    char data[65536];
    size_t len;
};

static void *repo_thread(void *arg)
{
    struct repo *r = arg;
    int fd = accept(r->lfd, NULL, NULL);
    if (fd < 0) {
        r->rc = -1;
        return NULL;
    }
    dtp_conn *c = dtp_conn_new(r->ctx, fd, NULL);
    r->rc = c ? dtp_conn_handshake(c) : DTP_R_INTERNAL;
    ssize_t n;
    while (r->rc == DTP_OK && (n = dtp_conn_read(c, r->data + r->len, sizeof r->data - 1 - r->len)) > 0)
        r->len += (size_t)n;
    dtp_conn_free(c);
    close(fd);
    return NULL;
}

static int tcp_listener(unsigned short *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

/* RFC 5425 over the library's own TLS client under B.12: every spooled
 * message arrives as one octet-counted frame, in order; then a repository
 * the client cannot trust is refused with its reason and keeps nothing. */
static int sender_tls_frames(void)
{
    unsigned short port = 0;
    struct repo *r = calloc(1, sizeof *r);
    CHECK(r != NULL);
    r->lfd = tcp_listener(&port);
    CHECK(r->lfd >= 0);
    struct dtp_error e = {0};
    struct fx sf = SERVER("bcp195-8996", "rsa");
    sf.verify = DTP_VERIFY_REQUIRE; /* the sender shows the client certificate */
    r->ctx = fx_ctx(sf, &e);
    CHECK(r->ctx != NULL);
    pthread_t t;
    pthread_create(&t, NULL, repo_thread, r);

    char url[64];
    snprintf(url, sizeof url, "tls://127.0.0.1:%u", port);
    struct dtp_audit_config cfg = {.url = url,
                                   .spool_dir = scratch("spool6"),
                                   .profile = dtp_profile_find("bcp195-8996", NULL),
                                   .ca_file = pki("ca.pem"),
                                   .cert_file = pki("client-rsa.pem"),
                                   .key_file = pki("client-rsa.key")};
    const char *msgs[] = {"<85>1 - - - - IHE+RFC-3881 - \xEF\xBB\xBF<a/>", "<84>1 second message, longer"};
    for (int i = 0; i < 2; i++)
        CHECK(dtp_audit_spool_put(&cfg, msgs[i], strlen(msgs[i]), NULL, &e) == DTP_OK);
    dtp_audit_sender *s = dtp_audit_sender_new(&cfg, &e);
    CHECK(s != NULL);
    size_t sent = 0, left = 9;
    int rc = dtp_audit_sender_flush(s, 5000, &sent, &left);
    CHECK_REASON(DTP_OK, rc, dtp_audit_sender_error(s)->detail);
    CHECK(sent == 2 && left == 0);
    dtp_audit_sender_free(s); /* close_notify: the repository's read ends */
    pthread_join(t, NULL);
    CHECK_REASON(DTP_OK, r->rc, "repository handshake");
    size_t l1, u1, l2, u2;
    const char *p1 = parse_frame(r->data, r->len, &l1, &u1);
    CHECK(p1 && l1 == strlen(msgs[0]) && memcmp(p1, msgs[0], l1) == 0);
    const char *p2 = parse_frame(r->data + u1, r->len - u1, &l2, &u2);
    CHECK(p2 && l2 == strlen(msgs[1]) && memcmp(p2, msgs[1], l2) == 0 && u1 + u2 == r->len);

    /* a repository whose certificate our CA does not vouch for */
    dtp_ctx_free(r->ctx);
    struct fx of = SERVER("bcp195-8996", "rsa");
    of.cert = "other-server-rsa.pem";
    of.key = "other-server-rsa.key";
    r->ctx = fx_ctx(of, &e);
    CHECK(r->ctx != NULL);
    r->len = 0;
    pthread_create(&t, NULL, repo_thread, r);
    CHECK(dtp_audit_spool_put(&cfg, msgs[0], strlen(msgs[0]), NULL, &e) == DTP_OK);
    s = dtp_audit_sender_new(&cfg, &e);
    CHECK(s != NULL);
    rc = dtp_audit_sender_flush(s, 5000, &sent, &left);
    CHECK_REASON(DTP_R_PEER_CERT_UNTRUSTED, rc, dtp_audit_sender_error(s)->detail);
    CHECK(strstr(dtp_audit_sender_error(s)->detail, url) != NULL);
    CHECK(sent == 0 && left == 1);
    dtp_audit_sender_free(s);
    pthread_join(t, NULL);
    CHECK(r->len == 0);
    dtp_ctx_free(r->ctx);
    close(r->lfd);
    free(r);
    return 0;
}

static const struct check_case cases[] = {
    CASE(xml_order_and_codes),
    CASE(xml_hostile_strings),
    CASE(xml_study_description),
    CASE(xml_refusals),
    CASE(syslog_header),
    CASE(frame_octet_counting),
    CASE(spool_order_and_content),
    CASE(spool_bound_drops_oldest),
    CASE(sender_file),
    CASE(sender_bad_urls),
    CASE(sender_udp_down_then_up),
    CASE(sender_tls_frames),
};

int main(int argc, char **argv)
{
    int rc = check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
    cleanup();
    return rc;
}
