// Feeds arbitrary bytes through the perf applet's iperf3 wire parsers: the first
// byte picks how the rest is read — as the control byte stream (state bytes,
// length-prefixed JSON, SERVER_ERROR codes, the way a peer's bytes reach the
// ControlReader), as a parameter or results document, or as a UDP test datagram.
// Whatever decodes must encode and decode again to the same values.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "applets/perf/proto.h"

using namespace netshoot::applet::perf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0] % 4;
  std::span<const uint8_t> in(data + 1, size - 1);
  std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
  size_t total = 0;
  switch (mode) {
    case 0: {  // control stream, fed in uneven pieces, pulled in a data-driven order
      ControlReader rd;
      size_t pos = 0, step = 1;
      while (pos < in.size()) {
        size_t n = std::min(step, in.size() - pos);
        rd.feed(in.subspan(pos, n));
        pos += n;
        step = step * 3 % 17 + 1;
        for (;;) {
          auto s = rd.take_state();
          if (!s) break;
          total += std::string_view(state_name(*s)).size();
          if (*s == kServerError) {
            if (auto c = rd.take_error_codes()) total += size_t(c->first & 1);
          } else if (*s == kParamExchange || *s == kExchangeResults) {
            auto j = rd.take_json();
            if (!j) break;  // a bad length ends the conversation
            if (*j) {
              if (auto p = decode_params(**j)) total += encode_params(*p).size();
              if (auto r = decode_results(**j)) total += encode_results(*r).size();
            }
          }
        }
      }
      total += rd.buffered();
      break;
    }
    case 1: {
      auto p = decode_params(text);
      if (p) {
        auto again = decode_params(encode_params(*p));
        if (!again) __builtin_trap();
        if (again->parallel != p->parallel || again->len != p->len || again->udp != p->udp ||
            again->reverse != p->reverse || again->bandwidth != p->bandwidth || again->num != p->num)
          __builtin_trap();
      }
      break;
    }
    case 2: {
      auto r = decode_results(text);
      if (r) {
        auto again = decode_results(encode_results(*r));
        if (!again || again->streams.size() != r->streams.size()) __builtin_trap();
        for (size_t i = 0; i < r->streams.size(); ++i)
          if (again->streams[i].bytes != r->streams[i].bytes || again->streams[i].id != r->streams[i].id)
            __builtin_trap();
      }
      break;
    }
    case 3: {
      for (bool wide : {false, true}) {
        auto h = parse_udp_header(in, wide);
        if (!h) continue;
        uint8_t buf[16];
        write_udp_header(buf, *h, wide);
        auto back = parse_udp_header({buf, udp_header_size(wide)}, wide);
        if (!back || back->seq != h->seq || back->sec != h->sec || back->usec != h->usec) __builtin_trap();
        UdpRecvStats st;
        st.on_packet(*h, 1.0);
        st.on_packet(*h, 2.0);
        total += size_t(st.out_of_order);
      }
      break;
    }
  }
  return total == 0xFFFFFFFF;
}
