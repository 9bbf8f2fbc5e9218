/*
 * dtp-faultproxy -- a TCP proxy on 127.0.0.1 that injects one fault into a
 * TLS stream, for the fault end-to-end tests (C6).
 *
 *   dtp-faultproxy --listen PORT --connect PORT
 *                  [--mode relay|flip|truncate|garbage|reset|stall|freeze]
 *                  [--direction c2s|s2c] [--record N] [--trace] [--timeout S]
 *
 * It accepts ONE connection on 127.0.0.1:PORT (then closes its listening
 * socket, so a second client is refused), connects to 127.0.0.1:PORT and
 * relays both directions with poll() until both sides have closed, then
 * exits. It needs no TLS library: it parses the 5-byte TLS record headers
 * (type, version, length) in each direction to count records, and injects
 * exactly one fault at, or inside, the Nth record of type 23
 * (application_data; N counts from 1, per direction) of --direction:
 *
 *   relay     no fault (with --trace: find the record to hit)
 *   flip      flip the lowest bit of the middle payload byte of that record
 *   truncate  just before that record: stop forwarding, shut down both TCP
 *             connections with FIN (no close_notify), drain what still comes
 *   garbage   just before that record: insert 64 bytes of 0xff, then go on
 *   reset     just before that record: close both connections with
 *             SO_LINGER {1, 0}, i.e. a TCP RST each
 *   freeze    from the middle of that record's payload on, forward nothing
 *             more in that direction and stop reading from its source (so
 *             the sender's socket buffers fill), keeping both connections
 *             open; the other direction keeps flowing
 *   stall     accept, never connect or forward; read and discard what the
 *             client sends until it closes
 *
 * Note that under TLS 1.3 the encrypted handshake messages and session
 * tickets are application_data records too: pick N from a --trace relay run.
 *
 * Output on stderr, one line each (unbuffered):
 *   faultproxy: listening on 127.0.0.1:P -> 127.0.0.1:Q, mode M DIR record N
 *   faultproxy: trace DIR record I type T length L app K    (--trace; K: the
 *               application_data index of a type-23 record, else 0)
 *   faultproxy: MODE DIR record N                           (the fault, once;
 *               for stall: record 0)
 *   faultproxy: done: c2s R records (A application_data), s2c R (A)
 *
 * Bounded: exits after --timeout seconds (default 60) in any case.
 * Exit codes: 0 done (the fault, if any, was injected), 1 socket error,
 * 2 usage, 3 --timeout reached, 4 the connection ended before the fault's
 * record (nothing injected).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { M_RELAY, M_FLIP, M_TRUNCATE, M_GARBAGE, M_RESET, M_STALL, M_FREEZE };
static const char *const mode_names[] = {"relay", "flip", "truncate", "garbage", "reset", "stall", "freeze"};

#define CHUNK 16384
#define GARBAGE_LEN 64

struct dir {
    const char *name; /* "c2s" or "s2c" */
    int src, dst;
    /* Bytes read from src, processed, waiting to be written to dst. */
    unsigned char out[CHUNK + GARBAGE_LEN];
    size_t out_len, out_off;
    /* Record parser. */
    unsigned char hdr[5];
    size_t hdr_got;
    size_t body_len, body_pos;
    bool target; /* the current record is the fault's record */
    unsigned long records, app_records;
    /* State. */
    bool eof;     /* src ended (EOF or error) */
    bool shut;    /* dst shut down for writing */
    bool frozen;  /* freeze mode hit: nothing more from src */
    bool dead;    /* dst failed: drop what comes */
};

static struct {
    enum mode mode;
    bool fault_c2s; /* the fault's direction */
    unsigned long record;
    bool trace;
    int timeout_s;
    bool injected;
    enum mode cut; /* M_TRUNCATE / M_RESET pending, else M_RELAY */
} opt = {M_RELAY, true, 1, false, 60, false, M_RELAY};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /* One write per line: the lines of a test's log never interleave. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

static void usage(void)
{
    fprintf(stderr, "usage: dtp-faultproxy --listen PORT --connect PORT\n"
                    "         [--mode relay|flip|truncate|garbage|reset|stall|freeze]\n"
                    "         [--direction c2s|s2c] [--record N] [--trace] [--timeout S]\n");
    exit(2);
}

static long parse_num(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi)
        usage();
    return v;
}

static void set_nodelay_nonblock(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void reset_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void put(struct dir *d, unsigned char b) { d->out[d->out_len++] = b; }

/* Processes bytes read from d->src into d->out, counting records and
 * injecting the fault. Stops early when a cut (truncate/reset) or a freeze
 * happens: the rest of the chunk is dropped. */
static void process(struct dir *d, const unsigned char *in, size_t n, bool fault_here)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b = in[i];
        if (d->hdr_got == 0 && fault_here && !opt.injected && b == 23 && d->app_records + 1 == opt.record) {
            /* The start of the fault's record. */
            if (opt.mode == M_GARBAGE) {
                memset(d->out + d->out_len, 0xff, GARBAGE_LEN);
                d->out_len += GARBAGE_LEN;
                opt.injected = true;
                say("faultproxy: garbage %s record %lu", d->name, opt.record);
            } else if (opt.mode == M_TRUNCATE || opt.mode == M_RESET) {
                opt.injected = true;
                opt.cut = opt.mode;
                say("faultproxy: %s %s record %lu", mode_names[opt.mode], d->name, opt.record);
                return;
            }
        }
        if (d->hdr_got < 5) {
            d->hdr[d->hdr_got++] = b;
            put(d, b);
            if (d->hdr_got == 5) {
                d->records++;
                d->body_len = (size_t)d->hdr[3] << 8 | d->hdr[4];
                d->body_pos = 0;
                bool app = d->hdr[0] == 23;
                if (app)
                    d->app_records++;
                d->target = fault_here && app && d->app_records == opt.record;
                if (opt.trace)
                    say("faultproxy: trace %s record %lu type %u length %zu app %lu", d->name, d->records,
                        (unsigned)d->hdr[0], d->body_len, app ? d->app_records : 0UL);
                if (d->body_len == 0)
                    d->hdr_got = 0;
            }
            continue;
        }
        if (d->target && !opt.injected && d->body_pos == d->body_len / 2) {
            if (opt.mode == M_FLIP) {
                b ^= 0x01;
                opt.injected = true;
                say("faultproxy: flip %s record %lu", d->name, opt.record);
            } else if (opt.mode == M_FREEZE) {
                opt.injected = true;
                d->frozen = true;
                say("faultproxy: freeze %s record %lu", d->name, opt.record);
                return;
            }
        }
        put(d, b);
        if (++d->body_pos == d->body_len)
            d->hdr_got = 0;
    }
}

/* Writes what d has pending; false if dst failed. */
static bool flush_some(struct dir *d)
{
    while (d->out_off < d->out_len) {
        ssize_t w = send(d->dst, d->out + d->out_off, d->out_len - d->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            d->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        d->dead = true; /* the receiver is gone */
        d->out_len = d->out_off = 0;
        return false;
    }
    d->out_len = d->out_off = 0;
    return true;
}

/* Before a cut: write what both directions already hold, for up to 2 s. */
static void flush_all(struct dir *ds)
{
    long long until = now_ms() + 2000;
    for (;;) {
        struct pollfd p[2];
        int np = 0;
        for (int k = 0; k < 2; k++) {
            flush_some(&ds[k]);
            if (ds[k].out_off < ds[k].out_len)
                p[np++] = (struct pollfd){ds[k].dst, POLLOUT, 0};
        }
        long long left = until - now_ms();
        if (np == 0 || left <= 0)
            return;
        poll(p, (nfds_t)np, (int)left);
    }
}

static int done_summary(struct dir *ds, int rc)
{
    say("faultproxy: done: c2s %lu records (%lu application_data), s2c %lu records (%lu application_data)",
        ds[0].records, ds[0].app_records, ds[1].records, ds[1].app_records);
    if (rc == 0 && opt.mode != M_RELAY && opt.mode != M_STALL && !opt.injected) {
        say("faultproxy: no fault injected: the connection ended before application_data record %lu %s",
            opt.record, opt.fault_c2s ? "c2s" : "s2c");
        return 4;
    }
    return rc;
}

/* Truncate: FIN both ways, then read and drop until both peers close. */
static int drain_after_truncate(int cfd, int sfd, long long deadline, struct dir *ds)
{
    shutdown(cfd, SHUT_WR);
    shutdown(sfd, SHUT_WR);
    int fds[2] = {cfd, sfd};
    bool open[2] = {true, true};
    unsigned char sink[CHUNK];
    while (open[0] || open[1]) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            say("faultproxy: timeout after %d s (draining after truncate)", opt.timeout_s);
            close(cfd);
            close(sfd);
            return done_summary(ds, 3);
        }
        struct pollfd p[2];
        int idx[2], np = 0;
        for (int k = 0; k < 2; k++)
            if (open[k]) {
                p[np] = (struct pollfd){fds[k], POLLIN, 0};
                idx[np++] = k;
            }
        int r = poll(p, (nfds_t)np, (int)(left < 1000 ? left : 1000));
        if (r < 0 && errno != EINTR)
            break;
        for (int j = 0; r > 0 && j < np; j++) {
            if (!p[j].revents)
                continue;
            ssize_t n = recv(fds[idx[j]], sink, sizeof sink, 0);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                open[idx[j]] = false;
        }
    }
    close(cfd);
    close(sfd);
    return done_summary(ds, 0);
}

static int stall(int cfd, long long deadline)
{
    say("faultproxy: stall %s record 0", opt.fault_c2s ? "c2s" : "s2c");
    opt.injected = true;
    unsigned char sink[CHUNK];
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            say("faultproxy: timeout after %d s (stall)", opt.timeout_s);
            close(cfd);
            return 3;
        }
        struct pollfd p = {cfd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left < 1000 ? left : 1000));
        if (r <= 0)
            continue;
        ssize_t n = recv(cfd, sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            break;
    }
    say("faultproxy: done: the client closed (stall)");
    close(cfd);
    return 0;
}

int main(int argc, char *argv[])
{
    long listen_port = -1, connect_port = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--listen") == 0)
            listen_port = parse_num(v, 1, 65535), i++;
        else if (strcmp(a, "--connect") == 0)
            connect_port = parse_num(v, 1, 65535), i++;
        else if (strcmp(a, "--record") == 0)
            opt.record = (unsigned long)parse_num(v, 1, LONG_MAX), i++;
        else if (strcmp(a, "--timeout") == 0)
            opt.timeout_s = (int)parse_num(v, 1, 86400), i++;
        else if (strcmp(a, "--trace") == 0)
            opt.trace = true;
        else if (strcmp(a, "--direction") == 0) {
            if (!v || (strcmp(v, "c2s") && strcmp(v, "s2c")))
                usage();
            opt.fault_c2s = strcmp(v, "c2s") == 0;
            i++;
        } else if (strcmp(a, "--mode") == 0) {
            size_t m, nm = sizeof mode_names / sizeof mode_names[0];
            for (m = 0; v && m < nm; m++)
                if (strcmp(v, mode_names[m]) == 0)
                    break;
            if (!v || m == nm)
                usage();
            opt.mode = (enum mode)m;
            i++;
        } else
            usage();
    }
    if (listen_port < 0 || connect_port < 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    long long deadline = now_ms() + (long long)opt.timeout_s * 1000;

    struct sockaddr_in la = {0};
    la.sin_family = AF_INET;
    la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    la.sin_port = htons((unsigned short)listen_port);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&la, sizeof la) != 0 || listen(lfd, 8) != 0) {
        say("faultproxy: cannot listen on 127.0.0.1:%ld: %s", listen_port, strerror(errno));
        return 1;
    }
    say("faultproxy: listening on 127.0.0.1:%ld -> 127.0.0.1:%ld, mode %s %s record %lu", listen_port,
        connect_port, mode_names[opt.mode], opt.fault_c2s ? "c2s" : "s2c", opt.record);

    int cfd = -1;
    while (cfd < 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            say("faultproxy: timeout after %d s: no client", opt.timeout_s);
            return 3;
        }
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, (int)(left < 1000 ? left : 1000)) > 0)
            cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    }
    close(lfd); /* one connection only */
    if (opt.mode == M_STALL)
        return stall(cfd, deadline);

    struct sockaddr_in ca = la;
    ca.sin_port = htons((unsigned short)connect_port);
    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sfd < 0 || connect(sfd, (struct sockaddr *)&ca, sizeof ca) != 0) {
        say("faultproxy: cannot connect to 127.0.0.1:%ld: %s", connect_port, strerror(errno));
        reset_close(cfd);
        return 1;
    }
    set_nodelay_nonblock(cfd);
    set_nodelay_nonblock(sfd);

    static struct dir ds[2];
    ds[0].name = "c2s", ds[0].src = cfd, ds[0].dst = sfd;
    ds[1].name = "s2c", ds[1].src = sfd, ds[1].dst = cfd;
    unsigned char in[CHUNK];

    for (;;) {
        if (opt.cut != M_RELAY) {
            flush_all(ds);
            if (opt.cut == M_RESET) {
                reset_close(cfd);
                reset_close(sfd);
                return done_summary(ds, 0);
            }
            return drain_after_truncate(cfd, sfd, deadline, ds);
        }
        /* A direction whose source ended and whose output is written:
         * pass the end on (FIN) once. */
        for (int k = 0; k < 2; k++) {
            struct dir *d = &ds[k];
            if (d->eof && !d->shut && (d->dead || d->out_off >= d->out_len)) {
                shutdown(d->dst, SHUT_WR);
                d->shut = true;
            }
        }
        if (ds[0].shut && ds[1].shut) {
            close(cfd);
            close(sfd);
            return done_summary(ds, 0);
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            say("faultproxy: timeout after %d s", opt.timeout_s);
            close(cfd);
            close(sfd);
            return done_summary(ds, 3);
        }
        /* One pollfd per socket: it is the source of one direction and
         * the destination of the other. */
        struct pollfd p[2] = {{cfd, 0, 0}, {sfd, 0, 0}};
        for (int k = 0; k < 2; k++) {
            struct dir *d = &ds[k];
            int si = k, di = 1 - k; /* c2s: src cfd (0), dst sfd (1) */
            if (!d->eof && !d->frozen && d->out_off >= d->out_len)
                p[si].events |= POLLIN;
            if (d->out_off < d->out_len && !d->dead)
                p[di].events |= POLLOUT;
        }
        /* A socket we wait for nothing on (a frozen or finished side) is
         * left out: its POLLHUP/POLLERR would wake us in a busy loop. */
        for (int k = 0; k < 2; k++)
            if (!p[k].events)
                p[k].fd = -1;
        int r = poll(p, 2, (int)(left < 1000 ? left : 1000));
        if (r < 0 && errno != EINTR) {
            say("faultproxy: poll: %s", strerror(errno));
            return 1;
        }
        if (r <= 0)
            continue;
        for (int k = 0; k < 2 && opt.cut == M_RELAY; k++) {
            struct dir *d = &ds[k];
            int si = k, di = 1 - k;
            if (p[di].revents & (POLLOUT | POLLERR | POLLHUP) && d->out_off < d->out_len)
                flush_some(d);
            if (!(p[si].events & POLLIN) || !(p[si].revents & (POLLIN | POLLERR | POLLHUP)))
                continue;
            ssize_t n = recv(d->src, in, sizeof in, 0);
            if (n > 0) {
                bool fault_here = opt.mode != M_RELAY && (k == 0) == opt.fault_c2s;
                process(d, in, (size_t)n, fault_here);
                if (d->dead)
                    d->out_len = d->out_off = 0;
                else
                    flush_some(d);
            } else if (n == 0) {
                d->eof = true;
            } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                /* The source reset the connection: pass the reset on. */
                say("faultproxy: %s source: %s; resetting the other side", d->name, strerror(errno));
                flush_all(ds);
                reset_close(d->dst);
                close(d->src);
                return done_summary(ds, 0);
            }
        }
    }
}
