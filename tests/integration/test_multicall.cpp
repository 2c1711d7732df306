// The binary itself: static, self-contained, busybox-style dispatch and --install.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"

using namespace netshoot::test;
namespace fs = std::filesystem;

namespace {

// An empty directory tree holding nothing but the binary: the FROM scratch case.
struct ScratchRoot {
  fs::path dir;
  ScratchRoot() {
    dir = fs::temp_directory_path() / unique_name("scratch");
    fs::remove_all(dir);
    fs::create_directories(dir / "bin");
    fs::copy_file(netshoot_bin(), dir / "bin/netshoot");
  }
  ~ScratchRoot() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("the binary is fully static", "[multicall]") {
  auto f = run({"file", "-L", netshoot_bin()});
  INFO(describe(f));
  bool is_static = f.out.find("statically linked") != std::string::npos ||
                   f.out.find("static-pie linked") != std::string::npos;
  if (f.out.find("dynamically linked") != std::string::npos) {
    WARN("dynamic build (NETSHOOT_STATIC=OFF): static checks do not apply");
    return;
  }
  CHECK(is_static);
  auto l = run({"ldd", netshoot_bin()});
  CHECK(l.exit != 0);
  CHECK((l.out + l.err).find("not a dynamic executable") != std::string::npos);
}

TEST_CASE("runs in an empty root with nothing but itself", "[multicall]") {
  if (run({"file", "-L", netshoot_bin()}).out.find("dynamically linked") != std::string::npos) {
    WARN("dynamic build: skipping the scratch-root test");
    return;
  }
  ScratchRoot root;
  auto v = run({"chroot", root.dir.string(), "/bin/netshoot", "--version"});
  INFO(describe(v));
  REQUIRE(v.exit == 0);
  CHECK(v.out.rfind("netshoot ", 0) == 0);

  // --install inside the empty root, then call applets through the links.
  auto inst = run({"chroot", root.dir.string(), "/bin/netshoot", "--install", "/bin"});
  INFO(describe(inst));
  REQUIRE(inst.exit == 0);
  CHECK(fs::is_symlink(root.dir / "bin/nsenter"));
  CHECK(fs::read_symlink(root.dir / "bin/nsenter") == "netshoot");  // relative: survives copying
  auto help = run({"chroot", root.dir.string(), "/bin/nsenter", "--help"});
  INFO(describe(help));
  CHECK(help.exit == 0);
  CHECK(help.out.find("nsenter") != std::string::npos);
  // No /proc in the root: netns list reports what it cannot read, and does not crash.
  auto ls = run({"chroot", root.dir.string(), "/bin/netshoot", "netns", "list"});
  CHECK(ls.exit < 128);
}

TEST_CASE("list, version, unknown names", "[multicall]") {
  auto none = run_netshoot({});
  CHECK(none.exit == 0);
  CHECK(none.out.find("nsenter") != std::string::npos);
  auto list = run_netshoot({"--list"});
  CHECK(list.exit == 0);
  CHECK(list.out == none.out);
  auto ver = run_netshoot({"--version"});
  CHECK(ver.exit == 0);
  CHECK(ver.out.rfind("netshoot ", 0) == 0);

  auto typo = run_netshoot({"nsentr"});
  INFO(describe(typo));
  CHECK(typo.exit == 2);
  CHECK(typo.err.find("did you mean 'nsenter'?") != std::string::npos);
  auto far = run_netshoot({"zzzzzzzz"});
  CHECK(far.exit == 2);
  CHECK(far.err.find("unknown applet 'zzzzzzzz'") != std::string::npos);
  auto badopt = run_netshoot({"--bogus"});
  CHECK(badopt.exit == 2);
}

TEST_CASE("install: idempotent, and --force replaces foreign files", "[multicall]") {
  fs::path dir = fs::temp_directory_path() / unique_name("install");
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto first = run_netshoot({"--install", dir.string()});
  INFO(describe(first));
  REQUIRE(first.exit == 0);
  auto second = run_netshoot({"--install", "-s", dir.string()});
  CHECK(second.exit == 0);
  CHECK(second.err.find("0 links created") != std::string::npos);

  fs::remove(dir / "nsenter");
  { std::FILE* f = std::fopen((dir / "nsenter").c_str(), "w"); std::fputs("#!/bin/sh\n", f); std::fclose(f); }
  auto clash = run_netshoot({"--install", dir.string()});
  CHECK(clash.exit == 1);
  CHECK(clash.err.find("exists") != std::string::npos);
  CHECK_FALSE(fs::is_symlink(dir / "nsenter"));
  auto forced = run_netshoot({"--install", "--force", dir.string()});
  CHECK(forced.exit == 0);
  CHECK(fs::is_symlink(dir / "nsenter"));

  // A symlink dispatches to its applet by argv[0].
  auto via = run({(dir / "nsenter").string(), "--help"});
  CHECK(via.exit == 0);
  CHECK(run_netshoot({"--install", "/nonexistent-dir"}).exit == 1);
  fs::remove_all(dir);
}

TEST_CASE("global options before or after the applet name", "[multicall]") {
  Netns ns(unique_name("mc"));
  REQUIRE(ns.ok());
  auto before = run_netshoot({"--netns", ns.name(), "netns", "list"});
  auto after = run_netshoot({"netns", "list", "--netns", ns.name()});
  INFO(describe(before));
  CHECK(before.exit == 0);
  CHECK(after.exit == 0);
  auto missing = run_netshoot({"--netns", "/run/netns/does-not-exist", "netns", "list"});
  CHECK(missing.exit == 1);
  CHECK(missing.err.find("does-not-exist") != std::string::npos);
  CHECK(std::count(missing.err.begin(), missing.err.end(), '\n') == 1);  // one line
}
