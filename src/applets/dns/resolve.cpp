// `dns resolve NAME`: the glibc stub resolver's path for NAME (hosts, then each
// search candidate, A and AAAA in parallel, across the nameservers), every query
// with its rcode and time, the answer, and a diagnosis of the extra cost.
#include "resolve.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine.h"
#include "netshoot/output.h"

namespace netshoot::applet::dns {

std::vector<wire::QueryAttempt> in_send_order(std::vector<wire::QueryAttempt> attempts) {
  std::stable_sort(attempts.begin(), attempts.end(),
                   [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  return attempts;
}

namespace {

std::string plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string diagnose(std::string_view name, const wire::ResolvConf& conf,
                     const std::vector<wire::QueryAttempt>& attempts, std::string_view answered_name) {
  using Outcome = wire::QueryAttempt::Outcome;
  std::vector<std::string> parts;
  std::string as_is = wire::absolute_name(name);
  bool absolute = !name.empty() && name.back() == '.';
  size_t dots = static_cast<size_t>(std::count(name.begin(), name.end(), '.')) - (absolute ? 1 : 0);
  size_t nx_search = 0, timeouts = 0, truncated = 0, servfail = 0;
  std::string timeout_server, servfail_server;
  for (const auto& a : attempts) {
    if (a.outcome == Outcome::Timeout) {
      ++timeouts;
      if (timeout_server.empty()) timeout_server = a.server.to_string();
      continue;
    }
    if (a.outcome != Outcome::Response) continue;
    if (a.truncated) ++truncated;
    if (a.rcode == wire::rcode::SERVFAIL || a.rcode == wire::rcode::REFUSED) {
      ++servfail;
      if (servfail_server.empty()) servfail_server = a.server.to_string() + " answered " + wire::rcode_to_string(a.rcode);
    }
    bool candidate = !wire::names_equal(a.name, as_is) && !wire::names_equal(a.name, answered_name);
    if (candidate && a.rcode == wire::rcode::NXDOMAIN) ++nx_search;
  }
  if (nx_search > 0) {
    std::string p = std::to_string(nx_search) + " of " + std::to_string(attempts.size()) +
                    " queries were NXDOMAIN search-list candidates: ";
    if (!absolute && dots < static_cast<size_t>(conf.ndots))
      p += "ndots:" + std::to_string(conf.ndots) + " makes '" + std::string(name) + "' (" +
           plural(dots, "dot", "dots") + ") try the search list first; use a trailing dot or lower ndots";
    else
      p.append("'").append(name).append("' was not found as written, so every search domain was tried");
    parts.push_back(std::move(p));
  }
  if (timeouts > 0)
    parts.push_back(plural(timeouts, "query", "queries") + " timed out (first: " + timeout_server +
                    "), each costing timeout:" + std::to_string(conf.timeout) + "s");
  if (truncated > 0)
    parts.push_back(plural(truncated, "answer was", "answers were") + " truncated (TC) and retried over TCP");
  if (servfail > 0) parts.push_back(servfail_server);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

int run_resolve(Context& ctx, const Options& o) {
  const std::string name = o.lookups.front().name;
  auto out = core::Output::make(ctx.json);
  out->set_batch(true);
  auto conf = wire::load_resolv_conf(o.resolv_conf);
  if (!conf) {
    std::fprintf(stderr, "%s: %s\n", ctx.invoked_as.c_str(), conf.error().message().c_str());
    return 1;
  }
  wire::ResolverConfig cfg;
  cfg.resolv_conf_path = o.resolv_conf;
  cfg.hosts_path = o.hosts_file;
  if (o.timeout_given) cfg.timeout_ms = o.query.timeout_ms;
  wire::RecordingObserver obs;
  auto t0 = std::chrono::steady_clock::now();
  auto res = wire::resolve_host(name, o.family, cfg, &obs);
  double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  auto attempts = in_send_order(obs.attempts);

  std::string servers;
  for (const auto& ns : conf->servers()) {
    if (!servers.empty()) servers += ' ';
    servers += ns.addr.to_string();
  }
  std::string search;
  for (const auto& s : conf->search) search += (search.empty() ? "" : " ") + s;
  char cbuf[512];
  std::snprintf(cbuf, sizeof cbuf, ";; %s: nameserver %s; search %s; ndots:%d timeout:%d attempts:%d%s%s",
                o.resolv_conf.c_str(), servers.c_str(), search.empty() ? "(none)" : search.c_str(), conf->ndots,
                conf->timeout, conf->attempts, conf->rotate ? " rotate" : "",
                conf->single_request ? " single-request" : conf->single_request_reopen ? " single-request-reopen" : "");
  out->text(cbuf);
  bool hosts_hit = !obs.hosts_matches.empty();
  out->text(";; " + o.hosts_file + ": " + (hosts_hit ? "answers " + name + " (DNS is not asked)" : "no entry for " + name));

  size_t width = 5;
  for (const auto& a : attempts) width = std::max(width, a.name.size());
  if (!attempts.empty()) {
    std::snprintf(cbuf, sizeof cbuf, "%3s  %-*s  %-5s %-22s %-9s %4s %10s", "#", static_cast<int>(width), "QUERY", "TYPE",
                  "SERVER", "RCODE", "ANS", "TIME");
    out->text(cbuf);
  }
  std::string answered;
  size_t n = 0;
  for (const auto& a : attempts) {
    ++n;
    std::string rcode = a.outcome == wire::QueryAttempt::Outcome::Response ? wire::rcode_to_string(a.rcode)
                        : a.outcome == wire::QueryAttempt::Outcome::Timeout ? "TIMEOUT"
                                                                            : "ERROR";
    if (a.truncated) rcode += ",TC";
    std::string srv = a.server.to_string() + " " + wire::transport_name(a.transport);
    if (a.outcome == wire::QueryAttempt::Outcome::Response && a.rcode == 0 && a.answer_count > 0) answered = a.name;
    std::snprintf(cbuf, sizeof cbuf, "%3zu  %-*s  %-5s %-22s %-9s %4zu %7.1f ms", n, static_cast<int>(width), a.name.c_str(),
                  wire::type_to_string(a.qtype).c_str(), srv.c_str(), rcode.c_str(), a.answer_count, a.elapsed_ms);
    core::Json j;
    j["seq"] = n;
    j["name"] = a.name;
    j["qtype"] = wire::type_to_string(a.qtype);
    j["server"] = a.server.to_string();
    j["transport"] = wire::transport_name(a.transport);
    j["outcome"] = a.outcome == wire::QueryAttempt::Outcome::Response ? "response"
                   : a.outcome == wire::QueryAttempt::Outcome::Timeout ? "timeout" : "error";
    j["rcode"] = a.outcome == wire::QueryAttempt::Outcome::Response ? core::Json(wire::rcode_to_string(a.rcode)) : core::Json(nullptr);
    j["truncated"] = a.truncated;
    j["answers"] = a.answer_count;
    j["elapsed_ms"] = a.elapsed_ms;
    if (!a.error.empty()) j["error"] = a.error;
    out->record("dns_query", j, cbuf + (a.error.empty() ? std::string() : "  " + a.error));
  }
  std::string diag = diagnose(name, *conf, attempts, answered);
  core::Json j;
  j["name"] = name;
  j["queries"] = attempts.size();
  j["elapsed_ms"] = total_ms;
  j["source"] = hosts_hit ? "hosts" : "dns";
  std::string text;
  int rc = 0;
  if (res) {
    std::string addrs;
    core::Json list = core::Json::array();
    for (const auto& a : *res) {
      if (!addrs.empty()) addrs += ' ';
      addrs += a.addr.to_string();
      list.push_back(a.addr.to_string());
    }
    std::string canon = res->empty() ? name : res->front().canonical_name;
    j["canonical_name"] = canon;
    j["addresses"] = list;
    j["error"] = nullptr;
    std::snprintf(cbuf, sizeof cbuf, "%.1f", total_ms);
    text = ";; answer: " + name + (canon != name ? " (canonical " + canon + ")" : "") + " -> " + addrs + "  [" +
           std::to_string(attempts.size()) + " queries, " + cbuf + " ms]";
  } else {
    j["addresses"] = core::Json::array();
    j["error"] = res.error().message();
    text = ";; answer: " + res.error().message();
    rc = 1;
  }
  j["diagnosis"] = diag.empty() ? core::Json(nullptr) : core::Json(diag);
  if (!diag.empty()) text += "\n;; diagnosis: " + diag;
  out->record("dns_resolve", j, text);
  out->flush();
  return rc;
}

}  // namespace netshoot::applet::dns
