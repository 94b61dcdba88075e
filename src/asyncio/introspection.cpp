#include <asyncio/introspection.hpp>

#include <asyncio/task.hpp>

#include <fmt/core.h>

namespace asyncio {

std::string format_tasks(event_loop& loop) {
  std::string out;
  for (const auto& t : loop.all_tasks()) {
    const auto& s = *t.state();
    std::string awaiting = "running";  // not suspended in one of our awaits
    if (s.awaiting()) {
      awaiting = std::string("awaiting ") + s.awaiting();
      if (auto* on = dynamic_cast<const detail::task_state_base*>(s.awaiting_on()))
        awaiting += " '" + on->get_name() + "'";
    }
    const char* state = s.must_cancel() ? "cancelling" : "pending";
    out += fmt::format("{:<16} {:<10} {}\n", t.get_name(), state, awaiting);
  }
  return out;
}

void print_tasks() { fmt::print("{}", format_tasks(get_running_loop())); }

}  // namespace asyncio
