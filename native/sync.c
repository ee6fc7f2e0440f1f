/* The sync protocol with TypeScript and the error record.  Frames on the sync socket are
 * u32 type, u32 length, payload (little-endian).  Once TypeScript has gone away (after
 * `create` returned), errors go to stderr instead. */
#include "helper.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct helper H = { .sync_fd = -1, .root_fd = -1, .fifo_fd = -1, .devnull_fd = -1,
                    .console_sock = -1, .seccomp_sock = -1, .op_index = -1,
                    .dev_prog_fd = -1 };

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int send_msg(uint32_t type, const void *payload, uint32_t len) {
  if (H.sync_fd < 0) return -1;
  uint8_t head[8];
  for (int i = 0; i < 4; i++) { head[i] = (uint8_t)(type >> (8 * i)); head[4 + i] = (uint8_t)(len >> (8 * i)); }
  /* one buffer, one send: the parent and the container process share the socket */
  uint8_t *buf = malloc(8 + (size_t)len);
  if (!buf) return -1;
  memcpy(buf, head, 8);
  if (len) memcpy(buf + 8, payload, len);
  int r = write_all(H.sync_fd, buf, 8 + (size_t)len);
  free(buf);
  return r;
}

static int read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int recv_msg(uint32_t *type, char **payload, uint32_t *len) {
  uint8_t head[8];
  if (H.sync_fd < 0 || read_all(H.sync_fd, head, 8)) return -1;
  *type = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
  *len = (uint32_t)head[4] | (uint32_t)head[5] << 8 | (uint32_t)head[6] << 16 | (uint32_t)head[7] << 24;
  if (*len > (1u << 20)) return -1;
  *payload = malloc(*len + 1);
  if (!*payload || read_all(H.sync_fd, *payload, *len)) return -1;
  (*payload)[*len] = 0;
  return 0;
}

/* Writes the error record (stage, op index, errno, message) and exits. */
void die(int err, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t mlen = strlen(msg);
  uint8_t rec[12 + sizeof msg];
  uint32_t fields[3] = { (uint32_t)H.stage, (uint32_t)H.op_index, (uint32_t)err };
  for (int f = 0; f < 3; f++)
    for (int i = 0; i < 4; i++) rec[4 * f + i] = (uint8_t)(fields[f] >> (8 * i));
  memcpy(rec + 12, msg, mlen);
  if (send_msg(MSG_ERROR, rec, (uint32_t)(12 + mlen)) != 0)
    dprintf(2, "moat: %s%s%s\n", msg, err ? ": " : "", err ? strerror(err) : "");
  _exit(err == ENOENT && H.stage == STAGE_EXEC ? 127 : H.stage == STAGE_EXEC ? 126 : 1);
}

/* Tells TypeScript we reached a named point and waits for its answer. */
void sync_point(const char *name) {
  if (send_msg(MSG_SYNC, name, (uint32_t)strlen(name))) die(EPIPE, "sync `%s`: runtime went away", name);
  uint32_t type, len;
  char *payload;
  if (recv_msg(&type, &payload, &len)) die(EPIPE, "sync `%s`: no answer from runtime", name);
  if (type == MSG_ABORT) _exit(1);
  if (type != MSG_CONTINUE) die(EPROTO, "sync `%s`: unexpected message %u", name, type);
  /* the seccomp agent's state is kept apart: hooks read the plain state document */
  if (len && !strcmp(name, "seccompState")) { free(H.seccomp_state); H.seccomp_state = payload; H.seccomp_state_len = len; }
  else if (len) { free(H.state); H.state = payload; H.state_len = len; }
  else free(payload);
}

/* Passes fd over a unix socket with SCM_RIGHTS, with `name` as the message body. */
int send_fd(int sock, int fd, const char *name, size_t namelen) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { .iov_base = (void *)name, .iov_len = namelen ? namelen : 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}
