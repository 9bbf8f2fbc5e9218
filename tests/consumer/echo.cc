/* C-ECHO over a DICOM TLS profile: the few lines a DCMTK product adds. */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/scu.h"

#include "dtp/dcmtk_layer.h"

#include <cstdio>
#include <cstdlib>

class EchoSCU : public DcmSCU
{
public:
    using DcmSCU::useSecureConnection;
};

int main(int argc, char **argv)
{
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s PROFILE KEY CERT CA HOST PORT\n", argv[0]);
        return 1;
    }
    dtp_config cfg = {};
    cfg.profile = dtp_profile_find(argv[1], NULL);
    cfg.role = DTP_ROLE_CLIENT;
    cfg.key_file = argv[2];
    cfg.cert_file = argv[3];
    cfg.ca_file = argv[4];
    dtp_error err = {};
    dtp_ctx *ctx = dtp_ctx_new(&cfg, &err);
    if (!ctx) {
        char buf[1024];
        std::fprintf(stderr, "%s\n", dtp_error_format(&err, buf, sizeof buf));
        return 3;
    }
    DtpTransportLayer layer(ctx);

    EchoSCU scu;
    scu.setAETitle("DTP-CONSUMER");
    scu.setPeerAETitle("ANY-SCP");
    scu.setPeerHostName(argv[5]);
    scu.setPeerPort(static_cast<Uint16>(std::atoi(argv[6])));
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    scu.addPresentationContext(UID_VerificationSOPClass, ts);
    OFCondition cond = scu.initNetwork();
    if (cond.good())
        cond = scu.useSecureConnection(&layer);
    if (cond.good())
        cond = scu.negotiateAssociation();
    if (cond.good())
        cond = scu.sendECHORequest(0);
    if (cond.bad()) {
        std::fprintf(stderr, "echo failed: %s\n",
                     layer.hasError() ? layer.lastErrorText().c_str() : cond.text());
        return 4;
    }
    char line[512];
    std::printf("C-ECHO over TLS: %s\n", dtp_session_format(&layer.lastSession(), line, sizeof line));
    scu.releaseAssociation();
    return 0;
}
