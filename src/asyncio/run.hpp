#pragma once

#include <asyncio/event_loop.hpp>
#include <asyncio/task.hpp>

#include <boost/asio/signal_set.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
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
  /// A signal came and cancelled the main task(s).
  bool interrupted() const noexcept { return interrupted_by_ != 0; }

private:
  void arm();

  std::function<void(const char*)> cancel_;
  std::function<bool(int)> stand_aside_;
  std::optional<boost::asio::signal_set> signals_;
  int interrupted_by_ = 0;
};

/// asyncio.runners._cancel_all_tasks: cancels every task left on the loop, waits for them
/// all, and reports their errors to the loop's exception handler.
void cancel_all_tasks(event_loop& loop);

// cancel_all_tasks in steps, for loops that end together (loop_group): the tasks left on
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

/// asyncio.Runner: one loop for several top-level coroutines run one after another from
/// plain code (a program's phases, a test). Tasks a run() leaves behind stay on the loop and
/// go on in the next run(); close(), or the destructor as Python's `with` block, cancels them,
/// waits for them and closes the loop.
///
/// @code
/// asyncio::runner runner;
/// auto config = runner.run(load_config());
/// runner.run(serve(config));
/// @endcode
class runner {
public:
  explicit runner(run_options options = {}) noexcept : options_(options) {}
  /// close(); an error there goes to the loop's exception handler, as a destructor cannot throw.
  ~runner();
  runner(const runner&) = delete;
  runner& operator=(const runner&) = delete;

  /// Runner.run(coro): main as a task on the runner's loop, run to its end; its result, or
  /// its error. Ctrl-C (and SIGTERM if asked) cancels it; the runner then closes, and the
  /// process dies of the signal. std::runtime_error inside a running loop, or once closed.
  template <class T>
  T run(coroutine<T> main);
  /// Runner.get_loop(): the runner's loop, made at first use; std::runtime_error once closed.
  event_loop& get_loop();
  /// Runner.close(): cancels the tasks left and waits for them, joins the default executor
  /// and closes the loop; after it, nothing of the loop is alive. Again: nothing.
  void close();

private:
  void run_main(const task<>& main);
  void shut_down();

  run_options options_;
  std::optional<event_loop> loop_;
  bool closed_ = false;
};

template <class T>
T runner::run(coroutine<T> main) {
  if (detail::running_loop())
    throw std::runtime_error("runner::run() cannot be called from a running event loop");
  auto main_task = get_loop().create_task(std::move(main));
  run_main(main_task);
  return main_task.result();
}

/// asyncio.run(main()): a runner used once. A new loop runs main to its end and gives its
/// result (or rethrows); then every task still pending is cancelled and awaited, and the loop
/// is closed: after run() returns, no task, timer or handler of it is alive. Ctrl-C (and
/// SIGTERM if asked) cancels the main task.
///
/// @code
/// int main() { return asyncio::run(amain()); }
/// @endcode
template <class T>
T run(coroutine<T> main, run_options options = {}) {
  if (detail::running_loop())
    throw std::runtime_error("asyncio::run() cannot be called from a running event loop");
  runner r(options);
  if constexpr (std::is_void_v<T>) {
    r.run(std::move(main));
    r.close();  // here, not in the destructor, so that an error in it reaches the caller
  } else {
    T result = r.run(std::move(main));
    r.close();
    return result;
  }
}

}  // namespace asyncio
