// A HAProxy-style agent on many loopback addresses, for scripts/probe-load.js --load agent:
// listens on PORT at 127.0.1.1 … (250 per /24, as probe-load's members), and to every
// connection writes LINE and a newline, then closes. In C so that it keeps up with the prober
// (a Node listener process fell more than a timeout behind on a shared 2-core machine, and every
// read then timed out). Prints "ready" once every address listens.
//
//   cc -O2 -o agentd agentd.c && ./agentd N PORT 'up 60%'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: agentd N PORT LINE\n");
    return 2;
  }
  int n = atoi(argv[1]), port = atoi(argv[2]);
  char line[1100];
  int len = snprintf(line, sizeof line, "%s\n", argv[3]);
  if (n < 1 || port < 1 || port > 65535 || len < 1 || len >= (int)sizeof line) {
    fprintf(stderr, "agentd: bad arguments\n");
    return 2;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < n; i++) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char ip[32];
    snprintf(ip, sizeof ip, "127.0.%d.%d", 1 + i / 250, 1 + i % 250);
    inet_pton(AF_INET, ip, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4096) != 0) {
      fprintf(stderr, "agentd: %s:%d: %s\n", ip, port, strerror(errno));
      return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = fd}};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  printf("ready\n");
  fflush(stdout);
  struct epoll_event evs[256];
  for (;;) {
    int k = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < k; i++) {
      for (;;) {
        int c = accept4(evs[i].data.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) break;
        // A tcp check has already reset its connection: the send fails, which is fine.
        (void)!send(c, line, (size_t)len, MSG_NOSIGNAL);
        close(c);
      }
    }
  }
}
