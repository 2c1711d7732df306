// Scheduling. traceroute: every probe of every TTL leaves at once (or -N at a time),
// answers are matched by id, and a silent probe is given up after Linux
// traceroute's adaptive wait (-w MAX,HERE,NEAR), so a trace costs about one round
// trip plus the wait for silent hops. mtr: one probe per TTL per cycle, cycles -i
// apart, done as soon as the last cycle's answers are in or timed out.
#include "engine.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "netshoot/caps.h"
#include "netshoot/log.h"
#include "netshoot/socket.h"

namespace netshoot::applet::trace {

using core::IpAddr;
using core::Json;

// ---- Session ------------------------------------------------------------------------

core::Result<std::unique_ptr<Session>> Session::open(const Options& o, const IpAddr& dst, OnReply cb) {
  std::unique_ptr<Session> s(new Session);
  auto p = Prober::open(o, dst);
  if (!p) return p.error();
  s->prober_ = std::move(*p);
  // Every raw socket of the run is open: give up CAP_NET_RAW/CAP_NET_ADMIN.
  core::drop_network_capabilities();
  auto loop = core::EventLoop::create();
  if (!loop) return loop.error();
  s->loop_ = std::move(*loop);
  s->ids_.resize(s->prober_->id_space());
  s->cb_ = std::move(cb);
  Session* self = s.get();
  for (int fd : s->prober_->fds()) {
    auto st = s->loop_->add_fd(fd, EPOLLIN, [self, fd](uint32_t) {
      self->prober_->drain(fd, [self](const Reply& r, const timespec& rx) { self->on_reply(r, rx); });
    });
    if (!st) return st.error();
  }
  return s;
}

int Session::send(size_t slot, uint16_t flow, int ttl, int size) {
  const uint32_t space = uint32_t(ids_.size());
  uint32_t id = next_id_;
  for (uint32_t i = 0; i < space && ids_[id].used; ++i) id = (id + 1) % space;  // oldest first
  next_id_ = (id + 1) % space;
  if (slot >= slot_id_.size()) slot_id_.resize(slot + 1, 0);
  if (slot_id_[slot]) ids_[slot_id_[slot] - 1].used = false;
  InFlight& f = ids_[id];
  f = InFlight{slot, flow, true, {}};
  slot_id_[slot] = id + 1;
  int e = prober_->send(uint16_t(id), flow, ttl, size, f.sent);
  if (e) {
    f.used = false;
    slot_id_[slot] = 0;
  }
  return e;
}

void Session::forget(size_t slot) {
  if (slot < slot_id_.size() && slot_id_[slot]) {
    ids_[slot_id_[slot] - 1].used = false;
    slot_id_[slot] = 0;
  }
}

void Session::on_reply(const Reply& r, const timespec& rx) {
  if (r.probe_id >= ids_.size()) return;
  InFlight& f = ids_[r.probe_id];
  if (!f.used || f.flow != r.flow) return;
  f.used = false;
  slot_id_[f.slot] = 0;
  double rtt = double(core::timespec_ns(rx) - core::timespec_ns(f.sent)) / 1e6;
  cb_(f.slot, r, rtt < 0 ? 0 : rtt);
}

void Session::wait(Clock::time_point deadline) {
  auto now = Clock::now();
  auto d = deadline > now ? deadline - now : Clock::duration::zero();
  (void)loop_->run_once(d);
}

// ---- traceroute ---------------------------------------------------------------------

namespace {

struct TraceSlot {
  ProbeResult res;
  Clock::time_point sent;
  bool is_sent = false, done = false;
  int retries = 0;
  int q = 0;  // probe number within its TTL and flow; 0 = the scout
};

constexpr int kHorizon = 5;  // TTLs probed past the farthest settled one

double ms_to_s(double ms) { return ms / 1000.0; }

}  // namespace

int run_traceroute(const Context& ctx, const Options& o, const Target& t) {
  const int flows = std::max(1, o.ecmp);
  std::vector<TraceSlot> slots;
  for (int ttl = o.first_ttl; ttl <= o.max_ttl; ++ttl)
    for (int f = 0; f < flows; ++f)
      for (int q = 0; q < o.queries; ++q) {
        TraceSlot s;
        s.q = q;
        s.res.ttl = ttl;
        s.res.flow = f;
        slots.push_back(s);
      }
  const size_t per_hop = size_t(flows * o.queries);
  auto hop_of = [&](int ttl) { return size_t(ttl - o.first_ttl) * per_hop; };
  int dest_ttl = o.max_ttl;  // last hop to show
  bool reached = false;
  int cur_size = 0;
  bool changed = false;  // something to send may have become due
  std::vector<std::pair<int, int>> frag_at;  // (probe TTL, MTU) of "fragmentation needed"
  auto size_for = [&](int ttl) {
    int size = cur_size;
    for (auto [t, m] : frag_at)
      if (t <= ttl) size = std::min(size, m);
    return size;
  };

  auto on_reply = [&](size_t i, const Reply& r, double rtt) {
    TraceSlot& s = slots[i];
    if (s.done) return;
    changed = true;  // an answer may make more probes due
    if (o.mtu && r.mtu > 0 && r.mtu < s.res.size && s.retries < 8) {
      // A router before this TTL cannot forward this size: this TTL and the ones
      // after it go smaller from now on; the TTLs before keep the larger size.
      frag_at.emplace_back(s.res.ttl, r.mtu);
      s.is_sent = false;  // again, smaller
      ++s.retries;
      changed = true;
      return;
    }
    s.done = true;
    s.res.answered = true;
    s.res.rtt_ms = rtt;
    s.res.reply = r;
    if (r.kind == Reply::Kind::reached || r.kind == Reply::Kind::unreachable)
      dest_ttl = std::min(dest_ttl, s.res.ttl);
  };
  auto session = Session::open(o, t.addr, on_reply);
  if (!session) {
    spdlog::error("{}", session.error().message());
    return o.front == Front::mtr ? 1 : 2;
  }
  Session& sess = **session;
  const bool v6 = t.addr.is_v6();
  int packet_len = o.packet_len >= 0 ? o.packet_len : o.mtu ? 65000 : o.method == Method::tcp ? 60 : v6 ? 80 : 60;
  cur_size = o.mtu ? std::min(packet_len, sess.prober().link_mtu()) : packet_len;

  auto out = core::Output::make(ctx.json);
  NameCache names(o.numeric);
  NameFn name = [&](const IpAddr& a) { return names.name(a); };
  out->text(format_traceroute_header(o, t.host, t.addr, packet_len));
  {
    Json j;
    j["host"] = t.host;
    j["address"] = t.addr.to_string();
    j["method"] = method_name(o.method);
    j["port"] = sess.prober().wire().dst_port;
    j["first_ttl"] = o.first_ttl;
    j["max_hops"] = o.max_ttl;
    j["queries"] = o.queries;
    j["flows"] = flows;
    j["packet_len"] = packet_len;
    j["privileged"] = sess.prober().privileged();
    if (out->json()) out->record("start", j, "");
  }

  const size_t window = o.sim_queries > 0 ? size_t(o.sim_queries) : slots.size();
  int next_print = o.first_ttl;
  int announced_size = 0;
  auto t0 = Clock::now();

  auto wait_for = [&](const TraceSlot& s) {
    double w = o.wait_max, here = 0, near = 0;
    for (size_t i = hop_of(s.res.ttl); i < slots.size(); ++i) {
      const TraceSlot& x = slots[i];
      if (!x.res.answered) continue;
      if (x.res.ttl == s.res.ttl) here = std::max(here, x.res.rtt_ms);
      else if (x.res.ttl > s.res.ttl && x.res.ttl <= dest_ttl) near = std::max(near, x.res.rtt_ms);
    }
    if (here > 0 && o.wait_here > 0) w = std::min(w, ms_to_s(here) * o.wait_here);
    if (near > 0 && o.wait_near > 0) w = std::min(w, ms_to_s(near) * o.wait_near);
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(w));
  };

  while (next_print <= dest_ttl) {
    // What to send: a scout (the first probe of each TTL and flow) for every TTL up
    // to kHorizon past the farthest TTL settled so far, and the other probes of a
    // TTL once it is the next unsettled one, is known to lie before the destination
    // (a later hop answered), or its scout settled. All of it at once (or -N at a time), lowest TTL first. So
    // the destination sees a few probes past its distance, not every TTL to -m:
    // its ICMP rate limit is spent on answers that count.
    size_t inflight = 0;
    int settled = o.first_ttl - 1, evidence = 0;
    for (const auto& s : slots) {
      if (s.is_sent && !s.done && s.res.ttl <= dest_ttl) ++inflight;
      if (s.done) settled = std::max(settled, s.res.ttl);
      if (s.res.answered && s.res.reply.kind == Reply::Kind::time_exceeded) evidence = std::max(evidence, s.res.ttl);
    }
    if (dest_ttl < o.max_ttl) evidence = dest_ttl;
    const int horizon = std::min(dest_ttl, settled + kHorizon);
    for (size_t i = 0; i < slots.size() && inflight < window; ++i) {
      TraceSlot& s = slots[i];
      if (s.is_sent || s.done || s.res.ttl > horizon) continue;
      // The first unsettled TTL gets all its probes at once, before deeper scouts:
      // a target one hop away answers from a small ICMP budget (Linux: a burst of 6),
      // which must go to its own probes, not to scouts past it.
      if (s.q > 0 && s.res.ttl > evidence && s.res.ttl > settled + 1 && !slots[i - size_t(s.q)].done) continue;
      s.res.size = o.method == Method::tcp ? 60 : size_for(s.res.ttl);
      int e = sess.send(i, uint16_t(s.res.flow), s.res.ttl, s.res.size);
      s.is_sent = true;
      s.sent = Clock::now();
      if (e) {
        spdlog::debug("send ttl {}: {}", s.res.ttl, std::strerror(e));
        if (e == ENETUNREACH || e == EHOSTUNREACH || e == EACCES || e == EPERM) {
          spdlog::error("send: {}", std::strerror(e));
          return o.front == Front::mtr ? 1 : 2;
        }
        s.done = true;
        continue;
      }
      ++inflight;
    }
    // Take in what already arrived before giving up on anything, then expire.
    sess.wait(Clock::now());
    auto now = Clock::now();
    auto deadline = now + std::chrono::seconds(10);
    for (size_t i = 0; i < slots.size(); ++i) {
      TraceSlot& s = slots[i];
      if (!s.is_sent || s.done || s.res.ttl > dest_ttl) continue;
      auto d = s.sent + wait_for(s);
      if (d <= now) {
        s.done = true;
        sess.forget(i);
        changed = true;
      } else {
        deadline = std::min(deadline, d);
      }
    }
    // Print every hop that is complete, in order.
    bool progressed = false;
    while (next_print <= dest_ttl) {
      size_t b = hop_of(next_print);
      bool complete = true;
      for (size_t i = b; i < b + per_hop; ++i) complete = complete && slots[i].done;
      if (!complete) break;
      std::vector<ProbeResult> probes;
      for (size_t i = b; i < b + per_hop; ++i) {
        ProbeResult p = slots[i].res;
        if (o.mtu && p.answered && p.size != announced_size) {
          p.mtu_changed = true;
          announced_size = p.size;
        }
        probes.push_back(p);
      }
      std::string line = format_hop_line(next_print, probes, o.numeric || ctx.json, name,
                                         o.front == Front::tcptraceroute);
      out->record("hop", hop_json(next_print, probes, name, o.numeric), line);
      ++next_print;
      progressed = true;
    }
    if (progressed) continue;
    if (next_print > dest_ttl) break;
    if (std::exchange(changed, false)) continue;
    sess.wait(deadline);
  }
  for (size_t i = hop_of(dest_ttl); i < hop_of(dest_ttl) + per_hop; ++i)
    reached = reached || (slots[i].res.answered && slots[i].res.reply.kind == Reply::Kind::reached);
  double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const int pmtu = size_for(dest_ttl);
  if (o.mtu) out->text("pmtu " + std::to_string(pmtu));
  Json sum;
  sum["destination_reached"] = reached;
  sum["hops"] = dest_ttl;
  if (o.mtu) sum["pmtu"] = pmtu;
  sum["elapsed_ms"] = std::round(elapsed * 1000.0) / 1000.0;
  if (out->json()) out->record("summary", sum, "");
  out->flush();
  return 0;
}

}  // namespace netshoot::applet::trace
