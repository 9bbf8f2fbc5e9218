/*
 * dcmtls-profiles: audit trail the IHE ATNA way (ITI-20 Record Audit Event).
 *
 * What happens is described as a DICOM audit message (PS3.15 A.5: the XML
 * schema of A.5.1, the events of A.5.3), wrapped in an RFC 5424 syslog
 * message, and sent to an audit record repository over TLS (RFC 5425,
 * octet-counted frames, with this library's own TLS client), over UDP
 * (RFC 5426, one message per datagram) or appended to a file (one line per
 * message).
 *
 * A repository that is down must never hold up DICOM traffic, and no
 * message may be lost to a restart. So a message is first written to a
 * spool directory, one file per message (written to a temporary name, then
 * renamed: a reader sees it whole or not at all), and a sender sends the
 * spooled files, oldest first, removing each only after it was written to
 * the repository's connection. The spool is bounded: when a new message
 * would pass the bound, the oldest ones are removed and counted.
 *
 * Delivery is at least once: a crash between "written" and "removed" sends
 * that message again. RFC 5425 and RFC 5426 have no acknowledgement, so a
 * message written just before the repository dies can still be lost by the
 * repository; the sender checks the connection before each message.
 *
 * Plain C, no DCMTK types. Nothing here prints: the sender logs through
 * the callback of its configuration.
 */
#ifndef DTP_AUDIT_H
#define DTP_AUDIT_H

#include "dtp/dtp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* The message (PS3.15 A.5.1). Strings are UTF-8; bytes that are not    */
/* valid UTF-8, and characters XML 1.0 cannot carry, become U+FFFD.     */

/* A coded value: csd-code, codeSystemName, originalText ("110113", "DCM",
 * "Security Alert"). code NULL: absent. */
struct dtp_audit_code {
    const char *code;
    const char *system;
    const char *text;
};

/* NetworkAccessPointTypeCode */
enum dtp_audit_nap { DTP_AUDIT_NAP_NONE = 0, DTP_AUDIT_NAP_NAME = 1, DTP_AUDIT_NAP_IP = 2 };

/* ActiveParticipant. NULL strings are left out. */
struct dtp_audit_active {
    const char *user_id;     /* required */
    const char *alt_user_id; /* "AETITLES=A;B" for a DICOM application (A.5.2.2) */
    const char *user_name;
    bool requestor;             /* UserIsRequestor */
    const char *nap_id;         /* NetworkAccessPointID */
    int nap_type;               /* enum dtp_audit_nap; NONE leaves both out */
    struct dtp_audit_code role; /* RoleIDCode */
};

/* ParticipantObjectDetail: the value goes into the message in base64, so
 * that odd bytes or markup in it stay inert (A.5.1). */
struct dtp_audit_detail {
    const char *type;
    const void *value;
    size_t len;
};

/* One SOP class of a study with its instances (ParticipantObjectDescription:
 * SOPClass UID NumberOfInstances, Instance UID). */
struct dtp_audit_sop_class {
    const char *uid;
    const char *const *instances;
    size_t n_instances;
};

/* ParticipantObjectIdentification. 0 in a numeric code leaves it out. */
struct dtp_audit_object {
    const char *id;                /* ParticipantObjectID, required ("" allowed) */
    int type_code;                 /* ParticipantObjectTypeCode: 1 person, 2 system object */
    int type_role;                 /* ParticipantObjectTypeCodeRole: 1 patient, 3 report, ... */
    int life_cycle;                /* ParticipantObjectDataLifeCycle */
    struct dtp_audit_code id_type; /* ParticipantObjectIDTypeCode, required */
    const char *name;              /* ParticipantObjectName */
    const struct dtp_audit_detail *details;
    size_t n_details;
    /* With n_sop_classes > 0: one ParticipantObjectDescription holding them. */
    const struct dtp_audit_sop_class *sop_classes;
    size_t n_sop_classes;
};

struct dtp_audit_event {
    struct dtp_audit_code id;              /* EventID, required */
    char action;                           /* EventActionCode 'C', 'R', 'U', 'D', 'E'; 0: none */
    long long time_us;                     /* EventDateTime, microseconds since 1970 UTC; 0: now */
    int outcome;                           /* EventOutcomeIndicator: 0, 4, 8 or 12 */
    struct dtp_audit_code type;            /* EventTypeCode (one or none) */
    const char *outcome_desc;              /* EventOutcomeDescription, NULL: none */
    const struct dtp_audit_active *active; /* at least one */
    size_t n_active;
    const char *source_id;   /* AuditSourceID, required */
    const char *site_id;     /* AuditEnterpriseSiteID, NULL: none */
    const char *source_type; /* AuditSourceTypeCode csd-code ("4"), NULL: none */
    const struct dtp_audit_object *objects;
    size_t n_objects;
};

/* The DICOM audit message of ev as XML (UTF-8, an XML declaration, no line
 * break: line breaks in values are written as character references, so a
 * message is one line). Returns a NUL-terminated string the caller frees
 * with free(), its length in *len (if non-NULL); NULL with err filled:
 * DTP_R_CONFIG_INVALID when a required member is missing or a code out of
 * range, DTP_R_INTERNAL out of memory. */
DTP_API char *dtp_audit_xml(const struct dtp_audit_event *ev, size_t *len, struct dtp_error *err);

/* ------------------------------------------------------------------ */
/* RFC 5424 syslog message and RFC 5425 framing.                       */

/* MSGID of every message: IHE ITI-20 requires "IHE+RFC-3881" (PS3.15
 * A.6/A.7 only ask for one to be set). */
#define DTP_AUDIT_MSGID "IHE+RFC-3881"
/* PRI facility: 10, security/authorization (ITI-20, PS3.15 A.6). */
#define DTP_AUDIT_FACILITY 10
/* Severity: 5 (notice) for most messages, 4 (warning) for failures. */
#define DTP_AUDIT_SEV_NOTICE 5
#define DTP_AUDIT_SEV_WARNING 4

struct dtp_audit_header {
    int severity;         /* 0..7 */
    long long time_us;    /* TIMESTAMP; 0: now */
    const char *hostname; /* NULL: gethostname() */
    const char *app_name; /* APP-NAME, NULL: "-" */
    long procid;          /* PROCID; 0: getpid() */
};

/* One RFC 5424 SYSLOG-MSG:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - BOM MSG
 * with PRI = 8 * DTP_AUDIT_FACILITY + severity, TIMESTAMP in UTC with
 * microseconds, MSGID DTP_AUDIT_MSGID, no structured data, and msg (the
 * XML, UTF-8) after a byte order mark (MSG-UTF8). Header fields are cut to
 * RFC 5424's lengths and characters outside printable US-ASCII become '_'.
 * Returns a string the caller frees with free(), length in *len; NULL with
 * err filled (DTP_R_CONFIG_INVALID, DTP_R_INTERNAL). */
DTP_API char *dtp_audit_syslog(const struct dtp_audit_header *h, const char *msg, size_t msg_len, size_t *len,
                               struct dtp_error *err);

/* RFC 5425 octet counting: writes "MSG-LEN SP" for a message of msg_len
 * bytes into buf (NUL-terminated). Returns the prefix length, or 0 if len
 * is too small (24 bytes always suffice). */
DTP_API size_t dtp_audit_frame_prefix(size_t msg_len, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Spool and sender.                                                   */

struct dtp_audit_config {
    /* Where messages go: "tls://HOST:PORT" (RFC 5425), "udp://HOST:PORT"
     * (RFC 5426), "file:PATH" (one message per line, appended). */
    const char *url;
    const char *spool_dir;              /* created (mode 0700) if missing */
    unsigned long long spool_max_bytes; /* 0: 64 MiB */
    /* tls:// only: the client context (role client; profile required).
     * verify is always DTP_VERIFY_REQUIRE: the repository must show a
     * certificate that ca_file/ca_dir trust. */
    const struct dtp_profile *profile;
    const char *backend;
    const char *ca_file, *ca_dir, *crl_file;
    const char *cert_file, *key_file, *key_password; /* client certificate, optional */
    int timeout_ms;                                  /* connect + handshake, and each write; <= 0: 5000 */
    dtp_log_fn log;                                  /* may be NULL */
    void *log_user;
};

/* Writes one message (a complete SYSLOG-MSG, as dtp_audit_syslog makes)
 * into the spool directory: a temporary file, fsynced, renamed to
 * "<microseconds>-<pid>-<n>.msg" (names sort oldest first), and the
 * directory fsynced. Before that, if the spool would pass
 * cfg->spool_max_bytes, removes the oldest messages and adds their count
 * to *dropped (if non-NULL). Safe from several processes at once. Returns
 * DTP_OK or a reason code with err filled (DTP_R_CONFIG_INVALID: the
 * message alone is larger than the bound; DTP_R_IO_ERROR: the directory
 * cannot be written). */
DTP_API int dtp_audit_spool_put(const struct dtp_audit_config *cfg, const void *msg, size_t len, size_t *dropped,
                                struct dtp_error *err);

/* Builds ev's XML, wraps it with h (severity DTP_AUDIT_SEV_NOTICE when the
 * outcome is 0, else DTP_AUDIT_SEV_WARNING, whatever h says) and spools
 * it. Returns DTP_OK or the reason code with err filled. */
DTP_API int dtp_audit_record(const struct dtp_audit_config *cfg, const struct dtp_audit_header *h,
                             const struct dtp_audit_event *ev, size_t *dropped, struct dtp_error *err);

/* Number of messages in the spool (0 if the directory is missing). */
DTP_API size_t dtp_audit_spool_count(const struct dtp_audit_config *cfg);

typedef struct dtp_audit_sender dtp_audit_sender;

/* Checks cfg (the URL's syntax; for tls:// builds the TLS client context,
 * so that a bad CA file or profile shows at start) and creates the spool
 * directory. Connects only when sending. NULL with err filled:
 * DTP_R_CONFIG_INVALID for a bad URL, a TLS context reason, or
 * DTP_R_IO_ERROR for a spool directory that cannot be made. cfg's strings
 * must outlive the sender. */
DTP_API dtp_audit_sender *dtp_audit_sender_new(const struct dtp_audit_config *cfg, struct dtp_error *err);
DTP_API void dtp_audit_sender_free(dtp_audit_sender *s); /* closes the connection; NULL is fine */

/* Sends spooled messages oldest first, each removed only once written,
 * until the spool is empty, budget_ms has passed (< 0: no limit) or a send
 * fails. Only one sender works on a spool at a time (an flock on
 * "SPOOL/.lock"); if another one holds it, returns DTP_OK at once. A
 * tls:// connection stays open for the next call; one the repository
 * closed is reopened. Returns DTP_OK (*sent messages sent, *left still
 * spooled; both may be NULL) or the reason code of the failure, kept in
 * dtp_audit_sender_error (e.g. DTP_R_IO_ERROR "connect to HOST:PORT:
 * Connection refused", or a handshake reason). */
DTP_API int dtp_audit_sender_flush(dtp_audit_sender *s, int budget_ms, size_t *sent, size_t *left);
DTP_API const struct dtp_error *dtp_audit_sender_error(const dtp_audit_sender *s);

#ifdef __cplusplus
}
#endif
#endif
