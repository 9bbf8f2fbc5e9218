/*
 * dtp-transport-bench: the transport alone, without DICOM (section 5 of bench/run.sh).
 *
 * One TCP connection on 127.0.0.1 between two threads of this process; the
 * writer sends MIB MiB in 128 KiB writes (the apps' PDU size), the reader
 * reads them, over plain TCP or over TLS through this library (bcp195-nd
 * by default, certificates from the PKI directory that
 * tests/fixtures/make_pki.sh makes). Prints one line:
 *
 *   <mode> <MB/s> <writer CPU s> <reader CPU s>
 *
 * MB/s = MiB moved / wall time from the first write to the last read (the
 * handshake is not counted). bench/run.sh runs it to show how close to
 * plain TCP TLS can get on this machine before any DICOM work is added.
 * Exit 0 on success, 1 on a usage error, 2 if the transfer failed.
 */
#define _GNU_SOURCE
#include <dtp/dtp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)

struct side {
    dtp_ctx *ctx; /* NULL: plain TCP */
    int fd;
    bool writes;
    long long bytes;
    long long done;
    double cpu;
    double t_first, t_last;
    int rc;
};

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static dtp_conn *open_tls(struct side *s)
{
    dtp_conn *c = dtp_conn_new(s->ctx, s->fd, NULL);
    if (!c || dtp_conn_handshake(c) != DTP_OK) {
        if (c)
            fprintf(stderr, "dtp-transport-bench: handshake: %s\n", dtp_conn_error(c)->detail);
        dtp_conn_free(c);
        return NULL;
    }
    return c;
}

/* One side of the transfer: the writer sends s->bytes, the reader reads
 * them; each times its own loop (wall clock and thread CPU). */
static void *run_side(void *arg)
{
    struct side *s = arg;
    char *buf = malloc(CHUNK);
    dtp_conn *c = s->ctx ? open_tls(s) : NULL;
    if (!buf || (s->ctx && !c)) {
        s->rc = 2;
        free(buf);
        return NULL;
    }
    memset(buf, 0x5a, CHUNK);
    s->t_first = clock_s(CLOCK_MONOTONIC);
    double cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    while (s->done < s->bytes) {
        size_t len = s->bytes - s->done < CHUNK ? (size_t)(s->bytes - s->done) : CHUNK;
        ssize_t n = s->writes ? (c ? dtp_conn_write(c, buf, len) : write(s->fd, buf, len))
                              : (c ? dtp_conn_read(c, buf, len) : read(s->fd, buf, len));
        if (n <= 0)
            break;
        s->done += n;
    }
    s->t_last = clock_s(CLOCK_MONOTONIC);
    s->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    s->rc = s->done == s->bytes ? 0 : 2;
    if (c && s->writes)
        dtp_conn_close_notify(c);
    dtp_conn_free(c);
    free(buf);
    return NULL;
}

static dtp_ctx *make_ctx(const char *pki, const char *profile, int role)
{
    char cert[1024], key[1024], ca[1024];
    const char *who = role == DTP_ROLE_SERVER ? "server" : "client";
    snprintf(cert, sizeof cert, "%s/%s-rsa.pem", pki, who);
    snprintf(key, sizeof key, "%s/%s-rsa.key", pki, who);
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    struct dtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = dtp_profile_find(profile, NULL);
    cfg.role = role;
    cfg.cert_file = cert;
    cfg.key_file = key;
    cfg.ca_file = ca;
    cfg.verify = DTP_VERIFY_REQUIRE;
    struct dtp_error err;
    dtp_ctx *ctx = cfg.profile ? dtp_ctx_new(&cfg, &err) : NULL;
    if (!ctx)
        fprintf(stderr, "dtp-transport-bench: %s context: %s\n", who, cfg.profile ? err.detail : "unknown profile");
    return ctx;
}

/* A connected pair of TCP sockets on 127.0.0.1, TCP_NODELAY as in the apps. */
static int tcp_pair(int fds[2])
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    fds[1] = accept(lfd, NULL, NULL);
    close(lfd);
    if (fds[1] < 0)
        return -1;
    setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[2], "plain") != 0 && strcmp(argv[2], "tls") != 0) || atol(argv[3]) <= 0) {
        fprintf(stderr, "usage: %s PKI_DIR plain|tls MIB [PROFILE]\n", argv[0]);
        return 1;
    }
    const char *profile = argc > 4 ? argv[4] : "bcp195-nd";
    bool tls = strcmp(argv[2], "tls") == 0;
    long long bytes = atoll(argv[3]) * 1048576LL;
    dtp_ctx *sctx = tls ? make_ctx(argv[1], profile, DTP_ROLE_SERVER) : NULL;
    dtp_ctx *cctx = tls ? make_ctx(argv[1], profile, DTP_ROLE_CLIENT) : NULL;
    int fds[2];
    if ((tls && (!sctx || !cctx)) || tcp_pair(fds) != 0) {
        fprintf(stderr, "dtp-transport-bench: setup failed\n");
        return 2;
    }
    struct side w = {cctx, fds[0], true, bytes, 0, 0, 0, 0, 2}, r = {sctx, fds[1], false, bytes, 0, 0, 0, 0, 2};
    pthread_t tr, tw;
    pthread_create(&tr, NULL, run_side, &r);
    pthread_create(&tw, NULL, run_side, &w);
    pthread_join(tw, NULL);
    pthread_join(tr, NULL);
    close(fds[0]);
    close(fds[1]);
    dtp_ctx_free(sctx);
    dtp_ctx_free(cctx);
    if (w.rc != 0 || r.rc != 0 || r.t_last <= w.t_first) {
        fprintf(stderr, "dtp-transport-bench: transfer failed (%lld of %lld bytes read)\n", r.done, bytes);
        return 2;
    }
    printf("%s %.1f %.3f %.3f\n", tls ? "tls" : "plain", (double)bytes / 1048576.0 / (r.t_last - w.t_first), w.cpu,
           r.cpu);
    return 0;
}
