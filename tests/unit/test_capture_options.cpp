// tcpdump / ngrep command lines and filter name resolution.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "applets/capture/filter.h"
#include "applets/capture/options.h"

using namespace netshoot::applet::capture;

namespace {
ParseResult parse(std::vector<std::string> args, Options& o, bool ngrep = false) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ngrep ? parse_ngrep_args(int(argv.size()), argv.data(), o) : parse_tcpdump_args(int(argv.size()), argv.data(), o);
}
}  // namespace

TEST_CASE("capture options: clustered tcpdump flags and the filter", "[capture]") {
  Options o;
  REQUIRE(parse({"tcpdump", "-i", "eth0", "port", "9999", "-c", "1", "-Xvv"}, o).ok);
  CHECK(o.iface == "eth0");
  CHECK(o.count == 1);
  CHECK(o.hex_ascii == 1);
  CHECK(o.verbose == 2);
  CHECK(o.filter == "port 9999");
  Options p;
  REQUIRE(parse({"tcpdump", "-vvvn", "-ieth0", "-s0", "-nn", "-tttt", "-w", "/tmp/x", "-C", "10", "-W", "3", "tcp"}, p).ok);
  CHECK(p.verbose == 3);
  CHECK(p.numeric == 3);
  CHECK(p.snaplen == 262144);
  CHECK(p.ts == TsMode::date);
  CHECK(p.rotate_mbytes == 10);
  CHECK(p.file_limit == 3);
  Options q;
  CHECK_FALSE(parse({"tcpdump", "-c", "x"}, q).ok);
  CHECK_FALSE(parse({"tcpdump", "-Q", "sideways"}, q).ok);
  CHECK_FALSE(parse({"tcpdump", "-c"}, q).ok);
}

TEST_CASE("capture options: ngrep front end", "[capture]") {
  Options o;
  REQUIRE(parse({"ngrep", "-q", "-d", "any", "-W", "byline", "-i", "GET|POST", "port", "80"}, o, true).ok);
  CHECK(o.ngrep);
  CHECK(o.quiet);
  CHECK(o.iface == "any");
  CHECK(o.ngrep_byline);
  CHECK(o.grep_icase);
  CHECK(o.grep == "GET|POST");
  CHECK(o.filter == "port 80");
}

TEST_CASE("capture filter: names resolved before libpcap sees them", "[capture]") {
  std::vector<std::string> asked;
  NameLookup fake = [&](const std::string& n) -> netshoot::core::Result<std::string> {
    asked.push_back(n);
    if (n == "db") return std::string("10.0.0.5");
    return netshoot::core::make_error("unknown host '" + n + "'");
  };
  auto r = resolve_filter_names("host db and port http", fake);
  REQUIRE(r.ok());
  CHECK(*r == "host 10.0.0.5 and port 80");
  r = resolve_filter_names("src host db and (udp port domain or dst 10.1.1.1)", fake);
  REQUIRE(r.ok());
  CHECK(*r == "src host 10.0.0.5 and (udp port 53 or dst 10.1.1.1)");
  r = resolve_filter_names("ether host 02:00:00:00:00:01 or net 10.0.0.0/8 or tcp", fake);
  REQUIRE(r.ok());
  CHECK(*r == "ether host 02:00:00:00:00:01 or net 10.0.0.0/8 or tcp");
  CHECK(asked == std::vector<std::string>{"db", "db"});
  CHECK_FALSE(resolve_filter_names("host nosuch", fake).ok());
  CHECK_FALSE(resolve_filter_names("port nosuchservice", fake).ok());
}
