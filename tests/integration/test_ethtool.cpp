// ethtool IFACE / -i / -S against the real ethtool on interfaces of a namespace
// this test creates: a veth whose peer is up, then down (link detected yes/no), a
// bridge (speed and duplex unknown, port Other) and lo (only "Link detected").
// Text compared byte for byte. Known difference: an unknown device gives our one
// line "ethtool: X: no such device" (exit 1) where ethtool 6.1 prints ten netlink
// error lines and exits 75.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;
using nlohmann::json;

namespace {

RunResult ours(const Netns& ns, std::vector<std::string> args) {
  args.insert(args.begin(), {"--netns", ns.name()});
  return run_netshoot(args);
}

void compare(const Netns& ns, const std::vector<std::string>& args) {
  std::vector<std::string> real{"ethtool"}, mine{"ethtool"};
  real.insert(real.end(), args.begin(), args.end());
  mine.insert(mine.end(), args.begin(), args.end());
  RunResult r = ns.exec(real), m = ours(ns, mine);
  std::string label;
  for (const auto& w : args) label += w + " ";
  INFO("ethtool " << label << "\nethtool: " << describe(r) << "\nnetshoot: " << describe(m));
  CHECK(m.out == r.out);
  CHECK(m.err == r.err);
  CHECK((m.exit == 0) == (r.exit == 0));
}

}  // namespace

TEST_CASE("ethtool: settings, driver info and statistics equal the real ethtool's", "[ethtool][netview]") {
  if (!have_tool("ethtool")) {
    WARN("SKIP: ethtool (Debian package ethtool) not installed");
    return;
  }
  Netns a{"et-a"}, b{"et-b"};
  veth_link(a, "eta", "10.72.0.1/24", b, "etb", "10.72.0.2/24");
  a.ip("link add etbr type bridge");
  REQUIRE(a.exec({"ping", "-c", "2", "-i", "0.2", "10.72.0.2"}).exit == 0);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"eta"}, {"-i", "eta"}, {"-S", "eta"}, {"etbr"}, {"-i", "etbr"}, {"lo"}, {"-i", "lo"}, {"-S", "lo"}})
    compare(a, args);
  RunResult m = ours(a, {"ethtool", "eta"});
  CHECK(m.out.find("Speed: 10000Mb/s") != std::string::npos);
  CHECK(m.out.find("Link detected: yes") != std::string::npos);
  // Peer down: no carrier.
  b.ip("link set etb down");
  compare(a, {"eta"});
  CHECK(ours(a, {"ethtool", "eta"}).out.find("Link detected: no") != std::string::npos);

  // --json
  RunResult j = ours(a, {"ethtool", "--json", "-i", "eta"});
  REQUIRE(j.exit == 0);
  json d = json::parse(j.out);
  CHECK(d["type"] == "driver");
  CHECK(d["driver"] == "veth");
  j = ours(a, {"ethtool", "--json", "-S", "eta"});
  REQUIRE(j.exit == 0);
  CHECK(json::parse(j.out)["statistics"].contains("peer_ifindex"));

  // Bad input.
  m = ours(a, {"ethtool", "nosuch"});
  CHECK(m.exit == 1);
  CHECK(m.err == "ethtool: nosuch: no such device\n");
  m = ours(a, {"ethtool", "-s", "eta", "speed", "10"});
  CHECK(m.exit == 2);
  CHECK(m.err.find("read-only") != std::string::npos);
}
