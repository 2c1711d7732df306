// `dns bench` (dnsperf-like): many queries in flight over a few UDP sockets, ids
// matched per socket, bounded by time (-l) and count (-n), paced by -Q; and dig's
// batch mode (-f FILE) resolving many names concurrently.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "engine.h"
#include "netshoot/fd.h"

namespace netshoot::applet::dns {

namespace {

using Clock = std::chrono::steady_clock;

struct Slot {
  bool busy = false;
  Clock::time_point sent;
  uint32_t query = 0;  // index into the query list
};

struct Sock {
  core::UniqueFd fd;
  std::vector<Slot> slots = std::vector<Slot>(65536);
  uint16_t next_id = 0;
  size_t in_flight = 0;
};

core::Result<std::vector<std::vector<uint8_t>>> load_queries(const Options& o, size_t& skipped) {
  std::ifstream f(o.bench.data_file);
  if (!f) return core::make_error(o.bench.data_file + ": cannot open");
  std::vector<std::vector<uint8_t>> out;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string name, type = "A";
    if (!(in >> name) || name[0] == '#' || name[0] == ';') continue;
    in >> type;
    auto t = wire::type_from_string(type);
    wire::QuerySpec q;
    q.name = wire::absolute_name(name);
    q.qtype = t.value_or(wire::type::A);
    q.rd = o.query.rd;
    if (o.query.edns) {
      wire::Edns e;
      e.udp_size = o.query.bufsize;
      e.dnssec_ok = o.query.dnssec;
      q.edns = e;
    }
    auto wire_q = wire::build_query(q);
    if (!t || !wire_q) {
      ++skipped;
      continue;
    }
    out.push_back(std::move(*wire_q));
  }
  if (out.empty()) return core::make_error(o.bench.data_file + ": no queries (lines \"name type\")");
  return out;
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * v.size()));
  return v[std::min(v.size() - 1, i ? i - 1 : 0)];
}

}  // namespace

int run_bench(Context& ctx, const Options& o) {
  const auto& b = o.bench;
  auto servers = choose_servers(o);
  if (!servers) {
    std::fprintf(stderr, "%s: %s\n", ctx.invoked_as.c_str(), servers.error().message().c_str());
    return 1;
  }
  wire::NameServer srv = servers->servers.front();
  size_t skipped = 0;
  auto queries = load_queries(o, skipped);
  if (!queries) {
    std::fprintf(stderr, "%s: %s\n", ctx.invoked_as.c_str(), queries.error().message().c_str());
    return 1;
  }
  sockaddr_storage ss;
  socklen_t sl = srv.to_sockaddr(ss);
  core::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  std::vector<Sock> socks(static_cast<size_t>(b.sockets));
  for (size_t i = 0; i < socks.size(); ++i) {
    socks[i].fd.reset(::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    int buf = 4 << 20;
    ::setsockopt(socks[i].fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    ::setsockopt(socks[i].fd.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (!socks[i].fd || ::connect(socks[i].fd.get(), reinterpret_cast<sockaddr*>(&ss), sl) < 0) {
      std::fprintf(stderr, "%s: socket/connect %s: %s\n", ctx.invoked_as.c_str(), srv.to_string().c_str(), std::strerror(errno));
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, socks[i].fd.get(), &ev);
    socks[i].next_id = static_cast<uint16_t>(i * 7919);
  }
  const size_t nq = queries->size();
  uint64_t limit = b.count ? b.count : (b.seconds > 0 ? UINT64_MAX : nq);
  auto start = Clock::now();
  auto end = b.seconds > 0 ? start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(b.seconds))
                           : Clock::time_point::max();
  uint64_t sent = 0, completed = 0, lost = 0, sent_bytes = 0, rcvd_bytes = 0, send_errors = 0;
  std::map<uint16_t, uint64_t> rcodes;
  std::vector<double> lat;
  lat.reserve(1 << 20);
  size_t in_flight = 0, rr_sock = 0;
  auto timeout = std::chrono::milliseconds(b.timeout_ms);
  std::vector<uint8_t> pkt;
  uint8_t rbuf[65536];
  auto last_sweep = start;
  epoll_event evs[64];
  bool sending = true;
  for (;;) {
    auto now = Clock::now();
    if (now >= end || sent >= limit) sending = false;
    // fill the window
    while (sending && in_flight < static_cast<size_t>(b.concurrency) && sent < limit) {
      if (b.max_qps > 0) {
        double due = static_cast<double>(sent) / b.max_qps;
        if (std::chrono::duration<double>(now - start).count() < due) break;
      }
      Sock& s = socks[rr_sock++ % socks.size()];
      uint16_t id = s.next_id;
      for (int guard = 0; s.slots[id].busy && guard < 65536; ++guard) ++id;
      if (s.slots[id].busy) break;
      s.next_id = static_cast<uint16_t>(id + 1);
      uint32_t qi = static_cast<uint32_t>(sent % nq);
      pkt = (*queries)[qi];
      pkt[0] = static_cast<uint8_t>(id >> 8);
      pkt[1] = static_cast<uint8_t>(id);
      if (::send(s.fd.get(), pkt.data(), pkt.size(), 0) < 0) {
        ++send_errors;
        if (errno == EAGAIN || errno == ENOBUFS) break;
        ++sent;
        continue;
      }
      s.slots[id] = Slot{true, Clock::now(), qi};
      ++s.in_flight;
      ++in_flight;
      ++sent;
      sent_bytes += pkt.size();
    }
    if (!sending && in_flight == 0) break;
    int wait_ms = 10;
    if (sending && b.max_qps > 0) wait_ms = 1;
    int n = ::epoll_wait(ep.get(), evs, 64, in_flight < static_cast<size_t>(b.concurrency) && sending && b.max_qps <= 0 ? 0 : wait_ms);
    for (int e = 0; e < n; ++e) {
      Sock& s = socks[evs[e].data.u32];
      for (;;) {
        ssize_t got = ::recv(s.fd.get(), rbuf, sizeof rbuf, 0);
        if (got < 0) break;
        if (got < 12) continue;
        uint16_t id = static_cast<uint16_t>(rbuf[0] << 8 | rbuf[1]);
        Slot& sl2 = s.slots[id];
        if (!sl2.busy) continue;  // late or foreign
        auto t = Clock::now();
        lat.push_back(std::chrono::duration<double>(t - sl2.sent).count());
        sl2.busy = false;
        --s.in_flight;
        --in_flight;
        ++completed;
        rcvd_bytes += static_cast<uint64_t>(got);
        ++rcodes[rbuf[3] & 0x0f];
      }
    }
    now = Clock::now();
    if (now - last_sweep > std::chrono::milliseconds(50) || (!sending && n == 0)) {
      last_sweep = now;
      for (auto& s : socks) {
        if (!s.in_flight) continue;
        for (auto& slot : s.slots)
          if (slot.busy && now - slot.sent > timeout) {
            slot.busy = false;
            --s.in_flight;
            --in_flight;
            ++lost;
          }
      }
    }
  }
  double run_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(lat.begin(), lat.end());
  double sum = 0;
  for (double v : lat) sum += v;
  double avg = lat.empty() ? 0 : sum / lat.size();
  double var = 0;
  for (double v : lat) var += (v - avg) * (v - avg);
  double sd = lat.size() > 1 ? std::sqrt(var / (lat.size() - 1)) : 0;
  double qps = run_s > 0 ? completed / run_s : 0;
  core::Json j;
  j["server"] = srv.to_string();
  j["sent"] = sent;
  j["completed"] = completed;
  j["lost"] = lost;
  j["run_time_s"] = run_s;
  j["qps"] = qps;
  core::Json rcj;
  std::string rctext;
  for (auto& [rc, cnt] : rcodes) {
    rcj[wire::rcode_to_string(rc)] = cnt;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s %llu (%.2f%%)", rctext.empty() ? "" : ", ", wire::rcode_to_string(rc).c_str(),
                  static_cast<unsigned long long>(cnt), completed ? 100.0 * cnt / completed : 0);
    rctext += buf;
  }
  j["rcodes"] = rcj;
  core::Json lj;
  lj["avg_ms"] = avg * 1000;
  lj["min_ms"] = lat.empty() ? 0 : lat.front() * 1000;
  lj["max_ms"] = lat.empty() ? 0 : lat.back() * 1000;
  lj["stddev_ms"] = sd * 1000;
  lj["p50_ms"] = pct(lat, 50) * 1000;
  lj["p90_ms"] = pct(lat, 90) * 1000;
  lj["p99_ms"] = pct(lat, 99) * 1000;
  lj["p999_ms"] = pct(lat, 99.9) * 1000;
  j["latency"] = lj;
  char text[2048];
  std::snprintf(text, sizeof text,
                "Statistics:\n\n"
                "  Queries sent:         %llu\n"
                "  Queries completed:    %llu (%.2f%%)\n"
                "  Queries lost:         %llu (%.2f%%)\n\n"
                "  Response codes:       %s\n"
                "  Average packet size:  request %llu, response %llu\n"
                "  Run time (s):         %.6f\n"
                "  Queries per second:   %.6f\n\n"
                "  Average Latency (s):  %.6f (min %.6f, max %.6f)\n"
                "  Latency StdDev (s):   %.6f\n"
                "  Latency percentiles (ms): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(completed),
                sent ? 100.0 * completed / sent : 0, static_cast<unsigned long long>(lost), sent ? 100.0 * lost / sent : 0,
                rctext.empty() ? "-" : rctext.c_str(), static_cast<unsigned long long>(sent ? sent_bytes / sent : 0),
                static_cast<unsigned long long>(completed ? rcvd_bytes / completed : 0), run_s, qps, avg,
                lat.empty() ? 0 : lat.front(), lat.empty() ? 0 : lat.back(), sd, pct(lat, 50) * 1000, pct(lat, 90) * 1000,
                pct(lat, 99) * 1000, pct(lat, 99.9) * 1000);
  auto out = core::Output::make(ctx.json);
  out->record("dns_bench", j, text);
  out->flush();
  if (skipped) std::fprintf(stderr, "%s: %zu unparsable lines skipped\n", ctx.invoked_as.c_str(), skipped);
  return completed > 0 ? 0 : 1;
}

// dig -f FILE: each line is a dig command line (name [type] [+options]); lines are
// resolved by a pool of workers and printed in file order.
int run_batch(Context& ctx, Options o) {
  std::ifstream f(o.batch_file);
  if (!f) {
    std::fprintf(stderr, "%s: %s: cannot open\n", ctx.invoked_as.c_str(), o.batch_file.c_str());
    return kDigInternal;
  }
  std::vector<Options> jobs;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty() || words[0][0] == ';' || words[0][0] == '#') continue;
    std::vector<char*> av{const_cast<char*>("dig")};
    for (auto& w : words) av.push_back(w.data());
    Options base = o;
    base.lookups.clear();
    base.batch_file.clear();
    auto parsed = parse_dig_args(base, static_cast<int>(av.size()), av.data(), 1);
    if (!parsed) {
      std::fprintf(stderr, "%s: %s: %s\n", ctx.invoked_as.c_str(), line.c_str(), parsed.error().message().c_str());
      continue;
    }
    parsed->cmdline = line;
    jobs.push_back(std::move(*parsed));
  }
  auto servers = choose_servers(o);
  if (!servers) {
    std::fprintf(stderr, "%s: %s\n", ctx.invoked_as.c_str(), servers.error().message().c_str());
    return kDigInternal;
  }
  std::vector<std::vector<Reply>> results(jobs.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();)
      for (const auto& l : jobs[i].lookups) results[i].push_back(run_lookup(jobs[i], *servers, l, l.qtype));
  };
  size_t nthreads = std::min<size_t>(static_cast<size_t>(o.batch_concurrency), std::max<size_t>(jobs.size(), 1));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < nthreads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  auto out = core::Output::make(ctx.json);
  out->set_batch(true);
  int rc = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    for (const auto& r : results[i]) {
      if (ctx.json) {
        out->record(r.ok ? "dns_message" : "dns_error", reply_json(r), "");
      } else {
        std::string text;
        for (const auto& e : r.comm_errors) text += e + "\n";
        if (!r.ok) text += dig_banner(jobs[i], servers->servers.size()) + ";; no servers could be reached\n";
        else if (jobs[i].display.short_form) text += format_short(jobs[i], r);
        else text += (jobs[i].display.cmd ? dig_banner(jobs[i], servers->servers.size()) : "") + format_dig(jobs[i], r);
        out->raw(text);
      }
      if (!r.ok) rc = kDigNoReply;
    }
  }
  out->flush();
  return rc;
}

}  // namespace netshoot::applet::dns
