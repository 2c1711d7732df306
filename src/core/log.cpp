#include "netshoot/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace netshoot::core {

void init_logging(std::string_view program, int verbosity, bool quiet) {
  spdlog::drop(std::string(program));
  auto logger = spdlog::stderr_logger_st(std::string(program));
  // "ping: unknown host foo": the tool's name, then the message, as classic tools print.
  logger->set_pattern("%n: %v");
  spdlog::level::level_enum level = spdlog::level::warn;
  if (quiet) level = spdlog::level::err;
  if (verbosity == 1) level = spdlog::level::info;
  if (verbosity >= 2) level = spdlog::level::debug;
  if (verbosity >= 3) level = spdlog::level::trace;
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace netshoot::core
