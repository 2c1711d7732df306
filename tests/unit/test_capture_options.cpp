// tcpdump / ngrep command lines and filter name resolution.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

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
