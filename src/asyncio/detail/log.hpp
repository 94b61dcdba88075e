#pragma once

#include <spdlog/logger.h>

namespace asyncio::detail {

/// The library's spdlog logger, named "asyncio" (as Python's logging.getLogger("asyncio")).
spdlog::logger& log();

}  // namespace asyncio::detail
