/* The benchmark's delay proxy for UDP, compiled: the same job as bench/delay_proxy.py's
 * _UdpListener loop, without the Python interpreter's cost per packet.
 *
 * Why it exists: this machine kind's kernel has no netem, so the delay of the benchmark's DNS
 * world is added by a proxy on the same two cores as the audit being measured. The Python loop
 * costs ~16 us of CPU per packet (6.5 s of a 10,000-domain run, ~400,000 packets), CPU the
 * internet's latency does not take from anyone; this loop costs a small fraction of that
 * (bench/README.md has the figures). bench/delay_proxy.py compiles it with the machine's C
 * compiler when one is there, else keeps its Python loop.
 *
 *   delay_udp ADDRESS:PORT:UPSTREAM_PORT:DELAY_US ...
 *
 * One listener per argument: queries arriving at ADDRESS:PORT go to 127.0.0.1:UPSTREAM_PORT
 * with a fresh ID; each reply waits DELAY_US microseconds in the listener's FIFO (the delay is
 * constant per listener, so replies fall due in the order they came), then goes back to the
 * client with the client's ID. It prints "ready" once every socket is bound (or "error ..."
 * and exits 1); then each line read on standard input is answered with the count of replies
 * taken from upstream so far; end of input ends it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 64
#define TICK_NS 1000000LL /* wake at most once a millisecond; send what is due within half of it */

typedef struct {
    int64_t due;
    struct sockaddr_in client;
    uint16_t length;
    unsigned char *data;
} Reply;

typedef struct {
    int down, up;
    int64_t delay;
    uint16_t next_id;
    unsigned char waiting_id[65536][2]; /* upstream id -> the client's id */
    struct sockaddr_in waiting_addr[65536];
    unsigned char waiting_set[65536];
    Reply *ring;
    size_t head, count, capacity;
} Listener;

static Listener *listeners[MAX_LISTENERS];
static int listener_count;
static unsigned long long answers; /* replies taken from upstream, as the Python loop counts them */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(const char *what, const char *detail) {
    printf("error %s %s: %s\n", what, detail, strerror(errno));
    fflush(stdout);
    exit(1);
}

static int udp_socket(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = 4 * 1024 * 1024;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return fd;
}

static void push(Listener *l, int64_t due, const struct sockaddr_in *client, const unsigned char *data, size_t length) {
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? 2 * l->capacity : 1024;
        Reply *ring = malloc(capacity * sizeof *ring);
        if (!ring)
            return; /* out of memory: this reply is lost, as on a congested network */
        for (size_t i = 0; i < l->count; i++)
            ring[i] = l->ring[(l->head + i) % l->capacity];
        free(l->ring);
        l->ring = ring;
        l->head = 0;
        l->capacity = capacity;
    }
    Reply *r = &l->ring[(l->head + l->count) % l->capacity];
    r->data = malloc(length);
    if (!r->data)
        return;
    memcpy(r->data, data, length);
    r->length = (uint16_t)length;
    r->due = due;
    r->client = *client;
    l->count++;
}

/* Datagrams are read and sent BATCH at a time (recvmmsg, sendmmsg): one system call per batch
 * instead of one per packet, most of what a packet costs here. */
#define BATCH 64
#define DATAGRAM 65536 /* the largest UDP payload; NSD's replies fit the EDNS size Unbound asks, 1,232 bytes */

static unsigned char buffers[BATCH][DATAGRAM];
static struct sockaddr_in peers[BATCH];
static struct iovec vectors[BATCH];
static struct mmsghdr messages[BATCH];

static int receive(int fd, int with_peers) {
    for (int i = 0; i < BATCH; i++) {
        vectors[i].iov_base = buffers[i];
        vectors[i].iov_len = DATAGRAM;
        memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        if (with_peers) {
            messages[i].msg_hdr.msg_name = &peers[i];
            messages[i].msg_hdr.msg_namelen = sizeof peers[i];
        }
    }
    return recvmmsg(fd, messages, BATCH, MSG_DONTWAIT, NULL);
}

static void from_client(Listener *l) {
    for (;;) {
        int n = receive(l->down, 1);
        if (n <= 0)
            return; /* EAGAIN: drained */
        int out = 0;
        for (int i = 0; i < n; i++) {
            unsigned char *data = buffers[i];
            size_t length = messages[i].msg_len;
            if (length < 12 || messages[i].msg_hdr.msg_namelen != sizeof peers[i] || (messages[i].msg_hdr.msg_flags & MSG_TRUNC))
                continue;
            uint16_t id = ++l->next_id;
            memcpy(l->waiting_id[id], data, 2);
            l->waiting_addr[id] = peers[i];
            l->waiting_set[id] = 1;
            data[0] = id >> 8;
            data[1] = id & 0xFF;
            vectors[out].iov_base = data;
            vectors[out].iov_len = length;
            memset(&messages[out].msg_hdr, 0, sizeof messages[out].msg_hdr);
            messages[out].msg_hdr.msg_iov = &vectors[out];
            messages[out].msg_hdr.msg_iovlen = 1;
            out++;
        }
        /* A message that cannot be sent (NSD gone, its buffer full) is dropped, as on a real
         * network, and the rest of the batch still goes. */
        for (int sent = 0; sent < out;) {
            int n_sent = sendmmsg(l->up, messages + sent, (unsigned)(out - sent), 0);
            sent += n_sent > 0 ? n_sent : 1;
        }
        if (n < BATCH)
            return;
    }
}

static void from_server(Listener *l) {
    for (;;) {
        int n = receive(l->up, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            continue; /* ECONNREFUSED from an earlier send: go on reading */
        }
        int64_t due = now_ns() + l->delay;
        for (int i = 0; i < n; i++) {
            unsigned char *data = buffers[i];
            size_t length = messages[i].msg_len;
            if (length < 12 || (messages[i].msg_hdr.msg_flags & MSG_TRUNC))
                continue;
            uint16_t id = (uint16_t)(data[0] << 8 | data[1]);
            if (!l->waiting_set[id])
                continue;
            l->waiting_set[id] = 0;
            memcpy(data, l->waiting_id[id], 2);
            push(l, due, &l->waiting_addr[id], data, length);
            answers++;
        }
        if (n < BATCH)
            return;
    }
}

static void flush(Listener *l, int64_t until) {
    while (l->count && l->ring[l->head].due <= until) {
        int n = 0;
        size_t at = l->head;
        for (size_t left = l->count; n < BATCH && left && l->ring[at].due <= until; left--, n++) {
            Reply *r = &l->ring[at];
            vectors[n].iov_base = r->data;
            vectors[n].iov_len = r->length;
            memset(&messages[n].msg_hdr, 0, sizeof messages[n].msg_hdr);
            messages[n].msg_hdr.msg_iov = &vectors[n];
            messages[n].msg_hdr.msg_iovlen = 1;
            messages[n].msg_hdr.msg_name = &r->client;
            messages[n].msg_hdr.msg_namelen = sizeof r->client;
            at = (at + 1) % l->capacity;
        }
        int sent = sendmmsg(l->down, messages, n, 0);
        if (sent < n) /* a client's socket is gone (dnsaudit ended): that reply is dropped, the rest go on */
            sent = sent < 0 ? 1 : sent + 1;
        for (int i = 0; i < sent && i < n; i++) {
            free(l->ring[l->head].data);
            l->head = (l->head + 1) % l->capacity;
            l->count--;
        }
    }
}

int main(int argc, char **argv) {
    int epoll = epoll_create1(0);
    if (epoll < 0)
        fail("epoll", "");
    if (argc - 1 > MAX_LISTENERS) {
        errno = E2BIG;
        fail("listeners", "too many");
    }
    for (int i = 1; i < argc; i++) {
        char address[64];
        unsigned port, upstream;
        long long delay_us;
        if (sscanf(argv[i], "%63[^:]:%u:%u:%lld", address, &port, &upstream, &delay_us) != 4) {
            errno = EINVAL;
            fail("argument", argv[i]);
        }
        Listener *l = calloc(1, sizeof *l);
        if (!l)
            fail("memory", argv[i]);
        l->delay = delay_us * 1000;
        struct sockaddr_in here = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct sockaddr_in there = {.sin_family = AF_INET, .sin_port = htons(upstream)};
        if (inet_pton(AF_INET, address, &here.sin_addr) != 1) {
            errno = EINVAL;
            fail("address", address);
        }
        inet_pton(AF_INET, "127.0.0.1", &there.sin_addr);
        l->down = udp_socket();
        l->up = udp_socket();
        if (l->down < 0 || l->up < 0)
            fail("socket", argv[i]);
        if (bind(l->down, (struct sockaddr *)&here, sizeof here) < 0)
            fail("bind", argv[i]);
        if (connect(l->up, (struct sockaddr *)&there, sizeof there) < 0)
            fail("connect", argv[i]);
        struct epoll_event down = {.events = EPOLLIN, .data.u64 = (uint64_t)listener_count * 2};
        struct epoll_event up = {.events = EPOLLIN, .data.u64 = (uint64_t)listener_count * 2 + 1};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, l->down, &down) < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, l->up, &up) < 0)
            fail("epoll_ctl", argv[i]);
        listeners[listener_count++] = l;
    }
    struct epoll_event control = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, STDIN_FILENO, &control) < 0) /* the harness gives a pipe */
        fail("epoll_ctl", "standard input");
    printf("ready\n");
    fflush(stdout);

    int64_t last = now_ns();
    for (;;) {
        int64_t now = now_ns();
        if (now - last < TICK_NS) { /* let packets gather: one wakeup serves many */
            struct timespec pause = {0, (long)(TICK_NS - (now - last))};
            nanosleep(&pause, NULL);
            now = now_ns();
        }
        last = now;
        int64_t wait = -1;
        for (int i = 0; i < listener_count; i++) {
            Listener *l = listeners[i];
            flush(l, now + TICK_NS / 2);
            if (l->count) {
                int64_t left = l->ring[l->head].due - now;
                if (left < 0)
                    left = 0;
                if (wait < 0 || left < wait)
                    wait = left;
            }
        }
        struct epoll_event events[128];
        int timeout = wait < 0 ? -1 : (int)((wait + 999999) / 1000000);
        int n = epoll_wait(epoll, events, 128, timeout);
        for (int k = 0; k < n; k++) {
            uint64_t tag = events[k].data.u64;
            if (tag == UINT64_MAX) {
                char line[256];
                ssize_t got = read(STDIN_FILENO, line, sizeof line);
                if (got <= 0)
                    return 0; /* the harness is done */
                for (ssize_t c = 0; c < got; c++)
                    if (line[c] == '\n')
                        printf("%llu\n", answers);
                fflush(stdout);
                continue;
            }
            Listener *l = listeners[tag / 2];
            if (tag % 2)
                from_server(l);
            else
                from_client(l);
        }
    }
}
