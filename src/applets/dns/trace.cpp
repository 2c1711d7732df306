// dig +trace / drill -T: iterative resolution from the root hints, printing every
// referral as dig does (";; Received N bytes from ADDR#53(NAME) in T ms").
#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine.h"

namespace netshoot::applet::dns {

namespace {

struct Hint {
  std::string name;  // "a.root-servers.net."
  core::IpAddr addr;
};

// The root servers (IANA's named.root); used unless --root-hints / NETSHOOT_ROOT_HINTS.
std::vector<Hint> builtin_hints() {
  static const char* table[][2] = {
      {"a.root-servers.net.", "198.41.0.4"},     {"b.root-servers.net.", "170.247.170.2"},
      {"c.root-servers.net.", "192.33.4.12"},    {"d.root-servers.net.", "199.7.91.13"},
      {"e.root-servers.net.", "192.203.230.10"}, {"f.root-servers.net.", "192.5.5.241"},
      {"g.root-servers.net.", "192.112.36.4"},   {"h.root-servers.net.", "198.97.190.53"},
      {"i.root-servers.net.", "192.36.148.17"},  {"j.root-servers.net.", "192.58.128.30"},
      {"k.root-servers.net.", "193.0.14.129"},   {"l.root-servers.net.", "199.7.83.42"},
      {"m.root-servers.net.", "202.12.27.33"},   {"a.root-servers.net.", "2001:503:ba3e::2:30"},
      {"f.root-servers.net.", "2001:500:2f::f"}, {"k.root-servers.net.", "2001:7fd::1"},
  };
  std::vector<Hint> out;
  for (auto& row : table) out.push_back({row[0], *core::IpAddr::try_parse(row[1])});
  return out;
}

// A root hints file in master format: "NAME [TTL] [IN] A|AAAA ADDR" lines (NS lines skipped).
core::Result<std::vector<Hint>> load_hints(const std::string& path) {
  std::ifstream f(path);
  if (!f) return core::make_error("root hints " + path + ": cannot open");
  std::vector<Hint> out;
  std::string line;
  while (std::getline(f, line)) {
    if (auto c = line.find(';'); c != std::string::npos) line.resize(c);
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string t; in >> t;) w.push_back(t);
    for (size_t i = 1; i + 1 < w.size(); ++i) {
      if (w[i] == "A" || w[i] == "AAAA" || w[i] == "a" || w[i] == "aaaa") {
        if (auto a = core::IpAddr::try_parse(w[i + 1])) out.push_back({wire::absolute_name(w[0]), *a});
        break;
      }
    }
  }
  if (out.empty()) return core::make_error("root hints " + path + ": no A/AAAA records");
  return out;
}

std::string bare(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

int run_trace(Context& ctx, const Options& o) {
  std::vector<Hint> servers;
  if (!o.root_hints.empty()) {
    auto h = load_hints(o.root_hints);
    if (!h) {
      std::fprintf(stderr, "%s: %s\n", ctx.invoked_as.c_str(), h.error().message().c_str());
      return kDigInternal;
    }
    servers = std::move(*h);
  } else {
    servers = builtin_hints();
  }
  auto by_family = [&](std::vector<Hint> v) {
    std::vector<Hint> keep;
    for (auto& h : v)
      if (o.family == AF_UNSPEC ? h.addr.is_v4() : h.addr.family() == o.family) keep.push_back(h);
    return keep.empty() ? v : keep;
  };
  servers = by_family(servers);
  const Lookup& l = o.lookups.front();
  std::string qname = wire::absolute_name(l.name);
  wire::QueryOptions q = o.query;
  q.rd = false;
  q.qclass = l.qclass;
  q.fail_on_malformed = true;
  if (!o.timeout_given) q.timeout_ms = 2000;
  if (!o.retry_given) q.tries = 2;

  std::string out;
  Options shown = o;
  shown.display.comments = false;
  if (o.display.cmd && o.style == Style::Dig) out += dig_banner(o, 0);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);

  // Step 0: the root NS set from the first hint that answers (priming).
  uint16_t qtype = l.qtype;
  std::string zone = ".";
  bool priming = true;
  for (int depth = 0; depth < 32; ++depth) {
    std::string ask = priming ? "." : qname;
    uint16_t ask_type = priming ? wire::type::NS : qtype;
    const Hint* used = nullptr;
    core::Result<wire::QueryResult> res = core::make_error("no servers");
    std::string errors;
    for (const auto& h : servers) {
      wire::NameServer ns{h.addr, o.port};
      res = wire::query(ns, ask, ask_type, q);
      if (res) {
        used = &h;
        break;
      }
      errors += ";; communications error to " + ns.to_string() + "(" + bare(h.name) + "): " + short_error(res.error().message()) + "\n";
    }
    std::fputs(errors.c_str(), stdout);
    if (!used) {
      std::printf(";; no servers could be reached\n");
      return kDigNoReply;
    }
    const auto& m = res->message;
    std::string block;
    for (const auto& rr : m.answers) block += dig_record(rr) + "\n";
    if (m.answers.empty())  // referrals and negative answers: the authority section is the news
      for (const auto& rr : m.authority) block += dig_record(rr) + "\n";
    char tail[256];
    std::snprintf(tail, sizeof tail, ";; Received %zu bytes from %s(%s) in %ld ms\n\n", res->raw.size(),
                  wire::NameServer{used->addr, o.port}.to_string().c_str(), bare(used->name).c_str(),
                  static_cast<long>(res->elapsed_ms));
    std::fputs((block + tail).c_str(), stdout);
    std::fflush(stdout);
    uint16_t rc = m.header.rcode;
    if (priming) {
      priming = false;
      // Use the primed NS set when it comes with addresses; else keep the hints.
      std::vector<Hint> next;
      for (const auto& rr : m.answers)
        if (rr.type == wire::type::NS)
          if (auto* n = std::get_if<wire::RdataName>(&rr.data))
            for (const auto& ad : m.additional)
              if (wire::names_equal(ad.name, n->target))
                if (auto* a = std::get_if<wire::RdataAddress>(&ad.data)) next.push_back({n->target, a->address});
      next = by_family(next);
      if (!next.empty()) servers = next;
      continue;
    }
    if (rc != wire::rcode::NOERROR || !m.answers.empty()) return kDigOk;  // an answer, NXDOMAIN or a failure: done
    // A referral: the NS set of a zone closer to qname, with glue.
    std::string cut;
    std::vector<std::string> ns_names;
    for (const auto& rr : m.authority)
      if (rr.type == wire::type::NS)
        if (auto* n = std::get_if<wire::RdataName>(&rr.data)) {
          cut = rr.name;
          ns_names.push_back(n->target);
        }
    if (ns_names.empty() || wire::names_equal(cut, zone)) return kDigOk;  // NODATA, or a lame referral
    zone = cut;
    std::vector<Hint> next;
    for (const auto& nsn : ns_names)
      for (const auto& ad : m.additional)
        if (wire::names_equal(ad.name, nsn))
          if (auto* a = std::get_if<wire::RdataAddress>(&ad.data)) next.push_back({nsn, a->address});
    if (next.empty()) {
      // No glue: find the NS addresses through the ordinary resolver.
      wire::ResolverConfig rc_cfg;
      rc_cfg.resolv_conf_path = o.resolv_conf;
      for (const auto& nsn : ns_names)
        if (auto addrs = wire::resolve_host(bare(nsn), o.family, rc_cfg))
          for (const auto& a : *addrs) next.push_back({nsn, a.addr});
    }
    next = by_family(next);
    if (next.empty()) {
      std::printf(";; no address for any name server of %s\n", zone.c_str());
      return kDigNoReply;
    }
    servers = std::move(next);
  }
  std::printf(";; too many referrals\n");
  return kDigNoReply;
}

}  // namespace netshoot::applet::dns
