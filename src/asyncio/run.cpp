#include <asyncio/run.hpp>

#include <asyncio/detail/log.hpp>
#include <asyncio/detail/wait_op.hpp>

#include <csignal>

namespace asyncio::detail {

interrupt_guard::interrupt_guard(event_loop& loop, task<> main) : main_(std::move(main)) {
  struct sigaction current {};
  if (::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signals_.emplace(loop.context(), SIGINT);
    arm();
  }
}

interrupt_guard::~interrupt_guard() = default;

void interrupt_guard::arm() {
  signals_->async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    if (interrupted_) {  // the second Ctrl-C: the user does not want to wait for cleanup
      signals_.reset();
      std::raise(SIGINT);
      return;
    }
    interrupted_ = true;
    main_.cancel("interrupted (SIGINT)");
    arm();
  });
}

void interrupt_guard::reraise_if_interrupted() {
  if (!interrupted_ || !main_.cancelled()) return;
  signals_.reset();  // gives SIGINT back its default action
  std::signal(SIGINT, SIG_DFL);
  std::raise(SIGINT);
}

namespace {

coroutine<void> wait_for_all(std::vector<task<>> tasks) {
  co_await wait_op(states_of(tasks), {wait_until::all_completed, true});
}

// Python's asyncio.runners._cancel_all_tasks.
void cancel_all_tasks(event_loop& loop) {
  auto tasks = loop.all_tasks();
  if (tasks.empty()) return;
  for (auto& t : tasks) t.cancel();
  loop.run_until_complete(wait_for_all(tasks));
  for (auto& t : tasks)
    if (!t.cancelled())
      if (auto error = t.exception())
        log().error("unhandled exception during asyncio::run() shutdown: {}: {}", t.get_name(),
                    describe(error));
}

}  // namespace

void run_to_end(event_loop& loop, const task<>& main) {
  std::exception_ptr stopped_early;
  try {
    loop.run_until_complete(main);
  } catch (...) {
    if (!main.done()) stopped_early = std::current_exception();  // else main.result() tells
  }
  cancel_all_tasks(loop);
  loop.close();
  if (stopped_early) std::rethrow_exception(stopped_early);
}

}  // namespace asyncio::detail
