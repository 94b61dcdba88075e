#include <asyncio/run.hpp>

#include <asyncio/detail/wait_op.hpp>

#include <csignal>

namespace asyncio::detail {

interrupt_guard::interrupt_guard(event_loop& loop, task<> main, bool sigterm)
    : interrupt_guard(
          loop.context(), sigterm, [main](const char* reason) mutable { main.cancel(reason); },
          [&loop](int sig) { return has_signal_handler(loop, sig); }) {}

interrupt_guard::interrupt_guard(boost::asio::io_context& context, bool sigterm,
                                 std::function<void(const char*)> cancel,
                                 std::function<bool(int)> stand_aside)
    : cancel_(std::move(cancel)), stand_aside_(std::move(stand_aside)) {
  for (int sig : {SIGINT, sigterm ? SIGTERM : 0}) {
    struct sigaction current {};
    if (sig && ::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      if (!signals_) signals_.emplace(context);
      signals_->add(sig);
    }
  }
  if (signals_) arm();
}

interrupt_guard::~interrupt_guard() = default;

void interrupt_guard::arm() {
  signals_->async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (stand_aside_(sig)) return arm();  // the program's own handler has it
    if (interrupted_by_) {  // the second one: the user does not want to wait for cleanup
      signals_.reset();
      std::raise(sig);
      return;
    }
    interrupted_by_ = sig;
    cancel_(sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    arm();
  });
}

void interrupt_guard::reraise_if_interrupted(bool main_cancelled) {
  if (!interrupted_by_ || !main_cancelled) return;
  signals_.reset();  // gives the signal back its default action
  std::signal(interrupted_by_, SIG_DFL);
  std::raise(interrupted_by_);
}

std::vector<task<>> cancel_leftovers(event_loop& loop) {
  auto tasks = loop.all_tasks();
  for (auto& t : tasks) t.cancel();
  return tasks;
}

coroutine<void> wait_for_all(std::vector<task<>> tasks) {
  if (tasks.empty()) co_return;  // a wait on nothing would never end
  co_await wait_op(states_of(tasks), {wait_until::all_completed, true});
}

void report_leftover_errors(event_loop& loop, const std::vector<task<>>& tasks) {
  for (const auto& t : tasks)
    if (!t.cancelled())
      if (auto error = t.exception())
        loop.call_exception_handler(
            {"unhandled exception during asyncio::run() shutdown", error, t.get_name()});
}

void cancel_all_tasks(event_loop& loop) {
  auto tasks = cancel_leftovers(loop);
  if (tasks.empty()) return;
  loop.run_until_complete(wait_for_all(tasks));
  report_leftover_errors(loop, tasks);
}

}  // namespace asyncio::detail

namespace asyncio {

runner::~runner() {
  try {
    close();
  } catch (...) {
    loop_->call_exception_handler({"exception in runner::close()", std::current_exception(), {}});
  }
}

event_loop& runner::get_loop() {
  if (closed_) throw std::runtime_error("runner is closed");
  if (!loop_) {
    loop_.emplace();
    if (options_.debug) loop_->set_debug(true);
  }
  return *loop_;
}

void runner::run_main(const task<>& main) {
  detail::interrupt_guard interrupt(*loop_, main, options_.cancel_on_sigterm);
  std::exception_ptr error;  // main's, or the loop's if it stopped before main ended
  try {
    loop_->run_until_complete(main);
  } catch (...) {
    error = std::current_exception();
  }
  if (interrupt.interrupted() && main.cancelled()) {
    shut_down();  // the cleanup, then the signal
    interrupt.reraise_if_interrupted(true);
  }
  if (error) std::rethrow_exception(error);
}

void runner::close() {
  shut_down();
  loop_.reset();
}

// close() but the loop object, which the Ctrl-C guard of a run() may still use.
void runner::shut_down() {
  if (closed_) return;
  if (loop_ && loop_->is_running())
    throw std::runtime_error("runner::close() cannot be called from its running loop");
  closed_ = true;
  if (!loop_) return;
  detail::cancel_all_tasks(*loop_);
  loop_->close();
}

}  // namespace asyncio
