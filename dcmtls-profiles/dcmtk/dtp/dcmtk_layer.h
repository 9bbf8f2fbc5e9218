/*
 * DCMTK adapter: a DcmTransportLayer whose connections run the C core
 * (dtp/dtp.h). Every decision about TLS, profiles and certificates is
 * made in C; these classes only forward.
 *
 *   dtp_ctx *ctx = dtp_ctx_new(&cfg, &err);        // profile + role + keys
 *   DtpTransportLayer layer(ctx);                    // takes ownership
 *   ASC_setTransportLayer(net, &layer, 0);           // or DcmSCU::useSecureConnection
 *   ...after a failed DCMTK call:
 *   layer.lastError()  -> reason code + detail of the first TLS failure
 */
#ifndef DTP_DCMTK_LAYER_H
#define DTP_DCMTK_LAYER_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/dcmlayer.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/ofstd/ofcond.h"

#include "dtp/dtp.h"

#include <vector>

/* OFCondition module number of this library (DCMTK leaves > 1023 to users). */
const unsigned short DTP_OFCONDITION_MODULE = 1195;

class DtpTransportLayer : public DcmTransportLayer
{
public:
    /* Takes ownership of ctx (freed in the destructor). */
    explicit DtpTransportLayer(dtp_ctx *ctx);
    virtual ~DtpTransportLayer();

    /* A TLS connection when useSecureLayer, a plain DCMTK TCP one otherwise. */
    virtual DcmTransportConnection *createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer);

    dtp_ctx *context() { return ctx_; }
    const dtp_ctx *context() const { return ctx_; }

    /* Client: the host name the peer is addressed by (as given to
     * ASC_setPresentationAddresses); connections created afterwards send
     * it as SNI when the profile says so and it is a DNS name (Q9). */
    void setPeerName(const char *host) { peerName_ = host ? host : ""; }

    /* The first failure since construction or clearLastError(): what an
     * application reports after DCMTK returns its own condition. */
    const dtp_error &lastError() const { return lastError_; }
    bool hasError() const { return lastError_.code != DTP_OK; }
    void clearLastError();
    /* The most recent successful handshake. */
    const dtp_session_info &lastSession() const { return lastSession_; }
    bool hasSession() const { return hasSession_; }
    /* The peer certificate (DER) of that handshake; empty if the peer sent
     * none. An SCP process serving one association reads its client's
     * here (dtp/peermap.h binds AE titles to it). */
    const std::vector<unsigned char> &lastPeerCertificate() const { return lastPeerCert_; }

    /* Called after each successful handshake, before any DICOM byte is
     * sent or read: DTP_OK goes on; any other reason (err filled) fails the
     * handshake as a TLS failure would, so the connection is closed and
     * lastError() says why. The SCU binds the called AE title to the
     * server certificate with it (dtp_peer_map_check). */
    typedef int (*HandshakeCheck)(void *user, const dtp_session_info &info, const std::vector<unsigned char> &peerCert,
                                  dtp_error &err);
    void setHandshakeCheck(HandshakeCheck fn, void *user)
    {
        check_ = fn;
        checkUser_ = user;
    }

    /* "A-P-ABORT, provider reason 202 NO_SHARED_SUITE: ... (detail)" */
    OFString lastErrorText() const;
    static OFCondition toCondition(const dtp_error &err);

    /* called by connections */
    void noteFailure(const dtp_error &err);
    /* Keeps info and the peer certificate; returns the handshake check's
     * verdict (DTP_OK without a check), err filled otherwise. */
    int noteSession(const dtp_session_info &info, dtp_conn *conn, dtp_error &err);

private:
    DtpTransportLayer(const DtpTransportLayer &);
    DtpTransportLayer &operator=(const DtpTransportLayer &);

    dtp_ctx *ctx_;
    OFString peerName_;
    dtp_error lastError_;
    dtp_session_info lastSession_;
    bool hasSession_;
    std::vector<unsigned char> lastPeerCert_;
    HandshakeCheck check_;
    void *checkUser_;
};

class DtpTransportConnection : public DcmTransportConnection
{
public:
    DtpTransportConnection(DtpTransportLayer &layer, DcmNativeSocketType sock, dtp_conn *conn);
    virtual ~DtpTransportConnection();

    virtual OFCondition serverSideHandshake();
    virtual OFCondition clientSideHandshake();
    virtual OFCondition renegotiate(const char *newSuite);
    virtual ssize_t read(void *buf, size_t nbyte);
    virtual ssize_t write(void *buf, size_t nbyte);
    virtual void close();
    virtual void closeTransportConnection();
    virtual unsigned long getPeerCertificateLength();
    virtual unsigned long getPeerCertificate(void *buf, unsigned long bufLen);
    virtual OFBool networkDataAvailable(int timeout);
    virtual OFBool isTransparentConnection();
    virtual OFString &dumpConnectionParameters(OFString &str);

private:
    DtpTransportConnection(const DtpTransportConnection &);
    DtpTransportConnection &operator=(const DtpTransportConnection &);
    OFCondition handshake();
    void noteIfFailed();

    DtpTransportLayer &layer_;
    dtp_conn *conn_;
};

#endif
