// Round-trip statistics, kept the way iputils ping keeps them: whole microseconds,
// duplicates counted in the RTT figures, avg truncated, mdev = floor(sqrt(variance))
// with the variance from integer sums, and an EWMA scaled by 8.
#pragma once

#include <cstdint>
#include <vector>

namespace netshoot::applet::ping {

struct RttStats {
  uint64_t transmitted = 0;
  uint64_t received = 0;    // distinct replies
  uint64_t duplicates = 0;
  uint64_t errors = 0;      // ICMP errors (unreachable, time exceeded) for our probes
  uint64_t corrupted = 0;   // replies with a bad checksum or wrong payload
  uint64_t timed_rtts = 0;  // replies that carried an RTT (received + duplicates, usually)
  int64_t min_us = 0, max_us = 0;
  int64_t sum_us = 0;
  __int128 sum_sq = 0;      // µs²; 128 bits so that days of pinging cannot overflow
  int64_t ewma8 = 0;        // EWMA of the RTT times 8 (iputils' "rtt")

  void add_rtt(int64_t us) {
    if (us < 0) us = 0;
    if (timed_rtts == 0 || us < min_us) min_us = us;
    if (timed_rtts == 0 || us > max_us) max_us = us;
    ++timed_rtts;
    sum_us += us;
    sum_sq += __int128(us) * us;
    ewma8 = ewma8 == 0 ? us * 8 : ewma8 + us - ewma8 / 8;
  }
  bool has_rtt() const { return timed_rtts > 0; }
  int64_t avg_us() const { return timed_rtts ? sum_us / int64_t(timed_rtts) : 0; }
  int64_t ewma_us() const { return ewma8 / 8; }
  int64_t mdev_us() const;
  // Percentage of probes without a reply (0 when nothing was sent).
  double loss_percent() const {
    if (transmitted == 0) return 0;
    double lost = double(transmitted) - double(received);
    return lost * 100.0 / double(transmitted);
  }
};

inline int64_t isqrt(__int128 v) {
  if (v <= 0) return 0;
  // Newton's method on integers; exact floor(sqrt(v)).
  __int128 x = v, y = (x + 1) / 2;
  while (y < x) x = y, y = (x + v / x) / 2;
  return int64_t(x);
}

inline int64_t RttStats::mdev_us() const {
  if (timed_rtts == 0) return 0;
  __int128 n = timed_rtts;
  // (Σx² − (Σx)²/n) / n, in this order: integer rounding stays small for tiny RTTs.
  __int128 var = (sum_sq - (__int128(sum_us) * sum_us) / n) / n;
  return isqrt(var);
}

}  // namespace netshoot::applet::ping
