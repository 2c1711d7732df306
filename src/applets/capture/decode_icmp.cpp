// ICMP and ICMPv6 (echo, errors with the quoted datagram, NDP, MLDv2).
#include "netshoot/packet.h"
#include "printer.h"

namespace netshoot::applet::capture {

using core::load_be16;
using core::load_be32;

void Printer::icmp(Bytes p, uint32_t l4len) {
  Buf& b = *out_;
  sum_.l4 = "icmp";
  if (p.size() < 4) {
    b.put("ICMP"), trunc("icmp");
    return;
  }
  uint8_t type = p[0], code = p[1];
  if (auto* L = layer("icmp")) {
    (*L)["type"] = type, (*L)["code"] = code;
    if ((type == 0 || type == 8) && p.size() >= 8) (*L)["id"] = load_be16(p.data() + 4), (*L)["seq"] = load_be16(p.data() + 6);
  }
  b.put("ICMP ");
  // The quoted datagram of an error: destination and, for port unreachable, proto/port.
  auto quoted = [&](const uint8_t*& qdst, uint8_t& qproto, int& qport) {
    qdst = nullptr, qproto = 0, qport = -1;
    if (p.size() < 8 + 20) return;
    Bytes ip = p.subspan(8);
    size_t hl = size_t(ip[0] & 15) * 4;
    if ((ip[0] >> 4) != 4 || hl < 20 || ip.size() < hl) return;
    qdst = ip.data() + 16, qproto = ip[9];
    if (ip.size() >= hl + 4) qport = load_be16(ip.data() + hl + 2);
  };
  switch (type) {
    case 0:
    case 8:
      if (p.size() < 8) return trunc("icmp");
      b.put(type == 8 ? "echo request" : "echo reply");
      b.put(", id "), b.u(load_be16(p.data() + 4)), b.put(", seq "), b.u(load_be16(p.data() + 6));
      break;
    case 3: {
      const uint8_t* qd;
      uint8_t qp;
      int port;
      quoted(qd, qp, port);
      if (!qd) {
        b.put("unreachable"), trunc("icmp");
        return;
      }
      switch (code) {
        case 0: b.put("net "), host4(qd), b.put(" unreachable"); break;
        case 1: b.put("host "), host4(qd), b.put(" unreachable"); break;
        case 2: host4(qd), b.put(" protocol "), b.u(qp), b.put(" unreachable"); break;
        case 3:
          host4(qd), b.put(qp == 17 ? " udp port " : qp == 6 ? " tcp port " : " port ");
          if (port >= 0) {
            std::string_view pn = o_.numeric == 0 && (qp == 17 || qp == 6) ? service_name(uint16_t(port), qp == 17) : "";
            if (pn.empty()) b.u(uint64_t(port));
            else b.put(pn);
          }
          b.put(" unreachable");
          break;
        case 4:
          host4(qd), b.put(" unreachable - need to frag (mtu "), b.u(load_be16(p.data() + 6)), b.put(')');
          break;
        case 9: case 10: case 13:
          b.put("host "), host4(qd), b.put(" unreachable - admin prohibited");
          if (code == 13) b.put(" filter");
          break;
        default: host4(qd), b.put(" unreachable - code "), b.u(code); break;
      }
      break;
    }
    case 11:
      b.put(code == 0 ? "time exceeded in-transit" : "ip reassembly time exceeded");
      break;
    case 5:
      if (p.size() < 8) return trunc("icmp");
      {
        const uint8_t* qd;
        uint8_t qp;
        int port;
        quoted(qd, qp, port);
        b.put("redirect ");
        if (qd) host4(qd);
        b.put(" to "), b.put(code == 1 ? "host " : "net "), host4(p.data() + 4);
      }
      break;
    case 4: b.put("source quench"); break;
    case 9: b.put("router advertisement"); break;
    case 10: b.put("router solicitation"); break;
    case 12: b.put("parameter problem - octet "), b.u(p.size() > 4 ? p[4] : 0); break;
    case 13: b.put("time stamp query"); break;
    case 14: b.put("time stamp reply"); break;
    default: b.put("type-#"), b.u(type); break;
  }
  b.put(", length "), b.u(l4len);
  if (o_.verbose && !frag_ && p.size() >= l4len) {
    uint16_t s = core::checksum_finish(core::checksum_partial(p.data(), l4len));
    if (s != 0) {
      uint16_t stored = load_be16(p.data() + 2);
      uint16_t should = should_be(core::checksum_finish(core::checksum_partial(p.data(), l4len) + uint16_t(~stored)));
      b.put(" (wrong icmp cksum "), b.hex(stored), b.put(" (->"), b.hex(should), b.put(")!)");
    }
  }
  if (p.size() > 8) sum_.payload = p.subspan(8);
  bool is_err = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
  if (is_err && p.size() >= 8 + 20 && depth_ < 8 && (o_.verbose || collect_)) {
    // The quoted datagram: printed at -v; in --json nested under the icmp layer.
    PacketSummary saved = sum_;
    size_t mark = b.size();
    core::Json outer;
    if (collect_) outer = std::move(layers_), layers_ = core::Json::array();
    b.put(o_.link_header ? "\n\t" : "\n\tIP ");  // ip_print names itself only without -e
    ++depth_;
    ipv4(p.subspan(8));
    --depth_;
    if (!o_.verbose) b.truncate(mark);
    if (collect_) {
      core::Json quoted = std::move(layers_);
      layers_ = std::move(outer);
      for (auto it = layers_.rbegin(); it != layers_.rend(); ++it)
        if ((*it)["layer"] == "icmp") { (*it)["quoted"] = std::move(quoted); break; }
    }
    sum_ = saved;
  }
}

void Printer::icmp6(Bytes p, uint32_t l4len, const uint8_t* src, const uint8_t* dst) {
  Buf& b = *out_;
  sum_.l4 = "icmp6";
  if (p.size() < 4) {
    b.put("ICMP6"), trunc("icmp6");
    return;
  }
  uint8_t type = p[0], code = p[1];
  if (auto* L = layer("icmp6")) {
    (*L)["type"] = type, (*L)["code"] = code;
    if ((type == 128 || type == 129) && p.size() >= 8) (*L)["id"] = load_be16(p.data() + 4), (*L)["seq"] = load_be16(p.data() + 6);
    if ((type == 135 || type == 136) && p.size() >= 24) (*L)["target"] = ip_text(p.data() + 8, 6);
  }
  if (o_.verbose && p.size() >= l4len) {
    uint32_t s = core::checksum_partial(src, 16);
    s = core::checksum_partial(dst, 16, s);
    uint8_t t[8] = {uint8_t(l4len >> 24), uint8_t(l4len >> 16), uint8_t(l4len >> 8), uint8_t(l4len), 0, 0, 0, 58};
    s = core::checksum_partial(t, 8, s);
    s = core::checksum_partial(p.data(), l4len, s);
    if (core::checksum_finish(s) == 0) b.put("[icmp6 sum ok] ");
    else {
      uint16_t stored = load_be16(p.data() + 2);
      b.put("[bad icmp6 cksum 0x"), b.hex_pad(stored, 4), b.put(" -> 0x");
      b.hex_pad(should_be(core::checksum_finish(s + uint16_t(~stored))), 4), b.put("!] ");
    }
  }
  b.put("ICMP6, ");
  auto len = [&] { b.put(", length "), b.u(l4len); };
  auto ndp_opts = [&](size_t off) {
    if (!o_.verbose) return;
    for (size_t k = off; k + 2 <= p.size();) {
      uint8_t t = p[k];
      size_t ol = size_t(p[k + 1]) * 8;
      if (ol == 0 || k + ol > p.size()) {
        b.put("\n\t  "), trunc("ndp opt");
        return;
      }
      b.put("\n\t  ");
      switch (t) {
        case 1: b.put("source link-address option (1)"); break;
        case 2: b.put("destination link-address option (2)"); break;
        case 3: b.put("prefix info option (3)"); break;
        case 5: b.put("mtu option (5)"); break;
        case 25: b.put("rdnss option (25)"); break;
        default: b.put("unknown option ("), b.u(t), b.put(')'); break;
      }
      b.put(", length "), b.u(ol), b.put(" ("), b.u(ol / 8), b.put("): ");
      const uint8_t* d = p.data() + k + 2;
      if ((t == 1 || t == 2) && ol == 8) b.mac(d);
      else if (t == 5 && ol == 8) b.put(" "), b.u(load_be32(d + 2));
      else if (t == 3 && ol == 32) {
        host6(d + 14), b.put('/'), b.u(d[0]), b.put(", Flags [");
        bool any = false;
        if (d[1] & 0x80) b.put("onlink"), any = true;
        if (d[1] & 0x40) b.put(any ? ", auto" : "auto"), any = true;
        if (!any) b.put("none");
        b.put("], valid time "), b.u(load_be32(d + 2)), b.put("s, pref. time "), b.u(load_be32(d + 6)), b.put('s');
      } else if (o_.verbose < 2) {
        hex_dump(b, Bytes(d, ol - 2), false, "\n\t  ");
      }
      if (o_.verbose >= 2) hex_dump(b, Bytes(d, ol - 2), false, "\n\t    ");
      k += ol;
    }
  };
  switch (type) {
    case 128:
    case 129:
      if (p.size() < 8) return trunc("icmp6");
      b.put(type == 128 ? "echo request" : "echo reply");
      b.put(", id "), b.u(load_be16(p.data() + 4)), b.put(", seq "), b.u(load_be16(p.data() + 6));
      if (!o_.verbose) len();
      break;
    case 135:
    case 136:
      if (p.size() < 24) return b.put(type == 135 ? "neighbor solicitation" : "neighbor advertisement"), trunc("icmp6");
      b.put(type == 135 ? "neighbor solicitation" : "neighbor advertisement");
      if (o_.verbose) {
        len();
        b.put(type == 135 ? ", who has " : ", tgt is "), host6(p.data() + 8);
        if (type == 136) {
          uint8_t f = p[4];
          b.put(", Flags [");
          bool any = false;
          auto flag = [&](const char* n) { b.put(any ? ", " : ""), b.put(n), any = true; };
          if (f & 0x80) flag("router");
          if (f & 0x40) flag("solicited");
          if (f & 0x20) flag("override");
          if (!any) b.put("none");
          b.put(']');
        }
        ndp_opts(24);
      } else {
        b.put(type == 135 ? ", who has " : ", tgt is "), host6(p.data() + 8);
        len();
      }
      break;
    case 133:
      b.put("router solicitation"), len();
      ndp_opts(8);
      break;
    case 134:
      b.put("router advertisement"), len();
      if (o_.verbose && p.size() >= 16) {
        b.put("\n\thop limit "), b.u(p[4]), b.put(", Flags [");
        uint8_t f = p[5];
        bool any = false;
        if (f & 0x80) b.put("managed"), any = true;
        if (f & 0x40) b.put(any ? ", other stateful" : "other stateful"), any = true;
        if (!any) b.put("none");
        static const char* kPref[4] = {"medium", "high", "reserved", "low"};
        b.put("], pref "), b.put(kPref[(f >> 3) & 3]), b.put(", router lifetime "), b.u(load_be16(p.data() + 6));
        b.put("s, reachable time "), b.u(load_be32(p.data() + 8)), b.put("ms, retrans timer ");
        b.u(load_be32(p.data() + 12)), b.put("ms");
        ndp_opts(16);
      }
      break;
    case 143: {
      uint16_t n = p.size() >= 8 ? load_be16(p.data() + 6) : 0;
      b.put("multicast listener report v2, "), b.u(n), b.put(" group record(s)");
      if (o_.verbose) {
        size_t k = 8;
        for (uint16_t i = 0; i < n; ++i) {
          if (k + 20 > p.size()) return trunc("icmp6");
          uint8_t rt = p[k], aux = p[k + 1];
          uint16_t ns = load_be16(p.data() + k + 2);
          static const char* kRt[7] = {"", "is_in", "is_ex", "to_in", "to_ex", "allow", "block"};
          b.put(" [gaddr "), host6(p.data() + k + 4), b.put(' ');
          if (rt >= 1 && rt <= 6) b.put(kRt[rt]);
          else b.put("invalid");
          if (o_.verbose >= 2) {
            b.put(" {");
            for (uint16_t j = 0; j < ns && k + 20 + size_t(j + 1) * 16 <= p.size(); ++j) b.put(' '), host6(p.data() + k + 20 + size_t(j) * 16);
            b.put(" }]");
          } else {
            b.put(", "), b.u(ns), b.put(" source(s)]");
          }
          k += 20 + size_t(ns) * 16 + size_t(aux) * 4;
        }
      } else {
        len();
      }
      break;
    }
    case 130: b.put("multicast listener query"), len(); break;
    case 131: b.put("multicast listener report"), len(); break;
    case 132: b.put("multicast listener done"), len(); break;
    case 137: b.put("redirect"), len(); break;
    case 1: {
      b.put("destination unreachable, ");
      const uint8_t* qd = nullptr;
      uint8_t qnh = 0;
      int port = -1;
      if (p.size() >= 8 + 40 && (p[8] >> 4) == 6) {
        qd = p.data() + 8 + 24, qnh = p[8 + 6];
        if (p.size() >= 48 + 4) port = load_be16(p.data() + 48 + 2);
      }
      static const char* kCode[] = {"unreachable route", "unreachable prohibited", "beyond scope",
                                    "unreachable address", "unreachable port"};
      b.put(code < 5 ? kCode[code] : "unknown unreach code");
      if (qd) {
        b.put(code == 4 ? ", " : " "), host6(qd);
        if (code == 4 && port >= 0) {
          b.put(qnh == 17 ? " udp port " : qnh == 6 ? " tcp port " : " port ");
          std::string_view pn = o_.numeric == 0 && (qnh == 17 || qnh == 6) ? service_name(uint16_t(port), qnh == 17) : "";
          if (pn.empty()) b.u(uint64_t(port));
          else b.put(pn);
        }
      }
      if (!o_.verbose) len();
      break;
    }
    case 2:
      b.put("packet too big, mtu ");
      if (p.size() >= 8) b.u(load_be32(p.data() + 4));
      len();
      break;
    case 3:
      b.put(code == 0 ? "time exceeded in-transit" : "time exceeded reassembly");
      if (p.size() >= 8 + 40) b.put(" for "), host6(p.data() + 8 + 24);
      len();
      break;
    case 4: b.put("parameter problem"), len(); break;
    default: b.put("type-#"), b.u(type), len(); break;
  }
  if (p.size() > 8) sum_.payload = p.subspan(8);
}

}  // namespace netshoot::applet::capture
