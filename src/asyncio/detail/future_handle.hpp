#pragma once

#include <asyncio/detail/await_future.hpp>

#include <exception>
#include <functional>
#include <string>
#include <type_traits>

namespace asyncio {
class event_loop;
}

namespace asyncio::detail {

/// What the future<T> and task<T> handles share, as Python's Task is a Future: a cheap
/// copyable reference to the state, its queries, and `co_await *h`.
template <class Derived, class T, class State>
class future_handle {
public:
  using state_type = State;

  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  /// result(): the value, or rethrows; invalid_state_error if not done.
  T result() const {
    state_->rethrow_if_error();
    if constexpr (!std::is_void_v<T>) return state_->get_value();
  }
  /// exception(): the error or null; throws cancelled_error if cancelled.
  std::exception_ptr exception() const { return state_->exception(); }
  /// add_done_callback(fn): fn(handle) is scheduled with call_soon once it is done. What it
  /// returns names fn to remove_done_callback.
  done_callback add_done_callback(std::function<void(Derived)> fn) const {
    return state_->add_done_callback([fn = std::move(fn)](future_state_base& s) {
      fn(Derived(ref<State>(static_cast<State*>(&s))));
    });
  }
  /// remove_done_callback(cb): takes cb back if it is not scheduled yet: 1, else 0 (once the
  /// future is done, its callbacks are scheduled and run).
  std::size_t remove_done_callback(done_callback cb) const noexcept {
    return state_->remove_done_callback(cb);
  }
  event_loop& get_loop() const noexcept { return state_->loop(); }

  /// `co_await *h` is Python's `await h`: its value, or its exception rethrown, for any
  /// number of awaiters, before or after it is done. (Not a bare `co_await h`: Asio 1.81
  /// lets a coroutine await only awaitables and *rvalue* operations; `*h` makes the latter.)
  [[nodiscard]] await_future<T, State> operator*() const { return await_future<T, State>(state_); }

  explicit operator bool() const noexcept { return state_ != nullptr; }
  const ref<State>& state() const noexcept { return state_; }
  friend bool operator==(const future_handle& a, const future_handle& b) noexcept {
    return a.state_ == b.state_;
  }

protected:
  future_handle() = default;
  explicit future_handle(ref<State> state) noexcept : state_(std::move(state)) {}

  ref<State> state_;
};

}  // namespace asyncio::detail
