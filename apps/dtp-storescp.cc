/*
 * dtp-storescp: storescp-like C-STORE SCP with the DICOM TLS profiles.
 *
 * The listener owns its socket (so it can --bind one address: N4, K4) and
 * forks one process per TCP connection before any TLS byte is read, so a
 * client that never completes its handshake holds only its own process,
 * for at most the handshake timeout. The child hands the accepted socket
 * to DCMTK (dcmExternalSocketHandle) and serves one association with
 * DcmSCP. Objects are received into a temporary name in the output
 * directory and renamed only once complete.
 */
#include "common.h"
#include "store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/scp.h"
#include "dcmtk/ofstd/ofstd.h"

static OFLogger logger = OFLog::getLogger("dtp.apps.storescp");

static volatile sig_atomic_t stopRequested = 0;

static void onStopSignal(int) { stopRequested = 1; }
/* Its only job is to interrupt poll() so a finished association is reaped
 * at once (--exit-after, and zombies do not wait for the poll timeout). */
static void onChildExit(int) {}

static void onChildTerm(int)
{
    dtpStoreAbandon();
    _exit(DTP_EXIT_TRANSFER);
}

static const char *const transferSyntaxes[] = {
    UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_JPEGProcess1TransferSyntax,         UID_JPEGProcess2_4TransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax,     UID_JPEGLSLosslessTransferSyntax,
    UID_JPEGLSLossyTransferSyntax,          UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_JPEG2000TransferSyntax,             UID_RLELosslessTransferSyntax};

/* Serves one association on an accepted socket; returns the exit code. */
static int serveOne(int fd, const char *peer, DtpTransportLayer *layer, const OFString &outDir, const char *aet,
                    const DtpAssocOptions &assoc, unsigned short port)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = onChildTerm;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    dcmExternalSocketHandle.set(fd);
    dcmDisableGethostbyaddr.set(OFTrue);
    StoreSCP scp(outDir, OFTrue);
    scp.setPort(port);
    scp.setAETitle(aet);
    scp.setRespondWithCalledAETitle(OFTrue);
    scp.setMaxReceivePDULength(OFstatic_cast(Uint32, assoc.maxPDU));
    scp.setACSETimeout(OFstatic_cast(Uint32, assoc.acseTimeout));
    if (assoc.dimseTimeout > 0) {
        scp.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        scp.setDIMSETimeout(OFstatic_cast(Uint32, assoc.dimseTimeout));
    }
    scp.setHostLookupEnabled(OFFalse);
    OFList<OFString> ts;
    for (size_t i = 0; i < sizeof transferSyntaxes / sizeof transferSyntaxes[0]; i++)
        ts.push_back(transferSyntaxes[i]);
    scp.addPresentationContext(UID_VerificationSOPClass, ts);
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; i++)
        scp.addPresentationContext(dcmAllStorageSOPClassUIDs[i], ts);
    if (layer)
        scp.getConfig().setTransportLayer(layer);

    OFCondition cond = scp.listen();
    if (layer && layer->hasError()) {
        OFString what = OFString("association from ") + peer;
        dtpReportError(logger, what.c_str(), layer->lastError());
        return dtpExitCodeForReason(layer->lastError().code);
    }
    /* B6: every association's version and suite, on stdout by default
     * (one write per line: association processes share stdout). */
    if (layer && layer->hasSession()) {
        char line[512];
        COUT << "association from " << peer << ": TLS "
             << dtp_session_format(&layer->lastSession(), line, sizeof line) << OFendl;
    }
    COUT << "association from " << peer << " ended: " << scp.stored << " objects stored (" << scp.bytes
         << " bytes), " << scp.failed << " failed" << OFendl;
    if (scp.failed)
        return DTP_EXIT_TRANSFER;
    if (cond.bad() && cond != NET_EC_StopAfterAssociation && cond != NET_EC_StopAfterConnectionTimeout) {
        OFLOG_ERROR(logger, "association from " << peer << ": " << cond.text());
        return DTP_EXIT_TRANSFER;
    }
    return DTP_EXIT_OK;
}

/* Reaps finished association processes; counts them and keeps the worst
 * (highest) exit code, for --exit-after. */
struct Reaped {
    unsigned long count;
    int worst;
    Reaped() : count(0), worst(DTP_EXIT_OK) {}
};

static void reapChildren(const OFString &outDir, std::set<pid_t> &children, OFBool block, Reaped &reaped)
{
    int status;
    pid_t pid;
    while (!children.empty() && (pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
        children.erase(pid);
        ++reaped.count;
        int code;
        if (WIFSIGNALED(status)) {
            OFLOG_WARN(logger, "association process " << pid << " killed by signal " << WTERMSIG(status));
            dtpStoreSweepPid(outDir, pid);
            code = DTP_EXIT_TRANSFER;
        } else {
            code = WEXITSTATUS(status);
            OFLOG_DEBUG(logger, "association process " << pid << " exited with " << code);
        }
        if (code > reaped.worst)
            reaped.worst = code;
    }
}

int main(int argc, char *argv[])
{
    dtpAppDefaults();
    OFConsoleApplication app("dtp-storescp", "DICOM storage (C-STORE) SCP with DICOM TLS profiles");
    OFCommandLine cmd;
    cmd.setParamColumn(LONGCOL + SHORTCOL + 4);
    cmd.addParam("port", "tcp/ip port number to listen on");

    dtpAddGeneralOptions(cmd);
    cmd.addGroup("multi-process options:");
    cmd.addOption("--fork", "fork one process per association (always on)");
    cmd.addOption("--max-associations", 1, "[n]umber: integer (default: 256)",
                  "refuse connections beyond n concurrent ones");
    cmd.addOption("--exit-after", 1, "[n]umber: integer",
                  "exit after n connections, with the highest exit\ncode of their associations (for scripts)");
    cmd.addGroup("network options:");
    cmd.addOption("--bind", 1, "[a]ddress: string (default: all)", "listen on IPv4 address a only (N4, K4)");
    cmd.addOption("--aetitle", "-aet", 1, "[a]etitle: string", "set my AE title (default: DTP-STORESCP)");
    dtpAddAssocOptions(cmd);
    cmd.addGroup("output options:");
    cmd.addOption("--output-directory", "-od", 1, "[d]irectory: string (default: \".\")",
                  "write received objects to existing directory d");
    dtpAddTlsOptions(cmd, OFTrue);
    cmd.addGroup("exit codes:");
    cmd.addSubGroup("0 stopped by SIGTERM/SIGINT, 1 syntax, 2 output directory,\n3 TLS configuration, 8 cannot listen;"
                    " with --exit-after: the highest code\nof the associations: 4 TLS refused (2xx),"
                    " 6 aborted (3xx)\nor objects not stored");

    DtpTlsOptions tls;
    DtpAssocOptions assoc;
    OFCmdUnsignedInt port = 0, maxChildren = 256, exitAfter = 0;
    const char *bindAddr = NULL, *aet = "DTP-STORESCP";
    OFString outDir = ".";

    int exitNow = dtpParseCommandLine(app, cmd, argc, argv, "dtp-storescp");
    if (exitNow >= 0)
        return exitNow;
    app.checkParam(cmd.getParamAndCheckMinMax(1, port, 1, 65535));
    if (cmd.findOption("--max-associations"))
        app.checkValue(cmd.getValueAndCheckMinMax(maxChildren, 1, 4096));
    if (cmd.findOption("--exit-after"))
        app.checkValue(cmd.getValueAndCheckMin(exitAfter, 1));
    if (cmd.findOption("--bind"))
        app.checkValue(cmd.getValue(bindAddr));
    if (cmd.findOption("--aetitle"))
        app.checkValue(cmd.getValue(aet));
    dtpParseAssocOptions(app, cmd, assoc);
    if (cmd.findOption("--output-directory")) {
        const char *d;
        app.checkValue(cmd.getValue(d));
        outDir = d;
    }
    dtpParseTlsOptions(app, cmd, tls);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(OFstatic_cast(unsigned short, port));
    if (inet_pton(AF_INET, bindAddr ? bindAddr : "0.0.0.0", &addr.sin_addr) != 1)
        app.printError("--bind needs an IPv4 address such as 127.0.0.2");
    if (!OFStandard::dirExists(outDir) || !OFStandard::isWriteable(outDir)) {
        OFLOG_ERROR(logger, "output directory " << outDir << " does not exist or is not writable");
        return DTP_EXIT_INPUT;
    }

    DtpTransportLayer *layer = dtpCreateLayer(tls, DTP_ROLE_SERVER, logger);
    /* Load the data dictionary once, here: each forked association would
     * otherwise parse it again (~10 ms of CPU each, which a burst of
     * connections turns into seconds of delay for everyone). */
    if (!dcmDataDict.isDictionaryLoaded())
        OFLOG_WARN(logger, "no DICOM data dictionary loaded");
    /* Likewise OpenSSL's per-process setup: one handshake with ourselves
     * here, and every association process starts with it done. */
    if (layer)
        dtp_ctx_warm_up(layer->context());

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, OFreinterpret_cast(struct sockaddr *, &addr), sizeof addr) != 0 || listen(lfd, 512) != 0) {
        OFLOG_ERROR(logger, "cannot listen on " << (bindAddr ? bindAddr : "0.0.0.0") << ":" << port << ": "
                                                << strerror(errno));
        delete layer;
        return DTP_EXIT_LISTEN;
    }
    OFLOG_INFO(logger, "listening on " << (bindAddr ? bindAddr : "0.0.0.0") << ":" << port << ", "
                                       << (layer ? "TLS profile " + tls.profileKey : OFString("plain TCP (no TLS)"))
                                       << ", storing into " << outDir);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = onStopSignal; /* no SA_RESTART: poll() returns on a signal */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = onChildExit;
    sigaction(SIGCHLD, &sa, NULL);

    std::set<pid_t> children;
    Reaped reaped;
    unsigned long accepted = 0;
    while (!stopRequested) {
        reapChildren(outDir, children, OFFalse, reaped);
        if (exitAfter && reaped.count >= exitAfter) {
            OFLOG_INFO(logger, reaped.count << " associations done (--exit-after)");
            break;
        }
        if (exitAfter && accepted >= exitAfter) {
            poll(NULL, 0, 500); /* all accepted: SIGCHLD ends the wait */
            continue;
        }
        struct pollfd pfd = {lfd, POLLIN, 0};
        if (poll(&pfd, 1, 500) <= 0)
            continue;
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(lfd, OFreinterpret_cast(struct sockaddr *, &peer), &plen, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        char peerName[64];
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
        snprintf(peerName, sizeof peerName, "%s:%u", ip, OFstatic_cast(unsigned, ntohs(peer.sin_port)));
        if (children.size() >= maxChildren) {
            OFLOG_WARN(logger, "refusing connection from " << peerName << ": " << children.size()
                                                           << " associations in progress (--max-associations)");
            close(fd);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(lfd);
            int code = serveOne(fd, peerName, layer, outDir, aet, assoc, OFstatic_cast(unsigned short, port));
            delete layer; /* the child's copy: nothing is left for the leak checker */
            _exit(code);
        }
        if (pid < 0)
            OFLOG_ERROR(logger, "cannot fork for " << peerName << ": " << strerror(errno));
        else {
            children.insert(pid);
            ++accepted;
        }
        close(fd);
    }
    close(lfd);
    /* Stop: ask associations in progress to end (each removes its
     * temporary file), then reap them all. */
    for (std::set<pid_t>::const_iterator it = children.begin(); it != children.end(); ++it)
        kill(*it, SIGTERM);
    reapChildren(outDir, children, OFTrue, reaped);
    delete layer;
    OFLOG_INFO(logger, "stopped");
    return exitAfter ? reaped.worst : DTP_EXIT_OK;
}
