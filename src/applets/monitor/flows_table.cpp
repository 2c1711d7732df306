// Per-pair accounting in 2-second slots (see flows_table.h).
#include "flows_table.h"

#include <pcap/dlt.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace netshoot::applet::monitor::flows {

namespace {

constexpr uint16_t kEthIp4 = 0x0800, kEthIp6 = 0x86dd, kEthVlan = 0x8100, kEthQinQ = 0x88a8;
constexpr uint8_t kTcp = 6, kUdp = 17;

uint16_t be16(const uint8_t* p) noexcept { return uint16_t(p[0] << 8 | p[1]); }

// IPv6 extension headers that sit between the fixed header and TCP/UDP.
bool is_v6_extension(uint8_t nh) noexcept {
  return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135;
}

}  // namespace

bool FlowKey::operator==(const FlowKey& o) const noexcept {
  return family == o.family && proto == o.proto && src_port == o.src_port && dst_port == o.dst_port &&
         src == o.src && dst == o.dst;
}

size_t FlowKeyHash::operator()(const FlowKey& k) const noexcept {
  // FNV-1a over the fields that differ between flows.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  };
  size_t n = k.family == 4 ? 4 : 16;
  mix(k.src.data(), n);
  mix(k.dst.data(), n);
  uint8_t rest[6] = {uint8_t(k.src_port >> 8), uint8_t(k.src_port), uint8_t(k.dst_port >> 8),
                     uint8_t(k.dst_port), k.family, k.proto};
  mix(rest, sizeof rest);
  return size_t(h);
}

bool LocalAddrs::has_v4(const uint8_t* a) const noexcept {
  for (const auto& x : v4)
    if (std::memcmp(x.data(), a, 4) == 0) return true;
  return false;
}

bool LocalAddrs::has_v6(const uint8_t* a) const noexcept {
  for (const auto& x : v6)
    if (std::memcmp(x.data(), a, 16) == 0) return true;
  return false;
}

FlowTable::FlowTable(LocalAddrs local, int linktype) : local_(std::move(local)), linktype_(linktype) {}

bool FlowTable::add_frame(const uint8_t* d, size_t n) noexcept {
  int dir = -1;
  uint16_t type = 0;
  size_t off = 0;
  switch (linktype_) {
    case DLT_EN10MB: {
      if (n < 14) return false;
      if (local_.mac) {
        if (std::memcmp(d + 6, local_.mac->data(), 6) == 0) dir = 1;
        else if (std::memcmp(d, local_.mac->data(), 6) == 0) dir = 0;
      }
      if (dir < 0 && std::memcmp(d, "\xff\xff\xff\xff\xff\xff", 6) == 0) dir = 0;
      type = be16(d + 12);
      off = 14;
      for (int tags = 0; tags < 2 && (type == kEthVlan || type == kEthQinQ); ++tags) {
        if (n < off + 4) return false;
        type = be16(d + off + 2);
        off += 4;
      }
      break;
    }
    case DLT_LINUX_SLL: {
      if (n < 16) return false;
      uint16_t pkttype = be16(d);
      dir = pkttype == 0 ? 0 : pkttype == 4 ? 1 : -1;  // LINUX_SLL_HOST / LINUX_SLL_OUTGOING
      type = be16(d + 14);
      off = 16;
      break;
    }
    case DLT_LINUX_SLL2: {
      if (n < 20) return false;
      uint8_t pkttype = d[10];
      dir = pkttype == 0 ? 0 : pkttype == 4 ? 1 : -1;
      type = be16(d);
      off = 20;
      break;
    }
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      return add_ip(d, n, -1);
    case DLT_NULL:
    case DLT_LOOP:
      if (n < 4) return false;
      return add_ip(d + 4, n - 4, -1);
    default:
      return false;
  }
  if (type != kEthIp4 && type != kEthIp6) return false;
  return add_ip(d + off, n - off, dir);
}

bool FlowTable::add_ip(const uint8_t* p, size_t n, int hw_dir) noexcept {
  if (n < 1) return false;
  FlowKey k;
  const uint8_t *src, *dst;
  uint64_t len;
  uint16_t sport = 0, dport = 0;
  bool is_local_src, is_local_dst;
  int version = p[0] >> 4;
  if (version == 4) {
    if (n < 20) return false;
    size_t ihl = size_t(p[0] & 0x0f) * 4;
    if (ihl < 20) return false;
    k.family = 4;
    k.proto = p[9];
    src = p + 12, dst = p + 16;
    len = be16(p + 2);
    bool later_fragment = (be16(p + 6) & 0x1fff) != 0;
    if ((k.proto == kTcp || k.proto == kUdp) && !later_fragment && n >= ihl + 4)
      sport = be16(p + ihl), dport = be16(p + ihl + 2);
    is_local_src = hw_dir < 0 && local_.has_v4(src);
    is_local_dst = hw_dir < 0 && !is_local_src && local_.has_v4(dst);
  } else if (version == 6) {
    if (n < 40) return false;
    k.family = 6;
    src = p + 8, dst = p + 24;
    auto ll = [](const uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; };
    if (!link_local_ && (ll(src) || ll(dst))) return false;
    len = uint64_t(be16(p + 4)) + 40;
    uint8_t nh = p[6];
    size_t off = 40;
    bool opaque = false;
    for (int hops = 0; hops < 8 && is_v6_extension(nh); ++hops) {
      if (n < off + 8) {
        opaque = true;
        break;
      }
      if (nh == 44) {
        if ((be16(p + off + 2) & 0xfff8) != 0) opaque = true;  // not the first fragment
        nh = p[off];
        off += 8;
      } else if (nh == 51) {
        uint8_t next = p[off];
        off += (size_t(p[off + 1]) + 2) * 4;
        nh = next;
      } else {
        uint8_t next = p[off];
        off += (size_t(p[off + 1]) + 1) * 8;
        nh = next;
      }
    }
    k.proto = nh;
    if ((nh == kTcp || nh == kUdp) && !opaque && n >= off + 4)
      sport = be16(p + off), dport = be16(p + off + 2);
    is_local_src = hw_dir < 0 && local_.has_v6(src);
    is_local_dst = hw_dir < 0 && !is_local_src && local_.has_v6(dst);
  } else {
    return false;
  }
  size_t alen = k.family == 4 ? 4 : 16;

  bool flip, outgoing;
  if (hw_dir == 1) {
    flip = false, outgoing = true;
  } else if (hw_dir == 0) {
    flip = true, outgoing = false;
  } else if (is_local_src) {
    flip = false, outgoing = true;
  } else if (is_local_dst) {
    flip = true, outgoing = false;
  } else {
    // Between two other hosts: iftop orders the pair by address and counts it in.
    if (k.family == 4) {
      uint32_t s, d;
      std::memcpy(&s, src, 4), std::memcpy(&d, dst, 4);
      flip = s < d;
    } else {
      flip = std::memcmp(src, dst, 16) < 0;
    }
    outgoing = false;
  }
  if (!flip) {
    std::memcpy(k.src.data(), src, alen), std::memcpy(k.dst.data(), dst, alen);
    k.src_port = sport, k.dst_port = dport;
  } else {
    std::memcpy(k.src.data(), dst, alen), std::memcpy(k.dst.data(), src, alen);
    k.src_port = dport, k.dst_port = sport;
  }
  // The packet's source is the key's source unless flipped (or both are the same host).
  bool src_is_key_src = !flip || std::memcmp(src, dst, alen) == 0;
  account(k, src_is_key_src, outgoing, len);
  return true;
}

void FlowTable::account(const FlowKey& key, bool src_is_key_src, bool outgoing, uint64_t len) noexcept {
  History* h = last_;
  if (!h || !(key == last_key_)) {
    try {
      h = &history_[key];
    } catch (...) {
      return;  // out of memory: the packet is not counted
    }
    last_ = h, last_key_ = key;
  }
  ++packets_;
  h->last_write = pos_;
  if (src_is_key_src) {
    h->sent[pos_] += len, h->total_sent += len;
  } else {
    h->recv[pos_] += len, h->total_recv += len;
  }
  if (outgoing) {
    totals_.sent[pos_] += len, totals_.total_sent += len;
  } else {
    totals_.recv[pos_] += len, totals_.total_recv += len;
  }
}

void FlowTable::rotate() {
  pos_ = (pos_ + 1) % kHistoryLength;
  for (auto it = history_.begin(); it != history_.end();) {
    if (it->second.last_write == pos_) {
      it = history_.erase(it);  // nothing for 40 s
    } else {
      it->second.sent[pos_] = it->second.recv[pos_] = 0;
      ++it;
    }
  }
  last_ = nullptr;
  totals_.sent[pos_] = totals_.recv[pos_] = 0;
  if (len_ < kHistoryLength) ++len_;
}

Report FlowTable::analyse(const ReportOptions& opts) const {
  auto seconds = [this](int d) { return double(std::min(len_, kHistoryDivs[d]) * kResolution); };
  Report r;
  std::unordered_map<FlowKey, size_t, FlowKeyHash> index;
  for (const auto& [key, h] : history_) {
    FlowKey k = key;
    if (!opts.ports) k.src_port = k.dst_port = 0, k.proto = 0;
    auto [it, fresh] = index.emplace(k, r.lines.size());
    if (fresh) r.lines.push_back(Line{k, {}, {}, 0, 0});
    Line& l = r.lines[it->second];
    l.total_sent += h.total_sent, l.total_recv += h.total_recv;
    for (int i = 0; i < kHistoryLength; ++i) {
      int ii = (kHistoryLength + pos_ - i) % kHistoryLength;
      for (int d = 0; d < kDivisions; ++d)
        if (i < kHistoryDivs[d]) l.sent[d] += double(h.sent[ii]), l.recv[d] += double(h.recv[ii]);
    }
  }
  for (auto& l : r.lines)
    for (int d = 0; d < kDivisions; ++d) l.sent[d] /= seconds(d), l.recv[d] /= seconds(d);

  for (int i = 0; i < kHistoryLength; ++i) {
    int ii = (kHistoryLength + pos_ - i) % kHistoryLength;
    for (int d = 0; d < kDivisions; ++d)
      if (i < kHistoryDivs[d]) r.sent[d] += double(totals_.sent[ii]), r.recv[d] += double(totals_.recv[ii]);
    r.peak_sent = std::max(r.peak_sent, double(totals_.sent[i]) / kResolution);
    r.peak_recv = std::max(r.peak_recv, double(totals_.recv[i]) / kResolution);
    r.peak_total = std::max(r.peak_total, double(totals_.sent[i] + totals_.recv[i]) / kResolution);
  }
  for (int d = 0; d < kDivisions; ++d) r.sent[d] /= seconds(d), r.recv[d] /= seconds(d);
  r.cum_sent = totals_.total_sent, r.cum_recv = totals_.total_recv;

  sort_lines(r.lines, opts.sort);
  return r;
}

void sort_lines(std::vector<Line>& lines, SortBy sort) {
  auto by_rate = [](const Line& a, const Line& b, int from) {
    for (int d = from; d < kDivisions; ++d) {
      double x = a.sent[d] + a.recv[d], y = b.sent[d] + b.recv[d];
      if (x != y) return x > y;
    }
    return a.total_sent + a.total_recv > b.total_sent + b.total_recv;
  };
  auto addr_cmp = [](const FlowKey& a, const FlowKey& b, bool src) {
    if (a.family != b.family) return a.family < b.family ? -1 : 1;
    const auto& x = src ? a.src : a.dst;
    const auto& y = src ? b.src : b.dst;
    return std::memcmp(x.data(), y.data(), a.family == 4 ? 4 : 16);
  };
  std::stable_sort(lines.begin(), lines.end(), [&](const Line& a, const Line& b) {
    switch (sort) {
      case SortBy::two: return by_rate(a, b, 0);
      case SortBy::ten: return by_rate(a, b, 1);
      case SortBy::forty: return by_rate(a, b, 2);
      case SortBy::source:
      case SortBy::destination: {
        int c = addr_cmp(a.key, b.key, sort == SortBy::source);
        return c != 0 ? c < 0 : by_rate(a, b, 2);
      }
    }
    return false;
  });
}

std::string readable_size(double value, bool bytes) {
  static const char* const kBits[] = {"b", "Kb", "Mb", "Gb"};
  static const char* const kBytes[] = {"B", "KB", "MB", "GB"};
  const char* const* unit = bytes ? kBytes : kBits;
  // iftop computes in float; so do we, so that the last digit rounds the same way.
  float n = float(value);
  if (!bytes) n *= 8;
  float size = 1;
  char buf[10];
  for (int i = 0;;) {
    if (n < size * 1000 || i >= 3) {
      std::snprintf(buf, sizeof buf, " %4.0f%s", double(n / size), unit[i]);
      break;
    }
    ++i;
    size *= 1024;
    if (n < size * 10) {
      std::snprintf(buf, sizeof buf, " %4.2f%s", double(n / size), unit[i]);
      break;
    }
    if (n < size * 100) {
      std::snprintf(buf, sizeof buf, " %4.1f%s", double(n / size), unit[i]);
      break;
    }
  }
  return buf;
}

std::string host_column(const std::string& host, uint16_t port, const std::string& service, bool v6, size_t width) {
  std::string name = host.substr(0, width);
  std::string suffix;
  if (port != 0) suffix = ":" + (service.empty() ? std::to_string(port) : service);
  std::string line;
  size_t left = name.size();
  if (port == 0 || !v6 || width < 2) {
    line = name;
  } else {
    line.assign(1, '[').append(name, 0, width - 2).append(1, ']');
    left = line.size();
  }
  if (suffix.size() > width) suffix.resize(width);
  if (left > width - suffix.size()) left = width - suffix.size();
  line.resize(left);
  line += suffix;
  line.resize(width, ' ');
  return line;
}

}  // namespace netshoot::applet::monitor::flows
