// The resolver every applet uses (there is no NSS in the static binary):
// numeric addresses, then hosts(5), then DNS with glibc's search-list and ndots
// rules, A and AAAA in parallel over one UDP socket, TCP on truncation, retries
// across servers per resolv.conf. Every DNS attempt is reported to an optional
// QueryObserver (for `dns resolve` explanations and -v output).
// Also a single-query primitive for dig-like applets.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/dns.h"
#include "netshoot/hosts.h"
#include "netshoot/resolv_conf.h"
#include "netshoot/result.h"

namespace netshoot::core::dns {

enum class Transport { Udp, Tcp };
const char* transport_name(Transport t);  // "udp" / "tcp"

struct QueryAttempt {
  enum class Outcome { Response, Timeout, Error };
  std::string name;   // the candidate name that was asked, absolute
  uint16_t qtype = 0;
  NameServer server;
  Transport transport = Transport::Udp;
  Outcome outcome = Outcome::Timeout;
  uint16_t rcode = 0;       // when outcome == Response
  bool truncated = false;   // TC bit in the response
  size_t answer_count = 0;  // records in the answer section
  std::string error;        // when outcome == Error ("Connection refused")
  double elapsed_ms = 0;
  uint64_t sequence = 0;    // process-wide send order: sort by it to see what went out first
};

class QueryObserver {
 public:
  virtual ~QueryObserver() = default;
  virtual void on_attempt(const QueryAttempt& /*attempt*/) {}
  // A search-list candidate is about to be tried.
  virtual void on_candidate(std::string_view /*name*/) {}
  // /etc/hosts answered `name` with `count` addresses (DNS is not asked).
  virtual void on_hosts_match(std::string_view /*name*/, size_t /*count*/) {}
};

// Records everything it is told; handy for tests and "explain" output.
class RecordingObserver : public QueryObserver {
 public:
  void on_attempt(const QueryAttempt& a) override { attempts.push_back(a); }
  void on_candidate(std::string_view n) override { candidates.emplace_back(n); }
  void on_hosts_match(std::string_view n, size_t) override { hosts_matches.emplace_back(n); }
  std::vector<QueryAttempt> attempts;
  std::vector<std::string> candidates;
  std::vector<std::string> hosts_matches;
};

struct ResolverConfig {
  std::string resolv_conf_path = "/etc/resolv.conf";
  std::string hosts_path = "/etc/hosts";
  std::optional<ResolvConf> resolv_conf;  // when set, used instead of reading the path
  bool use_hosts = true;
  bool use_env = true;  // LOCALDOMAIN / RES_OPTIONS (only when reading the file)
  int timeout_ms = 0;   // > 0: per-server wait instead of resolv.conf's timeout seconds
};

enum class AddressSource { Numeric, Hosts, Dns };

struct ResolvedAddress {
  IpAddr addr;
  std::string canonical_name;  // end of the CNAME chain / hosts canonical, no trailing dot
  AddressSource source = AddressSource::Dns;
  uint32_t ttl = 0;
};

// Names to try, in order, each absolute with a trailing dot (glibc res_nsearch):
// trailing dot → only the name; dots ≥ ndots → as-is first, then name.search[i];
// dots < ndots → name.search[i] first, then as-is (unless no-tld-query and no dot).
std::vector<std::string> search_candidates(std::string_view name, const ResolvConf& conf);

// Address lookup. family: AF_UNSPEC (IPv4 results first, then IPv6), AF_INET, AF_INET6.
// Errors read like gai_strerror: "NAME: Name or service not known", "NAME: No address
// associated with hostname", "NAME: Temporary failure in name resolution"; the hint
// says what happened last (e.g. "timed out waiting for 10.96.0.10#53").
Result<std::vector<ResolvedAddress>> resolve_host(std::string_view name, int family,
                                                  const ResolverConfig& cfg = {},
                                                  QueryObserver* observer = nullptr);

// Address → name: hosts first, then a PTR query (CNAMEs followed). No trailing dot.
Result<std::string> reverse_lookup(const IpAddr& addr, const ResolverConfig& cfg = {},
                                   QueryObserver* observer = nullptr);

// ---- one query to one server (dig) -------------------------------------------------
struct QueryOptions {
  bool tcp = false;
  bool ignore_tc = false;  // keep a truncated UDP answer instead of retrying over TCP
  int timeout_ms = 5000;   // per try
  int tries = 3;           // UDP sends before giving up (TCP: connection attempts)
  bool edns = true;
  uint16_t bufsize = 1232;
  bool dnssec = false;     // DO bit (implies edns)
  bool nsid = false;
  bool cookie = false;     // send a random client cookie
  std::vector<uint8_t> cookie_value;  // explicit client(+server) cookie, implies cookie
  std::string client_subnet;          // "192.0.2.0/24": ECS option
  bool rd = true, cd = false, ad = false;
  uint16_t qclass = rclass::IN;
  uint8_t opcode = opcode::QUERY;
  std::optional<uint16_t> id;         // random when unset
  // A reply with our id from the server that does not parse (or does not echo the
  // question) ends the query with "malformed DNS message: ..." (dig's "got bad
  // packet") instead of being ignored while waiting for a better one.
  bool fail_on_malformed = false;
};

struct QueryResult {
  std::vector<uint8_t> query;     // what was sent (last try)
  std::vector<uint8_t> raw;       // the response bytes
  Message message;                // parsed response
  NameServer server;
  Transport transport = Transport::Udp;
  double elapsed_ms = 0;          // of the exchange that produced the response
  bool tcp_fallback = false;      // TC on UDP → answered over TCP
};

// Sends one question; returns the first valid response whatever its rcode.
// Errors: "query NAME TYPE @SERVER: timed out", connection refused, malformed reply.
Result<QueryResult> query(const NameServer& server, std::string_view name, uint16_t qtype,
                          const QueryOptions& opts = {}, QueryObserver* observer = nullptr);

}  // namespace netshoot::core::dns
