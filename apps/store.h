/* dtp-storescp's storage: the C-STORE SCP of one association, and the
 * clean-up of temporary files in the output directory. */
#ifndef DTP_APPS_STORE_H
#define DTP_APPS_STORE_H

#include "common.h"

#include <sys/types.h>

#include "dcmtk/dcmnet/scp.h"

/* Serves one association (the listener gives each its own process) and
 * stores each received object in the output directory. */
class StoreSCP : public DcmSCP
{
public:
    StoreSCP(const OFString &outDir, OFBool doFsync);
    unsigned long stored, failed;
    unsigned long long bytes;

protected:
    virtual OFBool stopAfterCurrentAssociation();
    virtual OFBool stopAfterConnectionTimeout();
    virtual void notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction);
    virtual OFCondition handleIncomingCommand(T_DIMSE_Message *msg, const DcmPresentationContextInfo &info);

private:
    OFString outDir_;
    OFBool doFsync_;
    unsigned long counter_;
};

/* Removes the temporary files of association process pid (killed). */
void dtpStoreSweepPid(const OFString &outDir, pid_t pid);
/* Async-signal-safe: removes the temporary file of the object being
 * received in this process, if any (for a SIGTERM handler). */
void dtpStoreAbandon();

#endif
