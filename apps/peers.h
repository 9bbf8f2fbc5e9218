/* --peer-map for dtp-storescu and dtp-storescp: AE titles bound to
 * certificates (dtp/peermap.h). The SCP refuses an association whose
 * calling AE title is not bound to the client certificate (A-ASSOCIATE-RJ,
 * rejected-permanent, service-user, calling AE title not recognized); the
 * SCU refuses a server whose certificate is not bound to the called AE
 * title, after the TLS handshake and before its A-ASSOCIATE-RQ. */
#ifndef DTP_APPS_PEERS_H
#define DTP_APPS_PEERS_H

#include "common.h"

#include "dtp/peermap.h"

struct DtpPeerMapOptions {
    const char *file;     /* --peer-map; NULL: no map, every trusted peer admitted */
    OFBool allowUnlisted; /* SCP: --peer-map-allow-unlisted */
    dtp_peer_map *map;    /* loaded from file; replaced on reload (SIGHUP) */
    /* SCU: what dtpBindCalledAE checks each handshake against. */
    OFString calledAE, profileKey;
    OFLogger *log;
    DtpPeerMapOptions();
    ~DtpPeerMapOptions() { dtp_peer_map_free(map); }

  private:
    DtpPeerMapOptions(const DtpPeerMapOptions &);
    DtpPeerMapOptions &operator=(const DtpPeerMapOptions &);
};

void dtpAddPeerMapOptions(OFCommandLine &cmd, OFBool server);
void dtpParsePeerMapOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpPeerMapOptions &opt);

/* Loads opt.file (if given) and checks that the TLS options can bind
 * anything (TLS on, peer certificates verified). On failure reports the
 * reason (the detail names file and line) and exits DTP_EXIT_TLS_CONFIG. */
void dtpLoadPeerMap(DtpPeerMapOptions &opt, const DtpTlsOptions &tls, OFBool server, OFLogger &log);

/* SIGHUP: loads the file again; a map that fails to load is logged and the
 * old one stays. Returns true when the new map replaced the old one. */
bool dtpReloadPeerMap(DtpPeerMapOptions &opt, OFLogger &log);

/* SCP: whether the calling AE title of an association request is bound to
 * the client certificate of layer's handshake under its profile. Logs the
 * decision (peer: "ADDR" as in the association lines); returns DTP_OK to
 * admit, or the reason to refuse with (err filled). */
int dtpCheckCallingAE(const DtpPeerMapOptions &opt, const DtpTransportLayer &layer, const char *callingAE,
                      const OFString &peer, OFLogger &log, dtp_error &err);

/* SCU: every handshake of layer checks the server certificate against
 * calledAE (with profileKey); a refusal fails the handshake with its
 * reason (4xx: exit DTP_EXIT_REJECTED), so no association request and no
 * object is sent. opt (which keeps copies of the strings) and log must
 * outlive layer's connections. */
void dtpBindCalledAE(DtpTransportLayer &layer, DtpPeerMapOptions &opt, const char *calledAE, const char *profileKey,
                     OFLogger &log);

#endif
