// Stub resolver: hosts, search list, UDP (parallel A/AAAA) with TCP fallback.
// Everything is nonblocking sockets + poll() against monotonic deadlines.
#include "netshoot/resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "netshoot/fd.h"

namespace netshoot::core::dns {

const char* transport_name(Transport t) { return t == Transport::Tcp ? "tcp" : "udp"; }

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int ms_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<long long>(left, 1 << 30));
}

void random_bytes(void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(p + got, n - got, 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      thread_local std::mt19937 gen(std::random_device{}());
      for (; got < n; ++got) p[got] = static_cast<uint8_t>(gen());
      return;
    }
    got += static_cast<size_t>(r);
  }
}

uint16_t random_id() {
  uint16_t v = 0;
  random_bytes(&v, sizeof v);
  return v;
}

std::atomic<unsigned> g_rotate{0};
std::atomic<uint64_t> g_send_seq{0};

// One question being asked; carries the last response and how it ended.
struct Exchange {
  std::string name;  // absolute
  uint16_t qtype = type::A;
  uint16_t qclass = rclass::IN;
  std::vector<uint8_t> wire;  // the query; the id is patched per send
  uint16_t id = 0;
  // outcome of the latest round
  bool answered = false;
  bool failed = false;  // socket error (refused, unreachable...)
  std::string error;
  std::vector<uint8_t> raw;
  Message msg;
  Transport transport = Transport::Udp;
  double elapsed_ms = 0;
  Clock::time_point sent_at;
  // across rounds
  bool final = false;
  bool got_response = false;        // any response at all, from any server
  std::optional<uint16_t> bad_rcode;  // last SERVFAIL/REFUSED/NOTIMP seen
  std::string last_problem;         // for the error hint

  std::optional<uint16_t> fixed_id;
  bool fail_on_malformed = false;
  uint64_t sequence = 0;  // of the latest send

  void new_id() {
    sequence = ++g_send_seq;
    id = fixed_id ? *fixed_id : random_id();
    wire[0] = static_cast<uint8_t>(id >> 8);
    wire[1] = static_cast<uint8_t>(id);
  }
  void reset_round() {
    answered = failed = false;
    error.clear();
  }
};

void report(QueryObserver* obs, const Exchange& ex, const NameServer& srv, Transport t,
            QueryAttempt::Outcome o, const std::string& err = {}) {
  if (!obs) return;
  QueryAttempt a;
  a.name = ex.name;
  a.qtype = ex.qtype;
  a.server = srv;
  a.transport = t;
  a.outcome = o;
  if (o == QueryAttempt::Outcome::Response) {
    a.rcode = ex.msg.header.rcode;
    a.truncated = ex.msg.header.tc;
    a.answer_count = ex.msg.answers.size();
  }
  a.error = err;
  a.elapsed_ms = ms_since(ex.sent_at);
  a.sequence = ex.sequence;
  obs->on_attempt(a);
}

bool response_matches(const Message& m, const Exchange& ex) {
  if (!m.header.qr || m.header.id != ex.id) return false;
  if (m.questions.empty()) return m.header.rcode != rcode::NOERROR;  // FORMERR/NOTIMP without echo
  if (m.questions.size() != 1) return false;
  const auto& q = m.questions[0];
  return q.qtype == ex.qtype && q.qclass == ex.qclass && names_equal(q.name, ex.name);
}

bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    auto& x = reinterpret_cast<const sockaddr_in&>(a);
    auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  auto& y = reinterpret_cast<const sockaddr_in6&>(b);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, 16) == 0;
}

Result<UniqueFd> open_socket(const NameServer& srv, int socktype, bool& in_progress) {
  sockaddr_storage ss;
  socklen_t len = srv.to_sockaddr(ss);
  UniqueFd fd(::socket(ss.ss_family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return os_error("socket");
  in_progress = false;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    if (errno != EINPROGRESS) return os_error("connect " + srv.to_string());
    in_progress = true;
  }
  return fd;
}

std::string errno_text(int e) { return std::strerror(e); }

// Sends every exchange in `group` over one connected UDP socket and collects the
// answers until `timeout_ms` passes. `sequential`: one question at a time
// (single-request), `reopen`: a fresh socket for each (single-request-reopen).
void udp_round(const NameServer& srv, const std::vector<Exchange*>& all, int timeout_ms,
               bool sequential, bool reopen, QueryObserver* obs) {
  sockaddr_storage server_ss;
  srv.to_sockaddr(server_ss);
  std::vector<std::vector<Exchange*>> groups;
  if (sequential) {
    for (auto* e : all) groups.push_back({e});
  } else {
    groups.push_back(all);
  }
  UniqueFd fd;
  std::vector<uint8_t> buf(65536);
  for (auto& group : groups) {
    if (!fd || reopen) {
      bool in_progress = false;
      auto s = open_socket(srv, SOCK_DGRAM, in_progress);
      if (!s) {
        for (auto* e : group) {
          e->failed = true;
          e->error = s.error().message();
          e->sent_at = Clock::now();
          report(obs, *e, srv, Transport::Udp, QueryAttempt::Outcome::Error, e->error);
        }
        continue;
      }
      fd = std::move(*s);
    }
    for (auto* e : group) {
      e->new_id();
      e->transport = Transport::Udp;
      e->sent_at = Clock::now();
      if (::send(fd.get(), e->wire.data(), e->wire.size(), 0) < 0) {
        e->failed = true;
        e->error = "send: " + errno_text(errno);
        report(obs, *e, srv, Transport::Udp, QueryAttempt::Outcome::Error, e->error);
      }
    }
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    auto open_count = [&] {
      return std::count_if(group.begin(), group.end(), [](Exchange* e) { return !e->answered && !e->failed; });
    };
    while (open_count() > 0) {
      int wait = ms_until(deadline);
      if (wait <= 0) break;
      pollfd p{fd.get(), POLLIN, 0};
      int n = ::poll(&p, 1, wait);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (n == 0) break;
      for (;;) {
        sockaddr_storage from{};
        socklen_t fromlen = sizeof from;
        ssize_t got = ::recvfrom(fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
        if (got < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
          int e = errno;  // ECONNREFUSED (ICMP port unreachable) and friends
          for (auto* ex : group)
            if (!ex->answered && !ex->failed) {
              ex->failed = true;
              ex->error = errno_text(e);
              report(obs, *ex, srv, Transport::Udp, QueryAttempt::Outcome::Error, ex->error);
            }
          break;
        }
        if (!same_endpoint(from, server_ss)) continue;  // not from the server we asked
        std::span<const uint8_t> pkt(buf.data(), static_cast<size_t>(got));
        auto hdr = parse_header(pkt);
        if (!hdr) {
          // Shorter than a header: with one question in flight, it can only be its reply.
          if (group.size() == 1 && group[0]->fail_on_malformed && !group[0]->answered && !group[0]->failed) {
            group[0]->failed = true;
            group[0]->error = hdr.error().message();
            report(obs, *group[0], srv, Transport::Udp, QueryAttempt::Outcome::Error, group[0]->error);
          }
          continue;
        }
        Exchange* match = nullptr;
        for (auto* ex : group)
          if (!ex->answered && !ex->failed && ex->id == hdr->id) match = ex;
        if (!match) continue;
        auto msg = parse_message(pkt);
        if (!msg || !response_matches(*msg, *match)) {  // ignore forged/garbled
          if (match->fail_on_malformed) {
            match->failed = true;
            match->error = msg ? "malformed DNS message: the reply does not match the question"
                               : msg.error().message();
            report(obs, *match, srv, Transport::Udp, QueryAttempt::Outcome::Error, match->error);
          }
          continue;
        }
        match->answered = true;
        match->raw.assign(pkt.begin(), pkt.end());
        match->msg = std::move(*msg);
        match->elapsed_ms = ms_since(match->sent_at);
        report(obs, *match, srv, Transport::Udp, QueryAttempt::Outcome::Response);
      }
    }
    for (auto* e : group)
      if (!e->answered && !e->failed) report(obs, *e, srv, Transport::Udp, QueryAttempt::Outcome::Timeout);
  }
}

// Waits for `events` on fd; false on timeout (errno = ETIMEDOUT) or error.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    int wait = ms_until(deadline);
    if (wait <= 0) {
      errno = ETIMEDOUT;
      return false;
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, wait);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    return true;
  }
}

bool read_exact(int fd, uint8_t* p, size_t n, Clock::time_point deadline, std::string& err) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, p + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      err = "connection closed by server";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      err = errno_text(errno);
      return false;
    }
    if (!wait_fd(fd, POLLIN, deadline)) {
      err = errno == ETIMEDOUT ? "timed out" : errno_text(errno);
      return false;
    }
  }
  return true;
}

// One question over TCP (RFC 7766 two-byte length framing).
void tcp_exchange(const NameServer& srv, Exchange& ex, int timeout_ms, QueryObserver* obs) {
  ex.answered = ex.failed = false;
  ex.transport = Transport::Tcp;
  ex.sent_at = Clock::now();
  auto deadline = ex.sent_at + std::chrono::milliseconds(timeout_ms);
  auto fail = [&](const std::string& err, bool timeout) {
    ex.failed = !timeout;
    ex.error = err;
    report(obs, ex, srv, Transport::Tcp,
           timeout ? QueryAttempt::Outcome::Timeout : QueryAttempt::Outcome::Error, timeout ? "" : err);
  };
  bool in_progress = false;
  auto s = open_socket(srv, SOCK_STREAM, in_progress);
  if (!s) return fail(s.error().message(), false);
  UniqueFd fd = std::move(*s);
  if (in_progress) {
    if (!wait_fd(fd.get(), POLLOUT, deadline)) {
      bool to = errno == ETIMEDOUT;
      return fail(to ? "connect timed out" : "connect: " + errno_text(errno), to);
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) return fail("connect: " + errno_text(soerr), false);
  }
  ex.new_id();
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(ex.wire.size() >> 8));
  out.push_back(static_cast<uint8_t>(ex.wire.size()));
  out.insert(out.end(), ex.wire.begin(), ex.wire.end());
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t w = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_fd(fd.get(), POLLOUT, deadline)) return fail("send timed out", true);
      continue;
    }
    return fail("send: " + errno_text(errno), false);
  }
  for (;;) {  // skip responses that do not match (should not happen on TCP)
    uint8_t lenbuf[2];
    std::string err;
    if (!read_exact(fd.get(), lenbuf, 2, deadline, err)) return fail(err, err == "timed out");
    size_t len = static_cast<size_t>(lenbuf[0] << 8 | lenbuf[1]);
    std::vector<uint8_t> msg(len);
    if (!read_exact(fd.get(), msg.data(), len, deadline, err)) return fail(err, err == "timed out");
    auto parsed = parse_message(msg);
    if (!parsed) return fail(parsed.error().message(), false);
    if (!response_matches(*parsed, ex)) {
      if (ex.fail_on_malformed) return fail("malformed DNS message: the reply does not match the question", false);
      continue;
    }
    ex.answered = true;
    ex.raw = std::move(msg);
    ex.msg = std::move(*parsed);
    ex.elapsed_ms = ms_since(ex.sent_at);
    report(obs, ex, srv, Transport::Tcp, QueryAttempt::Outcome::Response);
    return;
  }
}

struct WireOptions {
  bool rd = true, cd = false, ad = false;
  uint8_t opcode = 0;
  std::optional<Edns> edns;
};

Result<Exchange> make_exchange(std::string_view name, uint16_t qtype, uint16_t qclass, const WireOptions& w) {
  Exchange ex;
  ex.name = absolute_name(name);
  ex.qtype = qtype;
  ex.qclass = qclass;
  QuerySpec q;
  q.name = ex.name;
  q.qtype = qtype;
  q.qclass = qclass;
  q.opcode = w.opcode;
  q.rd = w.rd;
  q.cd = w.cd;
  q.ad = w.ad;
  q.edns = w.edns;
  auto wire = build_query(q);
  if (!wire) return wire.error();
  ex.wire = std::move(*wire);
  return ex;
}

bool servfail_like(uint16_t rc) {
  return rc == rcode::SERVFAIL || rc == rcode::NOTIMP || rc == rcode::REFUSED;
}

// res_send: tries every server `attempts` times until each exchange has a usable
// answer. SERVFAIL/REFUSED/NOTIMP move on to the next server; TC → TCP.
void send_to_servers(std::vector<Exchange>& exs, const ResolvConf& conf, int timeout_ms, QueryObserver* obs) {
  auto servers = conf.servers();
  size_t n = servers.size();
  size_t start = conf.rotate ? g_rotate.fetch_add(1) % n : 0;
  for (int attempt = 0; attempt < std::max(1, conf.attempts); ++attempt) {
    for (size_t k = 0; k < n; ++k) {
      const NameServer& srv = servers[(start + k) % n];
      std::vector<Exchange*> pending;
      for (auto& e : exs)
        if (!e.final) {
          e.reset_round();
          pending.push_back(&e);
        }
      if (pending.empty()) return;
      if (conf.use_vc) {
        for (auto* e : pending) tcp_exchange(srv, *e, timeout_ms, obs);
      } else {
        udp_round(srv, pending, timeout_ms, conf.single_request || conf.single_request_reopen,
                  conf.single_request_reopen, obs);
        for (auto* e : pending)
          if (e->answered && e->msg.header.tc) tcp_exchange(srv, *e, timeout_ms, obs);
      }
      for (auto* e : pending) {
        if (e->answered) {
          e->got_response = true;
          uint16_t rc = e->msg.header.rcode;
          if (servfail_like(rc)) {
            e->bad_rcode = rc;
            e->last_problem = srv.to_string() + " answered " + rcode_to_string(rc);
          } else {
            e->final = true;
          }
        } else if (e->failed) {
          e->last_problem = srv.to_string() + ": " + e->error;
        } else {
          e->last_problem = "timed out waiting for " + srv.to_string();
        }
      }
    }
  }
}

Result<ResolvConf> effective_conf(const ResolverConfig& cfg) {
  if (cfg.resolv_conf) return *cfg.resolv_conf;
  return load_resolv_conf(cfg.resolv_conf_path, cfg.use_env);
}

int effective_timeout_ms(const ResolverConfig& cfg, const ResolvConf& conf) {
  if (cfg.timeout_ms > 0) return cfg.timeout_ms;
  return std::max(1, conf.timeout) * 1000;
}

std::optional<Edns> conf_edns(const ResolvConf& conf) {
  if (!conf.edns0) return std::nullopt;
  Edns e;
  e.udp_size = 1200;
  return e;
}

// Follows the CNAME chain from qname inside the answer section.
// Returns the final owner name.
std::string follow_cnames(const Message& m, const std::string& qname) {
  std::string target = qname;
  for (int hops = 0; hops < 16; ++hops) {
    bool moved = false;
    for (const auto& rr : m.answers) {
      if (rr.type == type::CNAME && names_equal(rr.name, target)) {
        if (auto* n = std::get_if<RdataName>(&rr.data)) {
          target = n->target;
          moved = true;
          break;
        }
      }
    }
    if (!moved) break;
  }
  return target;
}

std::string strip_dot(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

std::string name_for_errors(std::string_view name) { return std::string(name); }

Error resolve_error(std::string_view name, const char* what, std::string hint = {}) {
  Error e = make_error(name_for_errors(name) + ": " + what);
  e.hint = std::move(hint);
  return e;
}

constexpr const char* kNoName = "Name or service not known";
constexpr const char* kNoData = "No address associated with hostname";
constexpr const char* kTryAgain = "Temporary failure in name resolution";

bool looks_numeric_v4(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'x' && c != 'X') return false;
  return std::isdigit(static_cast<unsigned char>(s[0]));
}

}  // namespace

std::vector<std::string> search_candidates(std::string_view name, const ResolvConf& conf) {
  std::vector<std::string> out;
  if (name.empty()) return out;
  if (name.back() == '.') {
    out.emplace_back(name);
    return out;
  }
  size_t dots = static_cast<size_t>(std::count(name.begin(), name.end(), '.'));
  bool as_is_first = dots >= static_cast<size_t>(conf.ndots);
  if (as_is_first) out.push_back(std::string(name) + ".");
  for (const auto& s : conf.search) out.push_back(std::string(name) + "." + s + ".");
  if (!as_is_first && !(conf.no_tld_query && dots == 0)) out.push_back(std::string(name) + ".");
  return out;
}

Result<std::vector<ResolvedAddress>> resolve_host(std::string_view name, int family,
                                                  const ResolverConfig& cfg, QueryObserver* obs) {
  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
    return make_error(std::string(name) + ": ai_family not supported");
  if (name.empty()) return resolve_error(name, kNoName);

  // 1. numeric
  std::optional<IpAddr> numeric;
  if (auto parsed = IpAddr::parse(name)) numeric = *parsed;  // also "fe80::1%eth0"
  if (!numeric && looks_numeric_v4(name)) {
    in_addr a{};
    if (inet_aton(std::string(name).c_str(), &a)) numeric = IpAddr::from_in(a);
  }
  if (numeric) {
    if (family != AF_UNSPEC && numeric->family() != family)
      return resolve_error(name, "Address family for hostname not supported");
    return std::vector<ResolvedAddress>{{*numeric, std::string(name), AddressSource::Numeric, 0}};
  }

  // 2. hosts
  if (cfg.use_hosts) {
    auto hosts = HostsFile::load(cfg.hosts_path);
    if (hosts) {
      auto found = hosts->lookup(name, family);
      if (!found.empty()) {
        if (obs) obs->on_hosts_match(name, found.size());
        std::vector<ResolvedAddress> out;
        for (const auto& e : found) out.push_back({e.addr, e.canonical, AddressSource::Hosts, 0});
        std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
          return a.addr.is_v4() && !b.addr.is_v4();
        });
        return out;
      }
    }
  }

  // 3. DNS
  auto conf = effective_conf(cfg);
  if (!conf) return conf.error();
  int timeout_ms = effective_timeout_ms(cfg, *conf);
  std::vector<uint16_t> qtypes;
  if (family == AF_INET || family == AF_UNSPEC) qtypes.push_back(type::A);
  if (family == AF_INET6 || (family == AF_UNSPEC && !conf->no_aaaa)) qtypes.push_back(type::AAAA);

  WireOptions wo;
  wo.ad = conf->trust_ad;
  wo.edns = conf_edns(*conf);

  bool got_nodata = false, got_servfail = false, sent_any = false;
  std::string hint;
  auto candidates = search_candidates(name, *conf);
  for (const auto& cand : candidates) {
    std::vector<Exchange> exs;
    bool bad_name = false;
    for (uint16_t t : qtypes) {
      auto ex = make_exchange(cand, t, rclass::IN, wo);
      if (!ex) {
        bad_name = true;
        hint = ex.error().message();
        break;
      }
      exs.push_back(std::move(*ex));
    }
    if (bad_name) continue;  // e.g. too long once the search domain is appended
    if (obs) obs->on_candidate(cand);
    sent_any = true;
    send_to_servers(exs, *conf, timeout_ms, obs);

    std::vector<ResolvedAddress> out;
    bool any_nx = false, any_nodata = false, any_servfail = false, any_silent = false;
    for (auto& ex : exs) {
      if (!ex.final) {
        if (ex.bad_rcode) any_servfail = true;
        else any_silent = true;
        hint = ex.last_problem;
        continue;
      }
      const Message& m = ex.msg;
      if (m.header.rcode == rcode::NXDOMAIN) {
        any_nx = true;
        continue;
      }
      if (m.header.rcode != rcode::NOERROR) {  // FORMERR and others: treat like SERVFAIL
        any_servfail = true;
        hint = "server answered " + rcode_to_string(m.header.rcode);
        continue;
      }
      std::string owner = follow_cnames(m, ex.name);
      size_t before = out.size();
      for (const auto& rr : m.answers) {
        if (rr.type != ex.qtype || rr.rclass != rclass::IN || !names_equal(rr.name, owner)) continue;
        if (auto* a = std::get_if<RdataAddress>(&rr.data))
          out.push_back({a->address, strip_dot(owner), AddressSource::Dns, rr.ttl});
      }
      if (out.size() == before) any_nodata = true;
    }
    if (!out.empty()) {
      std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.addr.is_v4() && !b.addr.is_v4();
      });
      return out;
    }
    if (any_silent && !any_nx && !any_nodata && !any_servfail)
      return resolve_error(name, kTryAgain, hint);  // glibc stops the search on timeouts
    if (any_nodata) got_nodata = true;
    else if (any_servfail || any_silent) got_servfail = true;
  }
  if (got_nodata) return resolve_error(name, kNoData);
  if (got_servfail) return resolve_error(name, kTryAgain, hint);
  return resolve_error(name, kNoName, sent_any ? std::string() : hint);
}

Result<std::string> reverse_lookup(const IpAddr& addr, const ResolverConfig& cfg, QueryObserver* obs) {
  std::string text = addr.with_scope(0).to_string();
  if (cfg.use_hosts) {
    auto hosts = HostsFile::load(cfg.hosts_path);
    if (hosts) {
      if (auto n = hosts->reverse(addr)) {
        if (obs) obs->on_hosts_match(text, 1);
        return *n;
      }
    }
  }
  auto conf = effective_conf(cfg);
  if (!conf) return conf.error();
  WireOptions wo;
  wo.ad = conf->trust_ad;
  wo.edns = conf_edns(*conf);
  auto ex = make_exchange(reverse_name(addr), type::PTR, rclass::IN, wo);
  if (!ex) return ex.error();
  std::vector<Exchange> exs;
  exs.push_back(std::move(*ex));
  if (obs) obs->on_candidate(exs[0].name);
  send_to_servers(exs, *conf, effective_timeout_ms(cfg, *conf), obs);
  const Exchange& e = exs[0];
  if (!e.final) return resolve_error(text, kTryAgain, e.last_problem);
  if (e.msg.header.rcode == rcode::NXDOMAIN) return resolve_error(text, kNoName);
  if (e.msg.header.rcode != rcode::NOERROR)
    return resolve_error(text, kTryAgain, "server answered " + rcode_to_string(e.msg.header.rcode));
  std::string owner = follow_cnames(e.msg, e.name);
  for (const auto& rr : e.msg.answers)
    if (rr.type == type::PTR && names_equal(rr.name, owner))
      if (auto* n = std::get_if<RdataName>(&rr.data)) return strip_dot(n->target);
  return resolve_error(text, kNoData);
}

Result<QueryResult> query(const NameServer& server, std::string_view name, uint16_t qtype,
                          const QueryOptions& opts, QueryObserver* obs) {
  WireOptions wo;
  wo.rd = opts.rd;
  wo.cd = opts.cd;
  wo.ad = opts.ad;
  wo.opcode = opts.opcode;
  bool want_edns = opts.edns || opts.dnssec || opts.nsid || opts.cookie || !opts.cookie_value.empty() ||
                   !opts.client_subnet.empty();
  if (want_edns) {
    Edns e;
    e.udp_size = opts.bufsize ? opts.bufsize : 1232;
    e.dnssec_ok = opts.dnssec;
    if (opts.nsid) e.options.push_back(make_nsid_option());
    if (!opts.cookie_value.empty() || opts.cookie) {
      std::vector<uint8_t> client = opts.cookie_value;
      if (client.empty()) {
        client.resize(8);
        random_bytes(client.data(), client.size());
      }
      auto c = make_cookie_option(std::span<const uint8_t>(client).first(std::min<size_t>(8, client.size())),
                                  client.size() > 8 ? std::span<const uint8_t>(client).subspan(8)
                                                    : std::span<const uint8_t>());
      if (!c) return c.error();
      e.options.push_back(std::move(*c));
    }
    if (!opts.client_subnet.empty()) {
      auto ecs = make_client_subnet_option(opts.client_subnet);
      if (!ecs) return ecs.error();
      e.options.push_back(std::move(*ecs));
    }
    wo.edns = std::move(e);
  }
  auto exr = make_exchange(name, qtype, opts.qclass, wo);
  if (!exr) return exr.error();
  Exchange ex = std::move(*exr);
  ex.fixed_id = opts.id;
  ex.fail_on_malformed = opts.fail_on_malformed;
  std::string what = "query " + ex.name + " " + type_to_string(qtype) + " @" + server.to_string();
  int tries = std::max(1, opts.tries);
  int timeout_ms = std::max(1, opts.timeout_ms);

  auto finish = [&](bool fallback) -> Result<QueryResult> {
    QueryResult r;
    r.query = ex.wire;
    r.raw = std::move(ex.raw);
    r.message = std::move(ex.msg);
    r.server = server;
    r.transport = ex.transport;
    r.elapsed_ms = ex.elapsed_ms;
    r.tcp_fallback = fallback;
    return r;
  };
  auto tcp_tries = [&](bool fallback) -> Result<QueryResult> {
    std::string last;
    for (int i = 0; i < tries; ++i) {
      tcp_exchange(server, ex, timeout_ms, obs);
      if (ex.answered) return finish(fallback);
      last = ex.failed ? ex.error : "timed out";
      if (ex.failed && ex.error.find("refused") != std::string::npos) break;
    }
    Error e = make_error(what + " over TCP: " + last);
    return e;
  };

  if (opts.tcp) return tcp_tries(false);
  std::string last = "timed out";
  for (int i = 0; i < tries; ++i) {
    ex.reset_round();
    udp_round(server, {&ex}, timeout_ms, false, false, obs);
    if (ex.answered) {
      if (ex.msg.header.tc && !opts.ignore_tc) return tcp_tries(true);
      return finish(false);
    }
    if (ex.failed) {
      last = ex.error;
      break;  // refused/unreachable will not improve by retrying
    }
  }
  return make_error(what + ": " + last);
}

}  // namespace netshoot::core::dns
