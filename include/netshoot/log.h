// Diagnostics on stderr through spdlog. Errors print as one line: "NAME: message".
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace netshoot::core {

// verbosity: 0 = warnings and errors, 1 = info, 2+ = debug; quiet drops warnings.
void init_logging(std::string_view program, int verbosity, bool quiet);

}  // namespace netshoot::core
