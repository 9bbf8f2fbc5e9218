/* dtp-storescp's storage: the C-STORE SCP of one association, and the
 * clean-up of temporary files in the output directory.
 *
 * An object is acknowledged (status 0000) only once it is complete under
 * its final name "<MODALITY>.<SOPInstanceUID>", fsynced (file and
 * directory, unless doFsync is false); a stored file is never replaced.
 * While it arrives it is ".dtp-PID-N.part" in the output directory. */
#ifndef DTP_APPS_STORE_H
#define DTP_APPS_STORE_H

#include "audit.h"
#include "common.h"

#include <sys/types.h>

#include <vector>

#include "dcmtk/dcmnet/scpthrd.h"

/* Serves one association and stores each received object in the output
 * directory. Per object: C000 for a request UID that is not a valid UID,
 * A900 for a data set whose (0008,0018) differs from the request's, A700
 * for any write, fsync or rename error (the association goes on). */
class StoreSCP : public DcmThreadSCP
{
public:
    StoreSCP(const OFString &outDir, OFBool doFsync);
    ~StoreSCP();
    unsigned long stored, failed;
    unsigned long long bytes;
    /* With --audit (DICOM Instances Transferred): the calling AE title and
     * each object stored and not stored, with its patient and study. */
    OFString callingAE;
    std::vector<DtpAuditObject> auditStored, auditFailed;

protected:
    virtual OFBool stopAfterCurrentAssociation();
    virtual OFBool stopAfterConnectionTimeout();
    virtual void notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction);
    virtual OFCondition handleIncomingCommand(T_DIMSE_Message *msg, const DcmPresentationContextInfo &info);
    virtual OFCondition waitForAssociationRQ(T_ASC_Network *network);

private:
    struct Received;
    OFCondition receive(T_DIMSE_C_StoreRQ &req, const DcmPresentationContextInfo &info, Received &r);
    Uint16 storeReceived(const T_DIMSE_C_StoreRQ &req, Received &r);
    Uint16 place(const char *uid, const OFString &tmpName, const OFString &finalName, OFString &placed);
    bool syncDirectory(const char *uid);

    OFString outDir_;
    OFBool doFsync_;
    T_ASC_Association *assoc_; /* the association being served (DcmSCP frees it) */
    char *buffer_;
};

/* Removes the temporary files of association process pid (killed). */
void dtpStoreSweepPid(const OFString &outDir, pid_t pid);
/* At start-up: removes the temporary files (".dtp-PID-N.part") of
 * processes that are no longer running; those of a running process
 * (another SCP sharing the directory) are kept. */
void dtpStoreSweepStale(const OFString &outDir);
/* Async-signal-safe: removes the temporary file of the object being
 * received in this process, if any (for a SIGTERM handler). */
void dtpStoreAbandon();

#endif
