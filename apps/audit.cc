/* The audit trail of dtp-storescu and dtp-storescp (see audit.h): options,
 * the PS3.15 A.5.3 messages the tools write, and the sender process. */
#include "audit.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"

static OFLogger logger = OFLog::getLogger("dtp.apps.audit");

/* This process's audit setup: strings the library's configuration points
 * to live here. */
struct AuditState {
    bool on;
    OFString url, spoolDir, caFile, certFile, keyFile, appName, aeTitle, hostname, altUserId, pid;
    dtp_audit_config cfg;
    dtp_audit_sender *sender; /* dtp-storescu flushes with it; dtp-storescp's sender process too */
    pid_t senderPid;          /* dtp-storescp: the sender process, 0 if none */
    time_t senderStarted;
    bool senderDead;
    std::vector<int> closeInChild; /* the main process's sockets, not the sender's business */
    AuditState() : on(false), sender(NULL), senderPid(0), senderStarted(0), senderDead(false)
    {
        memset(&cfg, 0, sizeof cfg);
    }
};
static AuditState audit;

DtpAuditOptions::DtpAuditOptions() : url(NULL), profileKey("bcp195-8996"), caFile(NULL), spoolMB(64) {}

void dtpAddAuditOptions(OFCommandLine &cmd, OFBool server)
{
    cmd.addGroup("audit trail (IHE ATNA, DICOM PS3.15 A.5):");
    cmd.addOption("--audit", 1, "[u]rl: tls://HOST:PORT, udp://HOST:PORT, file:PATH",
                  "record Application Start/Stop, Security Alerts (every TLS\n"
                  "refusal) and DICOM Instances Transferred as DICOM audit\n"
                  "messages in RFC 5424 syslog; send them over TLS (RFC 5425),\n"
                  "UDP (RFC 5426) or append them to a file (one per line)");
    cmd.addOption("--audit-profile", 1, "[k]ey: string (default: bcp195-8996)",
                  "TLS profile towards a tls:// audit repository");
    cmd.addOption("--audit-ca", 1, "[f]ilename: string (default: the +cf file)",
                  "CA certificates that the tls:// repository must chain to");
    cmd.addOption("--audit-spool", 1, "[d]irectory: string",
                  server ? "spool messages here first (default: $STATE_DIRECTORY/\n"
                           "audit-spool, else ${XDG_STATE_HOME:-~/.local/state}/\n"
                           "dtp-audit/dtp-storescp); association processes write\n"
                           "their own; a sender process (dtp-audit) sends them at\n"
                           "once, oldest first, each removed once written, retries\n"
                           "a repository that is down every 1-5 s (DICOM traffic\n"
                           "never waits), and at a stop sends the rest (Application\n"
                           "Stop last) for up to 5 s; unsent ones wait for the next run"
                         : "spool messages here first (default: $STATE_DIRECTORY/\n"
                           "audit-spool, else ${XDG_STATE_HOME:-~/.local/state}/\n"
                           "dtp-audit/dtp-storescu); at exit the spool (this run's\n"
                           "and earlier runs' messages) is sent for up to 2 s, oldest\n"
                           "first, each removed once written; the rest waits for the\n"
                           "next run");
    cmd.addOption("--audit-spool-max", 1, "[m]egabytes: integer (default: 64)",
                  "bound of the spool; when full, the oldest messages are\n"
                  "dropped and their number logged");
}

void dtpParseAuditOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpAuditOptions &opt)
{
    if (cmd.findOption("--audit"))
        app.checkValue(cmd.getValue(opt.url));
    if (cmd.findOption("--audit-profile")) {
        const char *k;
        app.checkValue(cmd.getValue(k));
        if (!dtp_profile_find(k, NULL))
            app.printError(
                (OFString("--audit-profile: unknown or retired profile '") + k + "' (known: " + dtpProfileKeys() + ")")
                    .c_str());
        opt.profileKey = k;
    }
    if (cmd.findOption("--audit-ca"))
        app.checkValue(cmd.getValue(opt.caFile));
    if (cmd.findOption("--audit-spool")) {
        const char *d;
        app.checkValue(cmd.getValue(d));
        opt.spoolDir = d;
    }
    if (cmd.findOption("--audit-spool-max"))
        app.checkValue(cmd.getValueAndCheckMinMax(opt.spoolMB, 1, 1048576));
    if (!opt.url && (cmd.findOption("--audit-profile") || cmd.findOption("--audit-ca") ||
                     cmd.findOption("--audit-spool") || cmd.findOption("--audit-spool-max")))
        app.printError("--audit-profile, --audit-ca, --audit-spool and --audit-spool-max need --audit URL");
}

static void logCallback(void *, int level, const char *message)
{
    if (level == DTP_LOG_ERROR)
        OFLOG_ERROR(logger, message);
    else if (level == DTP_LOG_WARN)
        OFLOG_WARN(logger, message);
    else if (level == DTP_LOG_INFO)
        OFLOG_INFO(logger, message);
    else
        OFLOG_DEBUG(logger, message);
}

static OFString defaultSpool(const char *appName)
{
    const char *state = getenv("STATE_DIRECTORY"); /* systemd StateDirectory= */
    if (state && *state) {
        OFString s(state);
        size_t colon = s.find(':'); /* several directories: the first */
        return s.substr(0, colon) + "/audit-spool";
    }
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    OFString base = xdg && *xdg ? OFString(xdg) : OFString(home && *home ? home : "/tmp") + "/.local/state";
    return base + "/dtp-audit/" + appName;
}

bool dtpAuditSetup(const DtpAuditOptions &opt, const DtpTlsOptions &tls, const char *appName, const char *aeTitle,
                   int timeoutMs)
{
    if (!opt.url)
        return true;
    AuditState &a = audit;
    a.url = opt.url;
    a.spoolDir = opt.spoolDir.empty() ? defaultSpool(appName) : opt.spoolDir;
    a.appName = appName;
    a.aeTitle = aeTitle;
    char host[256] = "";
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    a.hostname = host;
    a.altUserId = OFString("AETITLES=") + aeTitle;
    const char *ca = opt.caFile ? opt.caFile : tls.caFile;
    a.caFile = ca ? ca : "";
    a.certFile = tls.enabled && tls.certFile ? tls.certFile : "";
    a.keyFile = tls.enabled && tls.keyFile ? tls.keyFile : "";

    dtp_audit_config &c = a.cfg;
    c.url = a.url.c_str();
    c.spool_dir = a.spoolDir.c_str();
    c.spool_max_bytes = OFstatic_cast(unsigned long long, opt.spoolMB) * 1024 * 1024;
    c.profile = dtp_profile_find(opt.profileKey.c_str(), NULL);
    c.backend = tls.backend;
    c.ca_file = a.caFile.empty() ? NULL : a.caFile.c_str();
    c.ca_dir = opt.caFile ? NULL : tls.caDir;
    c.cert_file = a.certFile.empty() ? NULL : a.certFile.c_str();
    c.key_file = a.keyFile.empty() ? NULL : a.keyFile.c_str();
    c.timeout_ms = timeoutMs;
    c.log = logCallback;

    dtp_error err;
    memset(&err, 0, sizeof err);
    char password[1024] = "";
    if (c.key_file && tls.passwordSpec) {
        if (dtp_read_password(tls.passwordSpec, password, sizeof password, &err) != DTP_OK) {
            dtpReportError(logger, "audit trail (--audit)", err);
            return false;
        }
        c.key_password = password;
    }
    a.sender = dtp_audit_sender_new(&c, &err);
    memset(password, 0, sizeof password);
    c.key_password = NULL;
    if (!a.sender) {
        dtpReportError(logger, "audit trail (--audit)", err);
        return false;
    }
    a.on = true;
    OFLOG_INFO(logger, "audit trail to " << a.url << " (spool " << a.spoolDir << ", at most " << opt.spoolMB << " MB"
                                         << (strncmp(opt.url, "tls://", 6) == 0 ? ", TLS profile " + opt.profileKey
                                                                                : OFString(""))
                                         << ")");
    return true;
}

bool dtpAuditEnabled()
{
    return audit.on;
}

/* ---- the messages ------------------------------------------------------ */

static const dtp_audit_code ROLE_APPLICATION = {"110150", "DCM", "Application"};
static const dtp_audit_code ROLE_LAUNCHER = {"110151", "DCM", "Application Launcher"};
static const dtp_audit_code ROLE_SOURCE = {"110153", "DCM", "Source Role ID"};
static const dtp_audit_code ROLE_DESTINATION = {"110152", "DCM", "Destination Role ID"};
static const dtp_audit_code ID_STUDY = {"110180", "DCM", "Study Instance UID"};
static const dtp_audit_code ID_NODE = {"110182", "DCM", "Node ID"};
/* EventID and EventTypeCode values (PS3.15 A.5.3) */
static const dtp_audit_code EV_APP_ACTIVITY = {"110100", "DCM", "Application Activity"};
static const dtp_audit_code EV_APP_START = {"110120", "DCM", "Application Start"};
static const dtp_audit_code EV_APP_STOP = {"110121", "DCM", "Application Stop"};
static const dtp_audit_code EV_SECURITY_ALERT = {"110113", "DCM", "Security Alert"};
static const dtp_audit_code EV_NODE_AUTHENTICATION = {"110126", "DCM", "Node Authentication"};
static const dtp_audit_code EV_INSTANCES_TRANSFERRED = {"110104", "DCM", "DICOM Instances Transferred"};
static const dtp_audit_code ID_PATIENT = {"2", "RFC-3881", "Patient Number"};

/* Spools ev, logging a failure and any messages the bound dropped. */
static void record(dtp_audit_event &ev)
{
    if (!audit.on)
        return;
    ev.source_id = audit.hostname.c_str();
    ev.source_type = "4"; /* application server process (A.5.1.2.1) */
    dtp_audit_header h;
    memset(&h, 0, sizeof h);
    h.app_name = audit.appName.c_str();
    h.hostname = audit.hostname.c_str();
    size_t dropped = 0;
    dtp_error err;
    memset(&err, 0, sizeof err);
    if (dtp_audit_record(&audit.cfg, &h, &ev, &dropped, &err) != DTP_OK)
        dtpReportError(logger, "cannot spool an audit message", err);
    if (dropped)
        OFLOG_WARN(logger, "audit spool " << audit.spoolDir << " full (--audit-spool-max "
                                          << audit.cfg.spool_max_bytes / 1048576 << " MB): dropped the " << dropped
                                          << " oldest messages");
}

/* This process as a participant: its pid as UserID (the process id of the
 * local logs, A.5.2.1), its AE title as AlternativeUserID (A.5.2.2). */
static dtp_audit_active self(bool requestor, const dtp_audit_code &role)
{
    audit.pid = "";
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", OFstatic_cast(long, getpid()));
    audit.pid = pid;
    dtp_audit_active p;
    memset(&p, 0, sizeof p);
    p.user_id = audit.pid.c_str();
    p.alt_user_id = audit.altUserId.c_str();
    p.user_name = audit.appName.c_str();
    p.requestor = requestor;
    p.nap_id = audit.hostname.c_str();
    p.nap_type = DTP_AUDIT_NAP_NAME;
    p.role = role;
    return p;
}

/* "10.0.0.9:51234" -> "10.0.0.9"; a name stays a name. */
static OFString hostOf(const char *addr)
{
    OFString s(addr ? addr : "");
    size_t colon = s.rfind(':');
    if (colon != OFString_npos && s.find(':') == colon)
        s = s.substr(0, colon);
    return s;
}

static int napType(const OFString &host)
{
    return !host.empty() && host.find_first_not_of("0123456789.") == OFString_npos ? DTP_AUDIT_NAP_IP
                                                                                   : DTP_AUDIT_NAP_NAME;
}

void dtpAuditApplication(bool start)
{
    if (!audit.on)
        return;
    OFString launcher;
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        launcher = pw->pw_name;
    else {
        char uid[32];
        snprintf(uid, sizeof uid, "%ld", OFstatic_cast(long, geteuid()));
        launcher = uid;
    }
    dtp_audit_active p[2];
    p[0] = self(false, ROLE_APPLICATION);
    memset(&p[1], 0, sizeof p[1]);
    p[1].user_id = launcher.c_str();
    p[1].requestor = true;
    p[1].role = ROLE_LAUNCHER;
    dtp_audit_event ev;
    memset(&ev, 0, sizeof ev);
    ev.id = EV_APP_ACTIVITY;
    ev.action = 'E';
    ev.outcome = 0;
    ev.type = start ? EV_APP_START : EV_APP_STOP;
    ev.active = p;
    ev.n_active = 2;
    record(ev);
}

bool dtpAuditIsNodeAuthFailure(int code)
{
    /* A peer that goes away or stays silent before authenticating (a load
     * balancer's health check, a network fault) is logged as an error but
     * is no node-authentication failure: no Security Alert for it. */
    if (code == DTP_R_HANDSHAKE_TIMEOUT || code == DTP_R_HANDSHAKE_EOF)
        return false;
    const dtp_reason *r = dtp_reason_by_code(code);
    return r && (strcmp(r->category, "handshake") == 0 || strcmp(r->category, "association") == 0);
}

void dtpAuditSecurityAlert(bool localIsServer, const char *peerAddr, const char *peerAE, const char *subject,
                           const dtp_error &err)
{
    if (!audit.on)
        return;
    char text[1024];
    OFString desc = dtp_error_format(&err, text, sizeof text); /* "A-P-ABORT, provider reason 204 ..." */
    const dtp_reason *r = dtp_reason_by_code(err.code);
    char code[160];
    snprintf(code, sizeof code, "%d %s", err.code, r ? r->name : "UNKNOWN");
    OFString peerHost = hostOf(peerAddr);
    OFString aeList = peerAE && *peerAE ? OFString("AETITLES=") + peerAE : OFString();

    dtp_audit_active p[2];
    p[0] = self(true, ROLE_APPLICATION); /* the reporting process */
    memset(&p[1], 0, sizeof p[1]);       /* the peer whose authentication failed */
    p[1].user_id = peerAE && *peerAE ? peerAE : peerAddr ? peerAddr : "unknown";
    p[1].alt_user_id = aeList.empty() ? NULL : aeList.c_str();
    p[1].requestor = false;
    if (!peerHost.empty()) {
        p[1].nap_id = peerHost.c_str();
        p[1].nap_type = napType(peerHost);
    }
    dtp_audit_detail d[2] = {{"Alert Description", desc.c_str(), desc.length()},
                             {"Provider Reason", code, strlen(code)}};
    dtp_audit_object o;
    memset(&o, 0, sizeof o);
    o.id = peerHost.empty() ? "unknown" : peerHost.c_str();
    o.type_code = 2; /* system object: the peer node */
    o.id_type = ID_NODE;
    o.name = subject && *subject ? subject : NULL; /* its certificate, when known */
    o.details = d;
    o.n_details = 2;
    dtp_audit_event ev;
    memset(&ev, 0, sizeof ev);
    ev.id = EV_SECURITY_ALERT;
    ev.action = 'E';
    ev.outcome = 4; /* the node refused the peer: a failure, handled */
    ev.type = EV_NODE_AUTHENTICATION;
    ev.outcome_desc = desc.c_str();
    ev.active = p;
    ev.n_active = 2;
    ev.objects = &o;
    ev.n_objects = 1;
    (void)localIsServer; /* the same message in both roles: we report, the peer failed */
    record(ev);
}

bool dtpAuditReadObject(const OFString &path, DtpAuditObject &o)
{
    DcmFileFormat ff;
    OFCondition c;
    {
        DtpQuietDcmdata quiet;
        c = ff.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, 256, ERM_autoDetect, DcmTagKey(0x0020, 0x000E));
    }
    if (c.bad())
        return false;
    dtpAuditFillObject(*ff.getDataset(), o);
    return true;
}

void dtpAuditFillObject(DcmDataset &ds, DtpAuditObject &o)
{
    ds.findAndGetOFString(DCM_PatientID, o.patientId);
    ds.findAndGetOFString(DCM_PatientName, o.patientName);
    ds.findAndGetOFString(DCM_StudyInstanceUID, o.study);
    if (o.sopClass.empty())
        ds.findAndGetOFString(DCM_SOPClassUID, o.sopClass);
    if (o.sopInstance.empty())
        ds.findAndGetOFString(DCM_SOPInstanceUID, o.sopInstance);
}

/* One DICOM Instances Transferred message for objs[from, to). */
static void transferredMessage(bool received, const char *peerAddr, const char *peerAE, const char *localAE,
                               const std::vector<DtpAuditObject> &objs, size_t from, size_t to, int outcome)
{
    /* study -> SOP class -> instances; patients by ID */
    typedef std::map<OFString, std::vector<const char *>> ByClass;
    std::map<OFString, ByClass> studies;
    std::map<OFString, OFString> patients;
    for (size_t i = from; i < to; i++) {
        studies[objs[i].study][objs[i].sopClass].push_back(objs[i].sopInstance.c_str());
        OFString &name = patients[objs[i].patientId];
        if (name.empty())
            name = objs[i].patientName;
    }
    std::vector<std::vector<dtp_audit_sop_class>> classes;
    std::vector<dtp_audit_object> o;
    classes.reserve(studies.size());
    for (std::map<OFString, ByClass>::const_iterator s = studies.begin(); s != studies.end(); ++s) {
        classes.push_back(std::vector<dtp_audit_sop_class>());
        for (ByClass::const_iterator c = s->second.begin(); c != s->second.end(); ++c) {
            dtp_audit_sop_class sc = {c->first.c_str(), &c->second[0], c->second.size()};
            classes.back().push_back(sc);
        }
        dtp_audit_object so;
        memset(&so, 0, sizeof so);
        so.id = s->first.c_str(); /* "" when the object's study could not be read */
        so.type_code = 2;         /* system object */
        so.type_role = 3;         /* report */
        so.id_type = ID_STUDY;
        so.sop_classes = &classes.back()[0];
        so.n_sop_classes = classes.back().size();
        o.push_back(so);
    }
    for (std::map<OFString, OFString>::const_iterator p = patients.begin(); p != patients.end(); ++p) {
        dtp_audit_object po;
        memset(&po, 0, sizeof po);
        po.id = p->first.c_str();
        po.type_code = 1; /* person */
        po.type_role = 1; /* patient */
        po.id_type = ID_PATIENT;
        po.name = p->second.empty() ? NULL : p->second.c_str();
        o.push_back(po);
    }

    OFString peerHost = hostOf(peerAddr);
    OFString peerAlt = peerAE && *peerAE ? OFString("AETITLES=") + peerAE : OFString();
    dtp_audit_active local = self(!received, received ? ROLE_DESTINATION : ROLE_SOURCE);
    OFString localAlt = OFString("AETITLES=") + (localAE ? localAE : audit.aeTitle.c_str());
    local.alt_user_id = localAlt.c_str();
    dtp_audit_active remote;
    memset(&remote, 0, sizeof remote);
    remote.user_id = peerAE && *peerAE ? peerAE : peerHost.c_str();
    remote.alt_user_id = peerAlt.empty() ? NULL : peerAlt.c_str();
    remote.requestor = received; /* the SCU asked for the association */
    if (!peerHost.empty()) {
        remote.nap_id = peerHost.c_str();
        remote.nap_type = napType(peerHost);
    }
    remote.role = received ? ROLE_SOURCE : ROLE_DESTINATION;
    dtp_audit_active p[2] = {received ? remote : local, received ? local : remote};

    char desc[128];
    snprintf(desc, sizeof desc, "%lu objects not stored", OFstatic_cast(unsigned long, to - from));
    dtp_audit_event ev;
    memset(&ev, 0, sizeof ev);
    ev.id = EV_INSTANCES_TRANSFERRED;
    ev.action = received ? 'C' : 'R';
    ev.outcome = outcome;
    ev.outcome_desc = outcome ? desc : NULL;
    ev.active = p;
    ev.n_active = 2;
    ev.objects = o.empty() ? NULL : &o[0];
    ev.n_objects = o.size();
    record(ev);
}

enum { INSTANCES_PER_MESSAGE = 200 };

void dtpAuditTransferred(bool received, const char *peerAddr, const char *peerAE, const char *localAE,
                         const std::vector<DtpAuditObject> &stored, const std::vector<DtpAuditObject> &notStored)
{
    if (!audit.on)
        return;
    for (size_t i = 0; i < stored.size(); i += INSTANCES_PER_MESSAGE)
        transferredMessage(received, peerAddr, peerAE, localAE, stored, i,
                           std::min(stored.size(), i + INSTANCES_PER_MESSAGE), 0);
    for (size_t i = 0; i < notStored.size(); i += INSTANCES_PER_MESSAGE)
        transferredMessage(received, peerAddr, peerAE, localAE, notStored, i,
                           std::min(notStored.size(), i + INSTANCES_PER_MESSAGE), 4);
}

/* ---- sending -------------------------------------------------------------- */

/* "reason 204 PEER_CERT_UNTRUSTED: DETAIL": the sender's failure, without
 * the A-P-ABORT wording of an association. */
static OFString senderProblem(int rc)
{
    const dtp_error *e = dtp_audit_sender_error(audit.sender);
    int code = e->code ? e->code : rc;
    const dtp_reason *r = dtp_reason_by_code(code);
    char text[700];
    snprintf(text, sizeof text, "reason %d %s: %s", code, r ? r->name : "UNKNOWN", e->detail);
    return text;
}

static volatile sig_atomic_t senderStop = 0;
static void onSenderStop(int)
{
    senderStop = 1;
}

/* The sender process: sends what arrives in the spool (inotify wakes it),
 * retries a repository that is down every 1-5 s, and on SIGUSR2 from the
 * main process (or when the main process is gone) sends what is left for
 * up to 5 s and exits. SIGTERM/SIGINT are ignored: a stop of the whole
 * process group must not end it before the main process has spooled
 * Application Stop. */
static void senderMain(pid_t parent)
{
    prctl(PR_SET_NAME, "dtp-audit", 0, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = onSenderStop; /* no SA_RESTART: poll() returns */
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in >= 0 && inotify_add_watch(in, audit.spoolDir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
        close(in);
        in = -1; /* poll once a second instead */
    }
    int backoff = 0;
    OFString lastProblem;
    for (;;) {
        bool last = senderStop || getppid() != parent;
        size_t sent = 0, left = 0;
        int rc = dtp_audit_sender_flush(audit.sender, last ? 5000 : 2000, &sent, &left);
        if (rc == DTP_OK) {
            if (!lastProblem.empty())
                OFLOG_INFO(logger, "audit repository " << audit.url << " reachable again");
            lastProblem.clear();
            backoff = 0;
            if (sent)
                OFLOG_DEBUG(logger, "audit: sent " << sent << " messages to " << audit.url << ", " << left << " left");
        } else {
            OFString text = senderProblem(rc);
            if (lastProblem != text)
                OFLOG_WARN(logger, "audit repository " << audit.url << " unavailable, " << left << " messages kept in "
                                                       << audit.spoolDir << " (retrying): " << text);
            lastProblem = text;
            backoff = backoff ? std::min(backoff * 2, 5000) : 1000;
        }
        if (last) {
            if (left)
                OFLOG_WARN(logger, "audit: " << left << " messages left in " << audit.spoolDir << " for the next run");
            break;
        }
        if (rc == DTP_OK && sent && left)
            continue; /* the budget ran out, not the spool */
        if (backoff)
            poll(NULL, 0, backoff); /* new messages wait too; SIGUSR2 ends the wait */
        else {
            struct pollfd p = {in, POLLIN, 0};
            poll(in >= 0 ? &p : NULL, in >= 0 ? 1 : 0, 1000);
        }
        char events[4096];
        while (in >= 0 && read(in, events, sizeof events) > 0) {
        }
    }
    if (in >= 0)
        close(in);
    dtp_audit_sender_free(audit.sender);
    audit.sender = NULL;
    _exit(0);
}

void dtpAuditStartSender(const std::vector<int> &closeInChild)
{
    if (!audit.on)
        return;
    audit.closeInChild = closeInChild;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < closeInChild.size(); i++)
            close(closeInChild[i]);
        senderMain(parent);
    }
    if (pid < 0) {
        OFLOG_ERROR(logger, "cannot start the audit sender process: " << strerror(errno) << "; messages stay in "
                                                                      << audit.spoolDir);
        audit.senderDead = true;
        return;
    }
    audit.senderPid = pid;
    audit.senderStarted = time(NULL);
    audit.senderDead = false;
}

bool dtpAuditReaped(pid_t pid, int status)
{
    if (!audit.on || pid != audit.senderPid || pid == 0)
        return false;
    audit.senderPid = 0;
    audit.senderDead = true;
    if (WIFSIGNALED(status))
        OFLOG_WARN(logger,
                   "audit sender process " << pid << " killed by signal " << WTERMSIG(status) << "; restarting it");
    return true;
}

void dtpAuditTick()
{
    if (audit.on && audit.senderDead && time(NULL) > audit.senderStarted)
        dtpAuditStartSender(audit.closeInChild);
}

void dtpAuditStopSender(int timeoutMs)
{
    if (!audit.on || audit.senderPid <= 0) {
        /* no sender process (it died just now): send here what we can */
        if (audit.on && audit.sender)
            dtpAuditFlush(timeoutMs);
        return;
    }
    pid_t pid = audit.senderPid;
    kill(pid, SIGUSR2);
    int status = 0;
    /* its last flush has 5 s; a second more for the exit */
    time_t deadline = time(NULL) + (timeoutMs + 1999) / 1000;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            break;
        if (time(NULL) > deadline) {
            OFLOG_WARN(logger, "audit sender process " << pid << " did not finish; killing it");
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        poll(NULL, 0, 20);
    }
    audit.senderPid = 0;
    dtp_audit_sender_free(audit.sender);
    audit.sender = NULL;
}

void dtpAuditFlush(int budgetMs)
{
    if (!audit.on || !audit.sender)
        return;
    size_t sent = 0, left = 0;
    int rc = dtp_audit_sender_flush(audit.sender, budgetMs, &sent, &left);
    if (rc != DTP_OK)
        OFLOG_WARN(logger, "audit repository " << audit.url << " unavailable: " << senderProblem(rc));
    if (left)
        OFLOG_WARN(logger, "audit: " << left << " messages left in " << audit.spoolDir << " for the next run");
    else
        OFLOG_DEBUG(logger, "audit: sent " << sent << " messages to " << audit.url);
    dtp_audit_sender_free(audit.sender); /* the last flush of this process */
    audit.sender = NULL;
}
