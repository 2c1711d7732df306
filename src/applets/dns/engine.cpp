// The engine: servers, search candidates, queries, and the applet's entry point.
#include "engine.h"

#include <cstdio>
#include <string_view>

#include "netshoot/log.h"
#include "netshoot/output.h"

namespace netshoot::applet::dns {

std::string short_error(const std::string& message) {
  // "query NAME TYPE @SERVER#PORT[ over TCP]: WHAT" → "WHAT", lowercased first letter.
  std::string s = message;
  if (s.rfind("query ", 0) == 0) {
    size_t at = s.find(" @");
    size_t colon = at == std::string::npos ? std::string::npos : s.find(": ", at);
    if (colon != std::string::npos) s = s.substr(colon + 2);
  }
  if (!s.empty() && s.rfind("malformed", 0) != 0) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

core::Result<ServerSet> choose_servers(const Options& o) {
  ServerSet set;
  auto conf = wire::load_resolv_conf(o.resolv_conf);
  if (conf) set.conf = std::move(*conf);
  auto keep = [&](const wire::NameServer& ns) { return o.family == AF_UNSPEC || ns.addr.family() == o.family; };
  if (!o.server.empty()) {
    set.label = o.server;
    if (auto ns = wire::NameServer::parse(o.server, o.port)) {
      set.servers.push_back(*ns);
    } else {
      wire::ResolverConfig rc;
      rc.resolv_conf_path = o.resolv_conf;
      rc.hosts_path = o.hosts_file;
      auto addrs = wire::resolve_host(o.server, o.family, rc);
      if (!addrs) return core::make_error("couldn't get address for '" + o.server + "': not found");
      for (const auto& a : *addrs) {
        wire::NameServer ns;
        ns.addr = a.addr;
        ns.port = o.port;
        set.servers.push_back(ns);
      }
    }
  } else {
    for (auto ns : set.conf.servers()) {
      ns.port = o.port;
      set.servers.push_back(ns);
    }
  }
  std::vector<wire::NameServer> kept;
  for (const auto& ns : set.servers)
    if (keep(ns)) kept.push_back(ns);
  if (kept.empty()) return core::make_error("no usable server for the requested address family");
  set.servers = std::move(kept);
  return set;
}

Reply run_lookup(const Options& o, const ServerSet& s, const Lookup& l, uint16_t qtype) {
  Reply r;
  r.lookup = l;
  r.qtype = qtype;
  r.server_label = s.label;
  std::vector<std::string> candidates;
  if (o.search && !l.reverse && !l.name.empty() && l.name.back() != '.')
    candidates = wire::search_candidates(l.name, s.conf);
  if (candidates.empty()) candidates.push_back(wire::absolute_name(l.name));
  wire::QueryOptions q = o.query;
  q.qclass = l.qclass;
  q.fail_on_malformed = true;
  if (o.style == Style::Dig && qtype == wire::type::ANY && !o.tcp_given) q.tcp = true;  // dig 9.18 does
  for (size_t c = 0; c < candidates.size(); ++c) {
    r.qname = candidates[c];
    r.ok = false;
    for (const auto& ns : s.servers) {
      auto res = wire::query(ns, r.qname, qtype, q);
      if (!res) {
        r.error = short_error(res.error().message());
        r.comm_errors.push_back(";; communications error to " + ns.to_string() + ": " + r.error);
        continue;
      }
      r.ok = true;
      r.result = std::move(*res);
      r.when = std::time(nullptr);
      break;
    }
    if (!r.ok) return r;  // no server answered: the search stops (as the tools do)
    if (r.result.message.header.rcode != wire::rcode::NXDOMAIN) return r;
  }
  return r;
}

namespace {

const char* kHelpDig =
    "Usage: dig [@server] [-p port] [-t type] [-c class] [-q name] [-x addr] [-4|-6] [-f file]\n"
    "           name [type] [class] [+[no]option ...]\n"
    "       drill [-V N] [-T] [-t] [-x] [-D] [-p port] [-r hints] name [type] [@server]\n"
    "       nslookup [-type=T] [-port=N] [-timeout=S] [-retry=N] name [server]\n"
    "       host [-t type] [-T] [-W secs] [-R n] [-4|-6] name|addr [server]\n"
    "       dns resolve NAME [--resolv-conf F] [--hosts-file F] [-4|-6]\n"
    "       dns bench -s SERVER [-p port] -d FILE [-l secs] [-n count] [-Q qps] [-c inflight] [-T sockets]\n"
    "       dns trace NAME [TYPE] [--root-hints FILE]\n"
    "\n"
    "dig +options (any unique prefix; +no... turns one off):\n"
    "  +short +[no]tcp +[no]trace +[no]recurse +[no]dnssec +[no]nsid +[no]cookie[=HEX]\n"
    "  +bufsize=N +timeout=SECS +tries=N +retry=N +[no]edns +[no]ignore +[no]search\n"
    "  +[no]all +[no]cmd +[no]comments +[no]question +[no]answer +[no]authority\n"
    "  +[no]additional +[no]stats +[no]qr +[no]identify +subnet=ADDR/LEN +[no]adflag +[no]cdflag\n"
    "Other: --root-hints FILE (+trace; env NETSHOOT_ROOT_HINTS), --resolv-conf FILE,\n"
    "       --parallel N (dig -f: names in flight), global --json, --netns TARGET\n"
    "\n"
    "Server: @server, else the first nameserver of /etc/resolv.conf (then the others).\n"
    "Exit codes (dig): 0 a reply (also NXDOMAIN), 1 usage, 9 no reply, 10 internal error.\n"
    "nslookup and host exit 1 when the name is not found.\n"
    "\n"
    "Examples:\n"
    "  dig example.com                       A record from the resolv.conf server\n"
    "  dig @10.96.0.10 kubernetes.default.svc.cluster.local +short\n"
    "  dig -x 10.96.0.1 +noall +answer       reverse lookup, records only\n"
    "  dig example.com MX +tcp +nsid          over TCP, asking the server's NSID\n"
    "  dig +trace example.com                 iterative, from the root servers\n"
    "  dig -f names.txt +short --parallel 64  many names at once\n"
    "  drill -V 5 example.com @1.1.1.1        the query and the answer, as drill shows them\n"
    "  nslookup api.default                   search list applied, like nslookup\n"
    "  host -t mx example.com\n"
    "  dns resolve api.example.com            what glibc in this pod would send, and why it is slow\n"
    "  dns bench -s 10.96.0.10 -d names.txt -l 10 -c 200   queries/s and latency percentiles\n"
    "  netshoot dig --netns web example.com   from a container's network namespace\n";

int run_queries(Context& ctx, const Options& o) {
  auto out = core::Output::make(ctx.json);
  out->set_batch(true);
  auto servers = choose_servers(o);
  std::string prog = ctx.invoked_as;
  if (!servers) {
    out->flush();
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), servers.error().message().c_str());
    return o.style == Style::Dig ? kDigInternal : 1;
  }
  int rc = 0;
  if (o.style == Style::Nslookup || o.style == Style::Host) {
    const Lookup& l = o.lookups.front();
    std::vector<uint16_t> types;
    if (l.type_given) types.push_back(l.qtype);
    else if (o.style == Style::Nslookup) types = {wire::type::A, wire::type::AAAA};
    else types = {wire::type::A, wire::type::AAAA, wire::type::MX};
    std::vector<Reply> replies;
    for (uint16_t t : types) {
      replies.push_back(run_lookup(o, *servers, l, t));
      if (!replies.back().ok) break;
      uint16_t rcv = replies.back().result.message.header.rcode;
      if (rcv != wire::rcode::NOERROR) break;  // NXDOMAIN/SERVFAIL: no point asking the other types
    }
    if (ctx.json) {
      for (const auto& r : replies) out->record("dns_message", reply_json(r), "");
      out->flush();
      for (const auto& r : replies)
        if (!r.ok || r.result.message.header.rcode != wire::rcode::NOERROR) return 1;
      return 0;
    }
    const auto& first_srv = servers->servers.front();
    std::string text;
    if (o.style == Style::Nslookup) {
      const auto& used = replies.front().ok ? replies.front().result.server : first_srv;
      uint16_t first_rc = replies.front().ok ? replies.front().result.message.header.rcode : 0;
      bool no_header = first_rc == wire::rcode::SERVFAIL || first_rc == wire::rcode::REFUSED;  // as nslookup
      std::string hdr = no_header ? std::string() : "Server:\t\t" + (servers->label.empty() ? used.addr.to_string() : servers->label) +
                        "\nAddress:\t" + used.to_string() + "\n\n";
      text = format_nslookup(o, replies, hdr, rc);
    } else {
      if (!o.server.empty())
        text = "Using domain server:\nName: " + o.server + "\nAddress: " + first_srv.to_string() + "\nAliases: \n\n";
      int hrc = 0;
      text += format_host(o, replies, hrc);
      rc = hrc;
    }
    out->raw(text);
    out->flush();
    return rc;
  }

  // dig / drill
  bool banner_done = false;
  for (const auto& l : o.lookups) {
    Reply r = run_lookup(o, *servers, l, l.qtype);
    if (ctx.json) {
      out->record(r.ok ? "dns_message" : "dns_error", reply_json(r), "");
      if (!r.ok) rc = kDigNoReply;
      continue;
    }
    std::string text;
    if (o.style == Style::Drill) {
      text = format_drill(o, r);
      if (!r.ok) {
        out->raw(text);
        out->flush();
        std::fprintf(stderr, "Error: error sending query: %s\n", r.error.c_str());
        rc = kDigNoReply;
        continue;
      }
      out->raw(text);
      continue;
    }
    for (const auto& e : r.comm_errors) text += e + "\n";
    if (!r.ok) {
      if (!banner_done) text += dig_banner(o, servers->servers.size());
      banner_done = true;
      text += ";; no servers could be reached\n";
      rc = kDigNoReply;
      out->raw(text);
      continue;
    }
    if (r.result.tcp_fallback && o.display.comments && !o.display.short_form)
      text += ";; Truncated, retrying in TCP mode.\n";
    if (o.display.short_form) {
      text += format_short(o, r);
    } else {
      if (o.display.cmd && !banner_done) text += dig_banner(o, servers->servers.size());
      banner_done = true;
      text += format_dig(o, r);
    }
    out->raw(text);
  }
  out->flush();
  return rc;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  std::string_view name = ctx.invoked_as;
  core::Result<Options> parsed = name == "drill"      ? parse_drill(argc, argv)
                                 : name == "nslookup" ? parse_nslookup(argc, argv)
                                 : name == "host"     ? parse_host(argc, argv)
                                 : name == "dig"      ? parse_dig(argc, argv)
                                                      : parse_native(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "%s: %s (see %s --help)\n", ctx.invoked_as.c_str(), parsed.error().message().c_str(),
                 ctx.invoked_as.c_str());
    return name == "dig" || name == "dns" ? kDigUsage : 1;
  }
  Options& o = *parsed;
  if (o.mode == Mode::Help) {
    std::fputs(kHelpDig, stdout);
    return 0;
  }
  if (o.mode == Mode::Version) {
    std::printf("netshoot %s %s\n", ctx.invoked_as.c_str(), NETSHOOT_VERSION);
    return 0;
  }
  if (o.mode == Mode::Resolve) return run_resolve(ctx, o);
  if (o.mode == Mode::Bench) return run_bench(ctx, o);
  if (o.trace) return run_trace(ctx, o);
  if (!o.batch_file.empty()) return run_batch(ctx, std::move(o));
  return run_queries(ctx, o);
}

}  // namespace netshoot::applet::dns
