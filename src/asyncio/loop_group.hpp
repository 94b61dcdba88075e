#pragma once

// One loop per core: a loop_group runs n event loops, each on a thread of its own, and
// run_on() awaits a coroutine run on another loop, without blocking a thread. As in asyncio,
// a loop is used from its own thread; loops meet only through posts (call_soon_threadsafe).

#include <asyncio/coroutine.hpp>
#include <asyncio/detail/await_future.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/event_loop.hpp>
#include <asyncio/locks.hpp>
#include <asyncio/task.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace asyncio {

namespace detail {

/// One run_on(): the coroutine until the target loop takes it, the task there (touched on
/// the target's thread only), and the outcome and its signal on the caller's loop (touched on
/// the caller's thread only). The two threads meet through posts, which order what each wrote.
template <class T>
struct remote_call {
  std::optional<coroutine<T>> coro;
  std::optional<task<T>> remote;
  outcome<T> result;
  event finished;
};

}  // namespace detail

/// run_on(loop, coro): runs coro as a task on `loop` (another loop's thread) and awaits its
/// result here. Its exception crosses over; cancelling the awaiter cancels the remote task and
/// waits for its cleanup, as wait_for does, before cancelled_error. On this very loop, it is
/// `co_await coro`. Both loops must outlive the call.
template <class T>
[[nodiscard]] coroutine<T> run_on(event_loop& target, coroutine<T> coro) {
  auto& home = get_running_loop();
  if (&target == &home) co_return co_await std::move(coro);
  auto call = std::make_shared<detail::remote_call<T>>();
  call->coro.emplace(std::move(coro));
  target.call_soon_threadsafe([call, &home, &target] {
    call->remote = target.create_task(std::move(*call->coro));
    call->coro.reset();
    call->remote->add_done_callback([call, &home](task<T> done) {
      // The task's error is moved out (nothing else reads this task), so that nothing of it
      // is shared with the caller's thread; a value is moved or copied.
      outcome<T> taken;
      if (auto error = done.state()->release_error())
        taken.error = std::move(error);
      else
        taken = detail::outcome_of<T>(*done.state());
      call->remote.reset();
      home.call_soon_threadsafe([call, result = std::make_shared<outcome<T>>(std::move(taken))] {
        call->result = std::move(*result);
        call->finished.set();
      });
    });
  });
  std::exception_ptr cancelled;
  try {
    co_await call->finished.wait();
  } catch (const cancelled_error&) {
    cancelled = std::current_exception();
  }
  if (cancelled) {
    // The task exists by now: this post runs after the one that created it.
    target.call_soon_threadsafe([call] {
      if (call->remote) call->remote->cancel();  // not if it has just ended
    });
    while (!call->finished.is_set()) {
      try {
        co_await call->finished.wait();  // its cleanup, however long; more cancels change nothing
      } catch (const cancelled_error&) {
      }
    }
    std::rethrow_exception(cancelled);
  }
  co_return std::move(call->result).get();
}

/// One loop per core: n event loops, each run by a thread of its own while run() runs.
class loop_group {
public:
  /// n loops (default: one per core).
  explicit loop_group(std::size_t n = 0);
  loop_group(const loop_group&) = delete;
  loop_group& operator=(const loop_group&) = delete;
  ~loop_group();

  std::size_t size() const noexcept { return loops_.size(); }
  event_loop& operator[](std::size_t i) { return *loops_.at(i); }

  /// run(main): main(loop, index) as the main task of every loop at once, each on its own
  /// thread; returns when all have ended, and every loop is closed (its leftover tasks
  /// cancelled, as asyncio::run does). A loop whose main has ended runs on until every main
  /// has, so that the others may still use it (run_on, a threadsafe_queue), and until every
  /// loop's leftover tasks have unwound; loop.stop() does not end it earlier. As a task_group: one
  /// main that fails cancels the others; its error is rethrown, several arrive as an
  /// exception_group. Ctrl-C (SIGINT, if it has its default action) cancels every main, and then
  /// the process dies of it, as asyncio::run's does. Once only.
  void run(std::function<coroutine<void>(event_loop&, std::size_t)> main);

private:
  std::vector<std::unique_ptr<event_loop>> loops_;
};

}  // namespace asyncio
