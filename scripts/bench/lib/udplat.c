// udplat: UDP DNS latency at a fixed query rate, measured by a client that costs almost
// nothing per query, so the percentiles are the server's and not the load generator's.
//
// Why: at half of tierdns's peak (~60k q/s) `dnsperf -v` spends nearly a whole core
// formatting one line per answer, and its send and receive threads share that core, so its
// p99 is mostly its own scheduling (Knot measures 0.9-1.2 ms that way). udplat is one thread
// on one socket: it sends each query when due (paced like dnsperf -Q), busy-polls for
// answers, and takes both timestamps itself with CLOCK_MONOTONIC; latencies go into a 1 µs
// histogram, nothing is printed per query.
//
//   udplat -s 127.0.0.1 -p 5300 -d queries.txt -Q 60000 -l 5 [-t timeline.tsv]
//
// -t writes where the slow answers were: per 10 ms of send time, the answers, the slowest
// (µs) and how many took 1 ms or more, headed by the wall-clock time of the start (ms since
// the epoch, to line up with a server's log, and CLOCK_MONOTONIC, perf's clock).
//
// queries.txt is dnsperf's format ("name TYPE" per line; the types below). Output, in
// dnsperf's words where they exist so run.sh reads both alike:
//   Queries sent / completed / lost, Queries per second, and
//   "# lat_n=N lat_p50_ms=… lat_p90_ms=… lat_p99_ms=… lat_p999_ms=… lat_max_ms=…".
// Only loopback targets are accepted (the project's rule for load).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUERIES 100000
#define HIST_US 1000000 /* latencies up to 1 s in 1 µs buckets; later answers count as lost */

typedef struct {
  uint8_t wire[300];
  uint16_t len;
} query_t;

static query_t *queries;
static size_t nqueries;
static uint32_t hist[HIST_US];
static uint64_t sent_at[65536];  /* ns, by DNS ID; 0 = none outstanding */
#define TICK_NS 10000000u          /* -t: 10 ms per line */
typedef struct { uint32_t n, slow, max_us; } tick_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int qtype_of(const char *t) {
  static const struct { const char *name; int code; } types[] = {
    {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) if (!strcasecmp(t, types[i].name)) return types[i].code;
  return -1;
}

// "name TYPE" -> a query without RD, ID filled in at send time. 0 on success.
static int encode(const char *name, int qtype, query_t *q) {
  uint8_t *p = q->wire + 12, *end = q->wire + sizeof q->wire - 5;
  memset(q->wire, 0, 12);
  q->wire[5] = 1;  // QDCOUNT 1
  const char *s = name;
  while (*s && !(s[0] == '.' && s[1] == 0)) {
    const char *dot = strchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    if (n == 0 || n > 63 || p + 1 + n >= end) return -1;
    *p++ = (uint8_t)n;
    memcpy(p, s, n);
    p += n;
    s += n + (dot ? 1 : 0);
  }
  *p++ = 0;
  *p++ = (uint8_t)(qtype >> 8);
  *p++ = (uint8_t)qtype;
  *p++ = 0;
  *p++ = 1;  // IN
  q->len = (uint16_t)(p - q->wire);
  return 0;
}

static void load(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(2); }
  queries = calloc(MAX_QUERIES, sizeof *queries);
  char line[512], name[300], type[32];
  while (nqueries < MAX_QUERIES && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%299s %31s", name, type) != 2 || name[0] == '#') continue;
    int t = qtype_of(type);
    if (t < 0 || encode(name, t, &queries[nqueries]) != 0) { fprintf(stderr, "udplat: skipping \"%s %s\"\n", name, type); continue; }
    nqueries++;
  }
  fclose(f);
  if (!nqueries) { fprintf(stderr, "udplat: no queries in %s\n", path); exit(2); }
}

static double pct(uint64_t n, double p) {
  uint64_t want = (uint64_t)(p * (double)n + 0.999999), seen = 0;
  if (want < 1) want = 1;
  for (uint32_t us = 0; us < HIST_US; us++) {
    seen += hist[us];
    if (seen >= want) return us / 1000.0;
  }
  return HIST_US / 1000.0;
}

int main(int argc, char **argv) {
  const char *server = "127.0.0.1", *data = NULL, *timeline = NULL;
  int port = 53;
  double rate = 10000, seconds = 5;
  int opt;
  while ((opt = getopt(argc, argv, "s:p:d:Q:l:t:")) != -1) {
    if (opt == 's') server = optarg;
    else if (opt == 'p') port = atoi(optarg);
    else if (opt == 'd') data = optarg;
    else if (opt == 'Q') rate = atof(optarg);
    else if (opt == 'l') seconds = atof(optarg);
    else if (opt == 't') timeline = optarg;
    else { fprintf(stderr, "usage: udplat -s 127.0.0.1 -p PORT -d FILE -Q QPS -l SECONDS [-t TIMELINE]\n"); return 2; }
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (!data || rate <= 0 || seconds <= 0 || port <= 0 || port > 65535 || inet_pton(AF_INET, server, &sa.sin_addr) != 1) {
    fprintf(stderr, "usage: udplat -s 127.0.0.1 -p PORT -d FILE -Q QPS -l SECONDS [-t TIMELINE]\n");
    return 2;
  }
  if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127) { fprintf(stderr, "udplat: loopback targets only (127.0.0.0/8)\n"); return 2; }
  load(data);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("udplat: socket"); return 2; }

  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  const uint64_t interval = (uint64_t)(1e9 / rate), start = now_ns(), stop_send = start + (uint64_t)(seconds * 1e9);
  const size_t nticks = (size_t)(seconds * 1e9 / TICK_NS) + 1;
  tick_t *ticks = timeline ? calloc(nticks, sizeof *ticks) : NULL;
  if (timeline && !ticks) { perror("udplat: timeline"); return 2; }
  const uint64_t stop = stop_send + 1000000000u;  // one more second for late answers
  uint64_t next = start, sent = 0, completed = 0, max_ns = 0;
  uint16_t id = 0;
  size_t qi = 0;
  uint8_t buf[4096];
  // Sleep, not spin, between sends: a sleeping client preempts whatever else runs on its CPU
  // when an answer arrives, where a spinning one waits for its next time slice (2% of a core
  // taken by other processes in ms-long slices was a 1.7 ms p99 for every server).
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  for (;;) {
    uint64_t now = now_ns();
    if (now >= stop) break;
    // Every query that is due goes out now (a client that fell behind catches up, as -Q does).
    while (next <= now && next < stop_send) {
      query_t *q = &queries[qi];
      if (++qi == nqueries) qi = 0;
      id++;
      q->wire[0] = (uint8_t)(id >> 8);
      q->wire[1] = (uint8_t)id;
      sent_at[id] = now_ns();
      if (send(fd, q->wire, q->len, 0) == q->len) sent++;
      else sent_at[id] = 0;
      next += interval;
    }
    ssize_t r;
    while ((r = recv(fd, buf, sizeof buf, 0)) >= 12) {
      uint64_t t = now_ns();
      uint16_t rid = (uint16_t)(buf[0] << 8 | buf[1]);
      if (!sent_at[rid]) continue;
      uint64_t sent_at_ns = sent_at[rid], ns = t - sent_at_ns;
      sent_at[rid] = 0;
      uint64_t us = ns / 1000;
      if (us >= HIST_US) continue;  // over a second: lost
      hist[us]++;
      completed++;
      if (ticks) {
        tick_t *k = &ticks[(sent_at_ns - start) / TICK_NS < nticks ? (sent_at_ns - start) / TICK_NS : nticks - 1];
        k->n++;
        if (us >= 1000) k->slow++;
        if (us > k->max_us) k->max_us = (uint32_t)us;
      }
      if (ns > max_ns) max_ns = ns;
    }
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED && errno != EINTR) { perror("udplat: recv"); return 1; }
    now = now_ns();
    uint64_t wake = next < stop_send ? next : stop;
    if (wake > now) {
      struct timespec ts = {.tv_sec = (time_t)((wake - now) / 1000000000u), .tv_nsec = (long)((wake - now) % 1000000000u)};
      ppoll(&pfd, 1, &ts, NULL);
    }
  }
  if (ticks) {
    FILE *tf = fopen(timeline, "w");
    if (!tf) { perror(timeline); return 1; }
    fprintf(tf, "# start_epoch_ms=%.3f start_monotonic_s=%.6f\n# t_ms\tanswers\tmax_us\tslow_1ms\n", wall.tv_sec * 1e3 + wall.tv_nsec / 1e6, start / 1e9);
    for (size_t i = 0; i < nticks; i++) fprintf(tf, "%zu\t%u\t%u\t%u\n", i * (TICK_NS / 1000000u), ticks[i].n, ticks[i].max_us, ticks[i].slow);
    fclose(tf);
  }
  double secs = (double)(stop_send - start) / 1e9;
  printf("udplat: %.0f q/s offered to %s:%d for %.1f s, %zu distinct queries\n", rate, server, port, secs, nqueries);
  printf("  Queries sent:         %llu\n", (unsigned long long)sent);
  printf("  Queries completed:    %llu\n", (unsigned long long)completed);
  printf("  Queries lost:         %llu\n", (unsigned long long)(sent - completed));
  printf("  Queries per second:   %f\n", completed / secs);
  if (completed) {
    printf("# lat_n=%llu lat_p50_ms=%.3f lat_p90_ms=%.3f lat_p99_ms=%.3f lat_p999_ms=%.3f lat_max_ms=%.3f\n", (unsigned long long)completed,
      pct(completed, 0.5), pct(completed, 0.9), pct(completed, 0.99), pct(completed, 0.999), max_ns / 1e6);
  } else {
    printf("# lat_n=0\n");
  }
  return 0;
}
