#pragma once

#include <asyncio/event_loop.hpp>
#include <asyncio/task.hpp>

#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <concepts>
#include <optional>

namespace asyncio {

/// asyncio.Timeout: what the body of timeout() gets, to read or move its deadline.
///
/// Why a function taking the body, not an RAII object: Python's `async with timeout(d):` turns
/// the CancelledError it caused into TimeoutError on the way out of the block. A C++ destructor
/// cannot replace an exception in flight, so the block must be a coroutine the timeout runs.
class timeout_handle {
public:
  using clock = event_loop::clock;

  /// Enters the scope for the current task; std::runtime_error outside a task.
  explicit timeout_handle(std::optional<clock::time_point> when);
  ~timeout_handle();
  timeout_handle(const timeout_handle&) = delete;
  timeout_handle& operator=(const timeout_handle&) = delete;

  /// Timeout.when(): the deadline, or none.
  std::optional<clock::time_point> when() const noexcept { return when_; }
  /// Timeout.reschedule(when): a new deadline (none: never); a past one expires at once.
  void reschedule(std::optional<clock::time_point> when);
  /// Timeout.expired(): the deadline passed and the body was cancelled for it.
  bool expired() const noexcept { return state_ == state::expiring || state_ == state::expired; }

  /// Leaves the scope after the body ended with `error` (null if it returned): the error to
  /// throw, timeout_error in place of the cancellation the deadline caused.
  std::exception_ptr exit(std::exception_ptr error);

private:
  enum class state { pending, expiring, expired, exited };
  void on_deadline();

  task<> task_;
  handle timer_;
  std::optional<clock::time_point> when_;
  std::uint32_t cancelling_ = 0;
  state state_ = state::pending;
};

namespace detail {

/// A deadline fixed when the scope is entered (Python's timeout(delay) reads the loop's clock
/// in __aenter__), not when the coroutine object is made.
struct deadline {
  std::optional<event_loop::clock::time_point> at;
  std::optional<event_loop::clock::duration> after;
  std::optional<event_loop::clock::time_point> resolve() const {
    return after ? std::optional(event_loop::clock::now() + *after) : at;
  }
};

template <class T>
struct given_body {
  coroutine<T> body;
  coroutine<T> operator()(timeout_handle&) { return std::move(body); }
};

template <class T, class MakeBody>
coroutine<T> run_timeout(deadline d, MakeBody make_body) {
  timeout_handle scope(d.resolve());
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<T>, char, T>> value;
  try {
    auto body = make_body(scope);
    if constexpr (std::is_void_v<T>)
      co_await std::move(body);
    else
      value.emplace(co_await std::move(body));
  } catch (...) {
    error = std::current_exception();
  }
  if (auto e = scope.exit(error)) std::rethrow_exception(e);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

template <class F>
using body_value_t = typename std::invoke_result_t<F&, timeout_handle&>::value_type;

/// What wait_for(coroutine, 0) gives: timeout_error, the coroutine never started.
template <class T>
coroutine<T> timed_out() {
  co_await boost::asio::this_coro::executor;  // a coroutine that only throws needs one co_
  throw timeout_error();
}

}  // namespace detail

/// asyncio.timeout_at(when): runs `body` in the current task; if `when` passes first, the body
/// is cancelled, and once it has unwound, timeout_error is thrown instead. No deadline: none.
/// @code
/// co_await asyncio::timeout(2s, fetch(url));        // async with asyncio.timeout(2): await
/// fetch(url)
/// @endcode
template <class T>
[[nodiscard]] coroutine<T> timeout_at(std::optional<event_loop::clock::time_point> when,
                                      coroutine<T> body) {
  return detail::run_timeout<T>({when, {}}, detail::given_body<T>{std::move(body)});
}

/// As above, with a body that gets the timeout_handle (to reschedule it, or read expired()).
template <class F>
requires std::invocable<F&, timeout_handle&>
[[nodiscard]] coroutine<detail::body_value_t<F>> timeout_at(
    std::optional<event_loop::clock::time_point> when, F make_body) {
  return detail::run_timeout<detail::body_value_t<F>>({when, {}}, std::move(make_body));
}

/// asyncio.timeout(delay): timeout_at(loop.time() + delay), the clock read as it starts.
template <class Rep, class Period, class Body>
[[nodiscard]] auto timeout(std::chrono::duration<Rep, Period> delay, Body body) {
  detail::deadline d{{}, std::chrono::ceil<event_loop::clock::duration>(delay)};
  if constexpr (std::invocable<Body&, timeout_handle&>)
    return detail::run_timeout<detail::body_value_t<Body>>(d, std::move(body));
  else
    return detail::run_timeout<typename Body::value_type>(
        d, detail::given_body<typename Body::value_type>{std::move(body)});
}

/// asyncio.wait_for(aw, timeout): its result, or on timeout: cancels it, waits until it has
/// finished cancelling (its cleanup ran), then throws timeout_error. Cancelling the caller
/// cancels it too. A coroutine runs inside the caller's task (as 3.12; 3.11 made it a task),
/// a task stays its own. A delay <= 0 never starts a coroutine: timeout_error, as Python.
template <class T, class Rep, class Period>
[[nodiscard]] coroutine<T> wait_for(coroutine<T> aw, std::chrono::duration<Rep, Period> delay) {
  if (delay <= delay.zero()) return detail::timed_out<T>();
  return timeout(delay, std::move(aw));
}

/// wait_for(op, timeout): one of our awaitable operations (a queue's get or put, ...) as the
/// coroutine that awaits it.
// clang-format off
template <class Op, class Rep, class Period>
  requires boost::asio::is_async_operation<Op>::value
[[nodiscard]] coroutine<detail::operation_value_t<Op>> wait_for(
    Op op, std::chrono::duration<Rep, Period> delay) {
  return wait_for(detail::await_operation(std::move(op)), delay);
}
// clang-format on

template <class T, class Rep, class Period>
[[nodiscard]] coroutine<T> wait_for(task<T> aw, std::chrono::duration<Rep, Period> delay) {
  if (delay <= delay.zero() && aw.done()) co_return aw.result();  // Python: not cancelled
  co_return co_await timeout(delay, detail::await_operation(*aw));
}

}  // namespace asyncio
