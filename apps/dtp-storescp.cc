/*
 * dtp-storescp: storescp-like C-STORE SCP with the DICOM TLS profiles.
 *
 * Listeners: one or more sockets, each with its own address, profile and
 * TLS context (--listen [ADDR:]PORT[/PROFILE], the positional port with
 * --bind, or sockets passed by systemd: LISTEN_FDS), so one process can
 * serve e.g. BCP195 on one address and B.13 on another (N4, K4).
 *
 * Processes: the main process never reads a byte from a client. It keeps
 * --workers processes ready (forked ahead, each with every listener's
 * context), and each of them accepts one connection, tells the main
 * process so over a pipe, serves that one association with DcmSCP and
 * exits; the main process forks a replacement. So no fork lies between
 * accept and the first TLS byte, and a crashing or stalled association
 * holds only its own process. At --max-associations busy workers the main
 * process accepts new connections itself and hands each to a short-lived
 * process that answers A-ASSOCIATE-RJ (transient, local limit exceeded).
 *
 * Signals to the main process: SIGHUP builds new contexts from the files
 * (certificate, key, CA, CRL, DH, ticket keys); if all succeed, idle
 * workers are retired and replaced, busy ones finish with what they have;
 * if one fails, the old contexts stay (the --peer-map file likewise, on
 * its own). SIGTERM/SIGINT: stop accepting, let
 * busy workers finish for --shutdown-timeout seconds, then abort them.
 */
#include "common.h"
#include "store.h"
#include "peer_scp.h"
#include "audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/scp.h"
#include "dcmtk/ofstd/ofstd.h"

static OFLogger logger = OFLog::getLogger("dtp.apps.storescp");

/* Main process */
static volatile sig_atomic_t stopRequested = 0;
static volatile sig_atomic_t reloadRequested = 0;
/* Idle worker: asked to exit (reload, stop, --exit-after reached). */
static volatile sig_atomic_t retireRequested = 0;

static void onStopSignal(int) { stopRequested = 1; }
static void onReloadSignal(int) { reloadRequested = 1; }
static void onRetireSignal(int) { retireRequested = 1; }
/* Its only job is to interrupt poll() so a finished association is reaped
 * at once (--exit-after, and zombies do not wait for the poll timeout). */
static void onChildExit(int) {}
/* A busy worker told to stop (shutdown timeout, or a stop of the whole
 * process group): the object in flight is removed, completed ones stay. */
static void onBusyTerm(int)
{
    dtpStoreAbandon();
    _exit(DTP_EXIT_TRANSFER);
}
static void onIdleTerm(int) { _exit(DTP_EXIT_OK); }

/* The process name (comm) says what a child is doing, so that tests and
 * operators can count busy ones: ps, pgrep -x dtp-assoc. */
static void setProcessName(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

static void setSignal(int sig, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler; /* no SA_RESTART: poll() returns on a signal */
    sigaction(sig, &sa, NULL);
}

static const char *const transferSyntaxes[] = {
    UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_JPEGProcess1TransferSyntax,         UID_JPEGProcess2_4TransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax,     UID_JPEGLSLosslessTransferSyntax,
    UID_JPEGLSLossyTransferSyntax,          UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_JPEG2000TransferSyntax,             UID_RLELosslessTransferSyntax};

/* One listening socket with its profile and (when TLS is on) context. */
struct Listener {
    int fd;
    unsigned short port;
    OFString addr;    /* "127.0.0.2:11112" */
    OFString name;    /* "127.0.0.2:11112/bcp195" (or "...:11112/plain") */
    DtpTlsOptions tls; /* the common TLS options with this listener's profile */
    DtpTransportLayer *layer;
    Listener() : fd(-1), port(0), layer(NULL) {}
};

/* What every association needs, the same for all listeners. */
struct Settings {
    OFString outDir;
    OFBool doFsync;
    const char *aet;
    DtpAssocOptions assoc;
    OFBool nameListener; /* several listeners: each association line names its own */
    DtpPeerMapOptions peers; /* --peer-map: calling AE titles bound to client certificates */
    Settings() : doFsync(OFTrue), aet("DTP-STORESCP"), nameListener(OFFalse) {}
};

/* Answers every association request with A-ASSOCIATE-RJ, rejected-transient,
 * service-provider (presentation), local-limit-exceeded: what a client gets
 * over --max-associations, after the TLS handshake so it can read it. */
class BusySCP : public StoreSCP
{
public:
    explicit BusySCP(const OFString &outDir) : StoreSCP(outDir, OFTrue) {}

protected:
    virtual void notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction)
    {
        OFLOG_WARN(logger, "refusing association from " << params.DULparams.callingAPTitle << " at "
                                                        << params.DULparams.callingPresentationAddress
                                                        << ": too many associations (--max-associations)");
        desiredAction = DCMSCP_ACTION_REFUSE_ASSOCIATION;
    }
    virtual void refuseAssociation(const DcmRefuseReasonType) { DcmSCP::refuseAssociation(DCMSCP_TOO_MANY_ASSOCIATIONS); }
};

/* Serves one association on an accepted socket; returns the exit code. */
static int serveOne(int fd, const char *peerAddr, const Listener &l, const Settings &s, OFBool refuseBusy)
{
    OFString peer(peerAddr);
    if (s.nameListener)
        peer += " via " + l.name;
    dcmExternalSocketHandle.set(fd);
    dcmDisableGethostbyaddr.set(OFTrue);
    PeerMapSCP *bound = !refuseBusy && s.peers.map && l.layer
                            ? new PeerMapSCP(s.outDir, s.doFsync, s.peers, *l.layer, peer, logger)
                            : NULL;
    StoreSCP *scp = refuseBusy ? new BusySCP(s.outDir) : bound ? bound : new StoreSCP(s.outDir, s.doFsync);
    scp->setPort(l.port);
    scp->setAETitle(s.aet);
    scp->setRespondWithCalledAETitle(OFTrue);
    scp->setMaxReceivePDULength(OFstatic_cast(Uint32, s.assoc.maxPDU));
    scp->setACSETimeout(OFstatic_cast(Uint32, s.assoc.acseTimeout));
    if (s.assoc.dimseTimeout > 0) {
        scp->setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        scp->setDIMSETimeout(OFstatic_cast(Uint32, s.assoc.dimseTimeout));
    }
    scp->setHostLookupEnabled(OFFalse);
    OFList<OFString> ts;
    for (size_t i = 0; i < sizeof transferSyntaxes / sizeof transferSyntaxes[0]; i++)
        ts.push_back(transferSyntaxes[i]);
    scp->addPresentationContext(UID_VerificationSOPClass, ts);
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; i++)
        scp->addPresentationContext(dcmAllStorageSOPClassUIDs[i], ts);
    DtpTransportLayer *layer = l.layer;
    if (layer)
        scp->getConfig().setTransportLayer(layer);

    OFCondition cond = scp->listen();
    int code = DTP_EXIT_OK;
    if (layer && layer->hasError()) {
        OFString what = "association from " + peer;
        dtpReportError(logger, what.c_str(), layer->lastError());
        code = dtpExitCodeForReason(layer->lastError().code);
        if (dtpAuditIsNodeAuthFailure(layer->lastError().code))
            dtpAuditSecurityAlert(true, peerAddr, scp->callingAE.c_str(),
                                  layer->hasSession() ? layer->lastSession().peer_subject : NULL, layer->lastError());
    } else {
        /* B6: every association's version and suite, on stdout by default
         * (one write per line: association processes share stdout). */
        if (layer && layer->hasSession()) {
            char line[512];
            COUT << "association from " << peer << ": TLS "
                 << dtp_session_format(&layer->lastSession(), line, sizeof line) << OFendl;
        }
        if (refuseBusy)
            COUT << "association from " << peer << " refused: too many associations" << OFendl;
        else if (bound && bound->refusal != DTP_OK) {
            COUT << "association from " << peer << " refused: reason " << bound->refusal << " "
                 << dtp_reason_by_code(bound->refusal)->name << " (--peer-map)" << OFendl;
            code = DTP_EXIT_REJECTED;
            /* the library's detail: AE title, certificate subject and
             * fingerprint, the map lines tried */
            dtpAuditSecurityAlert(true, peerAddr, scp->callingAE.c_str(),
                                  layer->hasSession() ? layer->lastSession().peer_subject : NULL, bound->refusalError);
        } else
            COUT << "association from " << peer << " ended: " << scp->stored << " objects stored (" << scp->bytes
                 << " bytes), " << scp->failed << " failed" << OFendl;
        if (scp->failed)
            code = DTP_EXIT_TRANSFER;
        else if (cond.bad() && cond != NET_EC_StopAfterAssociation && cond != NET_EC_StopAfterConnectionTimeout) {
            OFLOG_ERROR(logger, "association from " << peer << ": " << cond.text());
            code = DTP_EXIT_TRANSFER;
        }
    }
    /* DICOM Instances Transferred, into the spool before this process
     * exits (the main process's sender sends it) */
    if (!scp->auditStored.empty() || !scp->auditFailed.empty())
        dtpAuditTransferred(true, peerAddr, scp->callingAE.c_str(), s.aet, scp->auditStored, scp->auditFailed);
    delete scp;
    return code;
}

static void peerName(const struct sockaddr_in &peer, char *out, size_t len)
{
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    snprintf(out, len, "%s:%u", ip, OFstatic_cast(unsigned, ntohs(peer.sin_port)));
}

/* What a worker tells the main process when it has accepted a connection. */
struct AcceptedMsg {
    pid_t pid;
};

static void deleteLayers(std::vector<Listener> &ls)
{
    for (size_t i = 0; i < ls.size(); i++) {
        delete ls[i].layer;
        ls[i].layer = NULL;
    }
}

/* A worker: waits on every listener, accepts one connection, serves it and
 * exits. Never returns. */
static void workerMain(std::vector<Listener> &ls, int statusFd, const Settings &s, pid_t parent)
{
    setProcessName("dtp-worker");
    setSignal(SIGTERM, onIdleTerm);
    setSignal(SIGINT, onIdleTerm);
    setSignal(SIGUSR1, onRetireSignal);
    signal(SIGHUP, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    /* EPOLLEXCLUSIVE: a connection wakes one idle worker (or a few), not
     * all of them, so idle workers cost nothing per association. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; ep >= 0 && i < ls.size(); i++) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        ev.data.u64 = i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, ls[i].fd, &ev) != 0) {
            OFLOG_ERROR(logger, "worker: cannot watch listener " << ls[i].name << ": " << strerror(errno));
            _exit(DTP_EXIT_LISTEN);
        }
    }
    if (ep < 0) {
        OFLOG_ERROR(logger, "worker: epoll_create1: " << strerror(errno));
        _exit(DTP_EXIT_LISTEN);
    }
    for (;;) {
        if (retireRequested || getppid() != parent) {
            deleteLayers(ls);
            _exit(DTP_EXIT_OK);
        }
        struct epoll_event ready[8];
        int n = epoll_wait(ep, ready, 8, 1000);
        for (int k = 0; k < n; k++) {
            size_t i = OFstatic_cast(size_t, ready[k].data.u64);
            if (retireRequested)
                break;
            struct sockaddr_in peer;
            socklen_t plen = sizeof peer;
            int fd = accept4(ls[i].fd, OFreinterpret_cast(struct sockaddr *, &peer), &plen, SOCK_CLOEXEC);
            if (fd < 0)
                continue; /* another worker was faster */
            setProcessName("dtp-assoc");
            setSignal(SIGTERM, onBusyTerm);
            setSignal(SIGINT, onBusyTerm);
            signal(SIGUSR1, SIG_IGN);
            AcceptedMsg msg;
            msg.pid = getpid();
            if (write(statusFd, &msg, sizeof msg) != OFstatic_cast(ssize_t, sizeof msg))
                OFLOG_WARN(logger, "cannot tell the main process about a new association: " << strerror(errno));
            close(statusFd);
            close(ep);
            for (size_t j = 0; j < ls.size(); j++)
                close(ls[j].fd);
            char name[64];
            peerName(peer, name, sizeof name);
            int code = serveOne(fd, name, ls[i], s, OFFalse);
            deleteLayers(ls); /* nothing is left for the leak checker */
            _exit(code);
        }
    }
}

enum ChildKind { CHILD_IDLE, CHILD_RETIRING, CHILD_BUSY, CHILD_REFUSER };

/* The main process's view of its children. */
struct Pool {
    std::map<pid_t, ChildKind> kids;
    unsigned long idle, busy, refusers;
    unsigned long accepted;  /* associations accepted by workers */
    unsigned long completed; /* ... and finished */
    int worst;               /* highest exit code of finished associations */
    Pool() : idle(0), busy(0), refusers(0), accepted(0), completed(0), worst(DTP_EXIT_OK) {}

    void add(pid_t pid, ChildKind k)
    {
        kids[pid] = k;
        count(k, 1);
    }
    void set(std::map<pid_t, ChildKind>::iterator it, ChildKind k)
    {
        count(it->second, -1);
        it->second = k;
        count(k, 1);
    }
    void count(ChildKind k, int d)
    {
        if (k == CHILD_IDLE)
            idle += d;
        else if (k == CHILD_BUSY)
            busy += d;
        else if (k == CHILD_REFUSER)
            refusers += d;
    }
    /* SIGUSR1 to every idle worker: it exits before its next accept. */
    void retireIdle()
    {
        for (std::map<pid_t, ChildKind>::iterator it = kids.begin(); it != kids.end(); ++it)
            if (it->second == CHILD_IDLE) {
                kill(it->first, SIGUSR1);
                set(it, CHILD_RETIRING);
            }
    }
};

/* Marks the workers that reported an accepted connection as busy. */
static void readAccepted(int statusFd, Pool &pool)
{
    AcceptedMsg msg;
    while (read(statusFd, &msg, sizeof msg) == OFstatic_cast(ssize_t, sizeof msg)) {
        std::map<pid_t, ChildKind>::iterator it = pool.kids.find(msg.pid);
        if (it == pool.kids.end() || it->second == CHILD_BUSY)
            continue;
        pool.set(it, CHILD_BUSY);
        ++pool.accepted;
    }
}

/* Reaps finished children; a busy worker's exit code counts for
 * --exit-after, a killed one's temporary files are removed. */
static void reapChildren(const OFString &outDir, Pool &pool, OFBool block)
{
    int status;
    pid_t pid;
    while (!pool.kids.empty() && (pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
        std::map<pid_t, ChildKind>::iterator it = pool.kids.find(pid);
        if (it == pool.kids.end()) {
            dtpAuditReaped(pid, status); /* the audit sender: restarted by dtpAuditTick */
            continue;
        }
        ChildKind kind = it->second;
        pool.count(kind, -1);
        pool.kids.erase(it);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : DTP_EXIT_TRANSFER;
        if (WIFSIGNALED(status)) {
            OFLOG_WARN(logger, (kind == CHILD_BUSY ? "association" : "worker") << " process " << pid
                                                                              << " killed by signal " << WTERMSIG(status));
            dtpStoreSweepPid(outDir, pid);
        } else
            OFLOG_DEBUG(logger, "process " << pid << " exited with " << code);
        if (kind == CHILD_BUSY) {
            ++pool.completed;
            if (code > pool.worst)
                pool.worst = code;
        }
    }
}

/* Logs a warning when the own certificate expires within warnDays days
 * (an error once it has expired). */
static void checkExpiry(const std::vector<Listener> &ls, long warnDays)
{
    for (size_t i = 0; i < ls.size(); i++) {
        long long notAfter = 0;
        if (!ls[i].layer || dtp_ctx_cert_not_after(ls[i].layer->context(), &notAfter) != 0)
            continue;
        long long left = notAfter - OFstatic_cast(long long, time(NULL));
        char when[64] = "?";
        time_t t = OFstatic_cast(time_t, notAfter);
        struct tm tmv;
        if (gmtime_r(&t, &tmv))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tmv);
        if (left <= 0)
            OFLOG_ERROR(logger, "own certificate " << ls[i].tls.certFile << " (listener " << ls[i].name
                                                   << ") expired on " << when);
        else if (left < OFstatic_cast(long long, warnDays) * 86400)
            OFLOG_WARN(logger, "own certificate " << ls[i].tls.certFile << " (listener " << ls[i].name
                                                  << ") expires in " << left / 86400 << " days, on " << when
                                                  << " (--warn-expiry " << warnDays << ")");
        return; /* one certificate for all listeners */
    }
}

/* Builds every listener's context; on any failure logs it and keeps the
 * old ones (returns false). A reload thus never leaves a listener without
 * a context, and never mixes old and new. */
static bool loadContexts(std::vector<Listener> &ls, bool firstTime)
{
    std::vector<DtpTransportLayer *> fresh(ls.size(), OFstatic_cast(DtpTransportLayer *, NULL));
    for (size_t i = 0; i < ls.size(); i++) {
        if (!ls[i].tls.enabled)
            continue;
        dtp_error err;
        fresh[i] = dtpTryCreateLayer(ls[i].tls, DTP_ROLE_SERVER, logger, err);
        if (!fresh[i]) {
            OFString what = firstTime ? OFString("TLS configuration")
                                      : "reload (SIGHUP) of listener " + ls[i].name + ", old contexts kept";
            if (firstTime && ls.size() > 1)
                what += " of listener " + ls[i].name;
            dtpReportError(logger, what.c_str(), err);
            for (size_t j = 0; j < i; j++)
                delete fresh[j];
            return false;
        }
    }
    for (size_t i = 0; i < ls.size(); i++) {
        delete ls[i].layer;
        ls[i].layer = fresh[i];
        /* OpenSSL's per-process setup: one handshake with ourselves here,
         * and every worker starts with it done. */
        if (ls[i].layer)
            dtp_ctx_warm_up(ls[i].layer->context());
    }
    return true;
}

/* "[ADDR:]PORT[/PROFILE]" into l (not yet bound). Returns false with a
 * message in why. */
static bool parseListener(const char *spec, const OFString &defaultAddr, const DtpTlsOptions &tls, Listener &l,
                          OFString &why)
{
    OFString s(spec), addr = defaultAddr, profile;
    size_t slash = s.find('/');
    if (slash != OFString_npos) {
        profile = s.substr(slash + 1);
        s = s.substr(0, slash);
    }
    size_t colon = s.rfind(':');
    if (colon != OFString_npos) {
        addr = s.substr(0, colon);
        s = s.substr(colon + 1);
    }
    char *end = NULL;
    long port = strtol(s.c_str(), &end, 10);
    if (s.empty() || *end || port < 1 || port > 65535) {
        why = OFString("bad listener '") + spec + "': expected [ADDRESS:]PORT[/PROFILE], PORT 1-65535";
        return false;
    }
    struct in_addr ia;
    if (inet_pton(AF_INET, addr.c_str(), &ia) != 1) {
        why = "listener address '" + addr + "' is not an IPv4 address such as 127.0.0.2";
        return false;
    }
    l.tls = tls;
    if (!profile.empty()) {
        if (!tls.enabled) {
            why = OFString("listener '") + spec + "' names a profile but TLS is off (give +tls KEY CERT)";
            return false;
        }
        if (!dtp_profile_find(profile.c_str(), NULL)) {
            why = OFString("listener '") + spec + "': unknown profile '" + profile + "' (known: " + dtpProfileKeys() + ")";
            return false;
        }
        l.tls.profileKey = profile;
    }
    l.port = OFstatic_cast(unsigned short, port);
    char portText[16];
    snprintf(portText, sizeof portText, "%ld", port);
    l.addr = addr + ":" + portText;
    l.name = l.addr + "/" + (l.tls.enabled ? l.tls.profileKey : OFString("plain"));
    return true;
}

/* Binds and listens on l's address. Returns false with a message in why. */
static bool bindListener(Listener &l, OFString &why)
{
    OFString addr = l.addr.substr(0, l.addr.rfind(':'));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(l.port);
    inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, OFreinterpret_cast(struct sockaddr *, &sa), sizeof sa) != 0 || listen(fd, 512) != 0) {
        why = "cannot listen on " + l.addr + ": " + strerror(errno);
        if (fd >= 0)
            close(fd);
        return false;
    }
    l.fd = fd;
    return true;
}

/* Sockets passed by systemd (socket activation, sd_listen_fds(3)): fds
 * 3..3+LISTEN_FDS-1 when LISTEN_PID is ours. A socket whose name
 * (FileDescriptorName=, in LISTEN_FDNAMES) is a profile key gets that
 * profile, the others --profile. Returns false with a message in why. */
static bool takeSystemdSockets(const DtpTlsOptions &tls, std::vector<Listener> &ls, OFString &why)
{
    const char *pidText = getenv("LISTEN_PID"), *fdsText = getenv("LISTEN_FDS");
    if (!pidText || !fdsText || atol(pidText) != OFstatic_cast(long, getpid()))
        return true;
    OFString names = getenv("LISTEN_FDNAMES") ? getenv("LISTEN_FDNAMES") : "";
    int n = atoi(fdsText);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    for (int i = 0; i < n; i++) {
        int fd = 3 + i;
        OFString name;
        size_t colon = names.find(':');
        name = names.substr(0, colon);
        names = colon == OFString_npos ? "" : names.substr(colon + 1);
        int listening = 0;
        socklen_t optlen = sizeof listening;
        struct sockaddr_in sa;
        socklen_t slen = sizeof sa;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || !listening ||
            getsockname(fd, OFreinterpret_cast(struct sockaddr *, &sa), &slen) != 0 || sa.sin_family != AF_INET) {
            char fdText[16];
            snprintf(fdText, sizeof fdText, "%d", fd);
            why = OFString("socket-activation descriptor ") + fdText + " is not a listening IPv4 TCP socket";
            return false;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        Listener l;
        l.fd = fd;
        l.tls = tls;
        if (tls.enabled && !name.empty() && dtp_profile_find(name.c_str(), NULL))
            l.tls.profileKey = name;
        l.port = ntohs(sa.sin_port);
        char addr[64];
        peerName(sa, addr, sizeof addr);
        l.addr = addr;
        l.name = l.addr + "/" + (l.tls.enabled ? l.tls.profileKey : OFString("plain"));
        ls.push_back(l);
    }
    return true;
}

int main(int argc, char *argv[])
{
    dtpAppDefaults();
    OFConsoleApplication app("dtp-storescp", "DICOM storage (C-STORE) SCP with DICOM TLS profiles");
    OFCommandLine cmd;
    cmd.setParamColumn(LONGCOL + SHORTCOL + 4);
    cmd.addParam("port", "tcp/ip port number to listen on (or --listen)", OFCmdParam::PM_Optional);

    dtpAddGeneralOptions(cmd);
    cmd.addGroup("multi-process options:");
    cmd.addOption("--fork", "one process per association (always on)");
    cmd.addOption("--workers", 1, "[n]umber: integer (default: 8)",
                  "keep n processes ready to accept connections\n(no fork between accept and the first TLS byte)");
    cmd.addOption("--max-associations", 1, "[n]umber: integer (default: 256)",
                  "at most n concurrent associations; beyond, A-ASSOCIATE-RJ\n(rejected-transient, local limit exceeded)");
    cmd.addOption("--shutdown-timeout", 1, "[s]econds: integer (default: 30)",
                  "on SIGTERM/SIGINT let associations finish for s seconds,\nthen abort them");
    cmd.addOption("--exit-after", 1, "[n]umber: integer",
                  "exit after n associations, with the highest exit\ncode of their associations (for scripts)");
    cmd.addGroup("network options:");
    cmd.addOption("--listen", 1, "[l]istener: [address:]port[/profile]",
                  "listen on port (of IPv4 address, default all) with profile\n(default --profile); repeatable (N4, K4);"
                  " systemd socket\nactivation (LISTEN_FDS) adds listeners too");
    cmd.addOption("--bind", 1, "[a]ddress: string (default: all)", "listen on IPv4 address a only (N4, K4)");
    cmd.addOption("--aetitle", "-aet", 1, "[a]etitle: string", "set my AE title (default: DTP-STORESCP)");
    dtpAddAssocOptions(cmd);
    cmd.addGroup("output options:");
    cmd.addOption("--output-directory", "-od", 1, "[d]irectory: string (default: \".\")",
                  "write received objects to existing directory d");
    cmd.addOption("--no-fsync", "acknowledge objects without flushing them to disk\n(faster; a crash can lose acknowledged objects)");
    dtpAddTlsOptions(cmd, OFTrue);
    dtpAddPeerMapOptions(cmd, OFTrue);
    dtpAddAuditOptions(cmd, OFTrue);
    cmd.addGroup("certificate lifetime:");
    cmd.addOption("--warn-expiry", 1, "[d]ays: integer (default: 30)",
                  "warn when the own certificate expires within d days\n(checked at start, on SIGHUP and daily)");
    cmd.addGroup("signals:");
    cmd.addSubGroup("SIGHUP reloads certificate, key, CA, CRL, DH and ticket key\nfiles and the --peer-map (a failed reload keeps the old ones);"
                    " SIGTERM/SIGINT\nstop (see --shutdown-timeout)");
    cmd.addGroup("exit codes:");
    cmd.addSubGroup("0 stopped by SIGTERM/SIGINT, 1 syntax, 2 output directory,\n3 TLS configuration (or --peer-map file), 8 cannot listen;"
                    " with --exit-after: the highest code\nof the associations: 4 TLS refused (2xx), 5 refused by --peer-map (4xx),"
                    " 6 aborted (3xx)\nor objects not stored");

    DtpTlsOptions tls;
    Settings set;
    OFCmdUnsignedInt port = 0, maxBusy = 256, exitAfter = 0, spare = 8, shutdownTimeout = 30, warnDays = 30;
    const char *bindAddr = NULL;
    OFList<OFString> listenSpecs;

    int exitNow = dtpParseCommandLine(app, cmd, argc, argv, "dtp-storescp");
    if (exitNow >= 0)
        return exitNow;
    if (cmd.getParamCount() > 0)
        app.checkParam(cmd.getParamAndCheckMinMax(1, port, 1, 65535));
    if (cmd.findOption("--workers"))
        app.checkValue(cmd.getValueAndCheckMinMax(spare, 1, 1024));
    if (cmd.findOption("--max-associations"))
        app.checkValue(cmd.getValueAndCheckMinMax(maxBusy, 1, 4096));
    if (cmd.findOption("--shutdown-timeout"))
        app.checkValue(cmd.getValueAndCheckMinMax(shutdownTimeout, 0, 86400));
    if (cmd.findOption("--warn-expiry"))
        app.checkValue(cmd.getValueAndCheckMinMax(warnDays, 0, 36500));
    if (cmd.findOption("--exit-after"))
        app.checkValue(cmd.getValueAndCheckMin(exitAfter, 1));
    if (cmd.findOption("--listen", 0, OFCommandLine::FOM_FirstFromLeft)) {
        do {
            const char *spec;
            app.checkValue(cmd.getValue(spec));
            listenSpecs.push_back(spec);
        } while (cmd.findOption("--listen", 0, OFCommandLine::FOM_NextFromLeft));
    }
    if (cmd.findOption("--bind"))
        app.checkValue(cmd.getValue(bindAddr));
    if (cmd.findOption("--aetitle"))
        app.checkValue(cmd.getValue(set.aet));
    dtpParseAssocOptions(app, cmd, set.assoc);
    set.outDir = ".";
    if (cmd.findOption("--output-directory")) {
        const char *d;
        app.checkValue(cmd.getValue(d));
        set.outDir = d;
    }
    if (cmd.findOption("--no-fsync"))
        set.doFsync = OFFalse;
    dtpParseTlsOptions(app, cmd, tls);
    dtpParsePeerMapOptions(app, cmd, set.peers);
    dtpLoadPeerMap(set.peers, tls, OFTrue, logger); /* a bad map stops here: exit 3 */
    DtpAuditOptions auditOpt;
    dtpParseAuditOptions(app, cmd, auditOpt);

    /* Listeners: the positional port (with --bind), each --listen, and
     * the sockets systemd passed us. */
    std::vector<Listener> ls;
    OFString why;
    if (!takeSystemdSockets(tls, ls, why))
        app.printError(why.c_str());
    if (port == 0 && listenSpecs.empty() && ls.empty())
        app.printError("no port to listen on: give PORT, --listen [ADDRESS:]PORT[/PROFILE], or socket activation");
    if (port) {
        char spec[32];
        snprintf(spec, sizeof spec, "%lu", OFstatic_cast(unsigned long, port));
        listenSpecs.push_front(spec);
    }
    for (OFListIterator(OFString) it = listenSpecs.begin(); it != listenSpecs.end(); ++it) {
        Listener l;
        if (!parseListener(it->c_str(), bindAddr ? bindAddr : "0.0.0.0", tls, l, why))
            app.printError(why.c_str());
        ls.push_back(l);
    }
    set.nameListener = ls.size() > 1;

    if (!OFStandard::dirExists(set.outDir) || !OFStandard::isWriteable(set.outDir)) {
        OFLOG_ERROR(logger, "output directory " << set.outDir << " does not exist or is not writable");
        return DTP_EXIT_INPUT;
    }
    if (!set.doFsync)
        OFLOG_WARN(logger, "--no-fsync: objects are acknowledged before they are flushed to disk; a crash or power "
                           "failure can lose acknowledged objects");
    dtpStoreSweepStale(set.outDir);

    /* Contexts first (a configuration error is reported as such even if
     * the port is taken), then the sockets. */
    if (!loadContexts(ls, true))
        return DTP_EXIT_TLS_CONFIG;
    for (size_t i = 0; i < ls.size(); i++)
        if (ls[i].fd < 0 && !bindListener(ls[i], why)) {
            OFLOG_ERROR(logger, why);
            deleteLayers(ls);
            return DTP_EXIT_LISTEN;
        }
    checkExpiry(ls, OFstatic_cast(long, warnDays));
    time_t nextExpiryCheck = time(NULL) + 86400;
    /* Load the data dictionary once, here: each worker would otherwise
     * parse it again (~10 ms of CPU each). */
    if (!dcmDataDict.isDictionaryLoaded())
        OFLOG_WARN(logger, "no DICOM data dictionary loaded");
    for (size_t i = 0; i < ls.size(); i++)
        OFLOG_INFO(logger, "listening on " << ls[i].addr << ", "
                                           << (ls[i].layer ? "TLS profile " + ls[i].tls.profileKey : OFString("plain TCP (no TLS)"))
                                           << ", storing into " << set.outDir);

    int status[2];
    if (pipe2(status, O_CLOEXEC) != 0) {
        OFLOG_ERROR(logger, "cannot create a pipe: " << strerror(errno));
        return DTP_EXIT_LISTEN;
    }
    fcntl(status[0], F_SETFL, O_NONBLOCK);

    /* Audit trail: Application Start into the spool, then the sender
     * process, forked before any worker (it needs none of our sockets). */
    if (!dtpAuditSetup(auditOpt, tls, "dtp-storescp", set.aet, 5000)) {
        deleteLayers(ls);
        return DTP_EXIT_TLS_CONFIG;
    }
    dtpAuditApplication(true);
    std::vector<int> mainFds(status, status + 2);
    for (size_t i = 0; i < ls.size(); i++)
        mainFds.push_back(ls[i].fd);
    dtpAuditStartSender(mainFds);

    setSignal(SIGTERM, onStopSignal);
    setSignal(SIGINT, onStopSignal);
    setSignal(SIGHUP, onReloadSignal);
    setSignal(SIGCHLD, onChildExit);
    signal(SIGUSR1, SIG_IGN);

    const pid_t self = getpid();
    Pool pool;
    bool draining = false; /* --exit-after: enough accepted, no new workers */
    while (!stopRequested) {
        readAccepted(status[0], pool);
        reapChildren(set.outDir, pool, OFFalse);
        dtpAuditTick(); /* a sender process that died is restarted */
        if (exitAfter && pool.completed >= exitAfter) {
            OFLOG_INFO(logger, pool.completed << " associations done (--exit-after)");
            break;
        }
        if (exitAfter && !draining && pool.accepted >= exitAfter) {
            draining = true;
            pool.retireIdle();
        }
        if (reloadRequested) {
            reloadRequested = 0;
            if (dtpReloadPeerMap(set.peers, logger)) /* a bad map is logged, the old one kept */
                pool.retireIdle();                   /* new workers fork with the new map */
            if (loadContexts(ls, false)) {
                OFLOG_INFO(logger, "reloaded certificate, key and trust files (SIGHUP); idle workers replaced");
                pool.retireIdle();
            }
            checkExpiry(ls, OFstatic_cast(long, warnDays));
        }
        if (time(NULL) >= nextExpiryCheck) {
            checkExpiry(ls, OFstatic_cast(long, warnDays));
            nextExpiryCheck = time(NULL) + 86400;
        }
        /* Keep `spare` workers ready, within --max-associations. */
        while (!draining && pool.idle < spare && pool.idle + pool.busy < maxBusy) {
            pid_t pid = fork();
            if (pid == 0) {
                close(status[0]);
                workerMain(ls, status[1], set, self);
            }
            if (pid < 0) {
                OFLOG_ERROR(logger, "cannot start a worker process: " << strerror(errno));
                break;
            }
            pool.add(pid, CHILD_IDLE);
        }
        /* Every worker busy: accept here and refuse (A-ASSOCIATE-RJ) in a
         * short-lived process, at most 16 at a time; beyond, close. */
        bool atLimit = !draining && pool.idle == 0 && pool.busy >= maxBusy;
        std::vector<struct pollfd> pfds(1 + (atLimit ? ls.size() : 0));
        pfds[0].fd = status[0];
        pfds[0].events = POLLIN;
        for (size_t i = 1; i < pfds.size(); i++) {
            pfds[i].fd = ls[i - 1].fd;
            pfds[i].events = POLLIN;
        }
        if (poll(&pfds[0], pfds.size(), 500) <= 0)
            continue;
        for (size_t i = 1; i < pfds.size(); i++) {
            if (!(pfds[i].revents & POLLIN))
                continue;
            struct sockaddr_in peer;
            socklen_t plen = sizeof peer;
            int fd = accept4(ls[i - 1].fd, OFreinterpret_cast(struct sockaddr *, &peer), &plen, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            char name[64];
            peerName(peer, name, sizeof name);
            if (pool.refusers >= 16) {
                OFLOG_WARN(logger, "closing connection from " << name << ": " << pool.busy
                                                              << " associations in progress (--max-associations) and "
                                                              << pool.refusers << " being refused");
                close(fd);
                continue;
            }
            pid_t pid = fork();
            if (pid == 0) {
                setProcessName("dtp-refuse");
                setSignal(SIGTERM, onIdleTerm);
                signal(SIGHUP, SIG_IGN);
                close(status[0]);
                close(status[1]);
                for (size_t j = 0; j < ls.size(); j++)
                    close(ls[j].fd);
                int code = serveOne(fd, name, ls[i - 1], set, OFTrue);
                deleteLayers(ls);
                _exit(code);
            }
            if (pid > 0)
                pool.add(pid, CHILD_REFUSER);
            else
                OFLOG_ERROR(logger, "cannot fork to refuse " << name << ": " << strerror(errno));
            close(fd);
        }
    }

    /* Stop: no new connections; idle workers exit; busy ones get
     * --shutdown-timeout seconds, then are aborted. */
    for (size_t i = 0; i < ls.size(); i++)
        close(ls[i].fd);
    /* A worker that accepted just before the stop has told us so in the
     * pipe: read that first, or it would count as idle, not be waited for,
     * and be stopped without its abort being logged. */
    readAccepted(status[0], pool);
    pool.retireIdle();
    time_t deadline = time(NULL) + OFstatic_cast(time_t, shutdownTimeout);
    if (pool.busy)
        OFLOG_INFO(logger, "stopping: waiting up to " << shutdownTimeout << " s for " << pool.busy
                                                      << " associations to finish");
    while (pool.busy + pool.refusers > 0 && time(NULL) < deadline) {
        readAccepted(status[0], pool);
        reapChildren(set.outDir, pool, OFFalse);
        poll(NULL, 0, 100);
    }
    for (std::map<pid_t, ChildKind>::iterator it = pool.kids.begin(); it != pool.kids.end(); ++it) {
        if (it->second == CHILD_BUSY || it->second == CHILD_REFUSER)
            OFLOG_WARN(logger, "stopping: aborting association process " << it->first << " (still running after --shutdown-timeout "
                                                                         << shutdownTimeout << " s)");
        kill(it->first, SIGTERM);
    }
    reapChildren(set.outDir, pool, OFTrue);
    /* Application Stop last; the sender sends what is left for up to 5 s,
     * the rest stays in the spool for the next run. */
    dtpAuditApplication(false);
    dtpAuditStopSender(5000);
    close(status[0]);
    close(status[1]);
    deleteLayers(ls);
    OFLOG_INFO(logger, "stopped");
    return exitAfter ? pool.worst : DTP_EXIT_OK;
}
