#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "netshoot/output.h"
#include "netshoot/result.h"

using namespace netshoot::core;

static std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

TEST_CASE("text sink writes the human text only", "[output]") {
  std::FILE* f = std::tmpfile();
  {
    auto out = Output::make(false, f);
    out->text("PING 10.0.0.1");
    out->record("reply", Json{{"seq", 1}}, "64 bytes from 10.0.0.1: icmp_seq=1");
  }
  CHECK(read_all(f) == "PING 10.0.0.1\n64 bytes from 10.0.0.1: icmp_seq=1\n");
  std::fclose(f);
}

TEST_CASE("json sink writes one object per line with its type first", "[output]") {
  std::FILE* f = std::tmpfile();
  {
    auto out = Output::make(true, f);
    out->set_batch(true);
    out->text("banner dropped");
    out->record("reply", Json{{"seq", 1}, {"rtt_ms", 0.25}}, "ignored");
    out->record("summary", Json{{"sent", 3}}, "ignored");
  }
  CHECK(read_all(f) == "{\"type\":\"reply\",\"seq\":1,\"rtt_ms\":0.25}\n{\"type\":\"summary\",\"sent\":3}\n");
  std::fclose(f);
}

TEST_CASE("errors carry errno, context and a capability hint", "[result]") {
  errno = EPERM;
  Error e = os_error("socket(AF_INET, SOCK_RAW)", "CAP_NET_RAW");
  CHECK(e.message() == "socket(AF_INET, SOCK_RAW): Operation not permitted (needs CAP_NET_RAW)");
  errno = ENOENT;
  CHECK(os_error("open x", "CAP_NET_RAW").message() == "open x: No such file or directory");
  Result<int> r = make_error("bad");
  CHECK_FALSE(r.ok());
  Result<int> v = 5;
  CHECK(*v == 5);
}
