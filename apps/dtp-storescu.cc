/* dtp-storescu: storescu-like C-STORE SCU with the DICOM TLS profiles. */
#include "audit.h"
#include "common.h"
#include "peers.h"

#include <signal.h>
#include <memory>
#include <time.h>

#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/cond.h"
#include "dcmtk/dcmnet/dstorscu.h"
#include "dcmtk/ofstd/ofstd.h"

static OFLogger logger = OFLog::getLogger("dtp.apps.storescu");

static double nowSeconds()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Counts results and prints progress on long sends. */
class StoreSCU : public DcmStorageSCU
{
public:
    using DcmSCU::useSecureConnection;
    StoreSCU() : stored(0), failed(0), bytes(0), total(0), index(0), lastProgress(0), objectStart(0) {}
    unsigned long stored, failed;
    unsigned long long bytes;
    size_t total, index;
    /* --audit: the objects of the current association, for DICOM
     * Instances Transferred (sent, or sent and not stored) */
    std::vector<DtpAuditObject> auditStored, auditFailed;

protected:
    virtual void notifySOPInstanceToBeSent(const TransferEntry &entry)
    {
        ++index;
        objectStart = lastProgress = nowSeconds();
        current = entry.DatasetSize;
    }
    virtual void notifySOPInstanceSent(const TransferEntry &entry)
    {
        if (entry.RequestSent && dtpAuditEnabled()) {
            DtpAuditObject o;
            o.sopClass = entry.SOPClassUID;
            o.sopInstance = entry.SOPInstanceUID;
            dtpAuditReadObject(OFString(entry.Filename.getCharPointer()), o); /* patient and study */
            (entry.ResponseStatusCode == STATUS_Success ? auditStored : auditFailed).push_back(o);
        }
        if (entry.RequestSent && entry.ResponseStatusCode == STATUS_Success) {
            ++stored;
            bytes += entry.DatasetSize;
        } else {
            ++failed;
            if (entry.RequestSent)
                OFLOG_ERROR(logger, "object " << entry.SOPInstanceUID << " not stored: C-STORE status 0x" << STD_NAMESPACE hex
                                              << entry.ResponseStatusCode << STD_NAMESPACE dec);
        }
    }
    virtual void notifySENDProgress(const unsigned long byteCount)
    {
        double now = nowSeconds();
        if (now - lastProgress >= 1.0) {
            lastProgress = now;
            COUT << "progress: object " << index << "/" << total << ": " << byteCount / 1048576.0 << " MB sent, "
                 << (now > objectStart ? byteCount / 1048576.0 / (now - objectStart) : 0) << " MB/s" << OFendl;
        }
    }

private:
    double lastProgress, objectStart;
    unsigned long current;
};

/* DICOM Instances Transferred for the association that just ended. */
static void auditAssociation(StoreSCU &scu, const OFString &peerAddr, const char *calledAE, const char *callingAE)
{
    if (!scu.auditStored.empty() || !scu.auditFailed.empty())
        dtpAuditTransferred(false, peerAddr.c_str(), calledAE, callingAE, scu.auditStored, scu.auditFailed);
    scu.auditStored.clear();
    scu.auditFailed.clear();
}

/* Application Start when made, Application Stop and a bounded attempt to
 * send the spool (2 s) when main returns; what is not sent stays in the
 * spool for the next run. */
struct AuditRun {
    AuditRun() { dtpAuditApplication(true); }
    ~AuditRun()
    {
        dtpAuditApplication(false);
        dtpAuditFlush(2000);
    }
};

/* Exit after a failed DCMTK call: the TLS reason if there is one. */
static int failureExit(DtpTransportLayer *layer, const char *what, const OFCondition &cond, int fallback)
{
    if (layer && layer->hasError()) {
        dtpReportError(logger, what, layer->lastError());
        return dtpExitCodeForReason(layer->lastError().code);
    }
    OFLOG_ERROR(logger, what << ": " << cond.text());
    return fallback;
}

int main(int argc, char *argv[])
{
    dtpAppDefaults();
    OFConsoleApplication app("dtp-storescu", "DICOM storage (C-STORE) SCU with DICOM TLS profiles");
    OFCommandLine cmd;
    cmd.setParamColumn(LONGCOL + SHORTCOL + 4);
    cmd.addParam("peer", "hostname of DICOM peer");
    cmd.addParam("port", "tcp/ip port number of peer");
    cmd.addParam("dcmfile-in", "DICOM file or directory to be transmitted", OFCmdParam::PM_MultiMandatory);

    dtpAddGeneralOptions(cmd);
    cmd.addGroup("input options:");
    cmd.addOption("--scan-directories", "+sd", "scan directories for input files (always on)");
    cmd.addOption("--recurse", "+r", "recurse within directories (default)");
    cmd.addOption("--no-recurse", "-r", "do not recurse within directories");
    cmd.addGroup("network options:");
    cmd.addOption("--aetitle", "-aet", 1, "[a]etitle: string", "set my calling AE title (default: DTP-STORESCU)");
    cmd.addOption("--call", "-aec", 1, "[a]etitle: string", "set called AE title of peer (default: ANY-SCP)");
    cmd.addOption("--timeout", "-to", 1, "[s]econds: integer (default: 30)", "timeout for connection requests");
    dtpAddAssocOptions(cmd);
    dtpAddTlsOptions(cmd, OFFalse);
    dtpAddPeerMapOptions(cmd, OFFalse);
    dtpAddAuditOptions(cmd, OFFalse);
    cmd.addGroup("exit codes:");
    cmd.addSubGroup("0 all stored, 1 syntax, 2 input, 3 TLS configuration (or --peer-map file),\n"
                    "4 TLS refused, 5 association rejected (or server certificate not\n"
                    "bound to -aec by --peer-map), 6 transfer failed/aborted, 7 network");

    DtpTlsOptions tls;
    DtpAssocOptions assoc;
    const char *peer = NULL, *callingAE = "DTP-STORESCU", *calledAE = "ANY-SCP";
    OFCmdUnsignedInt port = 0;
    OFCmdSignedInt connTimeout = 30;
    OFBool recurse = OFTrue;
    OFList<OFString> inputs;

    int exitNow = dtpParseCommandLine(app, cmd, argc, argv, "dtp-storescu");
    if (exitNow >= 0)
        return exitNow;
    cmd.getParam(1, peer);
    app.checkParam(cmd.getParamAndCheckMinMax(2, port, 1, 65535));
    for (int i = 3; i <= cmd.getParamCount(); i++) {
        const char *p;
        cmd.getParam(i, p);
        inputs.push_back(p);
    }
    if (cmd.findOption("--no-recurse"))
        recurse = OFFalse;
    if (cmd.findOption("--aetitle"))
        app.checkValue(cmd.getValue(callingAE));
    if (cmd.findOption("--call"))
        app.checkValue(cmd.getValue(calledAE));
    if (cmd.findOption("--timeout"))
        app.checkValue(cmd.getValueAndCheckMin(connTimeout, 1));
    dtpParseAssocOptions(app, cmd, assoc);
    dtpParseTlsOptions(app, cmd, tls);
    DtpPeerMapOptions peers;
    dtpParsePeerMapOptions(app, cmd, peers);
    dtpLoadPeerMap(peers, tls, OFFalse, logger); /* a bad map stops here: exit 3 */
    DtpAuditOptions auditOpt;
    dtpParseAuditOptions(app, cmd, auditOpt);

    /* Input: files, and directories searched with DCMTK's own helper. */
    OFList<OFString> files;
    for (OFListIterator(OFString) it = inputs.begin(); it != inputs.end(); ++it) {
        if (OFStandard::dirExists(*it))
            OFStandard::searchDirectoryRecursively(*it, files, "", "", recurse);
        else if (OFStandard::fileExists(*it))
            files.push_back(*it);
        else
            OFLOG_ERROR(logger, "input not found: " << *it);
    }
    /* Declared before scu so that it outlives it: the association's
     * connection, freed with scu, still uses the layer's TLS context. */
    std::unique_ptr<DtpTransportLayer> layerOwner;
    StoreSCU scu;
    size_t bad = 0;
    for (OFListIterator(OFString) it = files.begin(); it != files.end(); ++it) {
        OFCondition c = scu.addDicomFile(*it, ERM_fileOnly, OFFalse);
        if (c.bad()) {
            OFLOG_WARN(logger, "skipping " << *it << ": " << c.text());
            ++bad;
        }
    }
    scu.total = scu.getNumberOfSOPInstances();
    if (scu.total == 0) {
        OFLOG_ERROR(logger, "no DICOM files to send");
        return DTP_EXIT_INPUT;
    }

    layerOwner.reset(dtpCreateLayer(tls, DTP_ROLE_CLIENT, logger));
    DtpTransportLayer *layer = layerOwner.get();
    if (layer)
        layer->setPeerName(peer); /* SNI when the profile sends it and peer is a DNS name (Q9) */
    if (layer) /* the server certificate must be bound to -aec, checked before the A-ASSOCIATE-RQ */
        dtpBindCalledAE(*layer, peers, calledAE, tls.profileKey.c_str(), logger);
    /* its repository gets at most 2 s at exit: the same bound for one
     * connect + handshake (a listener that never answers TLS) */
    if (!dtpAuditSetup(auditOpt, tls, "dtp-storescu", callingAE, 2000))
        return DTP_EXIT_TLS_CONFIG;
    AuditRun auditRun;
    char portText[16];
    snprintf(portText, sizeof portText, "%lu", OFstatic_cast(unsigned long, port));
    const OFString peerAddr = OFString(peer) + ":" + portText;
    scu.setAETitle(callingAE);
    scu.setPeerAETitle(calledAE);
    scu.setPeerHostName(peer);
    scu.setPeerPort(OFstatic_cast(Uint16, port));
    scu.setMaxReceivePDULength(OFstatic_cast(Uint32, assoc.maxPDU));
    scu.setACSETimeout(OFstatic_cast(Uint32, assoc.acseTimeout));
    scu.setConnectionTimeout(OFstatic_cast(Sint32, connTimeout));
    if (assoc.dimseTimeout > 0) {
        scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        scu.setDIMSETimeout(OFstatic_cast(Uint32, assoc.dimseTimeout));
    }
    scu.setHaltOnUnsuccessfulStoreMode(OFFalse);
    scu.setAllowIllegalProposalMode(OFFalse);

    int rc = DTP_EXIT_OK;
    double start = nowSeconds();
    OFBool networkReady = OFFalse;
    OFCondition cond;
    while (rc == DTP_EXIT_OK && (cond = scu.addPresentationContexts()).good()) {
        if (!networkReady) { /* DcmSCU wants its presentation contexts first */
            cond = scu.initNetwork();
            if (cond.bad()) {
                OFLOG_ERROR(logger, "cannot initialize network: " << cond.text());
                rc = DTP_EXIT_NETWORK;
                break;
            }
            /* DcmSCU installs the layer on its network, so only after initNetwork() */
            if (layer && (cond = scu.useSecureConnection(layer)).bad()) {
                OFLOG_ERROR(logger, "cannot enable TLS: " << cond.text());
                rc = DTP_EXIT_TLS_CONFIG;
                break;
            }
            networkReady = OFTrue;
        }
        cond = scu.negotiateAssociation();
        if (cond.bad()) {
            int fallback = (cond == DUL_ASSOCIATIONREJECTED || cond == NET_EC_NoAcceptablePresentationContexts)
                               ? DTP_EXIT_REJECTED
                               : DTP_EXIT_NETWORK;
            rc = failureExit(layer, "association failed", cond, fallback);
            if (layer && layer->hasError() && dtpAuditIsNodeAuthFailure(layer->lastError().code))
                dtpAuditSecurityAlert(false, peerAddr.c_str(), calledAE,
                                      layer->hasSession() ? layer->lastSession().peer_subject : NULL,
                                      layer->lastError());
            break;
        }
        if (layer && layer->hasSession()) {
            char line[512];
            COUT << "TLS: profile " << tls.profileKey << ": "
                 << dtp_session_format(&layer->lastSession(), line, sizeof line) << OFendl;
        }
        cond = scu.sendSOPInstances();
        /* DcmStorageSCU carries on after a failed C-STORE and may return a
         * good status; a TLS failure still ended the association (C6). */
        if (cond.bad() || (layer && layer->hasError())) {
            rc = failureExit(layer, "transfer aborted", cond, DTP_EXIT_TRANSFER);
            if (rc != DTP_EXIT_TRANSFER && rc != DTP_EXIT_OK)
                rc = DTP_EXIT_TRANSFER; /* the association was up: a transfer failure */
            scu.abortAssociation();
            auditAssociation(scu, peerAddr, calledAE, callingAE);
            break;
        }
        scu.releaseAssociation();
        auditAssociation(scu, peerAddr, calledAE, callingAE);
    }
    double elapsed = nowSeconds() - start;
    size_t notSent = scu.total - scu.stored - scu.failed;
    COUT << "summary: " << scu.stored << " of " << scu.total << " objects stored";
    if (scu.failed || notSent)
        COUT << ", " << scu.failed << " failed, " << notSent << " not sent";
    if (bad)
        COUT << ", " << bad << " input files skipped";
    COUT << ", " << scu.bytes << " bytes in " << elapsed << " s";
    if (elapsed > 0)
        COUT << " (" << scu.bytes / 1048576.0 / elapsed << " MB/s)";
    COUT << OFendl;
    if (rc == DTP_EXIT_OK && (scu.stored != scu.total))
        rc = DTP_EXIT_TRANSFER;
    return rc;
}
