#include <asyncio/detail/log.hpp>

#include <asyncio/detail/future_state.hpp>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace asyncio::detail {

namespace {

// %* in the pattern: "[task NAME] " for a line logged while a task runs, else nothing.
class task_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& out) override {
    auto* task = current_task_state();
    if (!task) return;
    auto text = "[task " + task->get_name() + "] ";
    out.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<task_flag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<task_flag>('*').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %*%v");
  return f;
}

spdlog::logger& log() {
  // A user may register their own "asyncio" logger first; we only create it when absent.
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("asyncio")) return existing;
    auto created = spdlog::stderr_color_mt("asyncio");
    created->set_formatter(make_log_formatter());  // every line names the task it came from
    return created;
  }();
  return *logger;
}

}  // namespace asyncio::detail
