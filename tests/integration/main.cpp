// Integration tests build hosts in network namespaces and need root. Without it,
// every test exits 77, which CTest reports as skipped (never as passed).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]).rfind("--list", 0) == 0) listing = true;
  if (!listing && ::geteuid() != 0) {
    std::fprintf(stderr, "SKIP: integration tests need root (network namespaces)\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
