// The dns applet's options: every front end (dig, drill, nslookup, host and the
// native `dns resolve|bench|trace`) parses its own syntax into these structs; one
// engine runs them.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netshoot/resolver.h"
#include "netshoot/result.h"

namespace netshoot::applet::dns {

namespace wire = core::dns;

enum class Style { Dig, Drill, Nslookup, Host };
enum class Mode { Query, Resolve, Bench, Help, Version };

// One question asked by the user.
struct Lookup {
  std::string name;      // as typed (relative names stay relative for the search list)
  uint16_t qtype = wire::type::A;
  uint16_t qclass = wire::rclass::IN;
  bool type_given = false;  // host/nslookup: several default types otherwise
  bool reverse = false;     // -x / an address given to host/nslookup
};

// What parts of a response are shown (dig's +[no]... display switches).
struct Display {
  bool cmd = true, comments = true, question = true, answer = true, authority = true,
       additional = true, stats = true, opt = true;
  bool short_form = false;   // +short
  bool identify = false;     // +identify (with +short)
  bool print_query = false;  // +qr (dig), drill -V >= 5
  int verbosity = 0;         // drill -V
};

struct BenchOptions {
  std::string data_file;     // -d: "name type" lines
  double seconds = 0;        // -l (0: no time bound)
  uint64_t count = 0;        // -n: total queries (0: no count bound, once through the file if no -l)
  double max_qps = 0;        // -Q
  int concurrency = 100;     // -c: queries in flight
  int sockets = 4;           // sockets shared by the in-flight queries
  int timeout_ms = 2000;
};

struct Options {
  Style style = Style::Dig;
  Mode mode = Mode::Query;
  std::vector<Lookup> lookups;
  std::string server;        // @server / SERVER argument (name or address); empty: resolv.conf
  uint16_t port = 53;
  int family = AF_UNSPEC;    // -4 / -6: transport family
  wire::QueryOptions query;  // tcp, timeouts, EDNS, flags
  bool tcp_given = false;    // +[no]tcp/+[no]vc given (dig uses TCP for ANY otherwise)
  bool retry_given = false;  // +tries/+retry/-R given (else front end defaults)
  bool timeout_given = false;
  bool search = false;       // apply the search list (dig +search; nslookup/host always)
  bool trace = false;        // +trace
  std::string root_hints;    // --root-hints FILE (or NETSHOOT_ROOT_HINTS)
  std::string resolv_conf = "/etc/resolv.conf";  // --resolv-conf FILE (tests)
  std::string hosts_file = "/etc/hosts";
  std::string batch_file;    // dig -f FILE
  int batch_concurrency = 32;
  Display display;
  BenchOptions bench;
  std::string cmdline;       // the arguments as typed, for dig's banner
};

// Parsers: argv[0] is the invoked name. Errors are one-line usage messages.
core::Result<Options> parse_dig(int argc, char** argv);
core::Result<Options> parse_drill(int argc, char** argv);
core::Result<Options> parse_nslookup(int argc, char** argv);
core::Result<Options> parse_host(int argc, char** argv);
// `dns ...`: the native form ("dns resolve NAME", "dns bench ...", else dig syntax).
core::Result<Options> parse_native(int argc, char** argv);

// dig syntax from argv[first] on, over the defaults already in `o` (`dns` uses it too).
core::Result<Options> parse_dig_args(Options o, int argc, char** argv, int first);

// Shared helpers for the parsers.
bool parse_uint(std::string_view s, uint64_t max, uint64_t& out);
std::string join_args(int argc, char** argv, int from);
// Fills name/qtype for -x ADDR. False on a bad address.
bool make_reverse(std::string_view addr, Lookup& l);

}  // namespace netshoot::applet::dns
