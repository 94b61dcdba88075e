#pragma once

#include <asyncio/detail/operation.hpp>

#include <boost/asio/async_result.hpp>

#include <memory>

namespace asyncio::detail {

/// The outcome of a done future, for one reader.
template <class T, class State>
outcome<T> outcome_of(State& s) {
  if (auto error = s.take_error()) return {error};
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    try {
      return {nullptr, s.get_value()};
    } catch (...) {  // one this reader cannot have: a move-only result another took, a failed copy
      return {std::current_exception()};
    }
  }
}

/// `co_await *f` for a future or a task: one waiter node, no coroutine frame of its own.
/// Cancelling the awaiter cancels what it awaits, as in Python; shielded, the awaiter alone
/// stops waiting (cancelled_error) and what it awaited runs on (asyncio.shield).
template <class T, class State, bool Shielded = false>
class await_future {
public:
  explicit await_future(ref<State> state) noexcept : state_(std::move(state)) {}

  /// Done already: awaited, it gives the outcome at once, without suspending (Python's await
  /// of a done future does not yield, so a pending cancel waits for the next real suspension).
  bool ready() const noexcept { return state_->done(); }
  T take() { return outcome_of<T>(*state_).get(); }

  template <boost::asio::completion_token_for<outcome_signature<T>> Token>
  auto operator()(Token&& token) && {
    return boost::asio::async_initiate<Token, outcome_signature<T>>(initiate{}, token,
                                                                    std::move(state_));
  }

private:
  template <class Handler>
  struct node final : waiter, cancel_hook {
    node(Handler h, ref<State> s) : handler(std::move(h)), state(std::move(s)) {
      on_done = [](waiter& self, future_state_base*) {
        std::unique_ptr<node> n(static_cast<node*>(&self));
        disconnect_cancel(n->handler, *n);
        post_resume<T>(std::move(n->handler), outcome_of<T>(*n->state));
      };
      fire = [](cancel_hook& self) {
        auto* n = static_cast<node*>(&self);
        if constexpr (Shielded)
          stop_waiting(n);
        else
          n->state->cancel({});  // which may end the wait and free the node
      };
    }
    Handler handler;
    ref<State> state;  // keeps the future alive while awaited
  };

  struct initiate {
    template <class Handler>
    void operator()(Handler handler, ref<State> state) const {
      constexpr bool is_task = std::is_base_of_v<task_state_base, State>;
      // Unshielded, a cancel of the awaiter goes to what it awaits (Task._fut_waiter).
      if (begin_await(is_task ? "task" : "future", state.get(), Shielded)) {
        // Cancelled before it began: the request goes on to the awaited one, and the awaiter
        // waits for its outcome (bpo-34872); shielded, or if that one is done, it ends here.
        auto* self = current_task_state();
        if (Shielded || !state->cancel(self->cancel_message()))
          return post_resume<T>(std::move(handler), outcome<T>{self->take_cancel_request()});
        self->take_cancel_request();
      }
      if (state->done()) return post_resume<T>(std::move(handler), outcome_of<T>(*state));
      auto* n = new node<Handler>(std::move(handler), state);
      state->add_waiter(*n);
      connect_cancel(n->handler, *n);
    }
  };

  template <class Handler>
  static void stop_waiting(node<Handler>* n) {
    disconnect_cancel(n->handler, *n);
    std::unique_ptr<node<Handler>> owned(n);  // unlinks itself from the future
    post_resume<T>(std::move(owned->handler),
                   outcome<T>{std::make_exception_ptr(cancelled_error())});
  }

  ref<State> state_;
};

}  // namespace asyncio::detail
