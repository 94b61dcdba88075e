#pragma once

#include <asyncio/coroutine.hpp>
#include <asyncio/detail/operation.hpp>

#include <boost/asio/async_result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace asyncio::detail {

/// When a wait ends (wait.hpp names it return_when, as Python does).
enum class wait_until { first_completed, first_exception, all_completed };

/// Waits on many futures with one waiter each and one suspension for all, until `until` holds.
/// With gather's rules, cancelling the wait cancels every future and a failure is thrown at
/// once (the others keep running, as in Python). With wait()'s, a cancelled wait stops waiting
/// and leaves the futures alone.
class wait_op {
public:
  /// What a gather over a list does with each child that ends without failing, as it ends:
  /// its state is still in cache then, so taking the result and dropping the list's reference
  /// (the last one, often: the child's memory goes back at once) costs no pass over every
  /// child's memory at the end. An error it returns ends the wait.
  struct collector {
    std::exception_ptr (*take)(collector& self, std::size_t index) noexcept;
  };

  /// With gather's rules the wait also answers for every child's error: none is logged as
  /// never retrieved, as Python's gather retrieves each.
  struct rules {
    wait_until until;
    bool gather;
    collector* collect = nullptr;
  };

  wait_op(std::vector<future_state_base*> futures, rules r)
      : futures_(std::move(futures)), rules_(r) {}

  template <boost::asio::completion_token_for<outcome_signature<void>> Token>
  auto operator()(Token&& token) && {
    return boost::asio::async_initiate<Token, outcome_signature<void>>(initiate{}, token,
                                                                       std::move(futures_), rules_);
  }

private:
  template <class Handler>
  struct op;

  template <class Handler>
  struct child final : waiter {
    op<Handler>* parent = nullptr;
  };

  template <class Handler>
  struct op : cancel_hook {
    op(Handler h, std::vector<future_state_base*> fs, rules r)
        : handler(std::move(h)),
          futures(std::move(fs)),
          children(std::make_unique<child<Handler>[]>(futures.size())),
          how(r),
          task(current_task_state()) {
      fire = &on_cancel;
    }

    /// `cancelled`: the awaiting task was cancelled before it began; gather passes that on.
    void start(bool cancelled) {
      for (std::size_t i = 0; i < futures.size(); ++i) {
        auto* f = futures[i];
        if (f->done()) {
          if (ended(i, *f)) return;
          continue;
        }
        children[i].parent = this;
        children[i].on_done = &on_child;
        f->add_waiter(children[i]);
        ++remaining;
      }
      if (remaining == 0) return complete(nullptr);
      connect_cancel(handler, *this);
      if (cancelled) on_cancel(*this);
    }

    // FIRST_EXCEPTION waits for a future that raised, as Python's wait(); gather counts a
    // cancelled child as a failure too.
    bool satisfies(future_state_base& f) const noexcept {
      if (how.until == wait_until::first_completed) return true;
      return how.until == wait_until::first_exception && f.failed() &&
             (how.gather || !f.cancelled());
    }
    std::exception_ptr error_of(future_state_base& f) const noexcept {
      return how.gather && f.failed() ? f.take_error() : nullptr;
    }

    /// Child i is done: true if that ended the wait (`this` is gone then).
    bool ended(std::size_t i, future_state_base& f) {
      if (how.gather) f.mark_retrieved();
      if (satisfies(f)) {
        complete(error_of(f));
        return true;
      }
      if (!how.collect) return false;
      futures[i] = nullptr;  // the collector may drop the last reference to it
      if (auto error = how.collect->take(*how.collect, i)) {
        complete(std::move(error));
        return true;
      }
      return false;
    }

    static void on_child(waiter& w, future_state_base* f) {
      auto& c = static_cast<child<Handler>&>(w);
      auto* self = c.parent;
      if (f && self->ended(static_cast<std::size_t>(&c - self->children.get()), *f)) return;
      if (--self->remaining == 0) self->complete(nullptr);
    }

    void complete(std::exception_ptr error) {
      if (cancelling) {  // a plain future finishes inside cancel(): finish after the loop over them
        if (!done) done.emplace(std::move(error));
        return;
      }
      if (how.gather && error)  // ended early: the children still running are answered for too
        for (auto* f : futures)
          if (f) f->mark_retrieved();
      disconnect_cancel(handler, *this);
      std::unique_ptr<op> owned(this);  // its waiters unlink themselves
      post_resume<void>(std::move(handler), {std::move(error)});
    }

    static void on_cancel(cancel_hook& hook) {
      auto* o = static_cast<op*>(&hook);
      if (!o->how.gather) return o->complete(std::make_exception_ptr(cancelled_error()));
      o->cancelling = true;
      const std::string message = o->task ? o->task->cancel_message() : std::string();
      for (auto* f : o->futures)
        if (f) f->cancel(message);
      o->cancelling = false;
      if (o->done) o->complete(*o->done);
    }

    Handler handler;
    std::vector<future_state_base*> futures;
    std::unique_ptr<child<Handler>[]> children;
    std::size_t remaining = 0;
    rules how;
    task_state_base* task;  // the awaiting one, whose cancel message gather passes on
    bool cancelling = false;
    std::optional<std::exception_ptr> done;
  };

  struct initiate {
    template <class Handler>
    void operator()(Handler handler, std::vector<future_state_base*> futures, rules r) const {
      // Cancelled before it began: wait() ends at once; gather cancels its children first
      // and ends once they have (the request stays for the resumption to deliver).
      if (!r.gather && cancelled_before_start<void>(handler, "wait")) return;
      const bool cancelled = r.gather && begin_await("gather");
      (new op<Handler>(std::move(handler), std::move(futures), r))->start(cancelled);
    }
  };

  std::vector<future_state_base*> futures_;
  rules rules_;
};

/// The states of task or future handles (a list, or a tuple), for a wait over them.
template <class Handles>
std::vector<future_state_base*> states_of(const Handles& handles) {
  std::vector<future_state_base*> states;
  if constexpr (requires { handles.size(); }) {
    states.reserve(handles.size());
    for (auto& h : handles) states.push_back(h.state().get());
  } else {
    std::apply([&states](auto&... h) { (states.push_back(h.state().get()), ...); }, handles);
  }
  return states;
}

/// What every gather awaits: until the first failure, or with return_exceptions until all end.
inline wait_op gather_states(std::vector<future_state_base*> states, bool return_exceptions,
                             wait_op::collector* collect = nullptr) {
  return wait_op(
      std::move(states),
      {return_exceptions ? wait_until::all_completed : wait_until::first_exception, true, collect});
}

}  // namespace asyncio::detail
