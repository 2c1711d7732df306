// nslookup's and host's short shapes, and the JSON form of a message.
#include "format.h"

namespace netshoot::applet::dns {

namespace {

std::string bare(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

const wire::RdataSoa* soa_of(const wire::ResourceRecord& rr) { return std::get_if<wire::RdataSoa>(&rr.data); }

std::string nslookup_record(const wire::ResourceRecord& rr) {
  std::string owner = bare(rr.name);
  std::string rdata = wire::format_rdata(rr);
  switch (rr.type) {
    case wire::type::A:
    case wire::type::AAAA:
      return "Name:\t" + owner + "\nAddress: " + rdata;
    case wire::type::CNAME: return owner + "\tcanonical name = " + rdata;
    case wire::type::MX: return owner + "\tmail exchanger = " + rdata;
    case wire::type::NS: return owner + "\tnameserver = " + rdata;
    case wire::type::PTR: return owner + "\tname = " + rdata;
    case wire::type::TXT: return owner + "\ttext = " + rdata;
    case wire::type::SRV: return owner + "\tservice = " + rdata;
    case wire::type::SOA:
      if (const auto* s = soa_of(rr))
        return owner + "\n\torigin = " + bare(s->mname) + "\n\tmail addr = " + bare(s->rname) + "\n\tserial = " +
               std::to_string(s->serial) + "\n\trefresh = " + std::to_string(s->refresh) + "\n\tretry = " +
               std::to_string(s->retry) + "\n\texpire = " + std::to_string(s->expire) + "\n\tminimum = " +
               std::to_string(s->minimum);
      break;
    default: break;
  }
  return owner + "\trdata_" + std::to_string(rr.type) + " = " + rdata;
}

std::string host_record(const wire::ResourceRecord& rr) {
  std::string owner = bare(rr.name);
  std::string rdata = wire::format_rdata(rr);
  switch (rr.type) {
    case wire::type::A: return owner + " has address " + rdata;
    case wire::type::AAAA: return owner + " has IPv6 address " + rdata;
    case wire::type::CNAME: return owner + " is an alias for " + rdata;
    case wire::type::MX: return owner + " mail is handled by " + rdata;
    case wire::type::NS: return owner + " name server " + rdata;
    case wire::type::PTR: return owner + " domain name pointer " + rdata;
    case wire::type::TXT: return owner + " descriptive text " + rdata;
    default: break;
  }
  return owner + " has " + wire::type_to_string(rr.type) + " record " + rdata;
}

}  // namespace

std::string format_nslookup(const Options& o, const std::vector<Reply>& replies, const std::string& server_hdr,
                            int& exit_code) {
  std::string out = server_hdr;
  exit_code = 0;
  bool printed_nonauth = false, any_answer = false;
  std::string problems;
  for (size_t i = 0; i < replies.size(); ++i) {
    const Reply& r = replies[i];
    std::string shown = bare(r.qname.empty() ? r.lookup.name : r.qname);
    if (!r.ok) {
      out += ";; connection timed out; no servers could be reached\n\n";
      exit_code = 1;
      return out;
    }
    const auto& m = r.result.message;
    if (m.header.rcode != wire::rcode::NOERROR) {
      if (problems.empty())
        problems = "** server can't find " + shown + ": " + wire::rcode_to_string(m.header.rcode) + "\n";
      exit_code = 1;
      continue;
    }
    if (m.answers.empty()) continue;
    if (!m.header.aa && !printed_nonauth) {
      out += "Non-authoritative answer:\n";
      printed_nonauth = true;
    }
    for (const auto& rr : m.answers) {
      // the CNAME chain is shown once, with the first question's answer
      if (rr.type == wire::type::CNAME && i > 0 && r.lookup.qtype != wire::type::CNAME) continue;
      out += nslookup_record(rr) + "\n";
      any_answer = true;
    }
  }
  if (!problems.empty() && !any_answer) {
    out += problems + "\n";
    return out;
  }
  if (!any_answer) {
    const Reply& r = replies.front();
    out += "*** Can't find " + bare(r.qname) + ": No answer\n";
  }
  out += "\n";
  exit_code = any_answer ? 0 : exit_code;
  return out;
}

std::string format_host(const Options& o, const std::vector<Reply>& replies, int& exit_code) {
  std::string out;
  exit_code = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    const Reply& r = replies[i];
    if (!r.ok) {
      out += ";; connection timed out; no servers could be reached\n";
      exit_code = 1;
      return out;
    }
    const auto& m = r.result.message;
    std::string shown = bare(r.qname.empty() ? r.lookup.name : r.qname);
    if (m.header.rcode != wire::rcode::NOERROR) {
      out += "Host " + shown + " not found: " + std::to_string(m.header.rcode) + "(" +
             wire::rcode_to_string(m.header.rcode) + ")\n";
      exit_code = 1;
      return out;
    }
    if (!o.display.short_form) {
      out += dig_message_text(o, m, false, {});
      continue;
    }
    bool any = false;
    for (const auto& rr : m.answers) {
      if (rr.type == wire::type::CNAME && i > 0 && r.lookup.qtype != wire::type::CNAME) continue;
      if (rr.type != r.qtype && rr.type != wire::type::CNAME && r.qtype != wire::type::ANY) continue;
      out += host_record(rr) + "\n";
      any = true;
    }
    if (!any && r.lookup.type_given)
      out += shown + " has no " + wire::type_to_string(r.qtype) + " record\n";
  }
  return out;
}

// ---- JSON ------------------------------------------------------------------------------

namespace {

core::Json rr_json(const wire::ResourceRecord& rr) {
  core::Json j;
  j["name"] = rr.name;
  j["ttl"] = rr.ttl;
  j["class"] = wire::class_to_string(rr.rclass);
  j["type"] = wire::type_to_string(rr.type);
  j["rdata"] = wire::format_rdata(rr);
  return j;
}

core::Json rrs_json(const std::vector<wire::ResourceRecord>& rrs) {
  core::Json a = core::Json::array();
  for (const auto& rr : rrs) a.push_back(rr_json(rr));
  return a;
}

}  // namespace

core::Json message_json(const wire::Message& m) {
  core::Json j;
  const auto& h = m.header;
  core::Json hdr;
  hdr["id"] = h.id;
  hdr["opcode"] = wire::opcode_to_string(h.opcode);
  hdr["rcode"] = wire::rcode_to_string(h.rcode);
  core::Json flags;
  flags["qr"] = h.qr;
  flags["aa"] = h.aa;
  flags["tc"] = h.tc;
  flags["rd"] = h.rd;
  flags["ra"] = h.ra;
  flags["ad"] = h.ad;
  flags["cd"] = h.cd;
  hdr["flags"] = flags;
  hdr["qdcount"] = h.qdcount;
  hdr["ancount"] = h.ancount;
  hdr["nscount"] = h.nscount;
  hdr["arcount"] = h.arcount;
  j["header"] = hdr;
  if (m.edns) {
    core::Json e;
    e["version"] = m.edns->version;
    e["udp_size"] = m.edns->udp_size;
    e["do"] = m.edns->dnssec_ok;
    core::Json opts = core::Json::array();
    for (const auto& o : m.edns->options) {
      core::Json oj;
      oj["code"] = o.code;
      oj["name"] = wire::edns_option_name(o.code);
      oj["data"] = wire::to_hex(o.data, false);
      oj["text"] = wire::format_edns_option(o);
      opts.push_back(oj);
    }
    e["options"] = opts;
    j["edns"] = e;
  } else {
    j["edns"] = nullptr;
  }
  core::Json qs = core::Json::array();
  for (const auto& q : m.questions)
    qs.push_back({{"name", q.name}, {"type", wire::type_to_string(q.qtype)}, {"class", wire::class_to_string(q.qclass)}});
  j["question"] = qs;
  j["answer"] = rrs_json(m.answers);
  j["authority"] = rrs_json(m.authority);
  j["additional"] = rrs_json(m.additional);
  return j;
}

core::Json reply_json(const Reply& r) {
  core::Json j;
  j["query"] = {{"name", r.qname}, {"type", wire::type_to_string(r.qtype)},
                {"class", wire::class_to_string(r.lookup.qclass)}};
  if (!r.ok) {
    j["error"] = r.error;
    return j;
  }
  j["server"] = r.result.server.to_string();
  j["transport"] = wire::transport_name(r.result.transport);
  j["tcp_fallback"] = r.result.tcp_fallback;
  j["elapsed_ms"] = r.result.elapsed_ms;
  j["size"] = r.result.raw.size();
  j["when"] = static_cast<int64_t>(r.when);
  core::Json m = message_json(r.result.message);
  for (auto it = m.begin(); it != m.end(); ++it) j[it.key()] = it.value();
  return j;
}

}  // namespace netshoot::applet::dns
