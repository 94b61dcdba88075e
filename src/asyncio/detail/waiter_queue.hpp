#pragma once

#include <asyncio/detail/loop_hooks.hpp>
#include <asyncio/detail/operation.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/intrusive/list.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <thread>

namespace asyncio::detail {

/// One coroutine waiting in a primitive's queue: the Future in Python's deque of waiters.
/// It lives in the waiting coroutine's frame, and so does the parked handler, and a wake-up
/// queues the node itself in the loop's ready queue: waiting and waking allocate nothing. As
/// in Python, a woken waiter stays queued (done) until it runs and leaves, which keeps FIFO
/// order honest.
class wait_node : public boost::intrusive::list_base_hook<auto_unlink>, cancel_hook, ready_node {
public:
  wait_node() = default;
  wait_node(const wait_node&) = delete;
  wait_node& operator=(const wait_node&) = delete;

  /// Woken by the primitive (Python: `fut.done() and not fut.cancelled()`), even if the task
  /// was then cancelled before it ran: such a waiter must hand its wake-up on.
  bool woken() const noexcept { return state_ == state::woken; }
  bool cancelled() const noexcept { return state_ == state::cancelled; }
  bool done() const noexcept { return state_ != state::waiting; }

private:
  friend class waiter_queue;
  enum class state : std::uint8_t { waiting, woken, cancelled };

  /// Schedules the parked handler's resumption, woken or cancelled as state_ says.
  void (*resume_)(wait_node&) = nullptr;
  // The parked handler if it fits (a coroutine's does, and primitive_wait's, which adds a
  // pointer to it), else a pointer to it. Its task, when it resumes a task's stack, is the one
  // cancel_hook::task names.
  alignas(void*) unsigned char room_[3 * sizeof(void*)];
  state state_ = state::waiting;
};

/// The waiters of a primitive, oldest first. `co_await q.wait(node)` parks the awaiting
/// coroutine until wake(); cancelling the task resumes it at once. The node leaves the queue
/// as its coroutine resumes (Python's `finally: waiters.remove(fut)`).
/// A wake-up is one entry in the ready queue (a post for an awaiter that is not a task's).
class waiter_queue {
public:
  /// `what` names the wait in print_tasks() ("lock", "queue.get", ...).
  explicit waiter_queue(const char* what) noexcept : what_(what) {}
  waiter_queue(const waiter_queue&) = delete;
  waiter_queue& operator=(const waiter_queue&) = delete;

  /// Gives the error that ended the wait (cancelled_error), or null when woken. Not thrown:
  /// the caller must look at its node before rethrowing, and C++ cannot co_await in a catch
  /// block, so a throwing wait would cost every waiter a try/catch frame of its own.
  class wait_op {
    using signature = outcome_signature<std::exception_ptr>;

  public:
    template <boost::asio::completion_token_for<signature> Token>
    auto operator()(Token&& token) && {
      return boost::asio::async_initiate<Token, signature>(initiate{}, token, queue_, node_);
    }

  private:
    friend class waiter_queue;
    wait_op(waiter_queue* q, wait_node* n) noexcept : queue_(q), node_(n) {}
    waiter_queue* queue_;
    wait_node* node_;
  };

  /// Parks the awaiting coroutine in `node` (which must outlive the wait) at the back.
  [[nodiscard]] wait_op wait(wait_node& node) {
    if (nodes_.empty())
      owner_ = debug_owner();  // idle, it may change loops (one at a time)
    else
      check_thread();
    return {this, &node};
  }

  /// Wakes up to n waiters that still wait, oldest first; how many it woke.
  std::size_t wake(std::size_t n) {
    check_thread();
    std::size_t woken = 0;
    for (auto it = nodes_.begin(); it != nodes_.end() && woken < n;) {
      wait_node& node = *it++;  // resuming is a post: the list stays as it is meanwhile
      if (node.done()) continue;
      node.state_ = wait_node::state::woken;
      node.resume_(node);
      ++woken;
    }
    return woken;
  }
  /// Wakes the oldest waiter if it still waits: a lock's handoff, never two at once.
  void wake_first() {
    if (!nodes_.empty() && !nodes_.front().done()) wake(1);
  }
  /// Wakes every waiter that still waits.
  std::size_t wake_all() { return wake(static_cast<std::size_t>(-1)); }
  /// True if some queued waiter has not been cancelled (Python: `any(not w.cancelled())`).
  bool any_waiting() const noexcept { return !nodes_.empty(); }

  /// Debug mode: a primitive with waiters is bound to their loop's thread (Python binds it to
  /// the loop of its first waiter); any other thread touching it gets an error, not a race.
  /// wait() and wake() check; a primitive calls it first where it changes more than waiters.
  void check_thread() const {
    if (owner_ != std::thread::id{} && !nodes_.empty() && owner_ != std::this_thread::get_id())
      throw_wrong_thread(what_);
  }

private:
  using list = boost::intrusive::list<wait_node, boost::intrusive::constant_time_size<false>>;

  template <class Handler>
  using allocator = boost::asio::recycling_allocator<Handler>;

  template <class Handler>
  static constexpr bool fits = sizeof(Handler) <= sizeof(wait_node::room_) &&
                               alignof(Handler) <= alignof(void*);

  template <class Handler>
  static Handler& park(wait_node& node, Handler handler) {
    if constexpr (fits<Handler>) {
      return *::new (static_cast<void*>(node.room_)) Handler(std::move(handler));
    } else {
      Handler* parked = allocator<Handler>().allocate(1);
      ::new (static_cast<void*>(parked)) Handler(std::move(handler));
      return **::new (static_cast<void*>(node.room_)) Handler*(parked);
    }
  }

  template <class Handler>
  static Handler& parked(wait_node& node) {
    if constexpr (fits<Handler>)
      return *std::launder(reinterpret_cast<Handler*>(node.room_));
    else
      return **std::launder(reinterpret_cast<Handler**>(node.room_));
  }

  template <class Handler>
  static Handler unpark(wait_node& node) {
    Handler& h = parked<Handler>(node);
    Handler handler = std::move(h);
    std::destroy_at(&h);
    if constexpr (!fits<Handler>) allocator<Handler>().deallocate(&h, 1);
    return handler;
  }

  static task_state_base* task_of(wait_node& node) noexcept {
    return static_cast<cancel_hook&>(node).task;
  }

  template <class Handler>
  static void resume(wait_node& node) {
    // Through the slot, this destroys a running fire_hook: after it, nothing of it is touched.
    disconnect_cancel(parked<Handler>(node), node);
    if (auto* task = task_of(node)) return schedule(task->loop(), node);  // step() runs it
    auto handler = unpark<Handler>(node);
    auto ex = boost::asio::get_associated_executor(handler);
    post_step(ex, [&node, handler = std::move(handler)]() mutable { deliver(node, handler); });
  }

  // The node's turn in the ready queue: a step of its task.
  template <class Handler>
  static void step(ready_node& entry, bool run) {
    auto& node = static_cast<wait_node&>(entry);
    auto* task = task_of(node);
    auto handler = unpark<Handler>(node);
    if (!run) return;  // the loop goes away: the handler takes the node's frame with it
    auto resume = [&node, &handler] { deliver(node, handler); };
    run_step(*task, resume);
  }

  // The wait's end as its value, never as its error: `cancel` is the request that ended it if
  // that was taken already; a newer one wins, as in Python's Task.__step.
  template <class Handler>
  static void deliver(wait_node& node, Handler& handler, std::exception_ptr cancel = nullptr) {
    node.unlink();  // woken waiters stay queued (done) until they run, as in Python
    if (auto newer = take_pending_cancel())
      cancel = std::move(newer);
    else if (!cancel && node.cancelled())
      cancel = std::make_exception_ptr(cancelled_error());
    std::move(handler)(outcome<std::exception_ptr>{nullptr, std::move(cancel)});
  }

  static void cancel(cancel_hook& hook) {
    auto* node = static_cast<wait_node*>(&hook);
    if (node->done()) return;
    node->state_ = wait_node::state::cancelled;
    node->unlink();  // a cancelled waiter is ignored from now on, as Python ignores it
    node->resume_(*node);
  }

  struct initiate {
    template <class Handler>
    void operator()(Handler handler, waiter_queue* queue, wait_node* node) const {
      if (begin_await(queue->what_)) {  // cancelled before it began
        node->state_ = wait_node::state::cancelled;
        auto ex = boost::asio::get_associated_executor(handler);
        return post_step(ex, [node, handler = std::move(handler),
                              cancel = current_task_state()->take_cancel_request()]() mutable {
          deliver(*node, handler, std::move(cancel));
        });
      }
      auto& h = park(*node, std::move(handler));
      node->resume_ = &waiter_queue::resume<Handler>;
      node->ready_node::fire = &waiter_queue::step<Handler>;
      node->cancel_hook::fire = &waiter_queue::cancel;
      node->state_ = wait_node::state::waiting;
      queue->nodes_.push_back(*node);
      connect_cancel(h, *node);
    }
  };

  list nodes_;
  const char* what_;
  std::thread::id owner_;  // see check_thread()
};

/// The await of a primitive (a lock's acquire, a queue's get, ...) that waits in its
/// waiter_queue only when it must. It is a ready_operation: when Kind says it is ready, the
/// awaiter goes on without suspending, as Python's, which does not await then. Else it waits
/// in a node of its own (it lives in the awaiting frame), and as it runs after each wake-up,
/// Kind's after_wait(node, error, result) sets its outcome, or returns false to wait again
/// (someone was first: it goes to the back, as in Python's loops). Moved only before it is
/// awaited.
template <class Kind>
class primitive_wait {
public:
  using value_type = typename Kind::value_type;

  explicit primitive_wait(Kind kind) : kind_(std::move(kind)) {}
  primitive_wait(primitive_wait&& other) : kind_(std::move(other.kind_)) {}

  bool ready() const noexcept { return kind_.ready(); }
  value_type take() { return kind_.take(); }

  template <boost::asio::completion_token_for<outcome_signature<value_type>> Token>
  auto operator()(Token&& token) && {
    return boost::asio::async_initiate<Token, outcome_signature<value_type>>(
        [](auto handler, primitive_wait* self) { self->wait(std::move(handler)); }, token, this);
  }

private:
  // The awaiter's handler as the handler of each wait, with the same executor and slot.
  template <class Handler>
  struct retry {
    Handler handler;
    primitive_wait* self;

    using executor_type = boost::asio::associated_executor_t<Handler>;
    executor_type get_executor() const noexcept {
      return boost::asio::get_associated_executor(handler);
    }
    using cancellation_slot_type = boost::asio::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return boost::asio::get_associated_cancellation_slot(handler);
    }

    void operator()(outcome<std::exception_ptr> woken) {
      outcome<value_type> result;
      bool done = true;
      try {
        done = self->kind_.after_wait(self->node_, std::move(*woken.value), result);
      } catch (...) {
        result.error = std::current_exception();
      }
      if (!done) return self->wait(std::move(handler));
      std::move(handler)(std::move(result));
    }
  };

  template <class Handler>
  void wait(Handler handler) {
    kind_.waiters().wait(node_)(retry<Handler>{std::move(handler), this});
  }

  Kind kind_;
  wait_node node_;
};

}  // namespace asyncio::detail
