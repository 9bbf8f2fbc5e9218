/* DCMTK adapter: forwards each call to the C core in a few lines. */
#include "dtp/dcmtk_layer.h"

#include <string.h>
#include <unistd.h>

DtpTransportLayer::DtpTransportLayer(dtp_ctx *ctx) : ctx_(ctx), hasSession_(false), check_(NULL), checkUser_(NULL)
{
    clearLastError();
    memset(&lastSession_, 0, sizeof lastSession_);
}

DtpTransportLayer::~DtpTransportLayer() { dtp_ctx_free(ctx_); }

void DtpTransportLayer::clearLastError() { memset(&lastError_, 0, sizeof lastError_); }

void DtpTransportLayer::noteFailure(const dtp_error &err)
{
    if (lastError_.code == DTP_OK && err.code != DTP_OK)
        lastError_ = err;
}

int DtpTransportLayer::noteSession(const dtp_session_info &info, dtp_conn *conn, dtp_error &err)
{
    lastSession_ = info;
    hasSession_ = true;
    lastPeerCert_.assign(dtp_conn_peer_cert_der(conn, NULL, 0), 0);
    if (!lastPeerCert_.empty() &&
        dtp_conn_peer_cert_der(conn, &lastPeerCert_[0], lastPeerCert_.size()) != lastPeerCert_.size())
        lastPeerCert_.clear();
    memset(&err, 0, sizeof err);
    return check_ ? check_(checkUser_, info, lastPeerCert_, err) : DTP_OK;
}

OFString DtpTransportLayer::lastErrorText() const
{
    char buf[1024];
    return OFString(dtp_error_format(&lastError_, buf, sizeof buf));
}

OFCondition DtpTransportLayer::toCondition(const dtp_error &err)
{
    if (err.code == DTP_OK)
        return EC_Normal;
    char buf[1024];
    return makeOFCondition(DTP_OFCONDITION_MODULE, OFstatic_cast(unsigned short, err.code), OF_error,
                           dtp_error_format(&err, buf, sizeof buf));
}

DcmTransportConnection *DtpTransportLayer::createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer)
{
    if (!useSecureLayer)
        return new DcmTCPConnection(openSocket);
    dtp_error err;
    memset(&err, 0, sizeof err);
    dtp_conn *conn = dtp_conn_new(ctx_, openSocket, &err);
    if (!conn) {
        noteFailure(err);
        return NULL;
    }
    if (!peerName_.empty() && dtp_conn_set_peer_name(conn, peerName_.c_str()) != DTP_OK) {
        noteFailure(*dtp_conn_error(conn));
        dtp_conn_free(conn);
        return NULL;
    }
    return new DtpTransportConnection(*this, openSocket, conn);
}

DtpTransportConnection::DtpTransportConnection(DtpTransportLayer &layer, DcmNativeSocketType sock, dtp_conn *conn)
    : DcmTransportConnection(sock), layer_(layer), conn_(conn)
{
    /* DCMTK writes each P-DATA PDU as a 12-byte header and a body. */
    dtp_conn_set_coalesce(conn_, true);
}

DtpTransportConnection::~DtpTransportConnection()
{
    close();
    dtp_conn_free(conn_);
}

void DtpTransportConnection::noteIfFailed()
{
    const dtp_error *err = dtp_conn_error(conn_);
    if (err && err->code != DTP_OK)
        layer_.noteFailure(*err);
}

OFCondition DtpTransportConnection::handshake()
{
    if (dtp_conn_handshake(conn_) != DTP_OK) {
        noteIfFailed();
        return DtpTransportLayer::toCondition(*dtp_conn_error(conn_));
    }
    dtp_error refused;
    if (layer_.noteSession(*dtp_conn_info(conn_), conn_, refused) != DTP_OK) {
        layer_.noteFailure(refused);
        return DtpTransportLayer::toCondition(refused);
    }
    return EC_Normal;
}

OFCondition DtpTransportConnection::serverSideHandshake() { return handshake(); }
OFCondition DtpTransportConnection::clientSideHandshake() { return handshake(); }

OFCondition DtpTransportConnection::renegotiate(const char *)
{
    /* A profile is fixed per port (C9); changing suites mid-association is
     * not offered. */
    return makeOFCondition(DTP_OFCONDITION_MODULE, 1, OF_error, "renegotiation is not supported by dcmtls-profiles");
}

ssize_t DtpTransportConnection::read(void *buf, size_t nbyte)
{
    ssize_t n = dtp_conn_read(conn_, buf, nbyte);
    if (n < 0)
        noteIfFailed();
    return n;
}

ssize_t DtpTransportConnection::write(void *buf, size_t nbyte)
{
    ssize_t n = dtp_conn_write(conn_, buf, nbyte);
    if (n < 0)
        noteIfFailed();
    return n;
}

void DtpTransportConnection::close()
{
    dtp_conn_close_notify(conn_);
    closeTransportConnection();
}

void DtpTransportConnection::closeTransportConnection()
{
    if (getSocket() != OFstatic_cast(DcmNativeSocketType, -1)) {
        ::close(getSocket());
        setSocket(OFstatic_cast(DcmNativeSocketType, -1));
    }
}

unsigned long DtpTransportConnection::getPeerCertificateLength()
{
    return OFstatic_cast(unsigned long, dtp_conn_peer_cert_der(conn_, NULL, 0));
}

unsigned long DtpTransportConnection::getPeerCertificate(void *buf, unsigned long bufLen)
{
    return OFstatic_cast(unsigned long, dtp_conn_peer_cert_der(conn_, buf, bufLen));
}

OFBool DtpTransportConnection::networkDataAvailable(int timeout)
{
    /* Bytes already decrypted inside TLS count as available (select()
     * on the socket alone would miss them and stall the association). */
    return dtp_conn_wait_readable(conn_, timeout < 0 ? -1 : timeout * 1000) ? OFTrue : OFFalse;
}

OFBool DtpTransportConnection::isTransparentConnection() { return OFFalse; }

OFString &DtpTransportConnection::dumpConnectionParameters(OFString &str)
{
    char line[512];
    str = "Transport connection: TLS (dcmtls-profiles, profile ";
    str += dtp_ctx_profile(layer_.context())->key;
    str += "): ";
    str += dtp_session_format(dtp_conn_info(conn_), line, sizeof line);
    return str;
}
