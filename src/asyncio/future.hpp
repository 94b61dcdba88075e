#pragma once

#include <asyncio/detail/await_future.hpp>
#include <asyncio/event_loop.hpp>

#include <functional>
#include <string>

namespace asyncio {

/// asyncio.Future: a result that arrives later, bound to one loop. Set it from the loop's
/// thread (callbacks, tasks); other threads go through call_soon_threadsafe.
///
/// @code
/// asyncio::future<int> f;                                // f = loop.create_future()
/// loop.call_later(10ms, [f]() mutable { f.set_result(42); });
/// int v = co_await *f;                                   // v = await f
/// @endcode
template <class T = void>
class future {
public:
  using state_type = detail::future_state<T>;

  /// loop.create_future() on the running loop.
  future() : future(get_running_loop()) {}
  explicit future(event_loop& loop) : state_(new state_type(loop)) {}

  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  /// Future.cancel(msg): false if already done; awaiters get cancelled_error.
  bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }

  /// Future.set_result(v); invalid_state_error if already done.
  // clang-format off
  template <class U = T>
    requires(!std::is_void_v<U>)
  void set_result(U value) { state_->set_result(std::move(value)); }
  void set_result() requires std::is_void_v<T> { state_->set_result(); }
  // clang-format on
  /// Future.set_exception(e); invalid_state_error if already done.
  void set_exception(std::exception_ptr error) { state_->set_exception(std::move(error)); }

  /// Future.result(): the value, or rethrows; invalid_state_error if not done.
  T result() const {
    state_->rethrow_if_error();
    if constexpr (!std::is_void_v<T>) return state_->get_value();
  }
  /// Future.exception(): the error or null; throws cancelled_error if cancelled.
  std::exception_ptr exception() const { return state_->exception(); }
  /// Future.add_done_callback(fn): fn(f) is scheduled with call_soon once f is done.
  void add_done_callback(std::function<void(future)> fn) const {
    state_->add_done_callback([fn = std::move(fn)](detail::future_state_base& s) {
      fn(future(detail::ref<state_type>(static_cast<state_type*>(&s))));
    });
  }
  event_loop& get_loop() const noexcept { return state_->loop(); }

  /// `co_await *f`: Python's `await f` (see task for why not a bare `co_await f`).
  [[nodiscard]] detail::await_future<T, state_type> operator*() const {
    return detail::await_future<T, state_type>(state_);
  }

  friend bool operator==(const future& a, const future& b) noexcept { return a.state_ == b.state_; }

private:
  explicit future(detail::ref<state_type> state) noexcept : state_(std::move(state)) {}
  detail::ref<state_type> state_;
};

template <class T>
future<T> event_loop::create_future() {
  check_open();
  return future<T>(*this);
}

}  // namespace asyncio
