// dig's presentation (9.18): banner, header, OPT pseudosection, sections with
// column-aligned records, stats; +short; and drill's (ldns) presentation.
#include <algorithm>
#include <cstdio>

#include "format.h"

namespace netshoot::applet::dns {

namespace {

// bind's indent rule with 8-column tabs: tabs up to `to`, or one space when the
// text already reached it.
void indent_to(std::string& line, size_t& col, size_t to) {
  if (col < to) {
    size_t tabs = to / 8 - col / 8;
    line.append(tabs, '\t');
    col = to;
  } else {
    line += ' ';
    ++col;
  }
}

void add(std::string& line, size_t& col, const std::string& s) {
  line += s;
  col += s.size();
}

const char* ede_name(unsigned code) {
  static const char* names[] = {"Other", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type",
                                "Stale Answer", "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus",
                                "Signature Expired", "Signature Not Yet Valid", "DNSKEY Missing",
                                "RRSIGs Missing", "No Zone Key Bit Set", "NSEC Missing", "Cached Error",
                                "Not Ready", "Blocked", "Censored", "Filtered", "Prohibited",
                                "Stale NXDOMAIN Answer", "Not Authoritative", "Not Supported",
                                "No Reachable Authority", "Network Error", "Invalid Data"};
  return code < sizeof names / sizeof names[0] ? names[code] : nullptr;
}

std::string section_text(const std::vector<wire::ResourceRecord>& rrs) {
  std::string out;
  for (const auto& rr : rrs) out += dig_record(rr) + "\n";
  return out;
}

}  // namespace

std::string dig_record(const wire::ResourceRecord& rr) {
  std::string line;
  size_t col = 0;
  add(line, col, rr.name);
  indent_to(line, col, 24);
  add(line, col, std::to_string(rr.ttl));
  indent_to(line, col, 32);
  add(line, col, wire::class_to_string(rr.rclass));
  indent_to(line, col, 40);
  add(line, col, wire::type_to_string(rr.type));
  std::string rdata = wire::format_rdata(rr);
  if (!rdata.empty()) {
    indent_to(line, col, 48);
    line += rdata;
  }
  return line;
}

std::string dig_question(const wire::Question& q) {
  std::string line;
  size_t col = 0;
  line += ';';  // dig does not count the ';' in the columns
  add(line, col, q.name);
  indent_to(line, col, 32);
  add(line, col, wire::class_to_string(q.qclass));
  indent_to(line, col, 40);
  add(line, col, wire::type_to_string(q.qtype));
  return line;
}

std::string dig_flags_line(const wire::Header& h) {
  std::string f = ";; flags:";
  if (h.qr) f += " qr";
  if (h.aa) f += " aa";
  if (h.tc) f += " tc";
  if (h.rd) f += " rd";
  if (h.ra) f += " ra";
  if (h.ad) f += " ad";
  if (h.cd) f += " cd";
  char buf[128];
  std::snprintf(buf, sizeof buf, "; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u", h.qdcount, h.ancount,
                h.nscount, h.arcount);
  return f + buf;
}

std::string dig_when(std::time_t t) {
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Z %Y", &tm);
  return buf;
}

std::string dig_opt_lines(const wire::Edns& e, const std::vector<uint8_t>& sent_cookie) {
  std::string out = "; EDNS: " + wire::format_edns(e) + "\n";
  for (const auto& opt : e.options) {
    if (opt.code == wire::edns_option::EDE && opt.data.size() >= 2) {
      unsigned code = static_cast<unsigned>(opt.data[0] << 8 | opt.data[1]);
      out += "; EDE: " + std::to_string(code);
      if (const char* n = ede_name(code)) out += std::string(" (") + n + ")";
      if (opt.data.size() > 2) out += ": (" + std::string(opt.data.begin() + 2, opt.data.end()) + ")";
      out += "\n";
      continue;
    }
    std::string text = wire::format_edns_option(opt);
    if (opt.code == wire::edns_option::COOKIE && sent_cookie.size() >= 8 && opt.data.size() >= 8) {
      bool same = std::equal(sent_cookie.begin(), sent_cookie.begin() + 8, opt.data.begin());
      if (!same) text += " (bad)";
      else text += opt.data.size() > 8 ? " (good)" : " (echoed)";
    }
    out += "; " + text + "\n";
  }
  return out;
}

std::string server_text(const wire::NameServer& ns, const std::string& label) {
  return ns.to_string() + "(" + (label.empty() ? ns.addr.to_string() : label) + ")";
}

std::string dig_banner(const Options& o, size_t servers_found) {
  std::string out = "\n; <<>> netshoot DiG " NETSHOOT_VERSION " <<>> " + o.cmdline + "\n";
  if (!o.server.empty())
    out += "; (" + std::to_string(servers_found) + (servers_found == 1 ? " server" : " servers") + " found)\n";
  out += ";; global options: +cmd\n";
  return out;
}

std::string dig_message_text(const Options& o, const wire::Message& m, bool is_query,
                             const std::vector<uint8_t>& sent_cookie) {
  const Display& d = o.display;
  std::string out;
  const auto& h = m.header;
  if (d.comments) {
    out += ";; ->>HEADER<<- opcode: " + wire::opcode_to_string(h.opcode) + ", status: " +
           wire::rcode_to_string(h.rcode) + ", id: " + std::to_string(h.id) + "\n";
    out += dig_flags_line(h) + "\n";
    if (!is_query && h.rd && !h.ra) out += ";; WARNING: recursion requested but not available\n";
    out += "\n";
    if (m.edns && d.opt) {
      out += ";; OPT PSEUDOSECTION:\n" + dig_opt_lines(*m.edns, is_query ? std::vector<uint8_t>{} : sent_cookie);
    }
  }
  if (d.question && !m.questions.empty()) {
    if (d.comments) out += ";; QUESTION SECTION:\n";
    for (const auto& q : m.questions) out += dig_question(q) + "\n";
    if (d.comments) out += "\n";
  }
  auto section = [&](bool on, const char* title, const std::vector<wire::ResourceRecord>& rrs) {
    if (!on || rrs.empty()) return;
    if (d.comments) out += std::string(";; ") + title + " SECTION:\n";
    out += section_text(rrs);
    if (d.comments) out += "\n";
  };
  section(d.answer, "ANSWER", m.answers);
  section(d.authority, "AUTHORITY", m.authority);
  section(d.additional, "ADDITIONAL", m.additional);
  return out;
}

namespace {

std::vector<uint8_t> sent_cookie_of(const Reply& r) {
  auto q = wire::parse_message(r.result.query);
  if (!q || !q->edns) return {};
  for (const auto& opt : q->edns->options)
    if (opt.code == wire::edns_option::COOKIE) return opt.data;
  return {};
}

}  // namespace

std::string format_dig(const Options& o, const Reply& r) {
  const Display& d = o.display;
  std::string out;
  if (!r.ok) return out;
  std::vector<uint8_t> cookie = sent_cookie_of(r);
  if (d.print_query) {
    if (auto q = wire::parse_message(r.result.query)) {
      out += ";; Sending:\n" + dig_message_text(o, *q, true, {});
      out += ";; QUERY SIZE: " + std::to_string(r.result.query.size()) + "\n\n";
    }
  }
  if (d.comments) out += ";; Got answer:\n";
  out += dig_message_text(o, r.result.message, false, cookie);
  if (d.stats) {
    out += ";; Query time: " + std::to_string(static_cast<long>(r.result.elapsed_ms)) + " msec\n";
    out += ";; SERVER: " + server_text(r.result.server, r.server_label) + " (" +
           (r.result.transport == wire::Transport::Tcp ? "TCP" : "UDP") + ")\n";
    out += ";; WHEN: " + dig_when(r.when) + "\n";
    out += ";; MSG SIZE  rcvd: " + std::to_string(r.result.raw.size()) + "\n\n";
  }
  return out;
}

std::string format_short(const Options& o, const Reply& r) {
  std::string out;
  if (!r.ok) return out;
  for (const auto& rr : r.result.message.answers) {
    out += wire::format_rdata(rr);
    if (o.display.identify)
      out += " from server " + r.result.server.addr.to_string() + " in " +
             std::to_string(static_cast<long>(r.result.elapsed_ms)) + " ms.";
    out += "\n";
  }
  return out;
}

// ---- drill ---------------------------------------------------------------------------

std::string format_drill_message(const wire::Message& m, bool is_query) {
  const auto& h = m.header;
  std::string out = ";; ->>HEADER<<- opcode: " + wire::opcode_to_string(h.opcode) + ", rcode: " +
                    wire::rcode_to_string(h.rcode) + ", id: " + std::to_string(h.id) + "\n";
  out += ";; flags: ";
  if (h.qr) out += "qr ";
  if (h.aa) out += "aa ";
  if (h.tc) out += "tc ";
  if (h.rd) out += "rd ";
  if (h.cd) out += "cd ";
  if (h.ra) out += "ra ";
  if (h.ad) out += "ad ";
  // ldns counts the records it holds: the OPT pseudo-record is not one of them.
  out += "; QUERY: " + std::to_string(m.questions.size()) + ", ANSWER: " + std::to_string(m.answers.size()) +
         ", AUTHORITY: " + std::to_string(m.authority.size()) + ", ADDITIONAL: " +
         std::to_string(m.additional.size()) + " \n";
  out += ";; QUESTION SECTION:\n";
  for (const auto& q : m.questions)
    out += ";; " + q.name + "\t" + wire::class_to_string(q.qclass) + "\t" + wire::type_to_string(q.qtype) + "\n";
  auto section = [&](const char* title, const std::vector<wire::ResourceRecord>& rrs) {
    out += std::string("\n;; ") + title + " SECTION:\n";
    for (const auto& rr : rrs) out += wire::format_record(rr) + "\n";
  };
  section("ANSWER", m.answers);
  section("AUTHORITY", m.authority);
  section("ADDITIONAL", m.additional);
  out += "\n";
  (void)is_query;
  return out;
}

namespace {

std::string drill_when(std::time_t t) {
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

std::string drill_edns(const wire::Edns& e) {
  return ";; EDNS: version " + std::to_string(e.version) + "; flags: " + (e.dnssec_ok ? "do " : "") +
         "; udp: " + std::to_string(e.udp_size) + "\n";
}

}  // namespace

std::string format_drill(const Options& o, const Reply& r) {
  std::string out;
  if (o.display.verbosity >= 5) {
    if (auto q = wire::parse_message(r.result.query)) {
      out += format_drill_message(*q, true);
      out += ";; Query time: 0 msec\n";
      if (q->edns) out += drill_edns(*q->edns);
      out += ";; WHEN: " + drill_when(r.when) + "\n";
      out += ";; MSG SIZE  rcvd: 0\n";
    }
  }
  if (!r.ok) return out;
  const auto& m = r.result.message;
  out += format_drill_message(m, false);
  out += ";; Query time: " + std::to_string(static_cast<long>(r.result.elapsed_ms)) + " msec\n";
  if (m.edns) out += drill_edns(*m.edns);
  out += ";; SERVER: " + r.result.server.addr.to_string() + "\n";
  out += ";; WHEN: " + drill_when(r.when) + "\n";
  out += ";; MSG SIZE  rcvd: " + std::to_string(r.result.raw.size()) + "\n";
  return out;
}

}  // namespace netshoot::applet::dns
