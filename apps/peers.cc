/* --peer-map: options, loading, and the checks of both apps. The decision
 * is the library's (dtp_peer_map_check); this file only logs it. */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

DtpPeerMapOptions::DtpPeerMapOptions() : file(NULL), allowUnlisted(OFFalse), map(NULL), log(NULL) {}

void dtpAddPeerMapOptions(OFCommandLine &cmd, OFBool server)
{
    cmd.addSubGroup("AE titles bound to certificates:");
    if (server) {
        cmd.addOption(
            "--peer-map", 1, "[f]ilename: string",
            "refuse an association whose calling AE title is not\nbound to the client certificate in f"
            " (lines:\nAE_TITLE cn:|dns:|ip:|sha256:|spki:IDENTITY [PROFILE];\nA-ASSOCIATE-RJ calling AE title not"
            " recognized);\nreloaded on SIGHUP");
        cmd.addOption("--peer-map-allow-unlisted",
                      "admit AE titles that f does not list (logged as a\nwarning at start and per association)");
    } else
        cmd.addOption("--peer-map", 1, "[f]ilename: string",
                      "refuse a server whose certificate is not bound to\nthe called AE title (-aec) in f, before any"
                      " object\nis sent (exit 5); format as for dtp-storescp");
}

void dtpParsePeerMapOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpPeerMapOptions &opt)
{
    if (cmd.findOption("--peer-map"))
        app.checkValue(cmd.getValue(opt.file));
    if (cmd.findOption("--peer-map-allow-unlisted")) {
        if (!opt.file)
            app.printError("--peer-map-allow-unlisted needs --peer-map");
        opt.allowUnlisted = OFTrue;
    }
}

static void configError(OFLogger &log, int code, const char *detail)
{
    dtp_error err;
    memset(&err, 0, sizeof err);
    err.code = code;
    snprintf(err.detail, sizeof err.detail, "%s", detail);
    dtpReportError(log, "peer map", err);
    exit(DTP_EXIT_TLS_CONFIG);
}

void dtpLoadPeerMap(DtpPeerMapOptions &opt, const DtpTlsOptions &tls, OFBool server, OFLogger &log)
{
    if (!opt.file)
        return;
    /* A binding means something only for a verified certificate. */
    if (!tls.enabled)
        configError(log, DTP_R_CONFIG_INVALID,
                    "--peer-map binds AE titles to TLS certificates, but TLS is off: give +tls KEY CERT or --profile");
    if (tls.verify == DTP_VERIFY_IGNORE)
        configError(log, DTP_R_CONFIG_INVALID,
                    "--peer-map binds AE titles to verified certificates, but -ic turns verification off");
    dtp_error err;
    memset(&err, 0, sizeof err);
    opt.map = dtp_peer_map_load(opt.file, &err);
    if (!opt.map) {
        dtpReportError(log, "peer map", err);
        exit(dtpExitCodeForReason(err.code));
    }
    OFLOG_INFO(log, "peer map " << opt.file << ": " << dtp_peer_map_count(opt.map) << " line(s); "
                                << (server ? "calling" : "called") << " AE titles are checked against the "
                                << (server ? "client" : "server") << " certificate");
    if (opt.allowUnlisted)
        OFLOG_WARN(log, "--peer-map-allow-unlisted: AE titles not in " << opt.file
                                                                       << " are admitted with any trusted certificate");
}

bool dtpReloadPeerMap(DtpPeerMapOptions &opt, OFLogger &log)
{
    if (!opt.file)
        return false;
    dtp_error err;
    memset(&err, 0, sizeof err);
    dtp_peer_map *fresh = dtp_peer_map_load(opt.file, &err);
    if (!fresh) {
        dtpReportError(log, "reload (SIGHUP) of the peer map, old map kept", err);
        return false;
    }
    dtp_peer_map_free(opt.map);
    opt.map = fresh;
    OFLOG_INFO(log, "reloaded peer map " << opt.file << " (SIGHUP): " << dtp_peer_map_count(fresh) << " line(s)");
    return true;
}

int dtpCheckCallingAE(const DtpPeerMapOptions &opt, const DtpTransportLayer &layer, const char *callingAE,
                      const OFString &peer, OFLogger &log, dtp_error &err)
{
    memset(&err, 0, sizeof err);
    if (!opt.map)
        return DTP_OK;
    const std::vector<unsigned char> &cert = layer.lastPeerCertificate();
    int decision = dtp_peer_map_check(opt.map, callingAE, cert.empty() ? NULL : &cert[0], cert.size(),
                                      dtp_ctx_profile(layer.context())->key, &err);
    if (decision == DTP_PEER_ADMITTED) {
        OFLOG_INFO(log, "association from " << peer << ": peer map: " << err.detail);
        return DTP_OK;
    }
    if (decision == DTP_PEER_AE_UNLISTED && opt.allowUnlisted) {
        OFLOG_WARN(log, "association from " << peer
                                            << ": admitted although not in the peer map "
                                               "(--peer-map-allow-unlisted): "
                                            << err.detail);
        memset(&err, 0, sizeof err);
        return DTP_OK;
    }
    OFString what = "refusing association from " + peer + " (A-ASSOCIATE-RJ, calling AE title not recognized)";
    dtpReportError(log, what.c_str(), err);
    return err.code;
}

static int checkServer(void *user, const dtp_session_info &, const std::vector<unsigned char> &cert, dtp_error &err)
{
    const DtpPeerMapOptions &opt = *static_cast<const DtpPeerMapOptions *>(user);
    int decision = dtp_peer_map_check(opt.map, opt.calledAE.c_str(), cert.empty() ? NULL : &cert[0], cert.size(),
                                      opt.profileKey.c_str(), &err);
    if (decision != DTP_PEER_ADMITTED)
        return err.code;
    OFLOG_INFO(*opt.log, "peer map: " << err.detail);
    return DTP_OK;
}

void dtpBindCalledAE(DtpTransportLayer &layer, DtpPeerMapOptions &opt, const char *calledAE, const char *profileKey,
                     OFLogger &log)
{
    if (!opt.map)
        return;
    opt.calledAE = calledAE;
    opt.profileKey = profileKey;
    opt.log = &log;
    layer.setHandshakeCheck(checkServer, &opt);
}
