#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <memory>

namespace asyncio::detail {

/// The library's spdlog logger, named "asyncio" (as Python's logging.getLogger("asyncio")).
spdlog::logger& log();

/// Its line format: time, logger, level, then "[task NAME] " when a task was running.
std::unique_ptr<spdlog::formatter> make_log_formatter();

}  // namespace asyncio::detail
