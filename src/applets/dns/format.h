// Presentation of replies: dig's, drill's, nslookup's and host's shapes, and JSON.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "netshoot/output.h"
#include "options.h"

namespace netshoot::applet::dns {

// What one lookup produced (one question; host/nslookup may ask several types).
struct Reply {
  Lookup lookup;
  std::string qname;              // the absolute name actually asked (after the search list)
  uint16_t qtype = wire::type::A;
  bool ok = false;                // a response was received
  wire::QueryResult result;       // when ok
  std::string error;              // when !ok: "timed out", "connection refused", "malformed ..."
  std::vector<std::string> comm_errors;  // servers that failed before the one that answered
  std::string server_label;       // how the user named the server ("10.53.0.2", "ns1.example")
  std::time_t when = 0;
};

// dig's record columns: owner padded with tabs to column 24, then TTL, class at 32,
// type at 40, RDATA at 48 (a single space when a column is already passed).
std::string dig_record(const wire::ResourceRecord& rr);
std::string dig_question(const wire::Question& q);
// ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1"
std::string dig_flags_line(const wire::Header& h);
// "Wed Nov 25 16:49:19 UTC 2026"
std::string dig_when(std::time_t t);
// The OPT pseudosection lines (without the ";; OPT PSEUDOSECTION:" heading).
std::string dig_opt_lines(const wire::Edns& e, const std::vector<uint8_t>& sent_cookie);

// dig's banner: "\n; <<>> netshoot DiG ... <<>> ARGS\n; (1 server found)\n;; global options: +cmd\n"
std::string dig_banner(const Options& o, size_t servers_found);
// A whole reply in dig's shape (everything after the banner).
std::string format_dig(const Options& o, const Reply& r);
// The message body (header, OPT, sections) in dig's shape; used for +qr and host -v too.
std::string dig_message_text(const Options& o, const wire::Message& m, bool is_query,
                             const std::vector<uint8_t>& sent_cookie);
// +short lines.
std::string format_short(const Options& o, const Reply& r);

// drill: the message as ldns prints it, then the stats lines.
std::string format_drill_message(const wire::Message& m, bool is_query);
std::string format_drill(const Options& o, const Reply& r);

// nslookup and host: several replies (A + AAAA, or A + AAAA + MX) of one name.
std::string format_nslookup(const Options& o, const std::vector<Reply>& replies, const std::string& server_text,
                            int& exit_code);
std::string format_host(const Options& o, const std::vector<Reply>& replies, int& exit_code);

// One stable JSON object per message.
core::Json message_json(const wire::Message& m);
core::Json reply_json(const Reply& r);

// "10.53.0.2#53(10.53.0.2)"
std::string server_text(const wire::NameServer& ns, const std::string& label);

}  // namespace netshoot::applet::dns
