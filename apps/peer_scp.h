/* dtp-storescp with --peer-map: a StoreSCP that refuses an association
 * whose calling AE title is not bound to the client certificate with
 * A-ASSOCIATE-RJ, rejected-permanent, service-user, calling AE title not
 * recognized (PS3.8 9.3.4). */
#ifndef DTP_APPS_PEER_SCP_H
#define DTP_APPS_PEER_SCP_H

#include "peers.h"
#include "store.h"

#include <string.h>

#include "dcmtk/dcmdata/dcuid.h"

class PeerMapSCP : public StoreSCP
{
  public:
    /* peers and layer (the listener's, with this process's one handshake)
     * must outlive the SCP; peer is "ADDR" as in the association lines. */
    PeerMapSCP(const OFString &outDir, OFBool doFsync, const DtpPeerMapOptions &peers, const DtpTransportLayer &layer,
               const OFString &peer, OFLogger &log)
        : StoreSCP(outDir, doFsync), refusal(DTP_OK), peers_(peers), layer_(layer), peer_(peer), log_(log)
    {
        memset(&refusalError, 0, sizeof refusalError);
    }
    int refusal; /* the reason the association was refused with, DTP_OK if none */
    /* ... with the library's detail (AE title, certificate subject and
     * fingerprint, map lines tried), e.g. for an audit message */
    dtp_error refusalError;

  protected:
    virtual void notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction)
    {
        StoreSCP::notifyAssociationRequest(params, desiredAction);
        /* A connection closed without an A-ASSOCIATE-RQ reaches here with
         * empty parameters (DCMTK 3.6.7); DcmSCP refuses any request without
         * the DICOM application context itself, so no AE title is judged. */
        if (desiredAction == DCMSCP_ACTION_REFUSE_ASSOCIATION ||
            strcmp(params.DULparams.applicationContextName, UID_StandardApplicationContext) != 0)
            return;
        refusal = dtpCheckCallingAE(peers_, layer_, params.DULparams.callingAPTitle, peer_, log_, refusalError);
        if (refusal != DTP_OK)
            desiredAction = DCMSCP_ACTION_REFUSE_ASSOCIATION;
    }
    /* DcmSCP refuses what notifyAssociationRequest refused as an internal
     * error; a peer-map refusal says calling AE title not recognized. */
    virtual void refuseAssociation(const DcmRefuseReasonType reason)
    {
        StoreSCP::refuseAssociation(refusal != DTP_OK ? DCMSCP_CALLING_AE_TITLE_NOT_RECOGNIZED : reason);
    }

  private:
    const DtpPeerMapOptions &peers_;
    const DtpTransportLayer &layer_;
    OFString peer_;
    OFLogger &log_;
};

#endif
