#pragma once

#include <asyncio/detail/operation.hpp>
#include <asyncio/detail/trace_hooks.hpp>
#include <asyncio/event_loop.hpp>

#include <boost/asio/async_result.hpp>

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

  // The timer lives in the node beside the awaiting handler, armed in the loop's heap. Due,
  // the node joins the ready queue and, run there, schedules the awaiter's resumption: the two
  // hops of CPython's sleep (the TimerHandle sets the future, whose callback wakes the task),
  // so that tasks interleave in Python's order. A node hooked to its task (the usual case,
  // see connect_cancel) lives in the task's room if it is free: the handler it holds keeps the
  // task alive.
  template <class Handler>
  struct node final : ready_node, cancel_hook, timer_entry {
    node(Handler h, event_loop& l, value_type v)
        : value(std::move(v)), handler(std::move(h)), loop(l) {}
    // First, so that a small value and the flag fit in the room timer_entry leaves at its end.
    value_type value;
    bool due = false;  // in the ready queue: a cancel now only changes the outcome
    Handler handler;
    event_loop& loop;

    // Resumes the awaiter through the ready queue, or (the loop goes away) destroys it. The
    // node goes first, so that the resumption can take the room it leaves.
    static void finish(node* n, std::exception_ptr error, bool run = true) {
      if (trace::enabled()) trace::wait_ended(n, "sleep");
      disconnect_cancel(n->handler, *n);
      auto result = error ? outcome<T>{std::move(error)} : success(n->value);
      auto h = std::move(n->handler);
      room_allocator<node> memory(n->cancel_hook::task);
      std::destroy_at(n);
      memory.deallocate(n, 1);
      if (run) post_resume<T>(std::move(h), std::move(result));
    }
  };

  struct initiate {
    template <class Handler>
    void operator()(Handler handler, std::chrono::steady_clock::duration delay,
                    value_type value) const {
      if (cancelled_before_start<T>(handler, "sleep")) return;
      if (delay <= delay.zero())  // sleep(0): yield to the loop once
        return post_resume<T>(std::move(handler), success(value));
      auto& loop = get_running_loop();
      room_allocator<node<Handler>> memory(resumed_task(handler));  // as connect_cancel hooks
      node<Handler>* n = memory.allocate(1);
      try {
        ::new (static_cast<void*>(n)) node<Handler>(std::move(handler), loop, std::move(value));
      } catch (...) {
        memory.deallocate(n, 1);
        throw;
      }
      n->when = loop.time() + delay;
      n->expire = [](timer_entry& e, bool run) {
        auto* self = static_cast<node<Handler>*>(&e);
        if (!run) return node<Handler>::finish(self, nullptr, false);
        self->due = true;
        detail::schedule(self->loop, *self);
      };
      n->ready_node::fire = [](ready_node& r, bool run) {
        node<Handler>::finish(static_cast<node<Handler>*>(&r), nullptr, run);
      };
      n->cancel_hook::fire = &cancel<Handler>;
      connect_cancel(n->handler, *n);
      if (trace::enabled()) trace::wait_began(n, "sleep", delay);
      add_timer(loop, *n);
    }
  };

  // Once due, the node is the ready queue's; the pending cancel request reaches the awaiter
  // as it resumes.
  template <class Handler>
  static void cancel(cancel_hook& hook) {
    auto* self = static_cast<node<Handler>*>(&hook);
    if (self->due) return;
    cancel_timer(self->loop, *self);
    node<Handler>::finish(self, std::make_exception_ptr(cancelled_error()));
  }

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
