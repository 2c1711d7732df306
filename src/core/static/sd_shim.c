/* libdbus-1.a (pulled in by libpcap.a's D-Bus capture source) references two
 * libsystemd functions for socket activation of a D-Bus daemon. Debian ships
 * libsystemd only as a shared object, so a static link needs them from
 * somewhere. netshoot never runs as a socket-activated D-Bus service: report
 * "no sockets passed", which is exactly what libsystemd returns outside
 * systemd socket activation. */
#include <errno.h>

int sd_listen_fds(int unset_environment) {
  (void)unset_environment;
  return 0;
}

int sd_is_socket(int fd, int family, int type, int listening) {
  (void)fd; (void)family; (void)type; (void)listening;
  return -ENOTSUP;
}
