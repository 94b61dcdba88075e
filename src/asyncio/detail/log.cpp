#include <asyncio/detail/log.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace asyncio::detail {

spdlog::logger& log() {
  // A user may register their own "asyncio" logger first; we only create it when absent.
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("asyncio")) return existing;
    return spdlog::stderr_color_mt("asyncio");
  }();
  return *logger;
}

}  // namespace asyncio::detail
