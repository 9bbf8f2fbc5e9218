/* TLS options and table printing shared by the two apps. */
#include "common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcmtk/dcmdata/cmdlnarg.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/ofstd/ofstream.h"

DtpTlsOptions::DtpTlsOptions()
    : enabled(OFFalse), keyFile(NULL), certFile(NULL), profileKey("bcp195-8996"), caFile(NULL), caDir(NULL),
      crlFile(NULL), dhFile(NULL), passwordSpec(NULL), verify(DTP_VERIFY_REQUIRE), relaxKeySizes(OFFalse), allowNoEms(OFFalse),
      handshakeTimeoutMs(15000), backend(NULL), keylogFile(NULL), sessionFile(NULL),
      ticketKeyFile(NULL)
{
}

void dtpAppDefaults()
{
    setenv("TCP_NODELAY", "1", 0);
    static char logBuffer[16384], outBuffer[16384];
    setvbuf(stderr, logBuffer, _IOLBF, sizeof logBuffer);
    setvbuf(stdout, outBuffer, _IOLBF, sizeof outBuffer);
    STD_NAMESPACE cerr.unsetf(STD_NAMESPACE ios_base::unitbuf);
    signal(SIGPIPE, SIG_IGN);
}

int dtpExitCodeForReason(int code)
{
    const dtp_reason *r = dtp_reason_by_code(code);
    if (!r)
        return DTP_EXIT_TRANSFER;
    if (strcmp(r->category, "config") == 0)
        return DTP_EXIT_TLS_CONFIG;
    if (strcmp(r->category, "handshake") == 0)
        return DTP_EXIT_TLS_REFUSED;
    if (strcmp(r->category, "association") == 0) /* peer map (4xx): refused before any object */
        return DTP_EXIT_REJECTED;
    return DTP_EXIT_TRANSFER;
}

void dtpAddGeneralOptions(OFCommandLine &cmd)
{
    cmd.setOptionColumns(LONGCOL, SHORTCOL);
    cmd.addGroup("general options:", LONGCOL, SHORTCOL + 2);
    cmd.addOption("--help", "-h", "print this help text and exit", OFCommandLine::AF_Exclusive);
    cmd.addOption("--version", "print version information and exit", OFCommandLine::AF_Exclusive);
    cmd.addOption("--list-profiles", "list the TLS profiles, their suites and what\nthis build offers, and exit",
                  OFCommandLine::AF_Exclusive);
    cmd.addOption("--print-conformance", "print the TLS part of a DICOM Conformance\nStatement and exit",
                  OFCommandLine::AF_Exclusive);
    OFLog::addOptions(cmd);
}

int dtpParseCommandLine(OFConsoleApplication &app, OFCommandLine &cmd, int argc, char *argv[], const char *name)
{
    prepareCmdLineArgs(argc, argv, name);
    if (!app.parseCommandLine(cmd, argc, argv))
        return DTP_EXIT_USAGE;
    if (cmd.hasExclusiveOption()) {
        if (cmd.findOption("--version")) {
            app.printHeader(OFTrue);
            return DTP_EXIT_OK;
        }
        if (cmd.findOption("--list-profiles")) {
            dtpPrintProfiles(COUT);
            return DTP_EXIT_OK;
        }
        if (cmd.findOption("--print-conformance")) {
            dtpPrintConformance(COUT, name);
            return DTP_EXIT_OK;
        }
    }
    OFLog::configureFromCommandLine(cmd, app);
    return -1;
}

DtpAssocOptions::DtpAssocOptions() : maxPDU(ASC_MAXIMUMPDUSIZE), acseTimeout(30), dimseTimeout(0), socketTimeout(60) {}

void dtpAddAssocOptions(OFCommandLine &cmd)
{
    cmd.addOption("--socket-timeout", "-ts", 1, "[s]econds: integer (default: 60)",
                  "timeout for network socket (0 for none); a TLS\nsession that stalls this long is aborted (TIMEOUT)");
    cmd.addOption("--acse-timeout", "-ta", 1, "[s]econds: integer (default: 30)", "timeout for ACSE messages");
    cmd.addOption("--dimse-timeout", "-td", 1, "[s]econds: integer (default: unlimited)", "timeout for DIMSE messages");
    cmd.addOption("--max-pdu", "-pdu", 1, "[n]umber of bytes: integer (4096..131072)",
                  "set max receive pdu to n bytes (default: 131072,\nthe largest DCMTK offers; fewer, larger records)");
}

void dtpParseAssocOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpAssocOptions &opt)
{
    if (cmd.findOption("--socket-timeout"))
        app.checkValue(cmd.getValueAndCheckMin(opt.socketTimeout, 0));
    /* DCMTK applies these to every socket it opens or accepts (SO_RCVTIMEO,
     * SO_SNDTIMEO); the TLS layer maps their expiry to reason TIMEOUT. */
    dcmSocketReceiveTimeout.set(OFstatic_cast(Sint32, opt.socketTimeout));
    dcmSocketSendTimeout.set(OFstatic_cast(Sint32, opt.socketTimeout));
    if (cmd.findOption("--acse-timeout"))
        app.checkValue(cmd.getValueAndCheckMin(opt.acseTimeout, 1));
    if (cmd.findOption("--dimse-timeout"))
        app.checkValue(cmd.getValueAndCheckMin(opt.dimseTimeout, 1));
    if (cmd.findOption("--max-pdu"))
        app.checkValue(cmd.getValueAndCheckMinMax(opt.maxPDU, ASC_MINIMUMPDUSIZE, ASC_MAXIMUMPDUSIZE));
}

void dtpAddTlsOptions(OFCommandLine &cmd, OFBool server)
{
    cmd.addGroup("transport layer security (TLS) options:");
    cmd.addSubGroup("transport protocol stack:");
    cmd.addOption("--disable-tls", "-tls", "use normal TCP/IP connection (default)");
    cmd.addOption("--enable-tls", "+tls", 2, "[p]rivate key file, [c]ertificate file: string",
                  "use authenticated secure TLS connection");
    if (!server)
        cmd.addOption("--anonymous-tls", "+tla", "use secure TLS connection without certificate");
    cmd.addSubGroup("security profile (one per port, C9):");
    cmd.addOption("--profile", 1, "[k]ey: string (default: bcp195-8996)",
                  (OFString("TLS profile (implies TLS; see --list-profiles):\n") + dtpProfileKeys()).c_str());
    /* DCMTK's spellings, from the table (dcmtk_option, dcmtk_long_option). */
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const dtp_profile *p = dtp_profile_at(i);
        if (p->dcmtk_option)
            cmd.addOption(p->dcmtk_long_option, p->dcmtk_option,
                          (OFString("same as --profile ") + p->key + " (DCMTK spelling)").c_str());
    }
    cmd.addOption("--profile-aes", "+pa", "retired AES profile: refused (Sup 204)");
    cmd.addOption("--profile-null", "+pn", "retired NULL profile: refused");
    cmd.addSubGroup("private key password:");
    cmd.addOption("--key-password-file", 1, "[f]ilename: string", "read the key password from the first line of f");
    cmd.addOption("--key-password-env", 1, "[v]ariable: string", "read the key password from environment variable v");
    cmd.addOption("--use-passwd", "+pw", 1, "[p]assword: string",
                  "use specified password (visible to other users:\nprefer --key-password-file)");
    cmd.addOption("--null-passwd", "-pw", "use empty string as password");
    cmd.addOption("--pem-keys", "-pem", "read keys and certificates as PEM file (default, only)");
    cmd.addSubGroup("certification authority:");
    cmd.addOption("--add-cert-file", "+cf", 1, "[f]ilename: string", "trusted CA certificate(s) (PEM)");
    cmd.addOption("--add-cert-dir", "+cd", 1, "[d]irectory: string", "trusted CA certificates in hashed directory d");
    cmd.addOption("--add-crl-file", "+crl", 1, "[f]ilename: string", "certificate revocation list (PEM)");
    cmd.addOption("--crl", 1, "[f]ilename: string", "same as +crl");
    cmd.addSubGroup("peer authentication:");
    cmd.addOption("--require-peer-cert", "-rc", "verify peer certificate, fail if absent (default)");
    cmd.addOption("--peer-cert-required", "+rc", "same as -rc");
    if (server) {
        cmd.addOption("--verify-peer-cert", "-vc", "verify peer certificate if present");
        cmd.addOption("--peer-cert-verified", "+vc", "same as -vc");
    }
    cmd.addOption("--ignore-peer-cert", "-ic", "don't verify peer certificate (logged as a warning)");
    cmd.addOption("--relax-key-sizes", "accept keys below the profile's RFC 7525 \"should\"\nsizes (bcp195 only, B5; logged)");
    cmd.addOption("--allow-no-ems", "accept TLS 1.2 peers without the extended master\nsecret (RFC 7627), which B.12/B.13 refuse (R36;\nlogged)");
    if (server)
        cmd.addOption("--dhparam", "+dp", 1, "[f]ilename: string",
                      "DH parameters (default: RFC 7919 ffdhe group of\nthe profile minimum)");
    cmd.addOption("--tls-backend", 1, "[n]ame: string (default: openssl)",
                  (OFString("TLS library: ") + dtpBackendNames() + " (see --list-profiles\nfor the suites each one has)").c_str());
    cmd.addSubGroup("ciphersuite:");
    cmd.addOption("--cipher", "+cs", 1, "[c]iphersuite name: string",
                  "use only this suite of the profile (IANA name,\nrepeatable; narrows the profile, never widens it)");
    cmd.addOption("--handshake-timeout", 1, "[s]econds: integer (default: 15)", "abort a TLS handshake after s seconds");
    cmd.addOption("--keylog", 1, "[f]ilename: string", "append TLS session keys to f (debugging only)");
    if (!server)
        cmd.addOption("--session-file", 1, "[f]ilename: string",
                      "resume TLS sessions across runs: keep the session\nticket in f (mode 0600; holds session secrets)");
    if (server)
        cmd.addOption("--ticket-key-file", 1, "[f]ilename: string",
                      "session-ticket keys shared by several nodes (R37):\nmode 0600, one line of 64 hex digits per key\n"
                      "(openssl rand -hex 32), the first one encrypts");
}

OFString dtpBackendNames()
{
    OFString names;
    for (size_t i = 0; i < dtp_backend_count(); i++)
        names += OFString(i ? ", " : "") + dtp_backend_name(i);
    return names;
}

OFString dtpProfileKeys()
{
    OFString keys;
    for (size_t i = 0; i < dtp_profile_count(); i++)
        keys += OFString(i ? ", " : "") + dtp_profile_at(i)->key;
    return keys;
}

/* The profile named on the command line: --profile KEY, a DCMTK spelling
 * of the table, or a retired one; NULL if none. Counts how many were given. */
static const char *profileFromOptions(OFConsoleApplication &app, OFCommandLine &cmd, int &given)
{
    const char *key = NULL;
    given = 0;
    if (cmd.findOption("--profile")) {
        app.checkValue(cmd.getValue(key));
        given++;
    }
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const dtp_profile *p = dtp_profile_at(i);
        if (p->dcmtk_long_option && cmd.findOption(p->dcmtk_long_option)) {
            key = p->key;
            given++;
        }
    }
    if (cmd.findOption("--profile-aes")) {
        key = "aes";
        given++;
    }
    if (cmd.findOption("--profile-null")) {
        key = "null";
        given++;
    }
    return key;
}

static void dieWithReason(int code, const char *detail)
{
    dtp_error err;
    err.code = code;
    OFStandard::strlcpy(err.detail, detail, sizeof err.detail);
    char buf[1024];
    CERR << "E: " << dtp_error_format(&err, buf, sizeof buf) << OFendl;
    const dtp_reason *r = dtp_reason_by_code(code);
    if (r)
        CERR << "E: what to do: " << r->action << OFendl;
    exit(dtpExitCodeForReason(code));
}

void dtpParseTlsOptions(OFConsoleApplication &app, OFCommandLine &cmd, DtpTlsOptions &opt)
{
    int given = 0;
    const char *key = profileFromOptions(app, cmd, given);
    if (given > 1)
        app.printError("give one TLS profile (--profile KEY or one DCMTK spelling such as +pg, +pm, +py)");
    bool profileGiven = given > 0;
    if (key)
        opt.profileKey = key;

    int reason = DTP_OK;
    if (!dtp_profile_find(opt.profileKey.c_str(), &reason)) {
        OFString detail = "'" + opt.profileKey + "'";
        const dtp_retired_profile *ret = dtp_retired_profile_find(opt.profileKey.c_str());
        if (ret)
            detail += OFString(" is the ") + ret->title + ": " + ret->why;
        else
            detail += ": known profiles are " + dtpProfileKeys();
        dieWithReason(reason, detail.c_str());
    }

    cmd.beginOptionBlock();
    if (cmd.findOption("--disable-tls"))
        opt.enabled = OFFalse;
    if (cmd.findOption("--enable-tls")) {
        opt.enabled = OFTrue;
        app.checkValue(cmd.getValue(opt.keyFile));
        app.checkValue(cmd.getValue(opt.certFile));
    }
    if (cmd.findOption("--anonymous-tls"))
        opt.enabled = OFTrue;
    cmd.endOptionBlock();
    if (profileGiven && !cmd.findOption("--disable-tls"))
        opt.enabled = OFTrue;

    /* The password source, kept as "file:", "env:" or "pass:" spec. */
    static const struct {
        const char *option, *prefix;
    } passwordOptions[] = {
        {"--key-password-file", "file:"}, {"--key-password-env", "env:"}, {"--use-passwd", "pass:"}};
    static OFString passwordSpec;
    for (size_t i = 0; i < sizeof passwordOptions / sizeof passwordOptions[0]; i++)
        if (cmd.findOption(passwordOptions[i].option)) {
            const char *v;
            app.checkValue(cmd.getValue(v));
            passwordSpec = OFString(passwordOptions[i].prefix) + v;
            opt.passwordSpec = passwordSpec.c_str();
        }
    if (cmd.findOption("--null-passwd"))
        opt.passwordSpec = "pass:";
    if (cmd.findOption("--add-cert-file"))
        app.checkValue(cmd.getValue(opt.caFile));
    if (cmd.findOption("--add-cert-dir"))
        app.checkValue(cmd.getValue(opt.caDir));
    if (cmd.findOption("--add-crl-file"))
        app.checkValue(cmd.getValue(opt.crlFile));
    if (cmd.findOption("--crl"))
        app.checkValue(cmd.getValue(opt.crlFile));
    if (cmd.findOption("--dhparam"))
        app.checkValue(cmd.getValue(opt.dhFile));

    cmd.beginOptionBlock();
    if (cmd.findOption("--require-peer-cert") || cmd.findOption("--peer-cert-required"))
        opt.verify = DTP_VERIFY_REQUIRE;
    if (cmd.findOption("--verify-peer-cert") || cmd.findOption("--peer-cert-verified"))
        opt.verify = DTP_VERIFY_IF_PRESENT;
    if (cmd.findOption("--ignore-peer-cert"))
        opt.verify = DTP_VERIFY_IGNORE;
    cmd.endOptionBlock();
    if (cmd.findOption("--relax-key-sizes"))
        opt.relaxKeySizes = OFTrue;
    if (cmd.findOption("--allow-no-ems"))
        opt.allowNoEms = OFTrue;
    if (cmd.findOption("--handshake-timeout")) {
        OFCmdSignedInt s;
        app.checkValue(cmd.getValueAndCheckMinMax(s, 1, 3600));
        opt.handshakeTimeoutMs = OFstatic_cast(int, s) * 1000;
    }
    if (cmd.findOption("--tls-backend"))
        app.checkValue(cmd.getValue(opt.backend));
    if (cmd.findOption("--keylog"))
        app.checkValue(cmd.getValue(opt.keylogFile));
    if (cmd.findOption("--session-file"))
        app.checkValue(cmd.getValue(opt.sessionFile));
    if (cmd.findOption("--ticket-key-file"))
        app.checkValue(cmd.getValue(opt.ticketKeyFile));
    if (cmd.findOption("--cipher", 0, OFCommandLine::FOM_FirstFromLeft)) {
        do {
            const char *name;
            app.checkValue(cmd.getValue(name));
            opt.suites.push_back(name);
        } while (cmd.findOption("--cipher", 0, OFCommandLine::FOM_NextFromLeft));
        opt.suites.push_back(NULL);
    }
}

static void logCallback(void *user, int level, const char *message)
{
    OFLogger &log = *OFstatic_cast(OFLogger *, user);
    if (level <= DTP_LOG_ERROR)
        OFLOG_ERROR(log, message);
    else if (level == DTP_LOG_WARN)
        OFLOG_WARN(log, message);
    else if (level == DTP_LOG_INFO)
        OFLOG_INFO(log, message);
    else
        OFLOG_DEBUG(log, message);
}

void dtpReportError(OFLogger &log, const char *what, const dtp_error &err)
{
    char buf[1024];
    OFLOG_ERROR(log, what << ": " << dtp_error_format(&err, buf, sizeof buf));
    const dtp_reason *r = dtp_reason_by_code(err.code);
    if (r)
        OFLOG_ERROR(log, "what to do: " << r->action);
}

DtpTransportLayer *dtpCreateLayer(const DtpTlsOptions &opt, int role, OFLogger &log)
{
    if (!opt.enabled)
        return NULL;
    dtp_error err;
    DtpTransportLayer *layer = dtpTryCreateLayer(opt, role, log, err);
    if (!layer) {
        dtpReportError(log, "TLS configuration", err);
        exit(DTP_EXIT_TLS_CONFIG);
    }
    return layer;
}

DtpTransportLayer *dtpTryCreateLayer(const DtpTlsOptions &opt, int role, OFLogger &log, dtp_error &err)
{
    memset(&err, 0, sizeof err);
    char password[1024] = "";
    if (opt.passwordSpec && dtp_read_password(opt.passwordSpec, password, sizeof password, &err) != DTP_OK)
        return NULL;
    if (opt.passwordSpec && strncmp(opt.passwordSpec, "pass:", 5) == 0 && password[0])
        OFLOG_WARN(log, "key password given on the command line (+pw) is visible to other users");

    dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = dtp_profile_find(opt.profileKey.c_str(), NULL);
    cfg.role = role;
    cfg.cert_file = opt.certFile;
    cfg.key_file = opt.keyFile;
    cfg.key_password = opt.passwordSpec ? password : NULL;
    cfg.ca_file = opt.caFile;
    cfg.ca_dir = opt.caDir;
    cfg.crl_file = opt.crlFile;
    cfg.dh_file = opt.dhFile;
    cfg.verify = opt.verify;
    cfg.relax_key_sizes = opt.relaxKeySizes != OFFalse;
    cfg.allow_no_ems = opt.allowNoEms != OFFalse;
    cfg.handshake_timeout_ms = opt.handshakeTimeoutMs;
    cfg.backend = opt.backend;
    cfg.keylog_file = opt.keylogFile;
    cfg.session_file = opt.sessionFile;
    cfg.ticket_key_file = opt.ticketKeyFile;
    cfg.suites = opt.suites.empty() ? NULL : &opt.suites[0];
    cfg.log = logCallback;
    cfg.log_user = &log;
    dtp_ctx *ctx = dtp_ctx_new(&cfg, &err);
    memset(password, 0, sizeof password);
    return ctx ? new DtpTransportLayer(ctx) : NULL;
}

/* ---- printing from the tables ---------------------------------------- */

static void printSuites(STD_NAMESPACE ostream &out, const char *label, const char *const *suites)
{
    if (!suites) {
        out << "    " << label << ": none" << OFendl;
        return;
    }
    out << "    " << label << ":" << OFendl;
    for (size_t i = 0; suites[i]; i++) {
        out << "      " << suites[i]
            << (dtp_suite_available(suites[i]) ? "" : "  [not available with this backend (OpenSSL)]");
        /* The other backends built in, where they differ from the default. */
        for (size_t b = 1; b < dtp_backend_count(); b++)
            if (dtp_backend_suite_available(dtp_backend_name(b), suites[i]) != dtp_suite_available(suites[i]))
                out << "  {" << dtp_backend_name(b)
                    << (dtp_backend_suite_available(dtp_backend_name(b), suites[i]) ? ": available}" : ": not offered}");
        out << OFendl;
    }
}

static OFString joined(const char *const *names, const char *sep)
{
    OFString s;
    for (size_t i = 0; names && names[i]; i++)
        s += OFString(i ? sep : "") + names[i];
    return s;
}

/* R23: "X first, then as above" when the client order is the server's
 * with one suite moved to the front, the whole list otherwise. */
static OFString clientOrder(const dtp_profile *p)
{
    const char *const *c = p->tls12_client_order, *const *s = p->tls12_suites;
    size_t ci = 1;
    for (size_t si = 0; s[si]; si++) {
        if (strcmp(s[si], c[0]) == 0)
            continue;
        if (!c[ci] || strcmp(c[ci], s[si]) != 0)
            return joined(c, " ");
        ci++;
    }
    return OFString(c[0]) + " first, then as above";
}

static void printProfile(STD_NAMESPACE ostream &out, const dtp_profile *p)
{
    out << "  " << p->key << ": " << p->title << " (" << p->reference << ")" << OFendl;
    if (p->dcmtk_option)
        out << "    DCMTK spelling: " << p->dcmtk_option << ", " << p->dcmtk_long_option << OFendl;
    out << "    versions: " << dtp_tls_version_name(p->min_version) << " to " << dtp_tls_version_name(p->max_version)
        << (p->may_downgrade ? " (downgrading: below TLSv1.2 or a fallback suite is flagged)" : " (non-downgrading)")
        << OFendl;
    printSuites(out, "TLS 1.2 suites", p->tls12_suites);
    if (p->tls12_client_order)
        out << "    client offer order: " << clientOrder(p) << OFendl;
    if (p->fallback_suites)
        printSuites(out, "fallback suites (downgraded, B2)", p->fallback_suites);
    printSuites(out, "TLS 1.3 suites", p->tls13_suites);
    out << "    groups: " << joined(p->groups, ":") << OFendl;
    out << "    signature algorithms: "
        << (p->sigalgs ? joined(p->sigalgs, ":")
            : p->may_downgrade ? OFString("backend defaults, SHA-1 included (the TLS 1.0/1.1 fallback, B2, needs it)")
                               : OFString("backend defaults without SHA-1 or MD5 (OpenSSL security level 2)"))
        << OFendl;
    out << "    minimum key sizes: DHE " << p->min_dhe_bits << ", ECDHE " << p->min_ecdhe_bits << ", RSA "
        << p->min_rsa_bits << ", EC " << p->min_ec_bits << " bits"
        << (p->key_sizes_relaxable ? " (should; --relax-key-sizes)" : " (enforced)") << OFendl;
    out << "    certificates: key minimums on " << (p->check_chain ? "every certificate of the chain" : "the leaf");
    if (p->min_cert_hash_bits)
        out << ", signature hash of " << p->min_cert_hash_bits << "+ bits (trust anchor's self-signature excepted)";
    out << OFendl;
    out << "    extensions: ALPN " << (p->alpn ? OFString("\"") + p->alpn + "\"" : OFString("none"))
        << ", SNI " << (p->send_sni ? "sent for DNS names" : "not sent") << ", EMS "
        << (p->require_ems ? "required (TLS 1.2)" : "offered") << OFendl;
    out << "    requirements: " << p->requirements << OFendl;
    out << "    note: " << p->notes << OFendl;
}

void dtpPrintProfiles(STD_NAMESPACE ostream &out)
{
    out << "DICOM TLS profiles (PS3.15 Annex B):" << OFendl;
    for (size_t i = 0; i < dtp_profile_count(); i++)
        printProfile(out, dtp_profile_at(i));
    out << "Retired profiles (refused):" << OFendl;
    for (size_t i = 0; i < dtp_retired_profile_count(); i++) {
        const dtp_retired_profile *r = dtp_retired_profile_at(i);
        out << "  " << r->key << ": " << r->title << ": " << r->why << OFendl;
    }
}

void dtpPrintConformance(STD_NAMESPACE ostream &out, const char *app)
{
    out << "Security: TLS Secure Transport Connection Profiles of " << app << OFendl << OFendl;
    out << "1. Supported profiles (C9, R52, M46: key exchange, cipher suites, signature algorithms)" << OFendl
        << "One profile applies per listening address and port (C9); the default is bcp195-8996\n"
           "(PS3.15 B.12). The SCU and SCP start TLS immediately after TCP connect and never fall\n"
           "back to unencrypted DICOM (C1, R10, R11, M3). SSL 2.0/3.0, NULL, export, anonymous, RC4 and\n"
           "DES suites are never negotiated (C2, C3, R7, R13-R15); TLS compression is off (C4, R34);\n"
           "only secure renegotiation (RFC 5746) is accepted (C5, R35). Each profile's minimum\n"
           "version is set explicitly, so an older ClientHello gets a protocol_version alert (R8, Q8).\n"
           "The SCU negotiates the highest version both sides allow in one handshake and never\n"
           "retries with a lower one (R9); the SCP refuses a client's inappropriate fallback\n"
           "(TLS_FALLBACK_SCSV, RFC 7507, B3). Every association's version and suite are logged, a\n"
           "downgraded one flagged (B6). Weak peer keys (DH below 2048 bits, certificates below the\n"
           "profile minimum) are refused inside the handshake with a TLS alert, under every profile\n"
           "(B5, E5, R29-R31, M15-M17, M27-M30). Key exchange is ephemeral (EC)DHE with the groups\n"
           "listed per profile, except bcp195's fallback suite (static RSA, B2); the listed signature\n"
           "algorithms apply to both sides' handshake signatures. Under B.12/B.13 the SCU offers ALPN \"dicom\" and the SCP refuses a client whose\n"
           "ALPN list lacks it (R39); the SCU sends SNI when the peer is named by a DNS name (R38, Q9);\n"
           "TLS 1.2 requires the extended master secret (R36; --allow-no-ems, logged, accepts legacy\n"
           "peers without it); no 0-RTT data (R41). Session tickets (TLS 1.2 and 1.3) are encrypted\n"
           "and authenticated with keys that rotate at least daily, derived from a secret made when\n"
           "the SCP starts and never stored, or from the site's --ticket-key-file, which SCP nodes\n"
           "behind one address share and the site rotates; a ticket is accepted for at most 2 hours\n"
           "(R37)."
        << OFendl;
    for (size_t i = 0; i < dtp_profile_count(); i++)
        printProfile(out, dtp_profile_at(i));
    out << OFendl << "2. Ports (C7, R50, M44)" << OFendl
        << "The SCP accepts TLS on the TCP port given on its command line, on all addresses or the\n"
           "one given with --bind. Port 2762 (dicom-tls) is recommended. Two profiles may share a port\n"
           "number on different IP addresses (N4, K4). The port carries DIMSE only, never DICOMweb."
        << OFendl << OFendl;
    out << "3. Key management (C8, R51, M45)" << OFendl
        << "Each node uses an X.509 certificate and private key provisioned by the site as PEM files\n"
           "(+tls KEY CERT); an encrypted key's password is read from a file or environment variable.\n"
           "Trust anchors are CA certificates given with +cf (file) or +cd (hashed directory).\n"
           "Revocation is checked against a CRL file given with --crl (leaf certificate). Under\n"
           "B.12/B.13 every certificate of the peer's chain must have an RSA-2048+ or P-256+ key and,\n"
           "trust anchor excepted, a SHA-256 or stronger signature (M27-M31); the own certificate is\n"
           "checked against the same rules when the application starts. Peer\n"
           "certificates are required and verified by default; verify-if-present (-vc, SCP) and\n"
           "ignore (-ic) are explicit options that are logged. The profiles define no key\n"
           "infrastructure; certificate issuance and renewal are site procedures."
        << OFendl << OFendl;
    out << "4. Provider reasons for A-P-ABORT (C6, R53, R54, M47, M48)" << OFendl
        << "When a TLS failure ends an association, both the SCU and the SCP deliver an A-P-ABORT to\n"
           "the DICOM upper layer with one of these implementation-specific provider reasons.\n"
           "Configuration errors stop the application before any connection and are listed too.\n"
           "The association rows (4xx, --peer-map: an AE title not bound to the peer's certificate)\n"
           "are no A-P-ABORT: the SCP answers A-ASSOCIATE-RJ (rejected-permanent, service-user,\n"
           "calling AE title not recognized), the SCU closes before its A-ASSOCIATE-RQ."
        << OFendl;
    for (size_t i = 0; i < dtp_reason_count(); i++) {
        const dtp_reason *r = dtp_reason_at(i);
        char code[16];
        snprintf(code, sizeof code, "%d", r->code);
        out << "  " << code << "  " << r->name << "  [" << r->category << (r->a_p_abort ? ", A-P-ABORT" : "")
            << "]  " << r->message << OFendl;
    }
}
