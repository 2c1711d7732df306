#include "netshoot/neigh_format.h"

#include <linux/neighbour.h>

#include <string_view>
#include <utility>

namespace netshoot::core {

std::vector<std::string> neigh_state_names(uint16_t state) {
  static const std::pair<uint16_t, const char*> kStates[] = {
      {NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
      {NUD_DELAY, "DELAY"},           {NUD_PROBE, "PROBE"},         {NUD_FAILED, "FAILED"},
      {NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : kStates)
    if (state & bit) out.emplace_back(name);
  return out;
}

std::string format_neigh(const Neighbour& n, const std::string& dev) {
  std::string s;
  auto add = [&s](std::string_view tok) {
    s += tok;
    s += ' ';
  };
  add(n.address.to_string());
  if (!dev.empty()) {
    add("dev");
    add(dev);
  }
  if (!n.lladdr.empty()) {
    add("lladdr");
    add(format_lladdr(n.lladdr));
  }
  if (n.flags & NTF_ROUTER) add("router");
  if (n.flags & NTF_PROXY) add("proxy");
  if (n.flags & NTF_EXT_LEARNED) add("extern_learn");
  for (const auto& st : neigh_state_names(n.state)) add(st);
  return s;
}

Json neigh_json(const Neighbour& n, const std::string& dev) {
  Json j;
  j["dst"] = n.address.to_string();
  if (!dev.empty()) j["dev"] = dev;
  if (!n.lladdr.empty()) j["lladdr"] = format_lladdr(n.lladdr);
  if (n.flags & NTF_ROUTER) j["router"] = nullptr;
  if (n.flags & NTF_PROXY) j["proxy"] = nullptr;
  if (n.flags & NTF_EXT_LEARNED) j["extern_learn"] = nullptr;
  j["state"] = neigh_state_names(n.state);
  return j;
}

}  // namespace netshoot::core
