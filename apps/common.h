/* Shared by dtp-storescu and dtp-storescp: TLS options (DCMTK spellings
 * plus --profile and friends), printing from the library tables, exit codes. */
#ifndef DTP_APPS_COMMON_H
#define DTP_APPS_COMMON_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmtk/ofstd/ofcmdln.h"
#include "dcmtk/ofstd/ofconapp.h"
#include "dcmtk/ofstd/ofstring.h"
#include "dcmtk/ofstd/ofvector.h"
#include "dcmtk/dcmnet/assoc.h"

#include "dtp/dcmtk_layer.h"
#include "dtp/dtp.h"

/* --help layout, as DCMTK's own tools */
#define SHORTCOL 4
#define LONGCOL 21

/* Exit codes, documented in --help and the README. */
enum {
    DTP_EXIT_OK = 0,
    DTP_EXIT_USAGE = 1,       /* command line syntax (as DCMTK's tools) */
    DTP_EXIT_INPUT = 2,       /* no or unreadable input files / output directory */
    DTP_EXIT_TLS_CONFIG = 3,  /* local TLS configuration: reason 1xx */
    DTP_EXIT_TLS_REFUSED = 4, /* TLS handshake or profile refusal: reason 2xx */
    DTP_EXIT_REJECTED = 5,    /* association rejected / no presentation context */
    DTP_EXIT_TRANSFER = 6,    /* association aborted (reason 3xx) or objects not stored */
    DTP_EXIT_NETWORK = 7,     /* TCP connect failed, no TLS involved */
    DTP_EXIT_LISTEN = 8       /* SCP cannot listen on the address/port */
};

/* Process defaults of both apps, called first in main():
 * - TCP_NODELAY on (DCMTK 3.6.7 leaves Nagle on unless the TCP_NODELAY
 *   environment variable says otherwise, and small PDUs then wait for
 *   delayed ACKs); an explicit TCP_NODELAY=0 in the environment wins.
 * - one write(2) per log line: the SCP's association processes share
 *   stderr, and DCMTK's logger writes a line in four pieces otherwise.
 * - SIGPIPE ignored (DCMTK's plain TCP connections write with send(2)). */
void dtpAppDefaults();

/* Maps a reason code to the exit code above. */
int dtpExitCodeForReason(int code);

/* -h, --version, --list-profiles, --print-conformance, DCMTK's log options. */
void dtpAddGeneralOptions(OFCommandLine &cmd);
/* Parses argv: returns -1 to go on, or the code to exit with (syntax
 * error, or an exclusive option such as --help or --list-profiles done). */
int dtpParseCommandLine(OFConsoleApplication &app, OFCommandLine &cmd, int argc, char *argv[], const char *name);

/* -ts, -ta, -td, -pdu as in storescu/storescp. */
struct DtpAssocOptions {
    OFCmdUnsignedInt maxPDU;
    OFCmdSignedInt acseTimeout, dimseTimeout; /* dimseTimeout 0: blocking */
    OFCmdSignedInt socketTimeout;             /* -ts, 0: none */
    DtpAssocOptions();
};
void dtpAddAssocOptions(OFCommandLine &cmd);
void dtpParseAssocOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpAssocOptions &opt);

struct DtpTlsOptions {
    OFBool enabled;
    const char *keyFile, *certFile;
    OFString profileKey;
    const char *caFile, *caDir, *crlFile, *dhFile;
    const char *passwordSpec; /* file:..., env:..., pass:... */
    int verify;
    OFBool relaxKeySizes;
    OFBool allowNoEms;
    int handshakeTimeoutMs;
    const char *backend; /* --tls-backend, NULL: the library's default */
    const char *keylogFile;
    const char *sessionFile;
    const char *ticketKeyFile; /* server: --ticket-key-file, shared session-ticket keys (R37) */
    /* +cs/--cipher, repeatable: only these suites of the profile (IANA
     * names); NULL-terminated, empty: all of them. */
    OFVector<const char *> suites;
    DtpTlsOptions();
};

/* Adds the TLS option groups to cmd (DCMTK spellings: +tls, +cf, +cd,
 * -rc/-vc/-ic, +dp, +crl, +px/+py/+pz, +pw ...; plus --profile etc.). */
void dtpAddTlsOptions(OFCommandLine &cmd, OFBool server);
/* Reads the TLS options; on a bad profile name prints the reason and
 * exits with DTP_EXIT_TLS_CONFIG. */
void dtpParseTlsOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpTlsOptions &opt);

/* Builds the library context for opt; on failure prints the reason and
 * exits with DTP_EXIT_TLS_CONFIG. Returns NULL when TLS is disabled. */
DtpTransportLayer *dtpCreateLayer(const DtpTlsOptions &opt, int role, OFLogger &log);
/* The same for opt.enabled, without exiting: NULL with err set on failure
 * (a reload keeps its old contexts then). */
DtpTransportLayer *dtpTryCreateLayer(const DtpTlsOptions &opt, int role, OFLogger &log, dtp_error &err);

/* Prints "E: <what>: reason <code> <NAME>: <message> (<detail>)" and the
 * suggested action. */
void dtpReportError(OFLogger &log, const char *what, const dtp_error &err);

void dtpPrintProfiles(STD_NAMESPACE ostream &out);
/* "bcp195, bcp195-nd, ...": the keys of the profile table, in order. */
OFString dtpProfileKeys();
/* "openssl, gnutls": the TLS backends built in, the default first. */
OFString dtpBackendNames();
void dtpPrintConformance(STD_NAMESPACE ostream &out, const char *app);

/* For its scope, dcmdata logs errors only (unless debug output is on): it
 * warns each time loadFileUntilTag() stops early, which is what is asked
 * when a file is read only up to a tag. */
class DtpQuietDcmdata
{
public:
    DtpQuietDcmdata()
        : log_(OFLog::getLogger("dcmtk.dcmdata")), level_(log_.getLogLevel()),
          quiet_(!log_.isEnabledFor(OFLogger::DEBUG_LOG_LEVEL))
    {
        if (quiet_)
            log_.setLogLevel(OFLogger::ERROR_LOG_LEVEL);
    }
    ~DtpQuietDcmdata()
    {
        if (quiet_)
            log_.setLogLevel(level_);
    }

private:
    OFLogger log_;
    dcmtk::log4cplus::LogLevel level_;
    bool quiet_;
};

#endif
