// Namespace target resolution: clear errors for bad targets, own PID resolves.
#include <catch2/catch.hpp>

#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "netshoot/netns.h"

using namespace netshoot::core;

namespace {
// No container API in unit tests: point discovery at a socket that cannot exist.
struct NoContainerApi {
  std::string old;
  bool had;
  NoContainerApi() {
    const char* o = std::getenv("DOCKER_HOST");
    had = o != nullptr;
    if (had) old = o;
    ::setenv("DOCKER_HOST", "unix:///nonexistent/netshoot-unit/docker.sock", 1);
  }
  ~NoContainerApi() {
    if (had) ::setenv("DOCKER_HOST", old.c_str(), 1);
    else ::unsetenv("DOCKER_HOST");
  }
};
}  // namespace

TEST_CASE("netns: own PID resolves to our network namespace", "[netns]") {
  std::string me = std::to_string(::getpid());
  auto t = resolve_ns_target(me, "net");
  REQUIRE(t.ok());
  CHECK(t->pid == ::getpid());
  CHECK(t->path == "/proc/" + me + "/ns/net");
  CHECK(t->fd.valid());
  struct stat a {}, b {};
  REQUIRE(::fstat(t->fd.get(), &a) == 0);
  REQUIRE(::stat("/proc/self/ns/net", &b) == 0);
  CHECK(a.st_ino == b.st_ino);

  auto uts = resolve_ns_target(me, "uts");
  REQUIRE(uts.ok());
  CHECK(uts->path == "/proc/" + me + "/ns/uts");
}

TEST_CASE("netns: a path target opens that file", "[netns]") {
  auto t = resolve_ns_target("/proc/self/ns/net", "net");
  REQUIRE(t.ok());
  CHECK(t->path == "/proc/self/ns/net");
  CHECK(t->pid == 0);
}

TEST_CASE("netns: missing path", "[netns]") {
  auto t = resolve_ns_target("/run/netns/netshoot-does-not-exist", "net");
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message() == "cannot open /run/netns/netshoot-does-not-exist: No such file or directory");
}

TEST_CASE("netns: dead PID says 'No such process'", "[netns]") {
  auto t = resolve_ns_target("999999", "net");
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == ESRCH);
  CHECK(t.error().message() == "cannot open /proc/999999/ns/net: No such process");
  auto huge = resolve_ns_target("99999999999999999999", "net");
  REQUIRE_FALSE(huge.ok());
  CHECK_THAT(huge.error().message(), Catch::Contains("out of range"));
}

TEST_CASE("netns: non-numeric garbage is not a path, PID, netns or container", "[netns]") {
  NoContainerApi guard;
  auto t = resolve_ns_target("12abc!x", "net");
  REQUIRE_FALSE(t.ok());
  std::string m = t.error().message();
  CHECK_THAT(m, Catch::StartsWith("unknown namespace target '12abc!x': not a path, a PID, a named netns"));
  CHECK_THAT(m, Catch::Contains("no container API socket found (tried /nonexistent/netshoot-unit/docker.sock)"));
  CHECK_FALSE(resolve_ns_target("", "net").ok());
}

TEST_CASE("netns: wrong file kinds are named", "[netns]") {
  auto notns = resolve_ns_target("/etc/passwd", "net");
  REQUIRE_FALSE(notns.ok());
  CHECK(notns.error().message() == "/etc/passwd is not a namespace file");
  auto wrong = resolve_ns_target("/proc/self/ns/uts", "net");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message() == "/proc/self/ns/uts is a uts namespace, not net");
  CHECK_FALSE(resolve_ns_target("1", "bogus").ok());
}

TEST_CASE("netns: kind names and flags", "[netns]") {
  CHECK(ns_clone_flag("net") == CLONE_NEWNET);
  CHECK(ns_clone_flag("mnt") == CLONE_NEWNS);
  CHECK(ns_clone_flag("user") == CLONE_NEWUSER);
  CHECK(ns_clone_flag("nope") == 0);
  CHECK(ns_kind_name(CLONE_NEWPID) == "pid");
  auto t = open_ns_file("/proc/self/ns/net", "");
  REQUIRE(t.ok());
  auto type = ns_type_of(t->fd.get());
  REQUIRE(type.ok());
  CHECK(*type == CLONE_NEWNET);
}

TEST_CASE("netns: container lookup without an API socket", "[netns]") {
  NoContainerApi guard;
  auto t = resolve_container_ns("web", "net");
  REQUIRE_FALSE(t.ok());
  CHECK_THAT(t.error().message(), Catch::StartsWith("no container API socket found"));
}
