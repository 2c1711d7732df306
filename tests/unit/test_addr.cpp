#include <catch2/catch.hpp>

#include <set>
#include <unordered_set>

#include "netshoot/addr.h"

using namespace netshoot::core;

namespace {
IpAddr ip(std::string_view s) {
  auto r = IpAddr::parse(s);
  INFO(std::string(s));
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("addr: IPv4 parse and format", "[addr]") {
  auto a = ip("192.0.2.1");
  CHECK(a.is_v4());
  CHECK(a.family() == AF_INET);
  CHECK(a.v4_host_order() == 0xc0000201u);
  CHECK(a.to_string() == "192.0.2.1");
  CHECK(ip("0.0.0.0").is_unspecified());
  CHECK(ip("255.255.255.255").is_broadcast());
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "1..2.3",
                          "1.2.3.4 x", "a.b.c.d", "1.2.3.4/"}) {
    INFO(bad);
    CHECK_FALSE(IpAddr::parse(bad).ok());
  }
  auto e = IpAddr::parse("300.1.1.1");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message().find("300.1.1.1") != std::string::npos);
}

TEST_CASE("addr: IPv6 parse and RFC 5952 format", "[addr]") {
  struct Case { const char* in; const char* out; };
  for (auto c : {Case{"2001:db8::1", "2001:db8::1"},
                 Case{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
                 Case{"::", "::"},
                 Case{"::1", "::1"},
                 Case{"1::", "1::"},
                 Case{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    // first of equal runs
                 Case{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // single 0 not compressed
                 Case{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          // longest run wins
                 Case{"fe80::1:2", "fe80::1:2"},
                 Case{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
                 Case{"::ffff:c000:0201", "::ffff:192.0.2.1"},
                 Case{"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
                 Case{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
                 Case{"1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8"}}) {
    INFO(c.in);
    auto a = ip(c.in);
    CHECK(a.is_v6());
    CHECK(a.to_string() == c.out);
    char buf[IpAddr::kMaxStringLen];
    CHECK(std::string(buf, a.format(buf, sizeof buf)) == c.out);
    CHECK(ip(a.to_string()) == a);  // round trip
  }
  for (const char* bad : {":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7",
                          ":1::", "1:", "::1.2.3", "1.2.3.4::", "fe80::1%"}) {
    INFO(bad);
    CHECK_FALSE(IpAddr::parse(bad).ok());
  }
}

TEST_CASE("addr: IPv6 scope ids", "[addr]") {
  auto a = ip("fe80::1%lo");
  CHECK(a.scope_id() == 1u);  // lo is ifindex 1 in any namespace
  CHECK(a.to_string() == "fe80::1%lo");
  CHECK(ip("fe80::1%7").scope_id() == 7u);
  CHECK(IpAddr::try_parse("fe80::1%3")->scope_id() == 3u);
  auto e = IpAddr::parse("fe80::1%nosuchif0");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message().find("unknown interface") != std::string::npos);
  CHECK(ip("fe80::1%2") != ip("fe80::1"));
}

TEST_CASE("addr: address classification and arithmetic", "[addr]") {
  CHECK(ip("127.0.0.1").is_loopback());
  CHECK(ip("127.255.0.1").is_loopback());
  CHECK(ip("::1").is_loopback());
  CHECK(ip("::ffff:127.0.0.1").is_loopback());
  CHECK_FALSE(ip("::2").is_loopback());
  CHECK(ip("224.0.0.1").is_multicast());
  CHECK(ip("ff02::1").is_multicast());
  CHECK(ip("169.254.3.4").is_link_local());
  CHECK(ip("fe80::1").is_link_local());
  CHECK(ip("febf::1").is_link_local());
  CHECK_FALSE(ip("fec0::1").is_link_local());
  CHECK(ip("10.1.2.3").is_private());
  CHECK(ip("172.31.0.1").is_private());
  CHECK_FALSE(ip("172.32.0.1").is_private());
  CHECK(ip("192.168.0.1").is_private());
  CHECK(ip("fd00::1").is_private());
  CHECK(ip("::ffff:10.0.0.1").is_v4_mapped());
  CHECK(ip("::ffff:10.0.0.1").unmapped() == ip("10.0.0.1"));
  CHECK(ip("10.0.0.1").v4_mapped() == ip("::ffff:10.0.0.1"));
  CHECK(ip("10.0.0.255").next() == ip("10.0.1.0"));
  CHECK(ip("255.255.255.255").next() == ip("0.0.0.0"));
  CHECK(ip("10.0.1.0").prev() == ip("10.0.0.255"));
  CHECK(ip("2001:db8::ffff").next() == ip("2001:db8::1:0"));
  CHECK(IpAddr::loopback(AF_INET6) == ip("::1"));
  CHECK(IpAddr::any(AF_INET6).to_string() == "::");
}

TEST_CASE("addr: ordering and hashing", "[addr]") {
  CHECK(ip("10.0.0.1") < ip("10.0.0.2"));
  CHECK(ip("255.255.255.255") < ip("::"));  // v4 before v6
  CHECK(ip("2001:db8::1") < ip("2001:db8::2"));
  std::set<IpAddr> s{ip("10.0.0.2"), ip("::1"), ip("10.0.0.1"), ip("10.0.0.2")};
  CHECK(s.size() == 3);
  CHECK(*s.begin() == ip("10.0.0.1"));
  std::unordered_set<IpAddr> h{ip("10.0.0.1"), ip("10.0.0.1"), ip("::a00:1")};
  CHECK(h.size() == 2);
  CHECK(ip("1.2.3.4").hash() == ip("1.2.3.4").hash());
}

TEST_CASE("addr: sockaddr round trip and Endpoint", "[addr]") {
  for (const char* s : {"192.0.2.7", "2001:db8::7", "fe80::1%5"}) {
    INFO(s);
    Endpoint ep{ip(s), 8080};
    sockaddr_storage ss;
    socklen_t len = ep.to_sockaddr(ss);
    CHECK(len == (ep.addr.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)));
    auto back = Endpoint::from_sockaddr(ss, len);
    REQUIRE(back);
    CHECK(*back == ep);
  }
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  CHECK_FALSE(Endpoint::from_sockaddr(ss));
  CHECK_FALSE(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), 1));

  CHECK(Endpoint{ip("192.0.2.1"), 80}.to_string() == "192.0.2.1:80");
  CHECK(Endpoint{ip("2001:db8::1"), 443}.to_string() == "[2001:db8::1]:443");
  CHECK(Endpoint{ip("fe80::1%lo"), 22}.to_string() == "[fe80::1%lo]:22");
  auto e = Endpoint::parse("[2001:db8::1]:443");
  REQUIRE(e.ok());
  CHECK(e->port == 443);
  CHECK(e->addr == ip("2001:db8::1"));
  CHECK(Endpoint::parse("10.0.0.1:53")->port == 53);
  CHECK(Endpoint::parse("10.0.0.1", 7)->port == 7);
  CHECK(Endpoint::parse("2001:db8::1", 7)->port == 7);
  CHECK_FALSE(Endpoint::parse("10.0.0.1").ok());
  CHECK_FALSE(Endpoint::parse("10.0.0.1:70000").ok());
  CHECK_FALSE(Endpoint::parse("[::1").ok());
  CHECK_FALSE(Endpoint::parse("[::1]x").ok());
}

TEST_CASE("addr: Cidr", "[addr]") {
  auto c = Cidr::parse("192.168.1.77/24");
  REQUIRE(c.ok());
  CHECK(c->network() == ip("192.168.1.0"));
  CHECK(c->broadcast() == ip("192.168.1.255"));
  CHECK(c->netmask() == ip("255.255.255.0"));
  CHECK(c->size() == 256);
  CHECK(c->contains(ip("192.168.1.200")));
  CHECK_FALSE(c->contains(ip("192.168.2.1")));
  CHECK_FALSE(c->contains(ip("::1")));
  CHECK(c->to_string() == "192.168.1.0/24");
  CHECK(c->hosts().first() == ip("192.168.1.1"));
  CHECK(c->hosts().last() == ip("192.168.1.254"));
  CHECK(c->hosts().size() == 254);
  CHECK(c->contains(*Cidr::parse("192.168.1.128/25")));
  CHECK_FALSE(c->contains(*Cidr::parse("192.168.0.0/16")));

  std::vector<IpAddr> v;
  for (auto a : Cidr::parse("10.0.0.0/30")->range()) v.push_back(a);
  REQUIRE(v.size() == 4);
  CHECK(v[3] == ip("10.0.0.3"));
  v.clear();
  for (auto a : Cidr::parse("10.0.0.0/31")->hosts()) v.push_back(a);
  CHECK(v.size() == 2);
  v.clear();
  for (auto a : Cidr::parse("10.0.0.9/32")->hosts()) v.push_back(a);
  CHECK(v == std::vector<IpAddr>{ip("10.0.0.9")});

  auto z = Cidr::parse("0.0.0.0/0");
  REQUIRE(z.ok());
  CHECK(z->size() == (uint64_t(1) << 32));
  CHECK(z->contains(ip("8.8.8.8")));
  CHECK(z->netmask() == ip("0.0.0.0"));
  // iteration wraps correctly at the end of the space
  v.clear();
  for (auto a : Cidr::parse("255.255.255.254/31")->range()) v.push_back(a);
  CHECK(v.size() == 2);

  auto six = Cidr::parse("2001:db8::1/64");
  REQUIRE(six.ok());
  CHECK(six->network() == ip("2001:db8::"));
  CHECK(six->broadcast() == ip("2001:db8::ffff:ffff:ffff:ffff"));
  CHECK(six->size() == UINT64_MAX);  // saturated
  CHECK(six->contains(ip("2001:db8::abcd")));
  CHECK(Cidr::parse("::/0")->contains(ip("::1")));
  CHECK(Cidr::parse("2001:db8::/126")->hosts().size() == 4);

  CHECK(Cidr::parse("10.0.0.1")->prefix_len() == 32);
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", "x/8", "10.0.0.0/8/8"}) {
    INFO(bad);
    CHECK_FALSE(Cidr::parse(bad).ok());
  }
  CHECK(Cidr::parse("10.0.0.0/33").error().message().find("prefix") != std::string::npos);
}

TEST_CASE("addr: target specs", "[addr]") {
  auto expand = [](std::string_view s) {
    auto l = TargetList::parse(s);
    INFO(std::string(s));
    REQUIRE(l.ok());
    auto v = l->expand();
    REQUIRE(v.ok());
    CHECK(v->size() == l->size());
    return *v;
  };
  SECTION("cidr") {
    auto v = expand("10.0.0.0/30");
    REQUIRE(v.size() == 4);
    CHECK(v[0].addr == ip("10.0.0.0"));
    CHECK(v[3].addr == ip("10.0.0.3"));
    CHECK_FALSE(v[0].is_name());
  }
  SECTION("last octet range") {
    auto v = expand("10.0.0.1-20");
    REQUIRE(v.size() == 20);
    CHECK(v.front().addr == ip("10.0.0.1"));
    CHECK(v.back().addr == ip("10.0.0.20"));
  }
  SECTION("nmap octet ranges") {
    auto l = TargetList::parse("10.0.1-3.1-254");
    REQUIRE(l.ok());
    CHECK(l->size() == 3 * 254);
    auto v = *l->expand();
    CHECK(v[0].addr == ip("10.0.1.1"));
    CHECK(v[253].addr == ip("10.0.1.254"));
    CHECK(v[254].addr == ip("10.0.2.1"));
    CHECK(v.back().addr == ip("10.0.3.254"));
    CHECK(l->contains(ip("10.0.2.100")));
    CHECK_FALSE(l->contains(ip("10.0.2.0")));
    CHECK(expand("192.168.0.*").size() == 256);
    CHECK(expand("10.0.0.-3").size() == 4);
    CHECK(expand("10.0.0.250-").size() == 6);
    auto w = expand("10.0.0.1,5,9");
    REQUIRE(w.size() == 3);
    CHECK(w[1].addr == ip("10.0.0.5"));
    auto x = expand("192.168.3-5,7.1");
    REQUIRE(x.size() == 4);
    CHECK(x[3].addr == ip("192.168.7.1"));
  }
  SECTION("comma and whitespace lists, names, full ranges") {
    auto v = expand("10.0.0.1,10.0.0.2 host.example.com,  2001:db8::1  10.9.9.254-10.9.10.1");
    REQUIRE(v.size() == 2 + 1 + 1 + 4);
    CHECK(v[2].is_name());
    CHECK(v[2].name == "host.example.com");
    CHECK(v[3].addr == ip("2001:db8::1"));
    CHECK(v[4].addr == ip("10.9.9.254"));
    CHECK(v.back().addr == ip("10.9.10.1"));
    CHECK(expand("localhost")[0].name == "localhost");
  }
  SECTION("IPv6") {
    auto v = expand("2001:db8::/126");
    REQUIRE(v.size() == 4);
    CHECK(v[3].addr == ip("2001:db8::3"));
    auto big = TargetList::parse("2001:db8::/64");
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message().find("too large") != std::string::npos);
    CHECK(big.error().message().find("65536") != std::string::npos);
    TargetParseOptions opt;
    opt.max_v6_addresses = 1u << 20;
    CHECK(TargetList::parse("2001:db8::/108", opt).ok());
    CHECK_FALSE(TargetList::parse("2001:db8::/107", opt).ok());
  }
  SECTION("lazy iteration and caps") {
    auto l = TargetList::parse("10.0.0.0/8");
    REQUIRE(l.ok());
    CHECK(l->size() == (1u << 24));
    auto cur = l->cursor();
    Target t;
    int n = 0;
    while (n < 300 && cur.next(t)) ++n;
    CHECK(n == 300);
    CHECK(t.addr == ip("10.0.1.43"));
    auto e = l->expand(1000);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message().find("limit") != std::string::npos);
    CHECK(TargetList::parse("0.0.0.0/0")->size() == (uint64_t(1) << 32));
  }
  SECTION("errors") {
    for (const char* bad : {"", " , ", "10.0.0.300", "10.0.0.5-2", "10.0.0.1-2001:db8::1", "1.2.3",
                            "2001:db8::/200", "bad_host!", "10.0.0.1-10.0.0.0", "::1-::g"}) {
      INFO(bad);
      CHECK_FALSE(TargetList::parse(bad).ok());
    }
    TargetParseOptions noname;
    noname.allow_names = false;
    CHECK_FALSE(TargetList::parse("example.com", noname).ok());
  }
}

TEST_CASE("addr: PortSet parse", "[addr]") {
  auto p = PortSet::parse("22,80,1000-2000");
  REQUIRE(p.ok());
  CHECK(p->count(L4Proto::tcp) == 1003);
  CHECK(p->count(L4Proto::udp) == 1003);  // unprefixed: every protocol
  CHECK(p->contains(L4Proto::tcp, 1500));
  CHECK_FALSE(p->contains(L4Proto::tcp, 999));
  CHECK(p->to_string(L4Proto::tcp) == "22,80,1000-2000");
  auto o = p->ordered(L4Proto::tcp);
  CHECK(o.front() == 22);
  CHECK(o[1] == 80);
  CHECK(o.back() == 2000);

  CHECK(PortSet::parse("-")->count(L4Proto::tcp) == 65535);
  CHECK(PortSet::parse("1-65535")->count(L4Proto::tcp) == 65535);
  CHECK(PortSet::parse("-100")->count(L4Proto::tcp) == 100);
  CHECK(PortSet::parse("65000-")->count(L4Proto::tcp) == 536);
  CHECK(PortSet::parse("0")->contains(L4Proto::tcp, 0));
  CHECK(PortSet::parse("80,80,79-81,82")->to_string(L4Proto::tcp) == "79-82");  // merged

  auto q = PortSet::parse("U:53,111,137,T:21-25,80,S:9");
  REQUIRE(q.ok());
  CHECK(q->to_string(L4Proto::udp) == "53,111,137");
  CHECK(q->to_string(L4Proto::tcp) == "21-25,80");
  CHECK(q->to_string(L4Proto::sctp) == "9");
  auto mixed = PortSet::parse("22,U:53");
  CHECK(mixed->to_string(L4Proto::udp) == "22,53");
  CHECK(mixed->to_string(L4Proto::tcp) == "22");

  auto names = PortSet::parse("ssh,http,U:domain");
  REQUIRE(names.ok());
  CHECK(names->to_string(L4Proto::tcp) == "22,80");
  CHECK(names->to_string(L4Proto::udp) == "22,53,80");

  auto e = PortSet::parse("70000");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message() == "invalid port '70000' (0-65535)");
  for (const char* bad : {"", "1,,2", "200-100", "1-2-3", "X:80", "nosuchservice", "80,", "abc-def"}) {
    INFO(bad);
    CHECK_FALSE(PortSet::parse(bad).ok());
  }
}

TEST_CASE("addr: PortSet shuffle is a permutation", "[addr]") {
  auto p = PortSet::parse("1-1000");
  REQUIRE(p.ok());
  auto a = p->shuffled(L4Proto::tcp, 42);
  auto b = p->shuffled(L4Proto::tcp, 42);
  auto c = p->shuffled(L4Proto::tcp, 43);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != p->ordered(L4Proto::tcp));
  std::sort(a.begin(), a.end());
  CHECK(a == p->ordered(L4Proto::tcp));
}
