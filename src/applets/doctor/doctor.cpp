// doctor: runs the layers in order, prints each as it completes, and ends with
// one verdict line. Exit 0 only when every layer passes (warnings allowed).
#include <sys/socket.h>

#include <chrono>
#include <iterator>
#include <cstdio>

#include <fmt/format.h>

#include "applets/doctor/layers.h"
#include "netshoot/applet.h"
#include "netshoot/nftables.h"

namespace netshoot::applet::doctor {

const char* status_name(Status s) {
  switch (s) {
    case Status::pass: return "pass";
    case Status::warn: return "warn";
    case Status::fail: return "fail";
    case Status::skip: return "skip";
  }
  return "?";
}

Verdict decide(const std::vector<Check>& checks) {
  const Check* policy = nullptr;
  for (const auto& c : checks)
    if (c.layer == "policy" && c.status == Status::fail) policy = &c;
  for (const auto& c : checks) {
    if (c.status != Status::fail) continue;
    // A rule of our own that drops or rejects the flow explains the symptom
    // that reachability or the path shows.
    const Check& d = policy && (c.layer == "reachability" || c.layer == "path") ? *policy : c;
    return {false, d.layer, d.fault, d.message.empty() ? d.summary : d.message};
  }
  return {true, {}, {}, {}};
}

namespace {

using Clock = std::chrono::steady_clock;

const char* status_word(Status s) {
  switch (s) {
    case Status::pass: return "PASS";
    case Status::warn: return "WARN";
    case Status::fail: return "FAIL";
    case Status::skip: return "skip";
  }
  return "?";
}

class Report {
 public:
  Report(core::Output& out, const Options& o) : out_(out), o_(o) {}

  void add(Check c) {
    int n = static_cast<int>(checks_.size()) + 1;
    std::string text = fmt::format("{} {:<13}{}  {}", n, c.layer, status_word(c.status), c.summary);
    for (const auto& d : c.details) text += "\n      " + d;
    out_.text(text);
    out_.flush();
    checks_.push_back(std::move(c));
  }

  // The layers after a failing one are listed as not run, so that the report
  // (and the JSON) always has all six.
  void skip_rest() {
    static const char* kLayers[] = {"resolver", "route", "neighbour", "reachability", "path", "policy"};
    std::string failed = checks_.empty() ? "" : checks_.back().layer;
    for (size_t i = checks_.size(); i < std::size(kLayers); ++i) {
      Check c;
      c.layer = kLayers[i];
      c.status = Status::skip;
      c.summary = "not run: " + failed + " failed";
      add(std::move(c));
    }
  }

  int finish(const std::optional<IpAddr>& addr, double elapsed_ms) {
    skip_rest();
    Verdict v = decide(checks_);
    std::string proto = o_.udp ? "udp" : "tcp";
    bool v6 = o_.target.host.find(':') != std::string::npos;
    std::string target = o_.target.port ? (v6 ? "[" + o_.target.host + "]" : o_.target.host) + ":" +
                                              std::to_string(*o_.target.port)
                                        : o_.target.host;
    std::string line;
    if (v.ok) {
      std::string what = o_.target.port ? fmt::format("{} is reachable over {}", target, proto)
                                        : fmt::format("{} answers", o_.target.host);
      std::vector<std::string> warned;
      for (const auto& c : checks_)
        if (c.status == Status::warn) warned.push_back(c.layer);
      std::string warn_text;
      for (const auto& w : warned) warn_text += (warn_text.empty() ? "" : ", ") + w;
      if (!warned.empty()) what = target + ": no layer fails";
      line = fmt::format("verdict: OK {} (all layers pass{}, {:.0f} ms)", what,
                         warned.empty() ? "" : fmt::format("; warnings: {}", warn_text), elapsed_ms);
    } else {
      line = fmt::format("verdict: FAIL {}/{}: {}", v.layer, v.fault, v.message);
    }
    if (out_.json()) {
      Json checks = Json::array();
      for (const auto& c : checks_)
        checks.push_back({{"layer", c.layer},
                          {"status", status_name(c.status)},
                          {"summary", c.summary},
                          {"fault", c.fault.empty() ? Json(nullptr) : Json(c.fault)},
                          {"data", c.data}});
      out_.record("doctor",
                  {{"target", o_.target.host},
                   {"address", addr ? Json(addr->to_string()) : Json(nullptr)},
                   {"port", o_.target.port ? Json(*o_.target.port) : Json(nullptr)},
                   {"protocol", proto},
                   {"checks", checks},
                   {"verdict",
                    {{"ok", v.ok},
                     {"layer", v.ok ? Json(nullptr) : Json(v.layer)},
                     {"fault", v.ok ? Json(nullptr) : Json(v.fault)},
                     {"message", v.ok ? Json(line.substr(12)) : Json(v.message)}}},
                   {"ms", elapsed_ms}},
                  line);
    } else {
      out_.text(line);
    }
    out_.flush();
    return v.ok ? kExitOk : kExitFailure;
  }

 private:
  core::Output& out_;
  const Options& o_;
  std::vector<Check> checks_;
};

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "doctor: %s\n", parsed.error().message().c_str());
    return kExitUsage;
  }
  const Options& o = *parsed;
  if (o.help) {
    std::fputs(usage().c_str(), stdout);
    return kExitOk;
  }
  auto out = core::Output::make(ctx.json);
  auto t0 = Clock::now();
  auto elapsed = [&]() { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  Report report(*out, o);
  std::string proto = o.udp ? "udp" : "tcp";
  bool v6 = o.target.host.find(':') != std::string::npos && o.target.port;
  out->text(fmt::format("doctor {}{}{}", v6 ? "[" + o.target.host + "]" : o.target.host,
                        o.target.port ? fmt::format(":{} ({})", *o.target.port, proto) : std::string(" (no port: ICMP only)"),
                        ctx.netns.empty() ? "" : " in netns " + ctx.netns));

  std::optional<IpAddr> addr;
  Check resolver = check_resolver(o, addr);
  bool stop = resolver.status == Status::fail;
  report.add(std::move(resolver));
  if (stop) return report.finish(addr, elapsed());

  std::optional<PathInfo> path;
  Check route = check_route(*addr, path);
  stop = route.status == Status::fail;
  report.add(std::move(route));
  if (stop) return report.finish(addr, elapsed());

  Check neigh = check_neighbour(*path);
  stop = neigh.status == Status::fail;
  report.add(std::move(neigh));
  if (stop) return report.finish(addr, elapsed());

  auto before = core::nft::dump_ruleset(0);
  ProbeChecks probes = check_reachability_and_path(o, *path);
  Check policy = check_policy(before, probes, *path, o);
  report.add(std::move(probes.reachability));
  report.add(std::move(probes.path));
  report.add(std::move(policy));
  return report.finish(addr, elapsed());
}

}  // namespace netshoot::applet::doctor
