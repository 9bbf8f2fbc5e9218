/* dtp-storescu and dtp-storescp: the audit trail the IHE ATNA way, over
 * the library's dtp/audit.h. The options (--audit URL and friends), the
 * three events the tools record (Application Activity, Security Alert,
 * DICOM Instances Transferred: PS3.15 A.5.3) and the sender.
 *
 * Every event is first written to the spool directory by the process it
 * happens in (an association process of dtp-storescp writes its own), so
 * that a repository that is down never holds up DICOM traffic and a
 * restart loses nothing. The spool is then sent:
 * - dtp-storescp: by a process of its own ("dtp-audit"), forked at start,
 *   that sends whatever arrives in the spool at once, retries an
 *   unreachable repository every 1-5 s, and at a stop sends what is left
 *   (Application Stop included) for up to 5 s before it exits;
 * - dtp-storescu: at exit, for up to 2 s;
 * what is not sent stays in the spool for the next run (of either tool,
 * with the same spool directory). */
#ifndef DTP_APPS_AUDIT_H
#define DTP_APPS_AUDIT_H

#include "common.h"

#include <sys/types.h>

#include <vector>

#include "dcmtk/dcmdata/dcdatset.h"
#include "dtp/audit.h"

struct DtpAuditOptions {
    const char *url;          /* --audit URL; NULL: no audit trail */
    OFString profileKey;      /* --audit-profile KEY (tls://), default bcp195-8996 */
    const char *caFile;       /* --audit-ca FILE, default the +cf file */
    OFString spoolDir;        /* --audit-spool DIR */
    OFCmdUnsignedInt spoolMB; /* --audit-spool-max MB, default 64 */
    DtpAuditOptions();
};

/* Adds the "audit trail (IHE ATNA)" option group; server: dtp-storescp's
 * wording of when messages are sent. */
void dtpAddAuditOptions(OFCommandLine &cmd, OFBool server);
/* Reads it; a bad value is a syntax error (app.printError exits 1). */
void dtpParseAuditOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpAuditOptions &opt);

/* Sets up the audit trail of this process (nothing if opt.url is NULL):
 * the spool directory and the sender's configuration (a tls:// URL builds
 * its TLS client context now: profile, CA, the tool's own key and
 * certificate from tls as client certificate). appName is the syslog
 * APP-NAME, aeTitle the tool's AE title, timeoutMs the bound of a connect
 * and TLS handshake to the repository and of each write. Returns true, or
 * false after logging why (the caller exits DTP_EXIT_TLS_CONFIG). */
bool dtpAuditSetup(const DtpAuditOptions &opt, const DtpTlsOptions &tls, const char *appName, const char *aeTitle,
                   int timeoutMs);
bool dtpAuditEnabled();

/* Application Activity (110100): Application Start (110120) or Stop (110121). */
void dtpAuditApplication(bool start);

/* Whether a reason is a node authentication failure that deserves a
 * Security Alert: every handshake refusal (2xx) and every peer-map
 * refusal ("association" reasons, 4xx). */
bool dtpAuditIsNodeAuthFailure(int code);

/* Security Alert (110113), Node Authentication (110126): a node
 * authentication failure. localIsServer: we accepted the connection.
 * peerAddr "IP:PORT" (or a host name), peerAE and subject NULL or "" when
 * unknown; err the reason (its code and name go into
 * EventOutcomeDescription and the ParticipantObjectDetail). */
void dtpAuditSecurityAlert(bool localIsServer, const char *peerAddr, const char *peerAE, const char *subject,
                           const dtp_error &err);

/* What identifies one transferred object. */
struct DtpAuditObject {
    OFString patientId, patientName, study, sopClass, sopInstance;
};
/* Reads patient and study of a DICOM file (stops after (0020,000D)); false
 * if it cannot be read (o keeps what it had). */
bool dtpAuditReadObject(const OFString &path, DtpAuditObject &o);
/* Patient, study and (where o has none) SOP class and instance from a data
 * set read at least up to (0020,000D). */
void dtpAuditFillObject(DcmDataset &ds, DtpAuditObject &o);

/* DICOM Instances Transferred (110104) of one association: received
 * (dtp-storescp, EventActionCode C) or sent (dtp-storescu, R). One message
 * for the objects stored (outcome 0) and one for those not stored (4),
 * each split after 200 instances so that a message stays within the 32 KiB
 * a repository must accept (PS3.15 A.6). */
void dtpAuditTransferred(bool received, const char *peerAddr, const char *peerAE, const char *localAE,
                         const std::vector<DtpAuditObject> &stored, const std::vector<DtpAuditObject> &notStored);

/* dtp-storescp: the sender process. Start forks it (call before forking
 * workers; closeInChild: descriptors of the main process it closes, such
 * as the listening sockets); Reaped tells whether a reaped child was it
 * (then Tick starts a new one, at most once a second); Stop asks it to
 * send what is left, for up to timeoutMs, and waits for it. */
void dtpAuditStartSender(const std::vector<int> &closeInChild);
bool dtpAuditReaped(pid_t pid, int status);
void dtpAuditTick();
void dtpAuditStopSender(int timeoutMs);

/* dtp-storescu: sends the spool for up to budgetMs, logs what is left. */
void dtpAuditFlush(int budgetMs);

#endif
