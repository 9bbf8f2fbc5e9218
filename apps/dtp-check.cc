/* dtp-check: grades a DICOM node's TLS server against every profile of the
 * table, from real handshakes (one thing varied per probe) and a C-ECHO
 * over the server's preferred parameters. The plan, the probes and the
 * grading are the library's (dtp/check.h); this file runs the probes in
 * parallel, echoes, and prints. */
#include "common.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"

#include "dtp/check.h"

static OFLogger logger = OFLog::getLogger("dtp.apps.check");

/* struct dtp_grade shares its name with the function dtp_grade(). */
typedef struct dtp_grade Grade;

/* Exit codes (README, --help). */
enum {
    CHECK_EXIT_CONFORMS = 0,    /* --profile: conforms; else: the scan ran */
    CHECK_EXIT_USAGE = 1,       /* command line */
    CHECK_EXIT_NONCONFORM = 2,  /* --profile: does not conform */
    CHECK_EXIT_LOCAL = 3,       /* own certificate, key or CA unreadable */
    CHECK_EXIT_UNREACHABLE = 7, /* name does not resolve, port closed, every probe timed out */
    CHECK_EXIT_NOT_TLS = 9      /* the port answers, but not with TLS */
};

#define CHECK_MAX_ENTRIES 512
#define CHECK_JSON_SCHEMA "https://dcmtls-profiles.invalid/schema/dtp-check-1.json"
#define CHECK_JSON_VERSION 1

static double nowSeconds()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- running the probes ------------------------------------------------ */

/* Runs entries[first..n) with up to `parallel` threads; progress on stderr. */
static void runProbes(const char *host, const char *port, dtp_scan_entry *entries, size_t first, size_t n,
                      unsigned parallel, bool progress)
{
    std::atomic<size_t> next(first), done(0);
    auto worker = [&]() {
        for (size_t i; (i = next.fetch_add(1)) < n;) {
            dtp_probe_run(host, port, &entries[i].probe, &entries[i].result);
            size_t d = done.fetch_add(1) + 1;
            if (progress)
                fprintf(stderr, "\rprobing %s:%s: %zu of %zu", host, port, d + first, n);
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < parallel && t < n - first; t++)
        pool.emplace_back(worker);
    for (auto &t : pool)
        t.join();
    if (progress)
        fprintf(stderr, "\n");
}

/* ---- C-ECHO over TLS ----------------------------------------------------- */

struct EchoResult {
    std::string outcome; /* "accepted", "rejected", "aborted", "failed", "skipped" */
    std::string profile; /* the profile the echo's handshake used */
    std::string detail;
};

/* A-ASSOCIATE-RQ with the Verification SOP Class over a handshake under
 * profileKey (NULL: plain TCP, to tell a port that speaks DICOM without
 * TLS), then C-ECHO and release. */
static EchoResult echo(const char *host, unsigned port, const char *profileKey, const DtpTlsOptions &tls,
                       const char *callingAE, const char *calledAE, int timeoutSeconds)
{
    EchoResult r;
    r.profile = profileKey ? profileKey : "";
    std::unique_ptr<DtpTransportLayer> layer;
    if (profileKey) {
        dtp_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.profile = dtp_profile_find(profileKey, NULL);
        cfg.role = DTP_ROLE_CLIENT;
        cfg.cert_file = tls.certFile;
        cfg.key_file = tls.keyFile;
        cfg.ca_file = tls.caFile;
        cfg.ca_dir = tls.caDir;
        /* Without a CA the chain is graded, not trusted. */
        cfg.verify = (tls.caFile || tls.caDir) ? DTP_VERIFY_REQUIRE : DTP_VERIFY_IGNORE;
        cfg.handshake_timeout_ms = timeoutSeconds * 1000;
        dtp_error err;
        memset(&err, 0, sizeof err);
        dtp_ctx *ctx = dtp_ctx_new(&cfg, &err);
        if (!ctx) {
            char buf[600];
            r.outcome = "failed";
            r.detail = dtp_error_format(&err, buf, sizeof buf);
            return r;
        }
        layer.reset(new DtpTransportLayer(ctx));
        layer->setPeerName(host);
    }

    T_ASC_Network *net = NULL;
    T_ASC_Parameters *params = NULL;
    T_ASC_Association *assoc = NULL;
    OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, timeoutSeconds, &net);
    if (cond.good() && layer)
        cond = ASC_setTransportLayer(net, layer.get(), 0);
    if (cond.good())
        cond = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
    if (cond.bad()) {
        r.outcome = "failed";
        r.detail = cond.text();
    } else {
        char peer[300];
        snprintf(peer, sizeof peer, "%s:%u", host, port);
        ASC_setAPTitles(params, callingAE, calledAE, NULL);
        ASC_setTransportLayerType(params, layer ? OFTrue : OFFalse);
        ASC_setPresentationAddresses(params, OFStandard::getHostName().c_str(), peer);
        const char *xfers[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
        ASC_addPresentationContext(params, 1, UID_VerificationSOPClass, xfers, 2);
        dcmConnectionTimeout.set(timeoutSeconds);
        cond = ASC_requestAssociation(net, params, &assoc);
        if (cond.good()) {
            if (ASC_countAcceptedPresentationContexts(params) == 0) {
                r.outcome = "rejected";
                r.detail = "no presentation context accepted for the Verification SOP Class";
                ASC_abortAssociation(assoc);
            } else {
                DIC_US status = 0;
                DcmDataset *detail = NULL;
                cond = DIMSE_echoUser(assoc, assoc->nextMsgID++, DIMSE_BLOCKING, 0, &status, &detail);
                delete detail;
                if (cond.good() && status == STATUS_Success) {
                    r.outcome = "accepted";
                    char line[512];
                    r.detail = layer && layer->hasSession()
                                   ? dtp_session_format(&layer->lastSession(), line, sizeof line)
                                   : "C-ECHO status 0x0000";
                    ASC_releaseAssociation(assoc);
                } else {
                    r.outcome = "aborted";
                    char buf[64];
                    snprintf(buf, sizeof buf, "C-ECHO status 0x%04x", status);
                    r.detail = cond.good() ? buf : cond.text();
                    ASC_abortAssociation(assoc);
                }
            }
        } else if (cond == DUL_ASSOCIATIONREJECTED) {
            T_ASC_RejectParameters rej;
            OFString text;
            ASC_getRejectParameters(params, &rej);
            r.outcome = "rejected";
            r.detail = ASC_printRejectParameters(text, &rej).c_str();
        } else {
            bool tlsError = layer && layer->hasError();
            r.outcome = tlsError ? "failed" : "aborted";
            r.detail = tlsError ? layer->lastErrorText().c_str() : cond.text();
        }
    }
    if (assoc)
        ASC_destroyAssociation(&assoc);
    else if (params)
        ASC_destroyAssociationParameters(&params);
    ASC_dropNetwork(&net);
    return r;
}

/* ---- output -------------------------------------------------------------- */

static const char *levelName(int level)
{
    return level == DTP_LEVEL_SHALL ? "shall" : level == DTP_LEVEL_SHOULD ? "should" : "info";
}

static const char *verdictName(const Grade &g)
{
    if (g.unreachable)
        return "no verdict";
    return g.conforms ? (g.warnings ? "conforms, with warnings" : "conforms") : "does not conform";
}

static void printTable(STD_NAMESPACE ostream &out, const char *host, const char *port,
                       const std::vector<Grade> &grades, const EchoResult &echoResult, double seconds, size_t n)
{
    out << "dtp-check " << host << ":" << port << ": " << n << " probes in " << seconds << " s" << OFendl << OFendl;
    out << "profile            verdict                   failures  warnings" << OFendl;
    for (const Grade &g : grades) {
        char line[160];
        snprintf(line, sizeof line, "%-18s %-25s %8d %9d", g.profile->key, verdictName(g), g.failures, g.warnings);
        out << line << OFendl;
    }
    out << OFendl << "DICOM: C-ECHO " << echoResult.outcome;
    if (!echoResult.profile.empty() && echoResult.outcome != "skipped")
        out << " (handshake under " << echoResult.profile << ")";
    if (!echoResult.detail.empty())
        out << ": " << echoResult.detail;
    out << OFendl;
    for (const Grade &g : grades) {
        bool header = false;
        for (size_t i = 0; i < g.n; i++) {
            const dtp_finding &f = g.findings[i];
            if (f.ok || f.level == DTP_LEVEL_INFO)
                continue;
            if (!header) {
                out << OFendl << "findings for " << g.profile->key << ":" << OFendl;
                header = true;
            }
            out << "  " << (f.level == DTP_LEVEL_SHALL ? "FAIL" : "WARN") << " " << f.req << " (" << levelName(f.level)
                << "): " << f.evidence << OFendl;
        }
    }
}

/* JSON string with the escapes RFC 8259 requires. */
static std::string js(const char *s)
{
    std::string o = "\"";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            o += '\\';
            o += (char)*p;
        } else if (*p < 0x20) {
            char b[8];
            snprintf(b, sizeof b, "\\u%04x", *p);
            o += b;
        } else
            o += (char)*p;
    }
    return o + "\"";
}
static std::string js(const std::string &s) { return js(s.c_str()); }

static const char *versionName(int v)
{
    return v == DTP_SSL3_0 ? "SSLv3" : v ? dtp_tls_version_name(v) : "";
}

static void writeJson(FILE *f, const char *host, const char *port, const dtp_scan_entry *entries, size_t n,
                      const std::vector<Grade> &grades, const EchoResult &e, double seconds)
{
    fprintf(f, "{\n  \"$schema\": %s,\n  \"version\": %d,\n  \"target\": {\"host\": %s, \"port\": %s},\n",
            js(CHECK_JSON_SCHEMA).c_str(), CHECK_JSON_VERSION, js(host).c_str(), js(port).c_str());
    fprintf(f, "  \"seconds\": %.3f,\n  \"probes\": [\n", seconds);
    for (size_t i = 0; i < n; i++) {
        const dtp_probe_result &r = entries[i].result;
        fprintf(f,
                "    {\"kind\": %s, \"param\": %s, \"listed_by\": %s, \"outcome\": %s, \"alert\": %d, "
                "\"version\": %s, \"suite\": %s, \"group\": %s, \"group_bits\": %d, \"ems\": %s, "
                "\"secure_renegotiation\": %s, \"compression\": %s, \"renegotiated\": %s, \"cert_requested\": %s, "
                "\"alpn\": %s, \"ms\": %.1f, \"detail\": %s",
                js(dtp_probe_kind_name(entries[i].kind)).c_str(), js(entries[i].param).c_str(),
                js(entries[i].listed_by).c_str(), js(dtp_probe_outcome_name(r.outcome)).c_str(), r.alert,
                js(versionName(r.version)).c_str(), js(r.suite).c_str(),
                js(r.group).c_str(), r.group_bits, r.ems ? "true" : "false",
                r.secure_renegotiation ? "true" : "false", r.compression ? "true" : "false",
                r.renegotiated ? "true" : "false", r.cert_requested ? "true" : "false", js(r.alpn).c_str(), r.ms,
                js(r.detail).c_str());
        if (entries[i].kind == DTP_PK_PREFERRED) {
            fprintf(f, ", \"verify_result\": %d, \"chain\": [", r.verify_result);
            for (size_t c = 0; c < r.chain_len && c < DTP_PROBE_MAX_CHAIN; c++) {
                const dtp_cert_info &ci = r.chain[c];
                fprintf(f,
                        "%s{\"subject\": %s, \"issuer\": %s, \"key_type\": %s, \"key_bits\": %d, \"sig_hash\": %s, "
                        "\"not_before\": %lld, \"not_after\": %lld, \"self_signed\": %s}",
                        c ? ", " : "", js(ci.subject).c_str(), js(ci.issuer).c_str(), js(ci.key_type).c_str(),
                        ci.key_bits, js(ci.sig_hash).c_str(), ci.not_before, ci.not_after,
                        ci.self_signed ? "true" : "false");
            }
            fprintf(f, "]");
        }
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ],\n  \"echo\": {\"outcome\": %s, \"profile\": %s, \"detail\": %s},\n  \"profiles\": [\n",
            js(e.outcome).c_str(), js(e.profile).c_str(), js(e.detail).c_str());
    for (size_t gi = 0; gi < grades.size(); gi++) {
        const Grade &g = grades[gi];
        fprintf(f,
                "    {\"profile\": %s, \"verdict\": %s, \"conforms\": %s, \"unreachable\": %s, \"failures\": %d, "
                "\"warnings\": %d, \"requirements\": [\n",
                js(g.profile->key).c_str(), js(verdictName(g)).c_str(), g.conforms ? "true" : "false",
                g.unreachable ? "true" : "false", g.failures, g.warnings);
        for (size_t i = 0; i < g.n; i++) {
            const dtp_finding &fd = g.findings[i];
            fprintf(f, "      {\"id\": %s, \"level\": %s, \"ok\": %s, \"evidence\": %s}%s\n", js(fd.req).c_str(),
                    js(levelName(fd.level)).c_str(), fd.ok ? "true" : "false", js(fd.evidence).c_str(),
                    i + 1 < g.n ? "," : "");
        }
        fprintf(f, "    ]}%s\n", gi + 1 < grades.size() ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
}

/* ---- main ------------------------------------------------------------------ */

/* The profile named on the command line (--profile or a DCMTK alias), or
 * NULL: grade them all. */
static const dtp_profile *chosenProfile(OFConsoleApplication &app, OFCommandLine &cmd)
{
    const char *key = NULL;
    if (cmd.findOption("--profile"))
        app.checkValue(cmd.getValue(key));
    for (size_t i = 0; const dtp_profile *p = dtp_profile_at(i); i++)
        if (p->dcmtk_long_option && cmd.findOption(p->dcmtk_long_option))
            key = p->key;
    if (!key)
        return NULL;
    int reason = 0;
    const dtp_profile *p = dtp_profile_find(key, &reason);
    if (!p) {
        const dtp_reason *r = dtp_reason_by_code(reason);
        OFLOG_FATAL(logger, "--profile " << key << ": reason " << reason << " " << (r ? r->name : "?") << ": "
                                         << (r ? r->message : "") << " (known: " << dtpProfileKeys() << ")");
        exit(CHECK_EXIT_USAGE);
    }
    return p;
}

int main(int argc, char *argv[])
{
    dtpAppDefaults();
    OFConsoleApplication app("dtp-check", "Grade a DICOM node's TLS against the DICOM TLS profiles");
    OFCommandLine cmd;
    cmd.setParamColumn(LONGCOL + SHORTCOL + 4);
    cmd.addParam("peer", "hostname of the DICOM node (TLS server) to grade");
    cmd.addParam("port", "tcp/ip port number of peer");
    dtpAddGeneralOptions(cmd);
    cmd.addGroup("grading options:");
    cmd.addOption("--profile", 1, "[k]ey: string (default: all)",
                  "grade this profile only; the exit code is its verdict");
    for (size_t i = 0; const dtp_profile *p = dtp_profile_at(i); i++)
        if (p->dcmtk_long_option) {
            std::string help = "same as --profile ";
            help += p->key;
            cmd.addOption(p->dcmtk_long_option, p->dcmtk_option, help.c_str());
        }
    cmd.addOption("--parallel", 1, "[n]umber: integer (1..32, default: 8)", "probes at a time");
    cmd.addOption("--probe-timeout", 1, "[m]illiseconds: integer (default: 3000)", "timeout of each probe");
    cmd.addOption("--no-gnutls", "probe the Camellia-GCM suites with OpenSSL only\n(reported as not checked)");
    cmd.addOption("--json", 1, "[f]ilename: string", "write the result as JSON to f (- for stdout)");
    cmd.addOption("--no-progress", "no progress on stderr");
    cmd.addGroup("client identity for the probes and the C-ECHO:");
    cmd.addOption("--enable-tls", "+tls", 2, "[p]rivate key file, [c]ertificate file: string",
                  "present this certificate when the server asks\n(needed for servers that require one)");
    cmd.addOption("--add-cert-file", "+cf", 1, "[f]ilename: string", "trusted CA certificate(s) (PEM): check the chain");
    cmd.addOption("--add-cert-dir", "+cd", 1, "[d]irectory: string", "trusted CA certificates in hashed directory d");
    cmd.addOption("--aetitle", "-aet", 1, "[a]etitle: string", "calling AE title of the C-ECHO (default: DTP-CHECK)");
    cmd.addOption("--call", "-aec", 1, "[a]etitle: string", "called AE title of the C-ECHO (default: ANY-SCP)");
    cmd.addOption("--no-echo", "skip the A-ASSOCIATE-RQ and C-ECHO");
    cmd.addGroup("exit codes:");
    cmd.addSubGroup("0 conforms (--profile) / scan done, 1 syntax, 2 does not conform\n"
                    "(--profile), 3 own certificate/key/CA, 7 unreachable or\n"
                    "every probe timed out, 9 not TLS");

    int exitNow = dtpParseCommandLine(app, cmd, argc, argv, "dtp-check");
    if (exitNow >= 0)
        return exitNow;
    const char *host = NULL, *portText = NULL;
    OFCmdUnsignedInt port = 0;
    cmd.getParam(1, host);
    app.checkParam(cmd.getParamAndCheckMinMax(2, port, 1, 65535));
    cmd.getParam(2, portText);
    const dtp_profile *only = chosenProfile(app, cmd);
    OFCmdUnsignedInt parallel = 8;
    OFCmdSignedInt timeoutMs = 3000;
    if (cmd.findOption("--parallel"))
        app.checkValue(cmd.getValueAndCheckMinMax(parallel, 1, 32));
    if (cmd.findOption("--probe-timeout"))
        app.checkValue(cmd.getValueAndCheckMinMax(timeoutMs, 100, 60000));
    const char *jsonFile = NULL, *callingAE = "DTP-CHECK", *calledAE = "ANY-SCP";
    if (cmd.findOption("--json"))
        app.checkValue(cmd.getValue(jsonFile));
    if (cmd.findOption("--aetitle"))
        app.checkValue(cmd.getValue(callingAE));
    if (cmd.findOption("--call"))
        app.checkValue(cmd.getValue(calledAE));
    DtpTlsOptions tls;
    if (cmd.findOption("--enable-tls")) {
        app.checkValue(cmd.getValue(tls.keyFile));
        app.checkValue(cmd.getValue(tls.certFile));
    }
    if (cmd.findOption("--add-cert-file"))
        app.checkValue(cmd.getValue(tls.caFile));
    if (cmd.findOption("--add-cert-dir"))
        app.checkValue(cmd.getValue(tls.caDir));
    for (const char *f : {tls.keyFile, tls.certFile, tls.caFile})
        if (f && !OFStandard::fileExists(f)) {
            OFLOG_FATAL(logger, "cannot read " << f << ": check the path given to +tls / +cf");
            return CHECK_EXIT_LOCAL;
        }
    /* Progress is for a person watching: only on a terminal. */
    bool progress = !cmd.findOption("--no-progress") && isatty(2);

    dtp_scan_options so;
    memset(&so, 0, sizeof so);
    so.cert_file = tls.certFile;
    so.key_file = tls.keyFile;
    so.ca_file = tls.caFile;
    so.ca_dir = tls.caDir;
    so.with_gnutls = !cmd.findOption("--no-gnutls") && dtpBackendNames().find("gnutls") != OFString_npos;
    so.timeout_ms = (int)timeoutMs;
    /* SNI only for DNS names (Q9): a literal address names no server. */
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
        so.server_name = host;
    std::vector<dtp_scan_entry> entries(CHECK_MAX_ENTRIES);
    size_t n = dtp_scan_plan(&so, entries.data(), entries.size());

    double start = nowSeconds();
    /* The preferred offer first, alone: a node that is down or not TLS is
     * told at once, not after every probe timed out. */
    size_t first = 0;
    while (first < n && entries[first].kind != DTP_PK_PREFERRED)
        first++;
    if (first < n) {
        std::swap(entries[0], entries[first]);
        runProbes(host, portText, entries.data(), 0, 1, 1, false);
        const dtp_probe_result &r = entries[0].result;
        if (r.outcome == DTP_PROBE_UNREACHABLE) {
            OFLOG_FATAL(logger, host << ":" << portText << " unreachable: " << r.detail
                                     << "; check the name, the port and that the node is running");
            return CHECK_EXIT_UNREACHABLE;
        }
        if (r.outcome == DTP_PROBE_NOT_TLS) {
            OFLOG_FATAL(logger, host << ":" << portText << " does not speak TLS: " << r.detail
                                     << "; is this the node's TLS port (C1)?");
            return CHECK_EXIT_NOT_TLS;
        }
        if (r.outcome == DTP_PROBE_TIMEOUT) {
            OFLOG_FATAL(logger, host << ":" << portText << " accepted the connection but did not finish a handshake within "
                                     << timeoutMs << " ms (" << r.detail
                                     << "); the node stalls: check it, or give --probe-timeout more time");
            return CHECK_EXIT_UNREACHABLE;
        }
        /* A plain DICOM port drops a ClientHello without a word: ask it in
         * DICOM. An answer (accepted or rejected) means no TLS there. */
        if (r.outcome == DTP_PROBE_CLOSED) {
            EchoResult plain = echo(host, (unsigned)port, NULL, tls, callingAE, calledAE, 3);
            if (plain.outcome == "accepted" || plain.outcome == "rejected") {
                OFLOG_FATAL(logger, host << ":" << portText << " does not speak TLS: it answers DICOM in plain TCP ("
                                         << plain.outcome << ": " << plain.detail
                                         << "); TLS starts with the first byte (C1): is this the TLS port?");
                return CHECK_EXIT_NOT_TLS;
            }
        }
    }
    runProbes(host, portText, entries.data(), 1, n, (unsigned)parallel, progress);
    double seconds = nowSeconds() - start;

    std::vector<Grade> grades;
    for (size_t i = 0; const dtp_profile *p = dtp_profile_at(i); i++) {
        if (only && p != only)
            continue;
        grades.emplace_back();
        dtp_grade(entries.data(), n, p, &grades.back());
    }
    bool unreachable = !grades.empty() && grades[0].unreachable;

    /* The C-ECHO under the first conforming profile, else the widest. */
    EchoResult e;
    e.outcome = "skipped";
    if (!cmd.findOption("--no-echo") && !unreachable) {
        const char *key = NULL;
        for (const Grade &g : grades)
            if (g.conforms && !key)
                key = g.profile->key;
        e = echo(host, (unsigned)port, key ? key : dtp_profile_at(0)->key, tls, callingAE, calledAE,
                 (int)(timeoutMs + 999) / 1000 + 2);
    }

    printTable(COUT, host, portText, grades, e, seconds, n);
    if (jsonFile && strcmp(jsonFile, "-") == 0) {
        writeJson(stdout, host, portText, entries.data(), n, grades, e, seconds);
    } else if (jsonFile) {
        /* Written beside and renamed into place: never a half-written file. */
        std::string tmp = std::string(jsonFile) + ".tmp";
        FILE *f = fopen(tmp.c_str(), "w");
        bool ok = f != NULL;
        if (f) {
            writeJson(f, host, portText, entries.data(), n, grades, e, seconds);
            ok = !ferror(f);
            ok = fclose(f) == 0 && ok;
        }
        if (!ok || rename(tmp.c_str(), jsonFile) != 0) {
            OFLOG_FATAL(logger, "cannot write " << jsonFile << ": " << strerror(errno));
            remove(tmp.c_str());
            return CHECK_EXIT_LOCAL;
        }
    }
    if (unreachable)
        return CHECK_EXIT_UNREACHABLE;
    if (only)
        return grades[0].conforms ? CHECK_EXIT_CONFORMS : CHECK_EXIT_NONCONFORM;
    return CHECK_EXIT_CONFORMS;
}
