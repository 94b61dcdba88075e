#pragma once

#include <asyncio/event_loop.hpp>
#include <asyncio/task.hpp>

#include <boost/asio/signal_set.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <vector>

namespace asyncio {

namespace detail {

/// Ctrl-C during run(): the first SIGINT cancels the main task, a second one ends the process
/// (with run_options::cancel_on_sigterm, SIGTERM too). Installed only for a signal that still
/// has its default action, as Python's asyncio.Runner does, and standing aside while
/// loop.add_signal_handler() holds a handler for it.
class interrupt_guard {
public:
  interrupt_guard(event_loop& loop, task<> main, bool sigterm);
  /// The same for any main(s): the signals are waited for on `context`, and the first one
  /// calls cancel(reason) unless stand_aside(sig) says another handler has it.
  interrupt_guard(boost::asio::io_context& context, bool sigterm,
                  std::function<void(const char* reason)> cancel,
                  std::function<bool(int sig)> stand_aside);
  ~interrupt_guard();
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;

  /// If a signal came and cancelled the main task(s), dies of it now (the shell reports 128 +
  /// its number), as a Python program does when KeyboardInterrupt reaches the top.
  void reraise_if_interrupted(bool main_cancelled);

private:
  void arm();

  std::function<void(const char*)> cancel_;
  std::function<bool(int)> stand_aside_;
  std::optional<boost::asio::signal_set> signals_;
  int interrupted_by_ = 0;
};

/// The end of run(): the main task to its end, then cancel what is left and wait for it,
/// join the default executor, close the loop. Rethrows if the loop stopped before main ended.
void run_to_end(event_loop& loop, const task<>& main);

// run_to_end's shutdown in steps, for loops that end together (loop_group): the tasks left on
// the loop, each cancelled; a coroutine awaiting them all (none: it returns); their errors
// to the loop's exception handler, as asyncio.run's _cancel_all_tasks does.
std::vector<task<>> cancel_leftovers(event_loop& loop);
coroutine<void> wait_for_all(std::vector<task<>> tasks);
void report_leftover_errors(event_loop& loop, const std::vector<task<>>& tasks);

}  // namespace detail

/// asyncio.run's keyword arguments.
struct run_options {
  bool debug = false;  ///< debug mode (as set_debug(true)); ASYNCIO_DEBUG turns it on too
  /// SIGTERM cancels the main task as Ctrl-C does: a service's graceful stop.
  bool cancel_on_sigterm = false;
};

/// asyncio.run(main()): a new loop runs main to its end and gives its result (or rethrows).
/// Then every task still pending is cancelled and awaited, and the loop is closed: after run()
/// returns, no task, timer or handler of it is alive. Ctrl-C (and SIGTERM if asked) cancels
/// the main task.
///
/// @code
/// int main() { return asyncio::run(amain()); }
/// @endcode
template <class T>
T run(coroutine<T> main, run_options options = {}) {
  if (detail::running_loop())
    throw std::runtime_error("asyncio::run() cannot be called from a running event loop");
  event_loop loop;
  if (options.debug) loop.set_debug(true);
  auto main_task = loop.create_task(std::move(main));
  {
    detail::interrupt_guard interrupt(loop, main_task, options.cancel_on_sigterm);
    detail::run_to_end(loop, main_task);
    interrupt.reraise_if_interrupted(main_task.cancelled());
  }
  return main_task.result();
}

}  // namespace asyncio
