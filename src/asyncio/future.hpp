#pragma once

#include <asyncio/detail/future_handle.hpp>
#include <asyncio/event_loop.hpp>

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
class future : public detail::future_handle<future<T>, T, detail::future_state<T>> {
  using base = detail::future_handle<future<T>, T, detail::future_state<T>>;

public:
  using typename base::state_type;

  /// loop.create_future() on the running loop.
  future() : future(get_running_loop()) {}
  explicit future(event_loop& loop) : base(detail::ref<state_type>(new state_type(loop))) {}

  /// Future.cancel(msg): false if already done; awaiters get cancelled_error at once.
  bool cancel(std::string message = {}) { return this->state_->cancel(std::move(message)); }
  /// Future.set_result(v); invalid_state_error if already done.
  // clang-format off
  template <class U = T>
    requires(!std::is_void_v<U>)
  void set_result(U value) { this->state_->set_result(std::move(value)); }
  void set_result() requires std::is_void_v<T> { this->state_->set_result(); }
  // clang-format on
  /// Future.set_exception(e); invalid_state_error if already done.
  void set_exception(std::exception_ptr error) { this->state_->set_exception(std::move(error)); }

private:
  friend base;
  explicit future(detail::ref<state_type> state) noexcept : base(std::move(state)) {}
};

template <class T>
future<T> event_loop::create_future() {
  check_open();
  return future<T>(*this);
}

}  // namespace asyncio
