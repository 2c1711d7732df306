// delayfwd: a userspace link emulator for tests and benchmarks, standing in for
// netem (absent from this kernel). It owns a tun device; policy routing in a
// router namespace sends forwarded packets into the tun, and delayfwd writes each
// one back after DELAY (+/- JITTER) ms, dropping LOSS percent at random. Packets
// written back re-enter the kernel from the tun and are routed on normally.
//
//   delayfwd --tun dly0 --delay 20 [--jitter 5] [--loss 30] [--seed N]
//
// See tests/tools/delay-topology.sh for the namespaces and routes around it.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Held {
  Clock::time_point due;
  uint64_t order;
  std::vector<unsigned char> bytes;
  bool operator>(const Held& o) const { return due != o.due ? due > o.due : order > o.order; }
};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int open_tun(const std::string& name) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tun = "dly0";
  double delay_ms = 0, jitter_ms = 0, loss_pct = 0;
  unsigned seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) { std::fprintf(stderr, "delayfwd: %s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--tun") tun = next();
    else if (a == "--delay") delay_ms = std::atof(next());
    else if (a == "--jitter") jitter_ms = std::atof(next());
    else if (a == "--loss") loss_pct = std::atof(next());
    else if (a == "--seed") seed = static_cast<unsigned>(std::strtoul(next(), nullptr, 10));
    else { std::fprintf(stderr, "delayfwd: unknown option %s\n", a.c_str()); return 2; }
  }
  int fd = open_tun(tun);
  if (fd < 0) { std::perror("delayfwd: open tun"); return 1; }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::priority_queue<Held, std::vector<Held>, std::greater<>> queue;
  uint64_t order = 0, forwarded = 0, dropped = 0;
  std::vector<unsigned char> buf(65536);
  std::fprintf(stderr, "delayfwd: %s delay=%.1fms jitter=%.1fms loss=%.1f%%\n", tun.c_str(), delay_ms,
               jitter_ms, loss_pct);

  while (!g_stop) {
    int timeout = -1;
    auto now = Clock::now();
    while (!queue.empty() && queue.top().due <= now) {
      const Held& h = queue.top();
      if (::write(fd, h.bytes.data(), h.bytes.size()) >= 0) ++forwarded;
      queue.pop();
    }
    if (!queue.empty()) {
      auto wait = std::chrono::duration_cast<std::chrono::microseconds>(queue.top().due - now).count();
      timeout = static_cast<int>((wait + 999) / 1000);  // poll has ms resolution; never early
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout);
    if (r <= 0 || !(p.revents & POLLIN)) continue;
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) continue;
    if (loss_pct > 0 && uni(rng) * 100.0 < loss_pct) { ++dropped; continue; }
    double d = delay_ms + (jitter_ms > 0 ? (uni(rng) * 2 - 1) * jitter_ms : 0);
    if (d < 0) d = 0;
    Held h{Clock::now() + std::chrono::microseconds(static_cast<long>(d * 1000)), order++,
           std::vector<unsigned char>(buf.begin(), buf.begin() + n)};
    queue.push(std::move(h));
  }
  std::fprintf(stderr, "delayfwd: forwarded %llu dropped %llu\n", static_cast<unsigned long long>(forwarded),
               static_cast<unsigned long long>(dropped));
  return 0;
}
