// perf: iperf3 wire encoding (see proto.h).
#include "proto.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

namespace netshoot::applet::perf {

using Json = nlohmann::json;
using core::make_error;

const char* state_name(int8_t s) {
  switch (s) {
    case kTestStart: return "TEST_START";
    case kTestRunning: return "TEST_RUNNING";
    case kTestEnd: return "TEST_END";
    case kParamExchange: return "PARAM_EXCHANGE";
    case kCreateStreams: return "CREATE_STREAMS";
    case kServerTerminate: return "SERVER_TERMINATE";
    case kClientTerminate: return "CLIENT_TERMINATE";
    case kExchangeResults: return "EXCHANGE_RESULTS";
    case kDisplayResults: return "DISPLAY_RESULTS";
    case kIperfStart: return "IPERF_START";
    case kIperfDone: return "IPERF_DONE";
    case kAccessDenied: return "ACCESS_DENIED";
    case kServerError: return "SERVER_ERROR";
    default: return "unknown state";
  }
}

std::string make_cookie() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::random_device rd;
  std::mt19937_64 gen((uint64_t(rd()) << 32) ^ rd());
  std::string c;
  c.reserve(kCookieSize);
  for (size_t i = 0; i + 1 < kCookieSize; ++i) c.push_back(kAlphabet[gen() % 32]);
  c.push_back('\0');
  return c;
}

bool valid_cookie(std::span<const uint8_t> b) {
  if (b.size() != kCookieSize || b[kCookieSize - 1] != 0) return false;
  for (size_t i = 0; i + 1 < kCookieSize; ++i)
    if (b[i] < 0x21 || b[i] > 0x7e) return false;
  return true;
}

std::string encode_params(const TestParams& p) {
  // Key order as iperf3 3.12 sends them (ordered_json keeps it).
  nlohmann::ordered_json o;
  if (p.udp) o["udp"] = true;
  else o["tcp"] = true;
  o["omit"] = p.omit;
  if (p.time == std::floor(p.time)) o["time"] = int64_t(p.time);
  else o["time"] = p.time;
  o["num"] = p.num;
  o["blockcount"] = p.blockcount;
  if (p.mss > 0) o["MSS"] = p.mss;
  if (p.nodelay) o["nodelay"] = true;
  o["parallel"] = p.parallel;
  if (p.reverse) o["reverse"] = true;
  if (p.bidirectional) o["bidirectional"] = true;
  if (p.window > 0) o["window"] = p.window;
  o["len"] = p.len;
  if (p.bandwidth > 0) o["bandwidth"] = p.bandwidth;
  if (p.tos > 0) o["TOS"] = p.tos;
  if (!p.title.empty()) o["title"] = p.title;
  if (!p.congestion.empty()) o["congestion"] = p.congestion;
  if (p.get_server_output) o["get_server_output"] = 1;
  if (p.udp_counters_64bit) o["udp_counters_64bit"] = 1;
  if (p.zerocopy) o["zerocopy"] = 1;
  o["pacing_timer"] = p.pacing_timer;
  o["client_version"] = p.client_version;
  return o.dump();
}

namespace {

// Numbers may arrive as integers, floats or booleans (iperf3 sends 1 for some flags).
template <typename T>
bool get_num(const Json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (it->is_boolean()) { out = it->get<bool>() ? T(1) : T(0); return true; }
  if (!it->is_number()) return false;
  double v = it->get<double>();
  if (!std::isfinite(v)) return false;
  if constexpr (std::is_integral_v<T>) {
    if (v < double(std::numeric_limits<T>::min()) || v > double(std::numeric_limits<T>::max()))
      return false;
    if (it->is_number_unsigned()) out = T(it->get<uint64_t>());
    else if (it->is_number_integer()) out = T(it->get<int64_t>());
    else out = T(v);
  } else {
    out = T(v);
  }
  return true;
}

bool get_flag(const Json& j, const char* key, bool& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (it->is_boolean()) out = it->get<bool>();
  else if (it->is_number()) out = it->get<double>() != 0;
  else return false;
  return true;
}

bool get_str(const Json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

Json parse_object(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Json();
  return j;
}

}  // namespace

core::Result<TestParams> decode_params(std::string_view text) {
  Json j = parse_object(text);
  if (!j.is_object()) return make_error("parameters: not a JSON object");
  TestParams p;
  bool tcp = false;
  bool ok = get_flag(j, "tcp", tcp) && get_flag(j, "udp", p.udp) && get_num(j, "omit", p.omit) &&
            get_num(j, "time", p.time) && get_num(j, "num", p.num) &&
            get_num(j, "blockcount", p.blockcount) && get_num(j, "MSS", p.mss) &&
            get_flag(j, "nodelay", p.nodelay) && get_num(j, "parallel", p.parallel) &&
            get_flag(j, "reverse", p.reverse) && get_flag(j, "bidirectional", p.bidirectional) &&
            get_num(j, "window", p.window) && get_num(j, "len", p.len) &&
            get_num(j, "bandwidth", p.bandwidth) && get_num(j, "TOS", p.tos) &&
            get_str(j, "title", p.title) && get_str(j, "congestion", p.congestion) &&
            get_flag(j, "get_server_output", p.get_server_output) &&
            get_flag(j, "udp_counters_64bit", p.udp_counters_64bit) &&
            get_flag(j, "zerocopy", p.zerocopy) && get_num(j, "pacing_timer", p.pacing_timer) &&
            get_str(j, "client_version", p.client_version);
  if (!ok) return make_error("parameters: a value has the wrong type");
  if (!tcp && !p.udp) return make_error("parameters: neither tcp nor udp");
  if (j.contains("sctp")) return make_error("parameters: SCTP is not supported");
  if (p.parallel < 1 || p.parallel > 128) return make_error("parameters: parallel out of range");
  if (p.len < 1 || p.len > 128 * 1024 * 1024) return make_error("parameters: len out of range");
  if (p.udp && p.len < int(udp_header_size(p.udp_counters_64bit)))
    return make_error("parameters: UDP length too small");
  if (p.time < 0 || p.time > 86400) return make_error("parameters: time out of range");
  if (p.omit < 0 || p.omit > 600) return make_error("parameters: omit out of range");
  if (p.window < 0 || p.mss < 0 || p.tos < 0) return make_error("parameters: negative value");
  if (p.time == 0 && p.num == 0 && p.blockcount == 0) p.time = 10;
  return p;
}

std::string encode_results(const Results& r) {
  nlohmann::ordered_json o;
  o["cpu_util_total"] = r.cpu_total;
  o["cpu_util_user"] = r.cpu_user;
  o["cpu_util_system"] = r.cpu_system;
  if (r.sender_has_retransmits < 0) o["sender_has_retransmits"] = UINT64_MAX;
  else o["sender_has_retransmits"] = r.sender_has_retransmits;
  if (!r.congestion_used.empty()) o["congestion_used"] = r.congestion_used;
  auto streams = nlohmann::ordered_json::array();
  for (const auto& s : r.streams) {
    nlohmann::ordered_json js;
    js["id"] = s.id;
    js["bytes"] = s.bytes;
    if (s.retransmits < 0) js["retransmits"] = UINT64_MAX;
    else js["retransmits"] = s.retransmits;
    js["jitter"] = s.jitter;
    js["errors"] = s.errors;
    js["omitted_errors"] = s.omitted_errors;
    js["packets"] = s.packets;
    js["omitted_packets"] = s.omitted_packets;
    js["start_time"] = s.start_time;
    js["end_time"] = s.end_time;
    streams.push_back(std::move(js));
  }
  o["streams"] = std::move(streams);
  if (!r.server_output_text.empty()) o["server_output_text"] = r.server_output_text;
  return o.dump();
}

core::Result<Results> decode_results(std::string_view text) {
  Json j = parse_object(text);
  if (!j.is_object()) return make_error("results: not a JSON object");
  Results r;
  uint64_t shr = 0;
  auto shr_it = j.find("sender_has_retransmits");
  bool ok = get_num(j, "cpu_util_total", r.cpu_total) && get_num(j, "cpu_util_user", r.cpu_user) &&
            get_num(j, "cpu_util_system", r.cpu_system) &&
            get_str(j, "congestion_used", r.congestion_used) &&
            get_str(j, "server_output_text", r.server_output_text);
  if (!ok) return make_error("results: a value has the wrong type");
  if (shr_it != j.end()) {
    if (shr_it->is_number_unsigned()) shr = shr_it->get<uint64_t>();
    else if (shr_it->is_number_integer()) shr = uint64_t(shr_it->get<int64_t>());
    else if (!shr_it->is_number()) return make_error("results: a value has the wrong type");
    r.sender_has_retransmits = shr == 1 ? 1 : shr == 0 ? 0 : -1;
  }
  auto st = j.find("streams");
  if (st == j.end() || !st->is_array()) return make_error("results: no streams array");
  if (st->size() > 256) return make_error("results: too many streams");
  for (const auto& js : *st) {
    if (!js.is_object()) return make_error("results: a stream is not an object");
    StreamResult s;
    uint64_t retr = 0;
    bool have_retr = js.contains("retransmits");
    auto rit = js.find("retransmits");
    if (have_retr) {
      if (rit->is_number_unsigned()) retr = rit->get<uint64_t>();
      else if (rit->is_number_integer()) retr = uint64_t(rit->get<int64_t>());
      else return make_error("results: a value has the wrong type");
    }
    bool sok = get_num(js, "id", s.id) && get_num(js, "bytes", s.bytes) &&
               get_num(js, "jitter", s.jitter) && get_num(js, "errors", s.errors) &&
               get_num(js, "omitted_errors", s.omitted_errors) &&
               get_num(js, "packets", s.packets) &&
               get_num(js, "omitted_packets", s.omitted_packets) &&
               get_num(js, "start_time", s.start_time) && get_num(js, "end_time", s.end_time);
    if (!sok) return make_error("results: a stream value has the wrong type");
    s.retransmits = !have_retr || retr > uint64_t(INT64_MAX) ? -1 : int64_t(retr);
    r.streams.push_back(s);
  }
  return r;
}

std::string frame_json(std::string_view json) {
  std::string out(4, '\0');
  uint32_t n = htonl(uint32_t(json.size()));
  std::memcpy(out.data(), &n, 4);
  out.append(json);
  return out;
}

void ControlReader::feed(std::span<const uint8_t> bytes) {
  compact();
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

void ControlReader::compact() {
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 4096)) {
    buf_.erase(buf_.begin(), buf_.begin() + long(pos_));
    pos_ = 0;
  }
}

std::optional<int8_t> ControlReader::take_state() {
  if (buffered() < 1) return std::nullopt;
  return int8_t(buf_[pos_++]);
}

core::Result<std::optional<std::string>> ControlReader::take_json() {
  if (buffered() < 4) return std::optional<std::string>{};
  uint32_t n;
  std::memcpy(&n, buf_.data() + pos_, 4);
  n = ntohl(n);
  if (n == 0 || n > kMaxJsonLen) return make_error("control message of " + std::to_string(n) + " bytes");
  if (buffered() < 4 + size_t(n)) return std::optional<std::string>{};
  std::string s(reinterpret_cast<const char*>(buf_.data() + pos_ + 4), n);
  pos_ += 4 + n;
  return std::optional<std::string>(std::move(s));
}

std::optional<std::pair<int32_t, int32_t>> ControlReader::take_error_codes() {
  if (buffered() < 8) return std::nullopt;
  uint32_t a, b;
  std::memcpy(&a, buf_.data() + pos_, 4);
  std::memcpy(&b, buf_.data() + pos_ + 4, 4);
  pos_ += 8;
  return std::make_pair(int32_t(ntohl(a)), int32_t(ntohl(b)));
}

void write_udp_header(std::span<uint8_t> out, const UdpHeader& h, bool counters64) {
  uint32_t v[2] = {htonl(h.sec), htonl(h.usec)};
  std::memcpy(out.data(), v, 8);
  if (counters64) {
    uint32_t hi = htonl(uint32_t(h.seq >> 32)), lo = htonl(uint32_t(h.seq));
    std::memcpy(out.data() + 8, &hi, 4);
    std::memcpy(out.data() + 12, &lo, 4);
  } else {
    uint32_t s = htonl(uint32_t(h.seq));
    std::memcpy(out.data() + 8, &s, 4);
  }
}

std::optional<UdpHeader> parse_udp_header(std::span<const uint8_t> in, bool counters64) {
  if (in.size() < udp_header_size(counters64)) return std::nullopt;
  uint32_t v[4];
  std::memcpy(v, in.data(), counters64 ? 16 : 12);
  UdpHeader h;
  h.sec = ntohl(v[0]);
  h.usec = ntohl(v[1]);
  if (counters64) h.seq = uint64_t(ntohl(v[2])) << 32 | ntohl(v[3]);
  else h.seq = ntohl(v[2]);
  return h;
}

void UdpRecvStats::on_packet(const UdpHeader& h, double arrival) {
  int64_t seq = int64_t(h.seq & 0x7fffffffffffffffull);
  if (seq >= packet_count + 1) {
    if (seq > packet_count + 1) lost += seq - 1 - packet_count;
    packet_count = seq;
  } else {
    ++out_of_order;
    if (lost > 0) --lost;
  }
  double sent = double(h.sec) + double(h.usec) / 1e6;
  double transit = arrival - sent;
  if (have_transit) {
    double d = std::fabs(transit - prev_transit);
    jitter += (d - jitter) / 16.0;
  }
  prev_transit = transit;
  have_transit = true;
}

namespace {
std::string format_unit(double v, bool bits) {
  static const char* kBytes[] = {"Bytes", "KBytes", "MBytes", "GBytes", "TBytes"};
  static const char* kBits[] = {"bits", "Kbits", "Mbits", "Gbits", "Tbits"};
  double base = bits ? 1000.0 : 1024.0;
  int u = 0;
  while (v >= base && u < 4) {
    v /= base;
    ++u;
  }
  char buf[64];
  const char* fmt = v < 9.995 ? "%4.2f %s" : v < 99.95 ? "%4.1f %s" : "%4.0f %s";
  std::snprintf(buf, sizeof buf, fmt, v, bits ? kBits[u] : kBytes[u]);
  return buf;
}
}  // namespace

std::string format_bytes(double bytes) { return format_unit(bytes, false); }
std::string format_bits(double bps) { return format_unit(bps, true); }

std::optional<double> parse_size(std::string_view s, bool rate) {
  if (s.empty() || s.size() > 40) return std::nullopt;
  std::string t(s);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || !std::isfinite(v) || v < 0) return std::nullopt;
  std::string_view rest(end);
  double k = rate ? 1000.0 : 1024.0;
  if (!rest.empty()) {
    switch (rest[0]) {
      case 'k': case 'K': v *= k; break;
      case 'm': case 'M': v *= k * k; break;
      case 'g': case 'G': v *= k * k * k; break;
      case 't': case 'T': v *= k * k * k * k; break;
      default: return std::nullopt;
    }
    rest.remove_prefix(1);
  }
  // -b RATE[/COUNT] (burst) is accepted and the burst ignored.
  if (rate && !rest.empty() && rest[0] == '/') rest = {};
  if (!rest.empty()) return std::nullopt;
  return v;
}

}  // namespace netshoot::applet::perf
