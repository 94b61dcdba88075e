#pragma once

#include <asyncio/detail/outcome.hpp>
#include <asyncio/trace.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace asyncio {

namespace detail {

struct no_value {};

/// A timer wait with our cancellation rules, and no coroutine frame of its own: the timer
/// lives beside the awaiting handler until it fires.
template <class T>
class sleep_op {
  using value_type = std::conditional_t<std::is_void_v<T>, no_value, T>;

public:
  sleep_op(std::chrono::steady_clock::duration delay, value_type value)
      : delay_(delay), value_(std::move(value)) {}

  template <boost::asio::completion_token_for<outcome_signature<T>> Token>
  auto operator()(Token&& token) && {
    return boost::asio::async_initiate<Token, outcome_signature<T>>(initiate{}, token, delay_,
                                                                    std::move(value_));
  }

private:
  static outcome<T> success(value_type& value) {
    if constexpr (std::is_void_v<T>)
      return {};
    else
      return {nullptr, std::move(value)};
  }

  template <class Handler>
  struct node {
    node(Handler h, std::chrono::steady_clock::duration delay, value_type v)
        : timer(boost::asio::get_associated_executor(h), delay),
          handler(std::move(h)),
          value(std::move(v)) {}
    boost::asio::steady_timer timer;
    Handler handler;
    value_type value;
  };

  struct initiate {
    template <class Handler>
    void operator()(Handler handler, std::chrono::steady_clock::duration delay,
                    value_type value) const {
      if (begin_await("sleep") || delay <= delay.zero())  // sleep(0): yield to the loop once
        return post_resume<T>(std::move(handler), success(value));
      auto* n = new node<Handler>(std::move(handler), delay, std::move(value));
      auto slot = boost::asio::get_associated_cancellation_slot(n->handler);
      if (slot.is_connected()) slot.template emplace<cancel_timer>(&n->timer);
      if (trace::enabled()) trace::wait_began(n, "sleep", delay);
      // Runs through the handler's executor, i.e. already inside the awaiting task's step.
      n->timer.async_wait([n](boost::system::error_code ec) {
        if (trace::enabled()) trace::wait_ended(n, "sleep");
        std::unique_ptr<node<Handler>> owned(n);
        boost::asio::get_associated_cancellation_slot(owned->handler).clear();
        auto result =
            ec ? outcome<T>{std::make_exception_ptr(cancelled_error())} : success(owned->value);
        auto h = std::move(owned->handler);
        owned.reset();
        resume<T>(h, std::move(result));
      });
    }
  };

  struct cancel_timer {
    boost::asio::steady_timer* timer;
    void operator()(boost::asio::cancellation_type_t) const { timer->cancel(); }
  };

  std::chrono::steady_clock::duration delay_;
  value_type value_;
};

template <class Rep, class Period>
std::chrono::steady_clock::duration to_delay(std::chrono::duration<Rep, Period> d) {
  // Round up: a sleep never ends before its time.
  return std::chrono::ceil<std::chrono::steady_clock::duration>(d);
}

}  // namespace detail

/// asyncio.sleep(delay): suspends the awaiting coroutine; `sleep(0s)` yields to the loop once.
/// Cancelling the task wakes it with cancelled_error.
template <class Rep, class Period>
[[nodiscard]] detail::sleep_op<void> sleep(std::chrono::duration<Rep, Period> delay) {
  return {detail::to_delay(delay), {}};
}

/// asyncio.sleep(delay, result): as above, then gives `result`.
template <class Rep, class Period, class T>
[[nodiscard]] detail::sleep_op<T> sleep(std::chrono::duration<Rep, Period> delay, T result) {
  return {detail::to_delay(delay), std::move(result)};
}

}  // namespace asyncio
