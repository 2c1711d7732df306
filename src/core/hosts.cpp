// /etc/hosts parsing and lookup.
#include "netshoot/hosts.h"

#include <algorithm>
#include <cctype>

#include "dns_internal.h"

namespace netshoot::core::dns {

HostsFile HostsFile::parse(std::string_view text) {
  HostsFile h;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      if (j > i) words.push_back(line.substr(i, j - i));
      i = j;
    }
    if (words.size() < 2) continue;
    auto addr = IpAddr::parse(words[0]);
    if (!addr) continue;
    HostEntry e;
    e.addr = *addr;
    e.canonical = std::string(words[1]);
    for (size_t k = 2; k < words.size(); ++k) e.aliases.emplace_back(words[k]);
    h.entries_.push_back(std::move(e));
  }
  return h;
}

Result<HostsFile> HostsFile::load(const std::string& path) {
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  if (!*text) return HostsFile{};
  return parse(**text);
}

namespace {
bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}
}  // namespace

std::vector<HostEntry> HostsFile::lookup(std::string_view name, int family) const {
  std::vector<HostEntry> out;
  if (name.empty()) return out;
  for (const auto& e : entries_) {
    if (family != AF_UNSPEC && e.addr.family() != family) continue;
    bool match = same_name(e.canonical, name);
    for (size_t i = 0; !match && i < e.aliases.size(); ++i) match = same_name(e.aliases[i], name);
    if (match) out.push_back(e);
  }
  return out;
}

std::optional<std::string> HostsFile::reverse(const IpAddr& addr) const {
  for (const auto& e : entries_) {
    if (e.addr.with_scope(0) == addr.with_scope(0)) return e.canonical;  // scope ignored
  }
  return std::nullopt;
}

}  // namespace netshoot::core::dns
