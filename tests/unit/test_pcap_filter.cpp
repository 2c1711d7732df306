// Host and port names in pcap filters, resolved by the core before libpcap
// compiles the expression (tcpdump's and iftop's filters).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "netshoot/pcap_filter.h"

using namespace netshoot::core;

TEST_CASE("pcap filter: names resolved before libpcap sees them", "[capture][pcap]") {
  std::vector<std::string> asked;
  FilterNameLookup fake = [&](const std::string& n) -> Result<std::string> {
    asked.push_back(n);
    if (n == "db") return std::string("10.0.0.5");
    return make_error("unknown host '" + n + "'");
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
