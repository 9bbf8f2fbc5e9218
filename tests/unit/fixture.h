/* Building contexts from the CTest PKI fixture (directory in argv[2]). */
#ifndef DTP_FIXTURE_H
#define DTP_FIXTURE_H

#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdlib.h>

#include "check.h"

/* Path of a fixture file; 8 rotating buffers so a call can use several. */
static inline const char *pki(const char *name)
{
    static char bufs[8][1024];
    static int next;
    if (!name)
        return NULL;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", check_argc > 2 ? check_argv[2] : "pki", name);
    return b;
}

struct fx {
    const char *profile;
    const struct dtp_profile *p; /* a modified row; wins over profile */
    int role;
    const char *cert, *key, *ca, *crl, *dh, *password;
    int verify;
    bool relax;
    int timeout_ms;
    dtp_log_fn log;
    void *log_user;
    const char *backend; /* dtp_config.backend; NULL: the default */
};

/* Makes a context; names are fixture file names (NULL = none). */
static inline dtp_ctx *fx_ctx(struct fx f, struct dtp_error *err)
{
    struct dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = f.p ? f.p : f.profile ? dtp_profile_find(f.profile, NULL) : NULL;
    cfg.role = f.role;
    cfg.cert_file = f.cert && f.cert[0] == '/' ? f.cert : pki(f.cert);
    cfg.key_file = f.key && f.key[0] == '/' ? f.key : pki(f.key);
    cfg.ca_file = f.ca && f.ca[0] == '/' ? f.ca : pki(f.ca);
    cfg.crl_file = pki(f.crl);
    cfg.dh_file = pki(f.dh);
    cfg.key_password = f.password;
    cfg.verify = f.verify;
    cfg.relax_key_sizes = f.relax;
    cfg.handshake_timeout_ms = f.timeout_ms ? f.timeout_ms : 5000;
    cfg.log = f.log;
    cfg.log_user = f.log_user;
    cfg.backend = f.backend;
    memset(err, 0, sizeof *err);
    return dtp_ctx_new(&cfg, err);
}

#define SERVER(p, name) \
    (struct fx) { .profile = p, .role = DTP_ROLE_SERVER, .cert = "server-" name ".pem", .key = "server-" name ".key", .ca = "ca.pem" }
#define CLIENT(p, name) \
    (struct fx) { .profile = p, .role = DTP_ROLE_CLIENT, .cert = "client-" name ".pem", .key = "client-" name ".key", .ca = "ca.pem" }

#endif
