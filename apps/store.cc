/* dtp-storescp's storage (see store.h). Objects are received into a
 * temporary name in the output directory and renamed only once complete. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/ofstd/ofstd.h"

static OFLogger logger = OFLog::getLogger("dtp.apps.storescp");

/* The temporary file being written in this process, for dtpStoreAbandon(). */
static char inFlightPath[PATH_MAX];

void dtpStoreAbandon()
{
    if (inFlightPath[0])
        unlink(inFlightPath);
}

StoreSCP::StoreSCP(const OFString &outDir, OFBool doFsync)
    : stored(0), failed(0), bytes(0), outDir_(outDir), doFsync_(doFsync), counter_(0)
{
}

/* One association per process. */
OFBool StoreSCP::stopAfterCurrentAssociation() { return OFTrue; }
OFBool StoreSCP::stopAfterConnectionTimeout() { return OFTrue; }

void StoreSCP::notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction)
{
    OFLOG_INFO(logger, "association request from " << params.DULparams.callingAPTitle << " at "
                                                    << params.DULparams.callingPresentationAddress);
    DcmSCP::notifyAssociationRequest(params, desiredAction);
}

OFCondition StoreSCP::handleIncomingCommand(T_DIMSE_Message *msg, const DcmPresentationContextInfo &info)
{
    if (msg->CommandField != DIMSE_C_STORE_RQ)
        return DcmSCP::handleIncomingCommand(msg, info); /* C-ECHO and refusals */
    T_DIMSE_C_StoreRQ &req = msg->msg.CStoreRQ;
    const char *modality = dcmSOPClassUIDToModality(req.AffectedSOPClassUID, "UN");
    OFString finalName, tmpName;
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".dtp-%ld-%lu.part", OFstatic_cast(long, getpid()), ++counter_);
    OFStandard::combineDirAndFilename(tmpName, outDir_, tmp, OFTrue);
    OFStandard::combineDirAndFilename(finalName, outDir_,
                                      OFString(modality) + "." + req.AffectedSOPInstanceUID, OFTrue);
    OFStandard::strlcpy(inFlightPath, tmpName.c_str(), sizeof inFlightPath);
    OFCondition cond = receiveSTORERequest(req, info.presentationContextID, tmpName);
    if (cond.bad()) {
        /* The object in flight is discarded; completed ones stay. */
        unlink(tmpName.c_str());
        inFlightPath[0] = '\0';
        ++failed;
        OFLOG_ERROR(logger, "receiving " << req.AffectedSOPInstanceUID << " failed, object discarded: " << cond.text());
        return cond;
    }
    Uint16 status = STATUS_Success;
    off_t size = 0;
    {
        struct stat st;
        if (stat(tmpName.c_str(), &st) == 0)
            size = st.st_size;
    }
    if (rename(tmpName.c_str(), finalName.c_str()) != 0) {
        OFLOG_ERROR(logger, "cannot store " << finalName << ": " << strerror(errno));
        unlink(tmpName.c_str());
        status = STATUS_STORE_Refused_OutOfResources;
        ++failed;
    } else {
        ++stored;
        bytes += OFstatic_cast(unsigned long long, size);
        OFLOG_INFO(logger, "stored " << finalName << " (" << size << " bytes)");
    }
    inFlightPath[0] = '\0';
    return sendSTOREResponse(info.presentationContextID, req, status);
}

/* Removes temporary files a killed child left behind (".dtp-PID-*"). */
void dtpStoreSweepPid(const OFString &outDir, pid_t pid)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, ".dtp-%ld-", OFstatic_cast(long, pid));
    DIR *d = opendir(outDir.c_str());
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            OFString path;
            OFStandard::combineDirAndFilename(path, outDir, e->d_name, OFTrue);
            unlink(path.c_str());
        }
    closedir(d);
}

