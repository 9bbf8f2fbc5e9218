/* dtp-storescp's storage (see store.h).
 *
 * Streaming, and in step whatever the disk does. DCMTK 3.6.7's
 * receive-to-file path (DcmSCP::receiveSTORERequest with a file name)
 * cannot answer a write error and go on: an error part way leaves the rest
 * of the data set's PDVs unread (or, on the last one, reads into the next
 * message) and the association goes out of step. So the data set is read
 * here with DIMSE_receiveDataSetInFile into a stream of our own (FileSink):
 * each PDV is written to the temporary file as it arrives, and after a
 * write error (a full disk) the rest is read and discarded, the object is
 * answered A700 and the association goes on. No copy of the object is held
 * in memory. DcmSCP keeps its association to itself; StoreSCP takes it in
 * hand by receiving it itself and passing it to DCMTK's DcmThreadSCP::run().
 *
 * Then, before the success response: the data set's (0008,0018) is read
 * (parsing stops right after it; with --audit after (0020,000D), for the
 * patient and study of the audit message) and compared with the request's, the file
 * is fsynced, moved to its name without replacing anything, and the
 * directory is fsynced.
 */
#include "store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcostrma.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/ofstd/ofstd.h"

static OFLogger logger = OFLog::getLogger("dtp.apps.storescp");

enum {
    BUFFER_SIZE = 1 << 16, /* FileSink gathers the meta information here; sameObject compares with it */
    MAX_DUPS = 1000        /* "<name>.dup-N" tried for one UID */
};

/* ------------------------------------------------------------------------
 * The temporary file being written in this process, for dtpStoreAbandon()
 * (a signal handler): it reads the path only while inFlight is set. */
static char inFlightPath[PATH_MAX];
static volatile sig_atomic_t inFlight = 0;

static void setInFlight(const OFString &path)
{
    inFlight = 0;
    if (path.length() >= sizeof inFlightPath)
        return; /* open() refuses it too */
    std::atomic_signal_fence(std::memory_order_seq_cst);
    memcpy(inFlightPath, path.c_str(), path.length() + 1);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    inFlight = 1;
}

static void clearInFlight() { inFlight = 0; }

void dtpStoreAbandon()
{
    if (inFlight)
        unlink(inFlightPath);
}

/* Process-wide, so that a process serving several associations in turn
 * never reuses a temporary name. */
static unsigned long tempCounter = 0;

/* ------------------------------------------------------------------------
 * Names */

/* A SOP Instance UID usable as part of a file name: the PS3.5 9.1 syntax,
 * 1..64 characters, digits and dots only, no empty component, no leading
 * zero in a multi-digit component. Returns NULL if valid, else the reason. */
static const char *uidProblem(const char *uid)
{
    size_t n = strlen(uid);
    if (n == 0)
        return "empty";
    if (n > 64)
        return "longer than 64 characters";
    size_t compLen = 0;
    char first = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = uid[i];
        if (c == '.' || c == '\0') {
            if (compLen == 0)
                return "empty component";
            if (compLen > 1 && first == '0')
                return "component with a leading zero";
            compLen = 0;
        } else if (c >= '0' && c <= '9') {
            if (compLen++ == 0)
                first = c;
        } else
            return "character other than digits and dots";
    }
    return NULL;
}

/* Whether name is a temporary file of ours, ".dtp-PID-N.part"; sets pid. */
static bool isTempName(const char *name, long &pid)
{
    if (strncmp(name, ".dtp-", 5) != 0 || !isdigit(OFstatic_cast(unsigned char, name[5])))
        return false;
    char *end = NULL;
    pid = strtol(name + 5, &end, 10);
    if (pid <= 0 || pid > INT_MAX || *end != '-' || !isdigit(OFstatic_cast(unsigned char, end[1])))
        return false;
    strtoul(end + 1, &end, 10);
    return strcmp(end, ".part") == 0;
}

/* ------------------------------------------------------------------------
 * Files */

/* write() all of buf; false with errno set on error. */
static bool writeAll(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (w == 0) {
            errno = EIO;
            return false;
        }
        buf += w;
        len -= OFstatic_cast(size_t, w);
    }
    return true;
}

/* Moves from to to unless to exists (errno EEXIST then): atomic, so two
 * associations storing the same UID at once cannot replace each other.
 * renameat2(RENAME_NOREPLACE), or link()+unlink() where the file system
 * does not support it. */
static int renameNoReplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    if (link(from, to) != 0)
        return -1;
    unlink(from);
    return 0;
}

/* Reads the Part 10 file at path up to (0008,0018) only and checks that
 * the data set's SOP Instance UID is uid; false with the reason if not.
 * With audit (--audit), reads on to (0020,000D) and fills in the patient
 * and the study. */
static bool datasetUidIs(const OFString &path, const char *uid, OFString &why, DtpAuditObject *audit)
{
    DcmFileFormat ff;
    OFString dsUid;
    OFCondition c;
    {
        DtpQuietDcmdata quiet;
        c = ff.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, 256, ERM_fileOnly,
                                audit ? DcmTagKey(0x0020, 0x000E) : DcmTagKey(0x0008, 0x0019));
    }
    if (c.good() && audit)
        dtpAuditFillObject(*ff.getDataset(), *audit);
    if (c.good())
        c = ff.getDataset()->findAndGetOFStringArray(DCM_SOPInstanceUID, dsUid);
    if (c.bad()) {
        why = OFString("no readable SOP Instance UID (0008,0018) in the data set: ") + c.text();
        return false;
    }
    if (dsUid != uid) {
        why = "the data set's SOP Instance UID (0008,0018) \"" + dsUid + "\" differs from the request's";
        return false;
    }
    return true;
}

/* What identifies a stored object besides its data set bytes. */
struct ObjectMeta {
    OFString sopClass, transferSyntax;
    off_t datasetStart;
};

static bool readMeta(const OFString &path, ObjectMeta &m)
{
    DcmMetaInfo meta;
    Uint32 groupLength = 0;
    if (meta.loadFile(path).bad() || meta.findAndGetUint32(DCM_FileMetaInformationGroupLength, groupLength).bad() ||
        meta.findAndGetOFStringArray(DCM_MediaStorageSOPClassUID, m.sopClass).bad() ||
        meta.findAndGetOFStringArray(DCM_TransferSyntaxUID, m.transferSyntax).bad())
        return false;
    /* preamble, "DICM", (0002,0000) UL in explicit VR (12 bytes), the rest
     * of the group: DCMTK writes the group length on receive */
    m.datasetStart = 128 + 4 + 12 + OFstatic_cast(off_t, groupLength);
    return true;
}

/* Whether the files a and b hold the same object: the same SOP Class and
 * Transfer Syntax and byte-identical data sets. The rest of the meta
 * information may differ (the same object from another sender has another
 * Source AE Title). buf: 2 * half bytes. */
static bool sameObject(const OFString &a, const OFString &b, char *buf, size_t half)
{
    ObjectMeta ma, mb;
    if (!readMeta(a, ma) || !readMeta(b, mb) || ma.sopClass != mb.sopClass || ma.transferSyntax != mb.transferSyntax)
        return false;
    int fa = open(a.c_str(), O_RDONLY | O_CLOEXEC);
    int fb = open(b.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat sa, sb;
    bool same = fa >= 0 && fb >= 0 && fstat(fa, &sa) == 0 && fstat(fb, &sb) == 0 &&
                sa.st_size - ma.datasetStart == sb.st_size - mb.datasetStart && sa.st_size >= ma.datasetStart;
    for (off_t off = 0; same && off < sa.st_size - ma.datasetStart;) {
        ssize_t ra = pread(fa, buf, half, ma.datasetStart + off);
        ssize_t rb = pread(fb, buf + half, half, mb.datasetStart + off);
        if (ra <= 0 || ra != rb || memcmp(buf, buf + half, OFstatic_cast(size_t, ra)) != 0)
            same = false;
        else
            off += ra;
    }
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return same;
}

/* ------------------------------------------------------------------------
 * The stream a data set is received into */

/* Writes what DCMTK gives it to the temporary file (fd; -1: discards).
 * Its writes never fail towards DCMTK, which therefore always reads the
 * data set to its end: the first failed write is kept in error, and the
 * rest is discarded. Small writes (the meta information element by
 * element, small PDVs) are gathered in buf; large PDVs go straight to the
 * file. */
class FileSink : public DcmConsumer
{
public:
    FileSink(int fd, char *buf, size_t size) : fd_(fd), buf_(buf), size_(size), used_(0), error(0), bytes(0) {}
    virtual OFBool good() const { return OFTrue; }
    virtual OFCondition status() const { return EC_Normal; }
    virtual OFBool isFlushed() const { return used_ == 0; }
    virtual offile_off_t avail() const { return 2147483647L; }
    virtual offile_off_t write(const void *data, offile_off_t len)
    {
        size_t n = OFstatic_cast(size_t, len);
        if (fd_ < 0 || error != 0)
            return len;
        if (used_ + n > size_)
            flush();
        if (n <= size_ && error == 0) {
            memcpy(buf_ + used_, data, n);
            used_ += n;
        } else if (error == 0) {
            if (writeAll(fd_, OFstatic_cast(const char *, data), n))
                bytes += n;
            else
                error = errno;
        }
        return len;
    }
    virtual void flush()
    {
        if (used_ > 0 && fd_ >= 0 && error == 0) {
            if (writeAll(fd_, buf_, used_))
                bytes += used_;
            else
                error = errno;
        }
        used_ = 0;
    }
    /* From now on, reads and discards. */
    void discard()
    {
        fd_ = -1;
        used_ = 0;
    }

private:
    int fd_;
    char *buf_;
    size_t size_, used_;

public:
    int error;                /* errno of the first failed write; 0: none */
    unsigned long long bytes; /* written to the file */
};

/* DcmOutputStream's constructor is for its subclasses. */
class SinkStream : public DcmOutputStream
{
public:
    explicit SinkStream(DcmConsumer *consumer) : DcmOutputStream(consumer) {}
};

/* The file meta information (PS3.10 7.1) of a received object, as DCMTK's
 * own receive-to-file path writes it, preamble and "DICM" included. */
static OFCondition writeMetaInfo(DcmOutputStream &out, const T_DIMSE_C_StoreRQ &req, const char *transferSyntax,
                                 const char *callingAET)
{
    DcmMetaInfo meta;
    const Uint8 version[2] = {0, 1};
    OFCondition c = meta.putAndInsertUint32(DCM_FileMetaInformationGroupLength, 0);
    if (c.good())
        c = meta.putAndInsertUint8Array(DCM_FileMetaInformationVersion, version, 2);
    if (c.good())
        c = meta.putAndInsertString(DCM_MediaStorageSOPClassUID, req.AffectedSOPClassUID);
    if (c.good())
        c = meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID, req.AffectedSOPInstanceUID);
    if (c.good())
        c = meta.putAndInsertString(DCM_TransferSyntaxUID, transferSyntax);
    if (c.good())
        c = meta.putAndInsertString(DCM_ImplementationClassUID, OFFIS_IMPLEMENTATION_CLASS_UID);
    if (c.good())
        c = meta.putAndInsertString(DCM_ImplementationVersionName, OFFIS_DTK_IMPLEMENTATION_VERSION_NAME2);
    if (c.good() && callingAET && *callingAET)
        c = meta.putAndInsertString(DCM_SourceApplicationEntityTitle, callingAET);
    if (c.good())
        c = meta.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, META_HEADER_DEFAULT_TRANSFERSYNTAX,
                                              EET_UndefinedLength);
    if (c.good()) {
        meta.transferInit();
        c = meta.write(out, META_HEADER_DEFAULT_TRANSFERSYNTAX, EET_ExplicitLength, NULL);
        meta.transferEnd();
    }
    return c;
}

/* ------------------------------------------------------------------------
 * StoreSCP */

/* One object as received. */
struct StoreSCP::Received {
    const char *uidProblem; /* the request UID's, NULL if valid (nothing is written then) */
    OFString tmpName;
    bool created;     /* tmpName is ours to remove */
    int fd;           /* the temporary file, -1 if not open */
    const char *step; /* what failed, for the log */
    int error;        /* its errno; 0: nothing failed */
    unsigned long long bytes;
    DtpAuditObject audit; /* --audit: what the object is, as far as known */
    Received() : uidProblem(NULL), created(false), fd(-1), step(""), error(0), bytes(0) {}

    /* Closes and removes the temporary file. */
    void discard()
    {
        if (fd >= 0)
            close(fd);
        fd = -1;
        if (created)
            unlink(tmpName.c_str());
        created = false;
        clearInFlight();
    }
};

StoreSCP::StoreSCP(const OFString &outDir, OFBool doFsync)
    : stored(0), failed(0), bytes(0), outDir_(outDir), doFsync_(doFsync), assoc_(NULL), buffer_(new char[BUFFER_SIZE])
{
}

StoreSCP::~StoreSCP() { delete[] buffer_; }

/* One association per process. */
OFBool StoreSCP::stopAfterCurrentAssociation() { return OFTrue; }
OFBool StoreSCP::stopAfterConnectionTimeout() { return OFTrue; }

void StoreSCP::notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction)
{
    callingAE = params.DULparams.callingAPTitle;
    OFLOG_INFO(logger, "association request from " << params.DULparams.callingAPTitle << " at "
                                                    << params.DULparams.callingPresentationAddress);
    DcmSCP::notifyAssociationRequest(params, desiredAction);
}

OFCondition StoreSCP::handleIncomingCommand(T_DIMSE_Message *msg, const DcmPresentationContextInfo &info)
{
    if (msg->CommandField != DIMSE_C_STORE_RQ)
        return DcmSCP::handleIncomingCommand(msg, info); /* C-ECHO and refusals */
    T_DIMSE_C_StoreRQ &req = msg->msg.CStoreRQ;
    Received r;
    /* No client string becomes a path unchecked: the UID is the only part
     * of the name that comes from the client. */
    r.uidProblem = uidProblem(req.AffectedSOPInstanceUID);
    OFCondition cond = receive(req, info, r);
    if (dtpAuditEnabled()) {
        r.audit.sopClass = req.AffectedSOPClassUID;
        r.audit.sopInstance = req.AffectedSOPInstanceUID;
    }
    if (cond.bad()) {
        /* The association is over; completed objects stay. */
        r.discard();
        ++failed;
        OFLOG_ERROR(logger, "receiving " << req.AffectedSOPInstanceUID << " failed, object discarded: " << cond.text());
        if (dtpAuditEnabled())
            auditFailed.push_back(r.audit);
        return cond;
    }
    Uint16 status = storeReceived(req, r);
    if (status != STATUS_Success)
        ++failed;
    if (dtpAuditEnabled())
        (status == STATUS_Success ? auditStored : auditFailed).push_back(r.audit);
    return sendSTOREResponse(info.presentationContextID, req, status);
}

/* Receives the data set into the temporary file (none for a refused UID:
 * it is read and discarded); a write error is left in r. A bad condition
 * only when the association cannot go on. */
OFCondition StoreSCP::receive(T_DIMSE_C_StoreRQ &req, const DcmPresentationContextInfo &info, Received &r)
{
    if (assoc_ == NULL)
        return DIMSE_ILLEGALASSOCIATION;
    if (req.DataSetType == DIMSE_DATASET_NULL) {
        OFLOG_ERROR(logger, "C-STORE request for " << req.AffectedSOPInstanceUID << " without a data set");
        return DIMSE_BADMESSAGE;
    }
    if (!r.uidProblem) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, ".dtp-%ld-%lu.part", OFstatic_cast(long, getpid()), ++tempCounter);
        OFStandard::combineDirAndFilename(r.tmpName, outDir_, tmp, OFTrue);
        setInFlight(r.tmpName);
        r.fd = open(r.tmpName.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        r.created = r.fd >= 0;
        if (!r.created) {
            r.step = "create";
            r.error = errno;
            clearInFlight();
        }
    }
    FileSink sink(r.fd, buffer_, BUFFER_SIZE);
    SinkStream out(&sink);
    if (r.fd >= 0) {
        OFCondition c = writeMetaInfo(out, req, info.acceptedTransferSyntax.c_str(),
                                      assoc_->params->DULparams.callingAPTitle);
        if (c.bad()) {
            OFLOG_ERROR(logger, "cannot make the file meta information for " << req.AffectedSOPInstanceUID << ": "
                                                                              << c.text());
            r.step = "write";
            r.error = EINVAL;
            sink.discard();
        }
    }
    T_ASC_PresentationContextID presID = info.presentationContextID;
    OFCondition cond = DIMSE_receiveDataSetInFile(assoc_, getConfig().getDIMSEBlockingMode(),
                                                  OFstatic_cast(int, getConfig().getDIMSETimeout()), &presID, &out,
                                                  NULL, NULL);
    if (cond.good() && presID != info.presentationContextID)
        cond = makeDcmnetCondition(DIMSEC_INVALIDPRESENTATIONCONTEXTID, OF_error,
                                   "DIMSE: Presentation Contexts of Command and Data Set differ");
    sink.flush();
    r.bytes = sink.bytes;
    if (r.error == 0 && sink.error != 0) {
        r.step = "write";
        r.error = sink.error;
    }
    return cond;
}

/* As DcmSCP's, but the association stays at hand (assoc_) so that data
 * sets are received with FileSink: DcmThreadSCP::run() hands it to DcmSCP,
 * which negotiates and serves it. Then it is dropped (the connection
 * closed) here, as DcmSCP does; DcmSCP frees it when the StoreSCP is
 * deleted (one association per StoreSCP). */
OFCondition StoreSCP::waitForAssociationRQ(T_ASC_Network *network)
{
    if (network == NULL)
        return ASC_NULLKEY;
    if (assoc_ != NULL)
        return DIMSE_ILLEGALASSOCIATION;
    DcmSCPConfig &cfg = getConfig();
    T_ASC_Association *assoc = NULL;
    OFCondition cond = ASC_receiveAssociation(network, &assoc, cfg.getMaxReceivePDULength(), NULL, NULL,
                                              cfg.transportLayerEnabled(), cfg.getConnectionBlockingMode(),
                                              OFstatic_cast(int, cfg.getConnectionTimeout()));
    if (cond.good()) {
        assoc_ = assoc;
        cond = run(assoc);
        ASC_dropSCPAssociation(assoc);
        return cond;
    }
    if (cond == DUL_NOASSOCIATIONREQUEST)
        notifyConnectionTimeout();
    else {
        OFLOG_ERROR(logger, "could not receive association request: " << cond.text());
        cond = EC_Normal;
    }
    if (assoc) {
        ASC_dropSCPAssociation(assoc);
        ASC_destroyAssociation(&assoc);
    }
    return cond;
}

/* Checks and stores one received object; returns the C-STORE status. */
Uint16 StoreSCP::storeReceived(const T_DIMSE_C_StoreRQ &req, Received &r)
{
    const char *uid = req.AffectedSOPInstanceUID;
    if (r.uidProblem) {
        OFLOG_ERROR(logger, "refusing object with status 0xC000 (cannot understand): Affected SOP Instance UID \""
                                << uid << "\" of the request is not a valid UID: " << r.uidProblem);
        return STATUS_STORE_Error_CannotUnderstand;
    }
    OFString why;
    bool matches = r.error != 0 || datasetUidIs(r.tmpName, uid, why, dtpAuditEnabled() ? &r.audit : NULL);
    /* Durable before acknowledged: the file's data now, the directory
     * entry after the rename (unless --no-fsync). */
    if (r.error == 0 && matches && doFsync_ && fsync(r.fd) != 0) {
        r.step = "fsync";
        r.error = errno;
    }
    if (r.fd >= 0 && close(r.fd) != 0 && r.error == 0) {
        r.step = "close";
        r.error = errno;
    }
    r.fd = -1;
    if (r.error != 0) {
        OFLOG_ERROR(logger, "cannot store " << uid << " (status 0xA700, out of resources): " << r.step << " "
                                            << r.tmpName << ": " << strerror(r.error));
        r.discard();
        return STATUS_STORE_Refused_OutOfResources;
    }
    if (!matches) {
        OFLOG_ERROR(logger,
                    "refusing object " << uid << " with status 0xA900 (data set does not match SOP class): " << why);
        r.discard();
        return STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
    }

    const char *modality = dcmSOPClassUIDToModality(req.AffectedSOPClassUID, "UN");
    OFString finalName, placed;
    OFStandard::combineDirAndFilename(finalName, outDir_, OFString(modality) + "." + uid, OFTrue);
    Uint16 status = place(uid, r.tmpName, finalName, placed);
    r.created = false; /* moved or removed by place() */
    clearInFlight();
    if (status != STATUS_Success)
        return status;
    if (!syncDirectory(uid))
        return STATUS_STORE_Refused_OutOfResources;
    ++stored;
    if (!placed.empty()) {
        bytes += r.bytes;
        OFLOG_INFO(logger, "stored " << placed << " (" << r.bytes << " bytes)");
    }
    return STATUS_Success;
}

/* Moves tmpName to finalName, never replacing a stored file: if another
 * object holds the name, to finalName.dup-N (a UID collision, logged); if
 * the same object is already stored under one of these names, removes
 * tmpName and leaves placed empty. */
Uint16 StoreSCP::place(const char *uid, const OFString &tmpName, const OFString &finalName, OFString &placed)
{
    int err = EEXIST;
    for (unsigned n = 0; n < MAX_DUPS && err == EEXIST; n++) {
        placed = finalName;
        if (n > 0) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, ".dup-%u", n);
            placed += suffix;
        }
        if (renameNoReplace(tmpName.c_str(), placed.c_str()) == 0) {
            if (n > 0)
                OFLOG_WARN(logger, "UID collision: " << finalName << " exists with different content, object kept as "
                                                     << placed);
            return STATUS_Success;
        }
        err = errno;
        if (err == EEXIST && sameObject(tmpName, placed, buffer_, BUFFER_SIZE / 2)) {
            unlink(tmpName.c_str());
            /* acknowledged as stored: make sure it is (it may come from a
             * --no-fsync run, or from an association still storing it) */
            int fd = doFsync_ ? open(placed.c_str(), O_RDONLY | O_CLOEXEC) : -1;
            if (doFsync_ && (fd < 0 || fsync(fd) != 0)) {
                OFLOG_ERROR(logger, "cannot store " << uid << " (status 0xA700, out of resources): fsync " << placed
                                                    << ": " << strerror(errno));
                if (fd >= 0)
                    close(fd);
                return STATUS_STORE_Refused_OutOfResources;
            }
            if (fd >= 0)
                close(fd);
            OFLOG_INFO(logger, "already stored, identical: " << placed);
            placed.clear();
            return STATUS_Success;
        }
    }
    OFLOG_ERROR(logger, "cannot store " << uid << " (status 0xA700, out of resources): rename to " << placed << ": "
                                        << strerror(err));
    unlink(tmpName.c_str());
    return STATUS_STORE_Refused_OutOfResources;
}

/* fsyncs the output directory (unless --no-fsync). A failure leaves the
 * file in place but unacknowledged: a retry finds it identical. */
bool StoreSCP::syncDirectory(const char *uid)
{
    if (!doFsync_)
        return true;
    int fd = open(outDir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && fsync(fd) == 0) {
        close(fd);
        return true;
    }
    OFLOG_ERROR(logger, "cannot store " << uid << " (status 0xA700, out of resources): fsync " << outDir_ << ": "
                                        << strerror(errno));
    if (fd >= 0)
        close(fd);
    return false;
}

/* ------------------------------------------------------------------------
 * Clean-up of temporary files */

/* Removes the temporary files of outDir for which drop(pid) is true. */
static void sweep(const OFString &outDir, bool (*drop)(long pid, long arg), long arg, const char *what)
{
    DIR *d = opendir(outDir.c_str());
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (!isTempName(e->d_name, pid) || !drop(pid, arg))
            continue;
        OFString path;
        OFStandard::combineDirAndFilename(path, outDir, e->d_name, OFTrue);
        if (unlink(path.c_str()) == 0)
            OFLOG_WARN(logger, "removed " << what << " temporary file " << path);
        else if (errno != ENOENT)
            OFLOG_WARN(logger, "cannot remove " << what << " temporary file " << path << ": " << strerror(errno));
    }
    closedir(d);
}

static bool pidIs(long pid, long arg) { return pid == arg; }

/* Not running: no such process (EPERM: it runs as another user). */
static bool notRunning(long pid, long self)
{
    return pid != self && kill(OFstatic_cast(pid_t, pid), 0) != 0 && errno == ESRCH;
}

void dtpStoreSweepPid(const OFString &outDir, pid_t pid) { sweep(outDir, pidIs, pid, "killed association's"); }

void dtpStoreSweepStale(const OFString &outDir) { sweep(outDir, notRunning, getpid(), "stale"); }
