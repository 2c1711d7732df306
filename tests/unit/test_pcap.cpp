#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "netshoot/pcap.h"

using namespace netshoot::core;

TEST_CASE("pcap: a dumped file reads back with the same packets", "[pcap]") {
  auto dead = open_dead(DLT_EN10MB, 65535);
  REQUIRE(dead.ok());
  REQUIRE(validate_filter(dead->get(), "tcp port 80").ok());
  std::string path = (std::filesystem::temp_directory_path() / ("pcap-" + std::to_string(getpid()) + ".pcap")).string();
  {
    auto dumper = open_dumper(dead->get(), path);
    REQUIRE(dumper.ok());
    for (int i = 0; i < 3; ++i) {
      unsigned char frame[60] = {};
      frame[0] = static_cast<unsigned char>(i);
      pcap_pkthdr h{};
      h.ts.tv_sec = 1000 + i;
      h.caplen = h.len = sizeof frame;
      pcap_dump(reinterpret_cast<u_char*>(dumper->get()), &h, frame);
    }
    REQUIRE(flush_dumper(dumper->get()).ok());
  }
  auto in = open_offline(path);
  REQUIRE(in.ok());
  CHECK(pcap_datalink(in->get()) == DLT_EN10MB);
  int n = 0;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(in->get(), &h, &data) == 1) {
    CHECK(h->caplen == 60);
    CHECK(data[0] == n);
    CHECK(h->ts.tv_sec == 1000 + n);
    ++n;
  }
  CHECK(n == 3);
  std::filesystem::remove(path);
}

TEST_CASE("pcap: errors name what was wrong", "[pcap]") {
  auto dead = open_dead(DLT_EN10MB, 65535);
  REQUIRE(dead.ok());
  auto bad = validate_filter(dead->get(), "tcp port eighty-eight-x");
  CHECK(set_filter(dead->get(), "").ok());  // no filter: nothing to install
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("bad filter expression") != std::string::npos);
  auto missing = open_offline("/nonexistent/x.pcap");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("/nonexistent/x.pcap") != std::string::npos);
  auto nodev = open_live("nosuchif0", {});
  REQUIRE_FALSE(nodev.ok());
  // Unprivileged, libpcap may report permission before existence; either is one clear line.
  std::string m = nodev.error().message();
  CHECK((m.find("unknown interface 'nosuchif0'") != std::string::npos || m.find("CAP_NET_RAW") != std::string::npos));
}

TEST_CASE("pcap: device list includes loopback", "[pcap]") {
  auto devs = list_devices();
  REQUIRE(devs.ok());
  bool lo = false;
  for (const auto& d : *devs) lo = lo || d.loopback;
  CHECK(lo);
}
