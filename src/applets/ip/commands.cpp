// ip: the show commands (addr, link, route, neigh, rule) and route get.
#include <dirent.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/neighbour.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "applets/ip/ip_cli.h"
#include "netshoot/netns.h"

namespace netshoot::applet::ip {

Names link_names(const std::vector<core::Link>& links) {
  Names n;
  bool peers_elsewhere = false;
  for (const auto& l : links) {
    n.by_index[l.index] = l.name;
    peers_elsewhere |= l.link_netnsid.has_value();
  }
  if (!peers_elsewhere) return n;
  // iproute2 names the peer's netns when it is one of /run/netns.
  if (DIR* d = ::opendir("/run/netns")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      int fd = ::open((std::string("/run/netns/") + e->d_name).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      if (auto id = core::netns_id(fd); id && *id >= 0) n.netns_by_id.emplace(*id, e->d_name);
      ::close(fd);
    }
    ::closedir(d);
  }
  return n;
}

namespace {

// Collects records: iproute2's JSON array (-j), our --json lines, or text.
class Emitter {
 public:
  Emitter(const Options& o, core::Output* out) : o_(o), out_(out) {}
  // raw: the text is already in its final (oneline) shape.
  void add(std::string_view type, const std::function<Json()>& json, const std::function<std::string()>& text,
           bool raw = false) {
    if (out_) {
      out_->record(type, json(), "");
    } else if (o_.json) {
      arr_.push_back(json());
    } else {
      text_ += o_.oneline && !raw ? oneline(text()) : text();
      text_ += '\n';
      spill();
    }
  }
  // As add(), but for -j without -p the object's text comes from write_json,
  // appended to the array as it goes (no JSON tree for 100,000 routes).
  void add_direct(std::string_view type, const std::function<Json()>& json,
                  const std::function<void(std::string&)>& write_json, const std::function<std::string()>& text) {
    if (out_ || !o_.json || o_.pretty) return add(type, json, text);
    text_ += direct_++ ? ',' : '[';
    write_json(text_);
    spill();
  }
  // Keep all output until finish(): the dump may have to start over (reset()).
  void hold() { hold_ = true; }
  void reset() {
    held_.clear();
    text_.clear();
    arr_ = Json::array();
    direct_ = 0;
  }
  void finish() {
    if (out_) return;
    if (direct_) {
      text_ += "]\n";
      flush_text();
    } else if (o_.json) {
      print_json(arr_, o_);
    } else {
      flush_text();
    }
  }

 private:
  static constexpr size_t kChunk = 1u << 16;
  void spill() {
    if (text_.size() <= kChunk) return;
    if (!hold_) return flush_text();
    held_.push_back(std::move(text_));
    text_ = std::string();
    text_.reserve(kChunk + 4096);
  }
  void flush_text() {
    for (const auto& c : held_) std::fwrite(c.data(), 1, c.size(), stdout);
    held_.clear();
    std::fwrite(text_.data(), 1, text_.size(), stdout);
    text_.clear();
  }
  const Options& o_;
  core::Output* out_;
  Json arr_ = Json::array();
  std::string text_;
  std::vector<std::string> held_;
  size_t direct_ = 0;
  bool hold_ = false;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "%s\n", msg.c_str());
  return kExitFailure;
}

bool is_show(std::string_view a) { return a == "show" || a == "list" || a == "lst" || a == "ls"; }

// Names from /etc/iproute2/rt_tables (and Debian's /usr/share copy).
std::map<std::string, uint32_t> rt_tables() {
  std::map<std::string, uint32_t> m{{"main", RT_TABLE_MAIN}, {"local", RT_TABLE_LOCAL}, {"default", RT_TABLE_DEFAULT}};
  for (const char* path : {"/usr/share/iproute2/rt_tables", "/etc/iproute2/rt_tables"}) {
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
      std::istringstream ls(line);
      uint32_t id;
      std::string name;
      if (line.empty() || line[0] == '#' || !(ls >> id >> name)) continue;
      m[name] = id;
    }
  }
  return m;
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t pos = 0;
    unsigned long v = std::stoul(std::string(s), &pos, 0);
    if (pos != s.size() || v > 0xffffffffUL) return std::nullopt;
    return static_cast<uint32_t>(v);
  } catch (...) {
    return std::nullopt;
  }
}

const core::Link* find_link(const std::vector<core::Link>& links, std::string_view name) {
  for (const auto& l : links)
    if (l.name == name) return &l;
  return nullptr;
}

}  // namespace

int run_addr(const Options& o, const std::vector<std::string_view>& args, core::Output* out, bool link_cmd) {
  std::string dev, master, kind;
  bool up_only = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (i == 0 && is_show(a)) continue;
    auto next = [&]() -> std::string { return i + 1 < args.size() ? std::string(args[++i]) : std::string(); };
    if (i == 0 && (a == "add" || a == "del" || a == "delete" || a == "set" || a == "flush" || a == "change" ||
                   a == "replace"))
      return fail("ip " + std::string(link_cmd ? "link" : "addr") + " " + std::string(a) +
                  ": not supported (netshoot's ip is read-only; use the real iproute2)");
    if (a == "dev") dev = next();
    else if (a == "up") up_only = true;
    else if (a == "master") master = next();
    else if (a == "type") kind = next();
    else dev = std::string(a);
  }
  auto links = core::dump_links();
  if (!links) return fail("Cannot send link request: " + links.error().message());
  Names names = link_names(*links);
  if (!dev.empty() && !find_link(*links, dev)) return fail("Device \"" + dev + "\" does not exist.");
  int master_idx = 0;
  if (!master.empty()) {
    const auto* m = find_link(*links, master);
    if (!m) return fail("Device \"" + master + "\" does not exist.");
    master_idx = m->index;
  }
  std::vector<core::Address> addrs;
  if (!link_cmd && o.family != AF_PACKET) {
    auto r = core::dump_addresses(o.family == AF_PACKET ? AF_UNSPEC : o.family);
    if (!r) return fail("Cannot send dump request: " + r.error().message());
    addrs = std::move(*r);
  }
  FormatOptions fo;
  fo.details = o.details;
  fo.stats = o.stats > 0;
  fo.link_cmd = link_cmd;
  Emitter em(o, out);
  for (const auto& l : *links) {
    if (!dev.empty() && l.name != dev) continue;
    if (up_only && !(l.flags & IFF_UP)) continue;
    if (master_idx && l.master != master_idx) continue;
    if (!kind.empty() && l.kind != kind) continue;
    std::vector<const core::Address*> mine;
    for (const auto& a : addrs)
      if (a.ifindex == l.index) mine.push_back(&a);
    if (!link_cmd && o.family != AF_UNSPEC && o.family != AF_PACKET && mine.empty()) continue;
    const char* type = link_cmd ? "link" : "addr";
    if (o.brief) {
      if (link_cmd)
        em.add(type, [&] { return brief_link_json(l, names); }, [&] { return format_brief_link(l, names); });
      else
        em.add(type, [&] { return brief_addr_json(l, mine, names); },
               [&] { return format_brief_addr(l, mine, names); });
      continue;
    }
    em.add(
        type,
        [&] {
          Json j = link_json(l, names, fo);
          if (!link_cmd) {
            Json ai = Json::array();
            for (const auto* a : mine) ai.push_back(address_json(*a));
            j["addr_info"] = std::move(ai);
          }
          return j;
        },
        [&] {
          if (o.oneline && !link_cmd) {
            std::string s;
            for (const auto* a : mine) {
              if (!s.empty()) s += '\n';
              s += std::to_string(l.index) + ": " + l.name + oneline(format_address(*a, names));
            }
            return s;
          }
          std::string s = format_link(l, names, fo);
          for (const auto* a : mine) s += "\n" + format_address(*a, names);
          return o.oneline ? oneline(s) : s;
        },
        true);
  }
  em.finish();
  return kExitOk;
}

namespace {

int route_get_cmd(const Options& o, const std::vector<std::string_view>& args, core::Output* out) {
  core::RouteQuery q;
  bool have_dst = false;
  auto links = core::dump_links();
  if (!links) return fail("Cannot send link request: " + links.error().message());
  Names names = link_names(*links);
  auto family_word = [](int f) { return f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" : "any valid"; };
  auto parse_addr = [&](std::string_view s, int want) -> std::optional<core::IpAddr> {
    auto a = core::IpAddr::try_parse(s);
    if (!a || (want != AF_UNSPEC && a->family() != want)) {
      std::fprintf(stderr, "Error: %s prefix is expected rather than \"%.*s\".\n", family_word(want),
                   static_cast<int>(s.size()), s.data());
      return std::nullopt;
    }
    return a;
  };
  int family = o.family == AF_PACKET ? AF_UNSPEC : o.family;
  std::optional<std::string_view> from;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    bool has_next = i + 1 < args.size();
    if ((a == "from" || a == "iif" || a == "oif" || a == "dev" || a == "mark") && !has_next)
      return fail("Command line is not complete. Try option \"help\"");
    if (a == "from") from = args[++i];
    else if (a == "iif" || a == "oif" || a == "dev") {
      std::string_view d = args[++i];
      const auto* l = find_link(*links, d);
      if (!l) return fail("Cannot find device \"" + std::string(d) + "\"");
      (a == "iif" ? q.iif : q.oif) = l->index;
    } else if (a == "mark") {
      auto m = parse_u32(args[++i]);
      if (!m) return fail("Error: argument \"" + std::string(args[i]) + "\" is wrong: invalid mark");
      q.mark = *m;
    } else if (a == "fibmatch") q.fib_match = true;
    else if (a == "to") continue;
    else if (!have_dst) {
      auto d = parse_addr(a.substr(0, a.find('/')), family);
      if (!d) return kExitFailure;
      q.dst = *d;
      have_dst = true;
    } else {
      return fail("Error: either \"to\" is duplicate, or \"" + std::string(a) + "\" is a garbage.");
    }
  }
  if (!have_dst) return fail("need at least a destination address");
  if (from) {
    auto s = parse_addr(from->substr(0, from->find('/')), q.dst.family());
    if (!s) return kExitFailure;
    q.src = *s;
  }
  auto r = core::route_get(q);
  if (!r) {
    std::fprintf(stderr, "RTNETLINK answers: %s\n", std::strerror(r.error().code ? r.error().code : EINVAL));
    return kExitUsage;  // iproute2's exit code for a refused request
  }
  FormatOptions fo;
  Emitter em(o, out);
  em.add("route", [&] { return route_json(*r, names, fo, true); }, [&] { return format_route(*r, names, fo, true); });
  em.finish();
  return kExitOk;
}

}  // namespace

int run_route_cmd(const Options& o, const std::vector<std::string_view>& args, core::Output* out) {
  if (!args.empty() && args[0] == "get") return route_get_cmd(o, args, out);
  int family = o.family == AF_UNSPEC || o.family == AF_PACKET ? AF_INET : o.family;
  uint32_t table = RT_TABLE_MAIN;
  bool all_tables = false;
  std::string dev;
  std::optional<core::Cidr> exact;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (i == 0 && is_show(a)) continue;
    if (i == 0 && (a == "add" || a == "del" || a == "delete" || a == "change" || a == "replace" || a == "flush" ||
                   a == "append"))
      return fail("ip route " + std::string(a) + ": not supported (netshoot's ip is read-only; use the real iproute2)");
    bool has_next = i + 1 < args.size();
    if ((a == "table" || a == "dev" || a == "oif") && !has_next)
      return fail("Command line is not complete. Try option \"help\"");
    if (a == "table") {
      std::string_view t = args[++i];
      if (t == "all") { all_tables = true; continue; }
      auto names = rt_tables();
      if (auto it = names.find(std::string(t)); it != names.end()) table = it->second;
      else if (auto n = parse_u32(t)) table = *n;
      else return fail("Error: argument \"" + std::string(t) + "\" is wrong: table id value is invalid");
    } else if (a == "dev" || a == "oif") {
      dev = std::string(args[++i]);
    } else if (a == "exact" || a == "to" || a == "root" || a == "match") {
      continue;
    } else {
      auto c = core::Cidr::parse(a == "default" ? (family == AF_INET6 ? "::/0" : "0.0.0.0/0") : a);
      if (!c || c->family() != family)
        return fail("Error: " + std::string(family == AF_INET6 ? "inet6" : "inet") + " prefix is expected rather than \"" +
                    std::string(a) + "\".");
      exact = *c;
    }
  }
  auto links = core::dump_links();
  if (!links) return fail("Cannot send link request: " + links.error().message());
  Names names = link_names(*links);
  int oif = 0;
  if (!dev.empty()) {
    const auto* l = find_link(*links, dev);
    if (!l) return fail("Cannot find device \"" + dev + "\"");
    oif = l->index;
  }
  // iproute2 lists both families only for `table all` (and an explicit -4/-6 wins).
  if (all_tables && (o.family == AF_UNSPEC || o.family == AF_PACKET)) family = AF_UNSPEC;
  FormatOptions fo;
  fo.details = o.details;
  fo.show_dev = oif == 0;
  fo.show_table = all_tables;
  Emitter em(o, out);
  auto emit = [&](const core::Route& r) {
    if (r.flags & RTM_F_CLONED) return;
    if (!all_tables && r.table != table) return;
    if (oif && r.oif != oif) return;
    if (exact && (r.dst_len != exact->prefix_len() ||
                  (r.dst ? *r.dst : core::IpAddr::any(family)) != exact->network()))
      return;
    em.add_direct(
        "route", [&] { return route_json(r, names, fo); },
        [&](std::string& text) { route_json_text(r, names, fo, false, text); },
        [&] { return format_route(r, names, fo); });
  };
  if (out) {  // --json lines go out as they come: collect first (the dump may start over)
    auto routes = core::dump_routes(family);
    if (!routes) return fail("Cannot send dump request: " + routes.error().message());
    for (const auto& r : *routes) emit(r);
  } else {
    // Streamed: each route is formatted as the kernel sends it (no vector of
    // routes, no JSON tree for -j), the text held until the dump is complete.
    em.hold();
    for (int attempt = 0;; ++attempt) {
      auto st = core::for_each_route(family, emit);
      if (st) break;
      if (st.error().code == EINTR && attempt < 3) {  // the table changed: start over
        em.reset();
        continue;
      }
      return fail("Cannot send dump request: " + st.error().message());
    }
  }
  em.finish();
  return kExitOk;
}

int run_neigh(const Options& o, const std::vector<std::string_view>& args, core::Output* out) {
  std::string dev;
  std::optional<core::IpAddr> to;
  bool nud_all = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (i == 0 && is_show(a)) continue;
    if (i == 0 && (a == "add" || a == "del" || a == "delete" || a == "change" || a == "replace" || a == "flush"))
      return fail("ip neigh " + std::string(a) + ": not supported (netshoot's ip is read-only; use the real iproute2)");
    if (a == "dev") {
      if (i + 1 >= args.size()) return fail("Command line is not complete. Try option \"help\"");
      dev = std::string(args[++i]);
    } else if (a == "to") {
      continue;
    } else if (a == "nud" && i + 1 < args.size() && args[i + 1] == "all") {
      nud_all = true;
      ++i;
    } else {
      auto ad = core::IpAddr::try_parse(a);
      if (!ad) return fail("Error: any valid address is expected rather than \"" + std::string(a) + "\".");
      to = *ad;
    }
  }
  auto links = core::dump_links();
  if (!links) return fail("Cannot send link request: " + links.error().message());
  Names names = link_names(*links);
  int ifindex = 0;
  if (!dev.empty()) {
    const auto* l = find_link(*links, dev);
    if (!l) return fail("Cannot find device \"" + dev + "\"");
    ifindex = l->index;
  }
  auto neigh = core::dump_neighbours(o.family == AF_PACKET ? AF_UNSPEC : o.family);
  if (!neigh) return fail("Cannot send dump request: " + neigh.error().message());
  FormatOptions fo;
  fo.show_dev = ifindex == 0;
  Emitter em(o, out);
  for (const auto& n : *neigh) {
    if (ifindex && n.ifindex != ifindex) continue;
    if (to && n.address != *to) continue;
    if (!nud_all && (n.state & NUD_NOARP)) continue;  // iproute2 hides NOARP entries unless `nud all`
    em.add("neigh", [&] { return neigh_json(n, names, fo); }, [&] { return format_neigh(n, names, fo); });
  }
  em.finish();
  return kExitOk;
}

int run_rule(const Options& o, const std::vector<std::string_view>& args, core::Output* out) {
  if (!args.empty() && !is_show(args[0]))
    return fail("ip rule " + std::string(args[0]) + ": not supported (netshoot's ip is read-only; use the real iproute2)");
  int family = o.family == AF_UNSPEC || o.family == AF_PACKET ? AF_INET : o.family;
  auto rules = core::dump_rules(family);
  if (!rules) return fail("Cannot send dump request: " + rules.error().message());
  Emitter em(o, out);
  for (const auto& r : *rules) em.add("rule", [&] { return rule_json(r); }, [&] { return format_rule(r); });
  em.finish();
  return kExitOk;
}

}  // namespace netshoot::applet::ip
