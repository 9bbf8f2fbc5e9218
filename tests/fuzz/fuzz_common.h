/* Shared by the fuzz harnesses and the seed generator: contexts built from
 * the CTest PKI fixture (directory in $DTP_PKI), and the meaning of an
 * input's first byte (the selector). */
#ifndef DTP_FUZZ_COMMON_H
#define DTP_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtp/dtp.h"

#define FUZZ_PROFILES 4
static const char *const fuzz_profiles[FUZZ_PROFILES] = {"bcp195", "bcp195-nd", "bcp195-ex", "cryptrec"};

/* Selector (first input byte):
 *   bits 0-1  profile: bcp195, bcp195-nd, bcp195-ex, cryptrec
 *   bit  2    key type of our own certificate: 0 RSA, 1 EC
 *   bit  3    server: the peer closes its socket completely after sending
 *             (our writes then fail) instead of only shutting down its
 *             sending side; client: we present no certificate
 *   bit  4    server: verify the client certificate only if present
 *             (DTP_VERIFY_IF_PRESENT) instead of requiring one
 *   bit  5    write coalescing on (dtp_conn_set_coalesce)
 * The other bits are ignored. */
#define SEL_PROFILE(s) ((s) & 3u)
#define SEL_EC(s) (((s) >> 2) & 1u)
#define SEL_BIT3(s) (((s) >> 3) & 1u)
#define SEL_IF_PRESENT(s) (((s) >> 4) & 1u)
#define SEL_MAKE(profile, ec, bit3, if_present) \
    ((unsigned char)((profile) | ((ec) << 2) | ((bit3) << 3) | ((if_present) << 4)))

static inline const char *fuzz_pki_dir(void)
{
    const char *d = getenv("DTP_PKI");
    if (!d || !d[0]) {
        fprintf(stderr, "fuzz: set DTP_PKI to the test PKI directory (build/tests/fixture/pki, made by the "
                        "fixture.pki test)\n");
        exit(2);
    }
    return d;
}

static inline char *fuzz_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", fuzz_pki_dir(), name);
    return buf;
}

/* One context per (role, selector bits that matter); exits on failure:
 * a harness without its contexts must not report "no crash". */
static inline dtp_ctx *fuzz_make_ctx(int role, unsigned sel, dtp_log_fn log, void *log_user)
{
    char cert[1024], key[1024], ca[1024];
    const char *kt = SEL_EC(sel) ? "ec" : "rsa";
    const char *who = role == DTP_ROLE_SERVER ? "server" : "client";
    char name[64];
    struct dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = dtp_profile_find(fuzz_profiles[SEL_PROFILE(sel)], NULL);
    cfg.role = role;
    if (role == DTP_ROLE_SERVER || !SEL_BIT3(sel)) {
        snprintf(name, sizeof name, "%s-%s.pem", who, kt);
        cfg.cert_file = fuzz_path(cert, sizeof cert, name);
        snprintf(name, sizeof name, "%s-%s.key", who, kt);
        cfg.key_file = fuzz_path(key, sizeof key, name);
    }
    cfg.ca_file = fuzz_path(ca, sizeof ca, "ca.pem");
    cfg.verify = role == DTP_ROLE_SERVER && SEL_IF_PRESENT(sel) ? DTP_VERIFY_IF_PRESENT : DTP_VERIFY_REQUIRE;
    cfg.handshake_timeout_ms = 2000; /* the peer's bytes are all there: never reached */
    cfg.log = log;
    cfg.log_user = log_user;
    struct dtp_error err;
    memset(&err, 0, sizeof err);
    dtp_ctx *ctx = dtp_ctx_new(&cfg, &err);
    if (!ctx) {
        char line[1024];
        fprintf(stderr, "fuzz: %s context (%s, %s): %s\n", who, fuzz_profiles[SEL_PROFILE(sel)], kt,
                dtp_error_format(&err, line, sizeof line));
        exit(2);
    }
    return ctx;
}

#endif
