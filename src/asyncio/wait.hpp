#pragma once

#include <asyncio/detail/wait_op.hpp>
#include <asyncio/future.hpp>
#include <asyncio/task.hpp>
#include <asyncio/timeout.hpp>

#include <deque>
#include <memory>
#include <stdexcept>
#include <vector>

namespace asyncio {

/// asyncio.FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED: when wait() returns.
using return_when = detail::wait_until;

/// What wait() gives: Python's (done, pending), each in the order the tasks were given.
template <class T>
struct wait_result {
  std::vector<task<T>> done, pending;
};

namespace detail {

// Python's wait() refuses an empty set.
template <class T>
std::vector<future_state_base*> states_to_wait_for(const std::vector<task<T>>& tasks) {
  if (tasks.empty()) throw std::invalid_argument("wait() needs at least one task");
  return states_of(tasks);
}

template <class T>
wait_result<T> partition(std::vector<task<T>> tasks) {
  wait_result<T> r;
  for (auto& t : tasks) (t.done() ? r.done : r.pending).push_back(std::move(t));
  return r;
}

}  // namespace detail

/// asyncio.wait(tasks, return_when=...): waits until `when` holds; unfinished tasks keep
/// running, and cancelling the wait leaves them alone (unlike gather, and Asio's
/// parallel_group). Exceptions stay in the tasks, to be read from them.
template <class T>
[[nodiscard]] coroutine<wait_result<T>> wait(std::vector<task<T>> tasks,
                                             return_when when = return_when::all_completed) {
  co_await detail::wait_op(detail::states_to_wait_for(tasks), {when, false});
  co_return detail::partition(std::move(tasks));
}

/// asyncio.wait(tasks, timeout=..., return_when=...): as above, but returns when the timeout
/// passes too, then with some tasks pending (nothing is cancelled, nothing thrown).
template <class T, class Rep, class Period>
[[nodiscard]] coroutine<wait_result<T>> wait(std::vector<task<T>> tasks, return_when when,
                                             std::chrono::duration<Rep, Period> limit) {
  try {
    co_await timeout(limit, detail::await_operation(
                                detail::wait_op(detail::states_to_wait_for(tasks), {when, false})));
  } catch (const timeout_error&) {
  }
  co_return detail::partition(std::move(tasks));
}

/// asyncio.as_completed(tasks): the tasks in the order they finish, each one as soon as it
/// does (not once all have).
/// @code
/// asyncio::as_completed finished(tasks);          // for t in asyncio.as_completed(tasks):
/// while (finished.remaining() > 0) {              //     print(await t)
///   auto t = co_await finished.next();
///   use(t.result());
/// }
/// @endcode
template <class T>
class as_completed {
public:
  explicit as_completed(std::vector<task<T>> tasks) : state_(std::make_shared<state>()) {
    state_->remaining = tasks.size();
    for (auto& t : tasks)  // weak: an abandoned as_completed leaves nothing behind
      t.add_done_callback([w = std::weak_ptr<state>(state_)](task<T> done) {
        if (auto s = w.lock()) s->arrived(std::move(done));
      });
  }

  /// Tasks not handed out yet.
  std::size_t remaining() const noexcept { return state_->remaining; }

  /// The next task to finish, once it has; std::out_of_range when none is left.
  [[nodiscard]] coroutine<task<T>> next() {
    if (state_->remaining == 0) throw std::out_of_range("as_completed: no task left");
    auto s = state_;
    while (s->ready.empty()) {
      s->wakeup = future<>();
      co_await **s->wakeup;
    }
    auto t = std::move(s->ready.front());
    s->ready.pop_front();
    --s->remaining;
    co_return t;
  }

private:
  struct state {
    std::deque<task<T>> ready;
    std::optional<future<>> wakeup;
    std::size_t remaining = 0;
    void arrived(task<T> t) {
      ready.push_back(std::move(t));
      if (wakeup && !wakeup->done()) wakeup->set_result();
    }
  };
  std::shared_ptr<state> state_;
};

}  // namespace asyncio
