/* dtp-check: grades a DICOM node's TLS server against every profile of the
 * table, from real handshakes (one thing varied per probe) and a C-ECHO
 * over the server's preferred parameters. The plan, the probes and the
 * grading are the library's (dtp/check.h); this file runs the probes in
 * parallel, echoes, and prints.
 *
 * Client mode (--listen): waits for DICOM clients, records each one's
 * ClientHello (dtp_config.on_client_hello), grades it against every
 * profile (dtp_grade_client), completes the handshake under bcp195 (the
 * widest profile) and accepts the association: C-ECHO and C-STORE are
 * answered with success, nothing is stored. */
#include "common.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/scp.h"

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
    CHECK_EXIT_UNREACHABLE = 7, /* name does not resolve, port closed, every probe timed out;
                                   --listen: fewer clients than --count within --timeout */
    CHECK_EXIT_LISTEN = 8,      /* --listen: cannot listen on the address and port */
    CHECK_EXIT_NOT_TLS = 9      /* the port answers, but not with TLS; --listen: a client did not */
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

/* One line per profile: verdict, failures, warnings. */
static void printVerdicts(STD_NAMESPACE ostream &out, const std::vector<Grade> &grades)
{
    out << "profile            verdict                   failures  warnings" << OFendl;
    for (const Grade &g : grades) {
        char line[160];
        snprintf(line, sizeof line, "%-18s %-25s %8d %9d", g.profile->key, verdictName(g), g.failures, g.warnings);
        out << line << OFendl;
    }
}

/* The violated "shall" and "should" findings, per profile. */
static void printFindings(STD_NAMESPACE ostream &out, const std::vector<Grade> &grades)
{
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

static void printTable(STD_NAMESPACE ostream &out, const char *host, const char *port,
                       const std::vector<Grade> &grades, const EchoResult &echoResult, double seconds, size_t n)
{
    out << "dtp-check " << host << ":" << port << ": " << n << " probes in " << seconds << " s" << OFendl << OFendl;
    printVerdicts(out, grades);
    out << OFendl << "DICOM: C-ECHO " << echoResult.outcome;
    if (!echoResult.profile.empty() && echoResult.outcome != "skipped")
        out << " (handshake under " << echoResult.profile << ")";
    if (!echoResult.detail.empty())
        out << ": " << echoResult.detail;
    out << OFendl;
    printFindings(out, grades);
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

/* "profiles": [...] (no newline after the closing bracket), each line
 * prefixed with indent. */
static void writeGradesJson(FILE *f, const std::vector<Grade> &grades, const char *indent)
{
    fprintf(f, "%s\"profiles\": [\n", indent);
    for (size_t gi = 0; gi < grades.size(); gi++) {
        const Grade &g = grades[gi];
        fprintf(f,
                "%s  {\"profile\": %s, \"verdict\": %s, \"conforms\": %s, \"unreachable\": %s, \"failures\": %d, "
                "\"warnings\": %d, \"requirements\": [\n",
                indent, js(g.profile->key).c_str(), js(verdictName(g)).c_str(), g.conforms ? "true" : "false",
                g.unreachable ? "true" : "false", g.failures, g.warnings);
        for (size_t i = 0; i < g.n; i++) {
            const dtp_finding &fd = g.findings[i];
            fprintf(f, "%s    {\"id\": %s, \"level\": %s, \"ok\": %s, \"evidence\": %s}%s\n", indent,
                    js(fd.req).c_str(), js(levelName(fd.level)).c_str(), fd.ok ? "true" : "false",
                    js(fd.evidence).c_str(), i + 1 < g.n ? "," : "");
        }
        fprintf(f, "%s  ]}%s\n", indent, gi + 1 < grades.size() ? "," : "");
    }
    fprintf(f, "%s]", indent);
}

static void writeJson(FILE *f, const char *host, const char *port, const dtp_scan_entry *entries, size_t n,
                      const std::vector<Grade> &grades, const EchoResult &e, double seconds)
{
    fprintf(f, "{\n  \"$schema\": %s,\n  \"version\": %d,\n  \"mode\": \"server\",\n"
               "  \"target\": {\"host\": %s, \"port\": %s},\n",
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
    fprintf(f, "  ],\n  \"echo\": {\"outcome\": %s, \"profile\": %s, \"detail\": %s},\n",
            js(e.outcome).c_str(), js(e.profile).c_str(), js(e.detail).c_str());
    writeGradesJson(f, grades, "  ");
    fprintf(f, "\n}\n");
}

/* Writes the JSON to path ("-": stdout), a file beside and renamed into
 * place: never a half-written file. false (logged) if it cannot. */
static bool writeJsonTo(const char *path, const std::function<void(FILE *)> &write)
{
    if (strcmp(path, "-") == 0) {
        write(stdout);
        return true;
    }
    std::string tmp = std::string(path) + ".tmp";
    FILE *f = fopen(tmp.c_str(), "w");
    bool ok = f != NULL;
    if (f) {
        write(f);
        ok = !ferror(f);
        ok = fclose(f) == 0 && ok;
    }
    if (!ok || rename(tmp.c_str(), path) != 0) {
        OFLOG_FATAL(logger, "cannot write " << path << ": " << strerror(errno));
        remove(tmp.c_str());
        return false;
    }
    return true;
}

/* ---- client mode: --listen ------------------------------------------------- */

/* One client's connection: what it offered, how the handshake and the
 * association went, and the grades. */
struct ClientResult {
    std::string peer;      /* "127.0.0.1:40312" */
    int hellos = 0;        /* ClientHellos seen: 2 after a HelloRetryRequest */
    dtp_client_hello hello; /* the first one (the client's own offer) */
    bool handshake = false; /* completed under the checker's profile */
    bool notTls = false;    /* the first bytes were not TLS (C1) */
    std::string tls;        /* the session, or why the handshake failed */
    std::string dicom;      /* "accepted", "rejected", "aborted", "none" */
    std::string dicomDetail;
    unsigned echoes = 0, stores = 0;
    std::vector<Grade> grades;
};

/* dtp_config.on_client_hello: keeps the first hello of the connection. */
static void keepHello(void *user, const dtp_client_hello *hello)
{
    ClientResult *r = static_cast<ClientResult *>(user);
    if (r->hellos++ == 0)
        r->hello = *hello;
}

/* Accepts any association with Verification or a storage SOP class;
 * answers C-ECHO, and C-STORE with success without keeping the object. */
class CheckSCP : public DcmSCP
{
public:
    explicit CheckSCP(ClientResult &r) : r_(r) {}

protected:
    virtual OFBool stopAfterCurrentAssociation() { return OFTrue; }
    virtual OFBool stopAfterConnectionTimeout() { return OFTrue; }
    /* "rejected" until acknowledged; "aborted" if the client aborts. DCMTK
     * 3.6.7 calls this with empty parameters when the client closed before
     * sending an A-ASSOCIATE-RQ (no application context name): "none". */
    virtual void notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction)
    {
        DcmSCP::notifyAssociationRequest(params, desiredAction);
        if (!params.DULparams.applicationContextName[0])
            return;
        r_.dicom = "rejected";
        r_.dicomDetail = std::string("from ") + params.DULparams.callingAPTitle + " to " +
                         params.DULparams.calledAPTitle;
    }
    virtual void notifyAssociationAcknowledge()
    {
        r_.dicom = "accepted";
        DcmSCP::notifyAssociationAcknowledge();
    }
    virtual void notifyAbortRequest()
    {
        r_.dicom = "aborted";
        DcmSCP::notifyAbortRequest();
    }
    virtual OFCondition handleIncomingCommand(T_DIMSE_Message *msg, const DcmPresentationContextInfo &info)
    {
        if (msg->CommandField == DIMSE_C_ECHO_RQ)
            r_.echoes++;
        if (msg->CommandField != DIMSE_C_STORE_RQ)
            return DcmSCP::handleIncomingCommand(msg, info);
        T_DIMSE_C_StoreRQ &req = msg->msg.CStoreRQ;
        DcmDataset *data = NULL;
        OFCondition cond = receiveSTORERequest(req, info.presentationContextID, data);
        delete data; /* nothing is stored */
        if (cond.bad())
            return cond;
        r_.stores++;
        return sendSTOREResponse(info.presentationContextID, req, STATUS_Success);
    }

private:
    ClientResult &r_;
};

struct ListenOptions {
    std::string addr, port;
    unsigned count = 1;
    int timeoutSeconds = 60;
    int handshakeMs = 3000;
    const char *aet = "DTP-CHECK";
    DtpTlsOptions tls;
};

/* The checker's server context: the widest profile (bcp195: TLS 1.0 to
 * 1.3, so most clients complete a handshake), a client certificate
 * verified if sent (+cf/+cd) or ignored, and each ClientHello handed to
 * keepHello for r. */
static dtp_ctx *checkerContext(const ListenOptions &o, ClientResult *r, dtp_error &err)
{
    dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = dtp_profile_at(0);
    cfg.role = DTP_ROLE_SERVER;
    cfg.cert_file = o.tls.certFile;
    cfg.key_file = o.tls.keyFile;
    cfg.ca_file = o.tls.caFile;
    cfg.ca_dir = o.tls.caDir;
    cfg.verify = (o.tls.caFile || o.tls.caDir) ? DTP_VERIFY_IF_PRESENT : DTP_VERIFY_IGNORE;
    cfg.handshake_timeout_ms = o.handshakeMs;
    cfg.on_client_hello = keepHello;
    cfg.on_client_hello_user = r;
    memset(&err, 0, sizeof err);
    return dtp_ctx_new(&cfg, &err);
}

/* The checker's side of one connection: the handshake, and one
 * association. */
static void serveClient(int fd, const ListenOptions &o, ClientResult &r)
{
    dtp_error err;
    dtp_ctx *ctx = checkerContext(o, &r, err);
    if (!ctx) { /* checked once before the first accept; here only out of memory */
        char buf[600];
        r.tls = dtp_error_format(&err, buf, sizeof buf);
        r.dicom = "none";
        close(fd);
        return;
    }
    DtpTransportLayer layer(ctx);
    CheckSCP scp(r);
    scp.setPort(OFstatic_cast(Uint16, atoi(o.port.c_str())));
    scp.setAETitle(o.aet);
    scp.setRespondWithCalledAETitle(OFTrue);
    scp.setACSETimeout(OFstatic_cast(Uint32, o.timeoutSeconds));
    scp.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scp.setDIMSETimeout(OFstatic_cast(Uint32, o.timeoutSeconds));
    scp.setHostLookupEnabled(OFFalse);
    OFList<OFString> ts;
    const char *syntaxes[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                              UID_BigEndianExplicitTransferSyntax,    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
                              UID_JPEGProcess1TransferSyntax,         UID_JPEGProcess2_4TransferSyntax,
                              UID_JPEGProcess14SV1TransferSyntax,     UID_JPEGLSLosslessTransferSyntax,
                              UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
                              UID_RLELosslessTransferSyntax};
    for (const char *t : syntaxes)
        ts.push_back(t);
    scp.addPresentationContext(UID_VerificationSOPClass, ts);
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; i++)
        scp.addPresentationContext(dcmAllStorageSOPClassUIDs[i], ts);
    scp.getConfig().setTransportLayer(&layer);

    r.dicom = "none";
    dcmExternalSocketHandle.set(fd); /* DCMTK serves this accepted socket (inetd mode) and closes it */
    OFCondition cond = scp.listen();
    dcmExternalSocketHandle.set(-1);
    if (fcntl(fd, F_GETFD) != -1) /* DCMTK left it open: a failure before its connection existed */
        close(fd);
    r.handshake = layer.hasSession();
    char line[512];
    if (r.handshake)
        r.tls = std::string(dtp_session_format(&layer.lastSession(), line, sizeof line)) + " (handshake under " +
                dtp_ctx_profile(layer.context())->key + ")";
    else if (layer.hasError())
        r.tls = "handshake failed: " + std::string(layer.lastErrorText().c_str());
    else
        r.tls = std::string("no handshake: ") + cond.text();
    r.notTls = !r.hellos && layer.hasError() && layer.lastError().code == DTP_R_NOT_TLS;
    if (r.dicom != "none" && cond.bad() && cond != NET_EC_StopAfterAssociation &&
        cond != NET_EC_StopAfterConnectionTimeout && r.dicomDetail.find(cond.text()) == std::string::npos)
        r.dicomDetail += std::string("; ") + cond.text();
    else if (r.dicom == "none" && r.handshake)
        r.dicomDetail = "the client sent no A-ASSOCIATE-RQ after the handshake";
}

static std::string codeList(const dtp_hello_code *codes, size_t n)
{
    std::string s;
    for (size_t i = 0; i < n; i++) {
        char hex[16];
        snprintf(hex, sizeof hex, "0x%04X", codes[i].code);
        s += std::string(i ? " " : "") + (codes[i].name ? codes[i].name : hex);
    }
    return s.empty() ? "none" : s;
}

static void printHello(STD_NAMESPACE ostream &out, const dtp_client_hello &h)
{
    out << "ClientHello: legacy_version " << versionName(h.legacy_version) << ", supported_versions";
    if (!h.has_supported_versions)
        out << " not sent";
    for (size_t i = 0; i < h.n_versions; i++)
        out << " " << versionName(h.versions[i]);
    out << OFendl << "  suites (" << h.n_suites << "): " << codeList(h.suites, h.n_suites)
        << (h.renegotiation_scsv ? " +TLS_EMPTY_RENEGOTIATION_INFO_SCSV" : "")
        << (h.fallback_scsv ? " +TLS_FALLBACK_SCSV" : "") << OFendl;
    out << "  groups: " << (h.has_groups ? codeList(h.groups, h.n_groups) : "not sent")
        << "; key shares: " << (h.has_key_shares ? codeList(h.key_shares, h.n_key_shares) : "not sent") << OFendl;
    out << "  signature schemes: " << (h.has_sigalgs ? codeList(h.sigalgs, h.n_sigalgs) : "not sent") << OFendl;
    std::string alpn;
    for (size_t i = 0; i < h.n_alpn; i++)
        alpn += std::string(i ? "," : "") + h.alpn[i];
    std::string comp;
    for (size_t i = 0; i < h.n_compression; i++)
        comp += std::string(i ? "," : "") + std::to_string(h.compression[i]);
    out << "  SNI " << (h.sni[0] ? h.sni : "none") << ", ALPN " << (alpn.empty() ? "none" : alpn) << ", EMS "
        << (h.ems ? "yes" : "no") << ", renegotiation_info " << (h.renegotiation_info ? "yes" : "no")
        << ", encrypt_then_mac " << (h.encrypt_then_mac ? "yes" : "no") << ", compression " << comp << OFendl;
}

static void printClient(STD_NAMESPACE ostream &out, size_t index, size_t count, const ClientResult &r)
{
    out << "dtp-check: client " << index << " of " << count << ", " << r.peer << OFendl << OFendl;
    if (r.hellos)
        printHello(out, r.hello);
    else
        out << "ClientHello: none received" << OFendl;
    out << "TLS: " << r.tls << OFendl;
    out << "DICOM: " << (r.dicom == "none" ? "no association" : "association " + r.dicom);
    if (!r.dicomDetail.empty())
        out << " (" << r.dicomDetail << ")";
    if (r.dicom == "accepted")
        out << ": " << r.echoes << " C-ECHO and " << r.stores << " C-STORE answered with success, nothing stored";
    out << OFendl << OFendl;
    printVerdicts(out, r.grades);
    printFindings(out, r.grades);
    out << OFendl;
}

static void writeCodesJson(FILE *f, const char *key, bool sent, const dtp_hello_code *codes, size_t n, bool bits)
{
    fprintf(f, ", %s: ", js(key).c_str());
    if (!sent) {
        fprintf(f, "null");
        return;
    }
    fprintf(f, "[");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s{\"code\": %u, \"name\": %s", i ? ", " : "", codes[i].code,
                js(codes[i].name ? codes[i].name : "").c_str());
        if (bits)
            fprintf(f, ", \"bits\": %d", codes[i].bits);
        fprintf(f, "}");
    }
    fprintf(f, "]");
}

static void writeHelloJson(FILE *f, const dtp_client_hello &h)
{
    fprintf(f, "{\"legacy_version\": %s, \"supported_versions\": ", js(versionName(h.legacy_version)).c_str());
    if (h.has_supported_versions) {
        fprintf(f, "[");
        for (size_t i = 0; i < h.n_versions; i++)
            fprintf(f, "%s%s", i ? ", " : "", js(versionName(h.versions[i])).c_str());
        fprintf(f, "]");
    } else {
        fprintf(f, "null");
    }
    writeCodesJson(f, "suites", true, h.suites, h.n_suites, false);
    fprintf(f, ", \"fallback_scsv\": %s, \"renegotiation_scsv\": %s, \"compression\": [",
            h.fallback_scsv ? "true" : "false", h.renegotiation_scsv ? "true" : "false");
    for (size_t i = 0; i < h.n_compression; i++)
        fprintf(f, "%s%u", i ? ", " : "", h.compression[i]);
    fprintf(f, "]");
    writeCodesJson(f, "groups", h.has_groups, h.groups, h.n_groups, true);
    writeCodesJson(f, "key_shares", h.has_key_shares, h.key_shares, h.n_key_shares, true);
    writeCodesJson(f, "signature_algorithms", h.has_sigalgs, h.sigalgs, h.n_sigalgs, true);
    fprintf(f, ", \"ec_point_formats\": ");
    if (h.has_point_formats) {
        fprintf(f, "[");
        for (size_t i = 0; i < h.n_point_formats; i++)
            fprintf(f, "%s%u", i ? ", " : "", h.point_formats[i]);
        fprintf(f, "]");
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ", \"sni\": %s, \"alpn\": [", js(h.sni).c_str());
    for (size_t i = 0; i < h.n_alpn; i++)
        fprintf(f, "%s%s", i ? ", " : "", js(h.alpn[i]).c_str());
    fprintf(f,
            "], \"extended_master_secret\": %s, \"renegotiation_info\": %s, \"encrypt_then_mac\": %s, "
            "\"session_ticket\": %s, \"pre_shared_key\": %s, \"early_data\": %s, \"extensions\": [",
            h.ems ? "true" : "false", h.renegotiation_info ? "true" : "false", h.encrypt_then_mac ? "true" : "false",
            h.session_ticket ? "true" : "false", h.psk ? "true" : "false", h.early_data ? "true" : "false");
    for (size_t i = 0; i < h.n_extensions; i++)
        fprintf(f, "%s%u", i ? ", " : "", h.extensions[i]);
    fprintf(f, "], \"dropped\": %zu}", h.dropped);
}

static void writeClientJson(FILE *f, const ListenOptions &o, const std::vector<ClientResult> &clients, double seconds)
{
    fprintf(f, "{\n  \"$schema\": %s,\n  \"version\": %d,\n  \"mode\": \"client\",\n", js(CHECK_JSON_SCHEMA).c_str(),
            CHECK_JSON_VERSION);
    fprintf(f, "  \"listen\": {\"host\": %s, \"port\": %s, \"count\": %u},\n  \"seconds\": %.3f,\n  \"clients\": [\n",
            js(o.addr).c_str(), js(o.port).c_str(), o.count, seconds);
    for (size_t i = 0; i < clients.size(); i++) {
        const ClientResult &r = clients[i];
        fprintf(f, "    {\"peer\": %s, \"hellos\": %d, \"hello\": ", js(r.peer).c_str(), r.hellos);
        if (r.hellos)
            writeHelloJson(f, r.hello);
        else
            fprintf(f, "null");
        fprintf(f,
                ",\n     \"handshake\": {\"completed\": %s, \"not_tls\": %s, \"detail\": %s},\n"
                "     \"dicom\": {\"association\": %s, \"detail\": %s, \"echoes\": %u, \"stores\": %u},\n",
                r.handshake ? "true" : "false", r.notTls ? "true" : "false", js(r.tls).c_str(), js(r.dicom).c_str(),
                js(r.dicomDetail).c_str(), r.echoes, r.stores);
        writeGradesJson(f, r.grades, "     ");
        fprintf(f, "}%s\n", i + 1 < clients.size() ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
}

/* --listen: accepts o.count connections one after another, each within
 * o.timeoutSeconds; returns the exit code. */
static int listenMode(const ListenOptions &o, const dtp_profile *only, const char *jsonFile)
{
    /* The checker's own context once before listening: a bad certificate
     * or key is told now, not at the first client. */
    {
        dtp_error err;
        dtp_ctx *ctx = checkerContext(o, NULL, err);
        if (!ctx) {
            dtpReportError(logger, "the checker's TLS server (+tls)", err);
            return CHECK_EXIT_LOCAL;
        }
        dtp_ctx_free(ctx);
    }
    if (!o.tls.caFile && !o.tls.caDir)
        OFLOG_WARN(logger, "no +cf/+cd: client certificates are accepted without verification");

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(OFstatic_cast(unsigned short, atoi(o.port.c_str())));
    inet_pton(AF_INET, o.addr.c_str(), &addr.sin_addr); /* checked by the caller */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, OFreinterpret_cast(struct sockaddr *, &addr), sizeof addr) != 0 || listen(lfd, 16) != 0) {
        OFLOG_FATAL(logger, "cannot listen on " << o.addr << ":" << o.port << ": " << strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return CHECK_EXIT_LISTEN;
    }
    OFLOG_INFO(logger, "listening on " << o.addr << ":" << o.port << " for " << o.count << " client(s)");
    /* DCMTK's socket timeouts bound every read and write of an association. */
    dcmSocketReceiveTimeout.set(o.timeoutSeconds);
    dcmSocketSendTimeout.set(o.timeoutSeconds);

    double start = nowSeconds();
    std::vector<ClientResult> clients;
    clients.reserve(o.count);
    while (clients.size() < o.count) {
        struct pollfd pfd = {lfd, POLLIN, 0};
        int ready = poll(&pfd, 1, o.timeoutSeconds * 1000);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            OFLOG_ERROR(logger, "no client connected within " << o.timeoutSeconds << " s (--timeout); "
                                                             << clients.size() << " of " << o.count << " graded");
            break;
        }
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(lfd, OFreinterpret_cast(struct sockaddr *, &peer), &plen, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        clients.emplace_back();
        ClientResult &r = clients.back();
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
        r.peer = std::string(ip) + ":" + std::to_string(ntohs(peer.sin_port));
        serveClient(fd, o, r);
        for (size_t i = 0; const dtp_profile *p = dtp_profile_at(i); i++) {
            if (only && p != only)
                continue;
            r.grades.emplace_back();
            dtp_grade_client(r.hellos ? &r.hello : NULL, r.handshake, p, &r.grades.back());
        }
        printClient(COUT, clients.size(), o.count, r);
    }
    close(lfd);
    double seconds = nowSeconds() - start;

    if (jsonFile && !writeJsonTo(jsonFile, [&](FILE *f) { writeClientJson(f, o, clients, seconds); }))
        return CHECK_EXIT_LOCAL;
    if (clients.size() < o.count)
        return CHECK_EXIT_UNREACHABLE;
    for (const ClientResult &r : clients)
        if (r.notTls)
            return CHECK_EXIT_NOT_TLS;
    if (only)
        for (const ClientResult &r : clients)
            if (r.grades.empty() || !r.grades[0].conforms)
                return CHECK_EXIT_NONCONFORM;
    return CHECK_EXIT_CONFORMS;
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
    cmd.addParam("peer", "hostname of the DICOM node (TLS server) to grade", OFCmdParam::PM_Optional);
    cmd.addParam("port", "tcp/ip port number of peer (both: server mode)", OFCmdParam::PM_Optional);
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
    cmd.addGroup("client mode: grade DICOM clients (no peer, no port):");
    cmd.addOption("--listen", 1, "[[a]ddress:]port: string",
                  "wait for clients on port (all IPv4 addresses, or a),\n"
                  "grade each one's ClientHello, complete the handshake\n"
                  "under bcp195 and accept the association (C-ECHO,\n"
                  "C-STORE answered, nothing stored); needs +tls");
    cmd.addOption("--count", 1, "[n]umber: integer (1..1000, default: 1)", "grade n clients, one after another");
    cmd.addOption("--timeout", 1, "[s]econds: integer (1..3600, default: 60)",
                  "wait at most s seconds for each client (exit 7),\nand for each of its DICOM messages");
    cmd.addGroup("identity: the client's for the probes and the C-ECHO, the server's with --listen:");
    cmd.addOption("--enable-tls", "+tls", 2, "[p]rivate key file, [c]ertificate file: string",
                  "present this certificate when the server asks\n(needed for servers that require one);\n"
                  "--listen: the checker's server certificate");
    cmd.addOption("--add-cert-file", "+cf", 1, "[f]ilename: string",
                  "trusted CA certificate(s) (PEM): check the chain\n(--listen: a client certificate, if sent)");
    cmd.addOption("--add-cert-dir", "+cd", 1, "[d]irectory: string", "trusted CA certificates in hashed directory d");
    cmd.addOption("--aetitle", "-aet", 1, "[a]etitle: string",
                  "calling AE title of the C-ECHO; --listen: own AE\ntitle (default: DTP-CHECK)");
    cmd.addOption("--call", "-aec", 1, "[a]etitle: string", "called AE title of the C-ECHO (default: ANY-SCP)");
    cmd.addOption("--no-echo", "skip the A-ASSOCIATE-RQ and C-ECHO");
    cmd.addGroup("exit codes:");
    cmd.addSubGroup("0 conforms (--profile) / scan done, 1 syntax, 2 does not conform\n"
                    "(--profile; --listen: any client), 3 own certificate/key/CA or\n"
                    "JSON file, 7 unreachable or every probe timed out (--listen:\n"
                    "fewer clients than --count in time), 8 cannot listen, 9 not TLS");

    int exitNow = dtpParseCommandLine(app, cmd, argc, argv, "dtp-check");
    if (exitNow >= 0)
        return exitNow;
    const char *host = NULL, *portText = NULL, *listenText = NULL;
    OFCmdUnsignedInt port = 0;
    if (cmd.findOption("--listen")) {
        app.checkValue(cmd.getValue(listenText));
        if (cmd.getParamCount() > 0)
            app.printError("--listen grades clients: give no peer and port");
    } else {
        if (cmd.getParamCount() != 2)
            app.printError("give the peer and port of a TLS server, or --listen [ADDR:]PORT");
        cmd.getParam(1, host);
        app.checkParam(cmd.getParamAndCheckMinMax(2, port, 1, 65535));
        cmd.getParam(2, portText);
    }
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
    if (listenText) {
        ListenOptions lo;
        lo.tls = tls;
        lo.aet = callingAE;
        lo.handshakeMs = (int)timeoutMs;
        std::string l = listenText;
        size_t colon = l.rfind(':');
        lo.addr = colon == std::string::npos ? "0.0.0.0" : l.substr(0, colon);
        lo.port = colon == std::string::npos ? l : l.substr(colon + 1);
        struct in_addr a;
        char *end = NULL;
        long lp = strtol(lo.port.c_str(), &end, 10);
        if (inet_pton(AF_INET, lo.addr.c_str(), &a) != 1 || lo.port.empty() || *end || lp < 1 || lp > 65535)
            app.printError("--listen needs [ADDR:]PORT with an IPv4 address, such as 127.0.0.1:11112 or 11112");
        if (!tls.keyFile)
            app.printError("--listen needs the checker's server key and certificate: +tls KEY CERT");
        OFCmdUnsignedInt count = 1;
        OFCmdSignedInt timeout = 60;
        if (cmd.findOption("--count"))
            app.checkValue(cmd.getValueAndCheckMinMax(count, 1, 1000));
        if (cmd.findOption("--timeout"))
            app.checkValue(cmd.getValueAndCheckMinMax(timeout, 1, 3600));
        lo.count = (unsigned)count;
        lo.timeoutSeconds = (int)timeout;
        return listenMode(lo, only, jsonFile);
    }
    if (cmd.findOption("--count") || cmd.findOption("--timeout"))
        app.printError("--count and --timeout go with --listen");

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
    if (jsonFile && !writeJsonTo(jsonFile, [&](FILE *f) {
            writeJson(f, host, portText, entries.data(), n, grades, e, seconds);
        }))
        return CHECK_EXIT_LOCAL;
    if (unreachable)
        return CHECK_EXIT_UNREACHABLE;
    if (only)
        return grades[0].conforms ? CHECK_EXIT_CONFORMS : CHECK_EXIT_NONCONFORM;
    return CHECK_EXIT_CONFORMS;
}
