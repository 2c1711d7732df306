// bridge / brctl: `bridge fdb show [br BR] [brport DEV]`, `bridge link [show] [dev DEV]`,
// `bridge [-c] vlan [show] [dev DEV] [vid N]` (iproute2's text and -j JSON) and
// `brctl show [BR]` (bridge-utils' shape). Read-only.
#include <linux/neighbour.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

#include "netshoot/applet.h"
#include "netshoot/netlink.h"
#include "netshoot/netns.h"
#include "netshoot/output.h"
#include "vlan.h"

namespace netshoot::applet::bridge {
namespace {

using core::Json;

constexpr const char* kUsage =
    "Usage: bridge [-j] [-p] [-n NETNS] fdb show [br BRIDGE] [brport DEV]\n"
    "       bridge [-j] [-n NETNS] link [show] [dev DEV]\n"
    "       bridge [-j] [-c] [-n NETNS] vlan [show] [dev DEV] [vid VLAN_ID]\n"
    "       brctl show [BRIDGE]\n"
    "Read-only: changing bridges is left to the real iproute2 and bridge-utils.\n";

std::string fdb_state(uint16_t st) {
  if (st & NUD_PERMANENT) return "permanent";
  if (st & NUD_NOARP) return "static";
  if (st & NUD_STALE) return "stale";
  return "";
}

std::vector<std::string> fdb_flags(uint8_t f) {
  std::vector<std::string> out;
  if (f & NTF_SELF) out.emplace_back("self");
  if (f & NTF_ROUTER) out.emplace_back("router");
  if (f & NTF_EXT_LEARNED) out.emplace_back("extern_learn");
  if (f & NTF_OFFLOADED) out.emplace_back("offload");
  if (f & NTF_STICKY) out.emplace_back("sticky");
  return out;
}

struct Ctx {
  bool json = false, pretty = false, compress = false;
  std::unique_ptr<core::Output> out;  // --json (ours)
  std::vector<core::Link> links;
  std::map<int, const core::Link*> by_index;
  std::string name(int idx) const {
    auto it = by_index.find(idx);
    return it != by_index.end() ? it->second->name : "if" + std::to_string(idx);
  }
  const core::Link* find(std::string_view n) const {
    for (const auto& l : links)
      if (l.name == n) return &l;
    return nullptr;
  }
};

void emit(Ctx& c, Json& arr, std::string& text, const char* type, Json j, const std::string& line) {
  if (c.out) c.out->record(type, j, "");
  else if (c.json) arr.push_back(std::move(j));
  else text += line + "\n";
}

void finish(Ctx& c, const Json& arr, const std::string& text) {
  if (c.out) { c.out->flush(); return; }
  std::string s = c.json ? (c.pretty ? arr.dump(4) : arr.dump()) + "\n" : text;
  std::fwrite(s.data(), 1, s.size(), stdout);
}

int fdb_show(Ctx& c, const std::vector<std::string_view>& args) {
  int br = 0, port = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "show" || a == "list") continue;
    if ((a == "br" || a == "brport" || a == "dev") && i + 1 < args.size()) {
      const auto* l = c.find(args[++i]);
      if (!l) {
        std::fprintf(stderr, "Cannot find %s device \"%.*s\"\n", a == "br" ? "bridge" : "port",
                     static_cast<int>(args[i].size()), args[i].data());
        return kExitFailure;
      }
      (a == "br" ? br : port) = l->index;
    } else {
      std::fprintf(stderr, "bridge fdb: unsupported argument \"%.*s\" (read-only: fdb show)\n",
                   static_cast<int>(a.size()), a.data());
      return kExitUsage;
    }
  }
  auto fdb = core::dump_fdb();
  if (!fdb) {
    std::fprintf(stderr, "bridge: %s\n", fdb.error().message().c_str());
    return kExitFailure;
  }
  Json arr = Json::array();
  std::string text;
  for (const auto& e : *fdb) {
    if (br) {
      auto it = c.by_index.find(e.ifindex);
      int dev_master = it != c.by_index.end() ? it->second->master : 0;
      if (e.ifindex != br && e.master != br && dev_master != br) continue;
    }
    if (port && e.ifindex != port) continue;
    std::string s = core::format_lladdr(e.lladdr) + " dev " + c.name(e.ifindex) + " ";
    Json j{{"mac", core::format_lladdr(e.lladdr)}, {"ifname", c.name(e.ifindex)}};
    if (e.vlan) { s += "vlan " + std::to_string(*e.vlan) + " "; j["vlan"] = *e.vlan; }
    if (e.dst) { s += "dst " + e.dst->to_string() + " "; j["dst"] = e.dst->to_string(); }
    auto flags = fdb_flags(e.flags);
    j["flags"] = flags;
    if (e.master) { s += "master " + c.name(e.master) + " "; j["master"] = c.name(e.master); }
    for (const auto& f : flags) s += f + " ";
    s += fdb_state(e.state);
    j["state"] = fdb_state(e.state);
    emit(c, arr, text, "fdb", std::move(j), s);
  }
  finish(c, arr, text);
  return kExitOk;
}

std::string flag_list(uint32_t flags) {
  std::string s;
  std::vector<std::string> f;
  if ((flags & IFF_UP) && !(flags & IFF_RUNNING)) f.emplace_back("NO-CARRIER");
  for (auto& n : core::link_flag_names(flags)) f.push_back(n);
  for (const auto& x : f) s += (s.empty() ? "" : ",") + x;
  return s;
}

int link_show(Ctx& c, const std::vector<std::string_view>& args) {
  int dev = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "show" || a == "list") continue;
    if (a == "dev" && i + 1 < args.size()) {
      const auto* l = c.find(args[++i]);
      if (!l) {
        std::fprintf(stderr, "Cannot find device \"%.*s\"\n", static_cast<int>(args[i].size()), args[i].data());
        return kExitFailure;
      }
      dev = l->index;
    } else {
      std::fprintf(stderr, "bridge link: unsupported argument \"%.*s\" (read-only: link show)\n",
                   static_cast<int>(a.size()), a.data());
      return kExitUsage;
    }
  }
  auto ports = core::dump_bridge_ports();
  if (!ports) {
    std::fprintf(stderr, "bridge: %s\n", ports.error().message().c_str());
    return kExitFailure;
  }
  Json arr = Json::array();
  std::string text;
  for (const auto& p : *ports) {
    if (p.master == 0 || (dev && p.ifindex != dev)) continue;
    std::string label = p.name;
    Json j{{"ifindex", p.ifindex}};
    if (p.link && (p.link != p.ifindex || p.link_netnsid)) {
      if (p.link_netnsid) { label += "@if" + std::to_string(p.link); j["link_index"] = p.link; }
      else { label += "@" + c.name(p.link); j["link"] = c.name(p.link); }
    }
    j["ifname"] = p.name;
    std::string flags = flag_list(p.flags);
    std::vector<std::string> fl;
    if ((p.flags & IFF_UP) && !(p.flags & IFF_RUNNING)) fl.emplace_back("NO-CARRIER");
    for (auto& n : core::link_flag_names(p.flags)) fl.push_back(n);
    j["flags"] = fl;
    j["mtu"] = p.mtu;
    j["master"] = c.name(p.master);
    j["state"] = core::bridge_port_state_name(p.state);
    std::string s = std::to_string(p.ifindex) + ": " + label + ": <" + flags + "> mtu " + std::to_string(p.mtu) +
                    " master " + c.name(p.master) + " state " + core::bridge_port_state_name(p.state) + " ";
    if (p.priority) { s += "priority " + std::to_string(*p.priority) + " "; j["priority"] = *p.priority; }
    if (p.cost) { s += "cost " + std::to_string(*p.cost) + " "; j["cost"] = *p.cost; }
    emit(c, arr, text, "link", std::move(j), s);
  }
  finish(c, arr, text);
  return kExitOk;
}

int vlan_show(Ctx& c, const std::vector<std::string_view>& args) {
  VlanFilter f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (i == 0 && (a == "show" || a == "list" || a == "lst")) continue;
    if (a == "dev" && i + 1 < args.size()) {
      const auto* l = c.find(args[++i]);
      if (!l) {
        std::fprintf(stderr, "Cannot find device \"%.*s\"\n", static_cast<int>(args[i].size()), args[i].data());
        return kExitFailure;
      }
      f.ifindex = l->index;
    } else if (a == "vid" && i + 1 < args.size()) {
      std::string_view n = args[++i];
      unsigned v = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (ec != std::errc() || end != n.data() + n.size() || v == 0 || v >= 4096) {
        std::fprintf(stderr, "Invalid VLAN ID \"%.*s\"\n", static_cast<int>(args[i].size()), args[i].data());
        return kExitFailure;
      }
      f.vid = static_cast<uint16_t>(v);
    } else {
      std::fprintf(stderr, "bridge vlan: unsupported argument \"%.*s\" (read-only: vlan show [dev DEV] [vid N])\n",
                   static_cast<int>(a.size()), a.data());
      return kExitUsage;
    }
  }
  auto ports = core::dump_bridge_vlans(c.compress);
  if (!ports) {
    std::fprintf(stderr, "bridge: %s\n", ports.error().message().c_str());
    return kExitFailure;
  }
  auto shown = filter_vlans(*ports, f);
  if (c.out) {
    for (const auto& j : vlan_json(shown)) c.out->record("vlan", j, "");
    c.out->flush();
    return kExitOk;
  }
  std::string s = c.json ? (c.pretty ? vlan_json(shown).dump(4) : vlan_json(shown).dump()) + "\n" : vlan_text(shown);
  std::fwrite(s.data(), 1, s.size(), stdout);
  return kExitOk;
}

int brctl(Ctx& c, int argc, char** argv) {
  std::string_view cmd = argc > 1 ? argv[1] : "show";
  if (cmd == "-h" || cmd == "--help") { std::fputs(kUsage, stdout); return kExitOk; }
  if (cmd != "show") {
    std::fprintf(stderr, "brctl %.*s: not supported (read-only: brctl show)\n", static_cast<int>(cmd.size()), cmd.data());
    return kExitUsage;
  }
  std::vector<const core::Link*> bridges;
  for (const auto& l : c.links)
    if (l.kind == "bridge" && (argc <= 2 || l.name == argv[2])) bridges.push_back(&l);
  if (argc > 2 && bridges.empty()) {
    std::fprintf(stderr, "bridge %s does not exist!\n", argv[2]);
    return kExitFailure;
  }
  std::sort(bridges.begin(), bridges.end(), [](auto* a, auto* b) { return a->name < b->name; });
  auto out = core::Output::make(c.out != nullptr);
  out->text("bridge name\tbridge id\t\tSTP enabled\tinterfaces");
  for (const auto* b : bridges) {
    std::vector<std::string> ifs;
    for (const auto& l : c.links)
      if (l.master == b->index) ifs.push_back(l.name);
    std::sort(ifs.begin(), ifs.end());
    bool stp = b->stp_state.value_or(0) != 0;
    std::string s = b->name + "\t" + (b->name.size() < 8 ? "\t" : "") + b->bridge_id + "\t" + (stp ? "yes" : "no") +
                    "\t\t" + (ifs.empty() ? "" : ifs[0]);
    for (size_t i = 1; i < ifs.size(); ++i) s += "\n\t\t\t\t\t\t\t" + ifs[i];
    out->record("bridge", Json{{"name", b->name}, {"id", b->bridge_id}, {"stp", stp}, {"interfaces", ifs}}, s);
  }
  out->flush();
  return kExitOk;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  std::string_view self = argv[0];
  if (size_t sl = self.rfind('/'); sl != std::string_view::npos) self.remove_prefix(sl + 1);
  Ctx c;
  if (ctx.json) c.out = core::Output::make(true);
  int i = 1;
  std::string netns;
  if (self != "brctl") {
    for (; i < argc && argv[i][0] == '-'; ++i) {
      std::string_view a = argv[i];
      if (a == "-j" || a == "-json") c.json = true;
      else if (a == "-p" || a == "-pretty") c.pretty = true;
      else if (a == "-c" || a == "-compressvlans") c.compress = true;
      else if (a == "-d" || a == "-s" || a == "-color") {}
      else if ((a == "-n" || a == "-netns") && i + 1 < argc) netns = argv[++i];
      else if (a == "-h" || a == "-help" || a == "--help") { std::fputs(kUsage, stdout); return kExitOk; }
      else {
        std::fprintf(stderr, "Option \"%s\" is unknown, try \"bridge -help\".\n", argv[i]);
        return kExitUsage;
      }
    }
  }
  if (!netns.empty()) {
    auto t = core::resolve_ns_target(netns, "net");
    if (!t || !core::enter_netns(*t)) {
      std::fprintf(stderr, "Cannot open network namespace \"%s\"\n", netns.c_str());
      return kExitFailure;
    }
  }
  auto links = core::dump_links();
  if (!links) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(self.size()), self.data(), links.error().message().c_str());
    return kExitFailure;
  }
  c.links = std::move(*links);
  for (const auto& l : c.links) c.by_index[l.index] = &l;
  if (self == "brctl") return brctl(c, argc, argv);
  if (i >= argc) { std::fputs(kUsage, stderr); return kExitUsage; }
  std::string_view obj = argv[i];
  std::vector<std::string_view> args(argv + i + 1, argv + argc);
  if (obj == "fdb") return fdb_show(c, args);
  if (obj == "link" || obj == "l") return link_show(c, args);
  if (obj == "vlan" || obj == "v") return vlan_show(c, args);
  std::fprintf(stderr, "Object \"%.*s\" is unknown, try \"bridge help\".\n", static_cast<int>(obj.size()), obj.data());
  return kExitUsage;
}

}  // namespace netshoot::applet::bridge
