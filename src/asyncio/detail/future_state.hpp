#pragma once

#include <asyncio/errors.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/intrusive_ptr.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace asyncio {
class event_loop;
}

namespace asyncio {

/// Names a callback that add_done_callback() added, for remove_done_callback() (Python names
/// it by the function, which a std::function cannot be compared by).
enum class done_callback : std::uint64_t {};

}  // namespace asyncio

namespace asyncio::detail {

class future_state_base;

using auto_unlink = boost::intrusive::link_mode<boost::intrusive::auto_unlink>;

/// One party waiting for a future to be done: an awaiting coroutine, a gather, a done callback.
/// Intrusive, so waiting allocates nothing beyond what the waiter already is; unlinks itself
/// when destroyed, so a waiter that gives up (an early gather) needs no bookkeeping.
struct waiter : boost::intrusive::list_base_hook<auto_unlink> {
  /// Called once when the future is done, or with null when it is destroyed unfinished.
  void (*on_done)(waiter& self, future_state_base* done) = nullptr;
};

enum class status : std::uint8_t { pending, finished, cancelled };

class task_state_base;

/// How a wait of ours hears that its task is cancelled, when it waits directly in the task's
/// coroutine stack (see connect_cancel): kept in the wait's own node, so nothing is allocated
/// and nothing is left for Asio to clear.
struct cancel_hook {
  void (*fire)(cancel_hook& self) = nullptr;
  task_state_base* task = nullptr;  // the task it was hooked to, if any
};

/// The state behind asyncio.Future, shared by the future<T> and task<T> handles. Everything
/// in it but the reference count is used from the loop's thread only. The count is atomic
/// because a task's executor holds a reference, and Asio code copies executors anywhere: a
/// thread handed `co_await this_coro::executor` may post to it, during the task or after.
class future_state_base {
public:
  explicit future_state_base(event_loop& loop) noexcept : loop_(&loop) {}
  future_state_base(const future_state_base&) = delete;
  future_state_base& operator=(const future_state_base&) = delete;
  virtual ~future_state_base();

  event_loop& loop() const noexcept { return *loop_; }
  bool done() const noexcept { return status_ != status::pending; }
  bool cancelled() const noexcept { return status_ == status::cancelled; }
  /// Done with an exception, cancellation included (without marking it retrieved).
  bool failed() const noexcept { return status_ != status::pending && error_; }

  /// Future.cancel(msg). A task overrides it: there, cancelling is a request to the coroutine.
  virtual bool cancel(std::string message);
  /// Future.set_result() for a value-less future; invalid_state_error if already done.
  void set_result() {
    check_pending();
    finish(status::finished, nullptr);
  }
  /// Future.set_exception(e); invalid_state_error if already done.
  void set_exception(std::exception_ptr error);
  /// Future.exception(): the error or null; throws if cancelled or still pending.
  std::exception_ptr exception();
  /// Throws what Future.result() would throw (its error, cancelled_error, invalid_state_error).
  void rethrow_if_error();
  /// The error of a done future, for whoever awaited it; null on success.
  std::exception_ptr take_error() noexcept {
    retrieved_ = true;
    return error_;
  }
  /// The error moved out, for a reader that is the state's last (run_on's, which hands it to
  /// another thread: the exception object then lives on that thread alone, as libstdc++'s
  /// uninstrumented reference count would otherwise look racy to TSan).
  std::exception_ptr release_error() noexcept {
    retrieved_ = true;
    return std::move(error_);
  }
  /// Someone else answers for this error (gather's children, as in Python): never log it.
  void mark_retrieved() noexcept { retrieved_ = true; }

  void add_waiter(waiter& w) noexcept { waiters_.push_back(w); }
  /// Future.add_done_callback(fn): fn is scheduled with call_soon once the future is done.
  done_callback add_done_callback(std::function<void(future_state_base&)> fn);
  /// Future.remove_done_callback: takes `cb` back if it is not scheduled yet (1), else 0.
  std::size_t remove_done_callback(done_callback cb) noexcept;

  friend void intrusive_ptr_add_ref(future_state_base* p) noexcept {
    p->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(future_state_base* p) noexcept {
    if (p->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p;
  }

protected:
  /// Sets the outcome and wakes every waiter, in the order they came. `held`: the caller holds
  /// a reference until it returns (a task's entry frame does), so no waiter can drop the last
  /// one; else finish holds one itself (an atomic add, which waits for every store before it).
  void finish(status s, std::exception_ptr error, bool held = false);
  void check_pending() const;
  bool unretrieved_error() const noexcept {
    return status_ == status::finished && error_ && !retrieved_;
  }
  std::exception_ptr error() const noexcept { return error_; }

private:
  using waiter_list = boost::intrusive::list<waiter, boost::intrusive::constant_time_size<false>>;

  event_loop* loop_;
  std::exception_ptr error_;
  waiter_list waiters_;
  std::atomic<std::uint32_t> refs_ = 0;
  status status_ = status::pending;
  bool retrieved_ = false;
};

template <class T>
using ref = boost::intrusive_ptr<T>;

/// Adds the result value to a state. Set before finish(); read after.
template <class T, class Base>
class with_value : public Base {
public:
  using Base::Base;
  void set_value(T value) { value_.emplace(std::move(value)); }
  /// Future.set_result(v); invalid_state_error if already done.
  void set_result(T value) {
    this->check_pending();
    set_value(std::move(value));
    this->finish(status::finished, nullptr);
  }
  /// Copied for each reader when T can be copied; moved out to the first reader otherwise, and
  /// then invalid_state_error("result already taken") for any later one (Python hands every
  /// reader the same object, which a move-only value cannot be).
  T get_value() {
    if constexpr (std::is_copy_constructible_v<T>) {
      return *value_;
    } else {
      if (taken_) throw invalid_state_error("result already taken");
      taken_ = true;
      return std::move(*value_);
    }
  }

private:
  std::optional<T> value_;
  bool taken_ = false;
};

/// A future driven by a coroutine: asyncio.Task.
class task_state_base : public future_state_base {
public:
  task_state_base(event_loop& loop, std::string name);
  ~task_state_base() override;

  /// Task.cancel(msg): a request. As in Python, the future or task the coroutine awaits takes
  /// it if it can (the coroutine then gets whatever that one ends with); otherwise the coroutine
  /// sees it as it resumes, or at its next await. A request on its way keeps its message.
  bool cancel(std::string message) override;
  std::string get_name() const;
  void set_name(std::string name);
  std::uint64_t id() const noexcept { return id_; }
  /// The cancellation state of the task's coroutine stack. What co_spawn would allocate in a
  /// parent slot's memory is built inside the task: an allocation less. Called once, as the
  /// task is launched, before cancellation_slot().
  boost::asio::cancellation_state coroutine_cancellation_state() noexcept;
  /// That state's slot: where the stack's raw Asio operations listen, and the parent slot
  /// that this_coro::reset_cancellation_state builds a new state in.
  boost::asio::cancellation_slot cancellation_slot() const noexcept {
    return stack_signal_->slot();
  }
  /// True if `slot` is cancellation_slot(): a wait of ours resumed through it hooks itself to
  /// the task instead (connect_cancel).
  bool owns(const boost::asio::cancellation_slot& slot) const noexcept {
    return stack_signal_ && slot == stack_signal_->slot();
  }
  /// The wait of ours the coroutine is suspended in hears of cancel() through `h`.
  void hook_cancel(cancel_hook& h) noexcept {
    cancel_hook_ = &h;
    h.task = this;
  }
  /// `h` hears no more; it keeps its task (a waiter's node needs it to be resumed).
  void unhook_cancel(cancel_hook& h) noexcept {
    if (cancel_hook_ == &h) cancel_hook_ = nullptr;
  }

  /// Task.cancelling(): cancel requests not yet taken back by uncancel().
  std::uint32_t cancelling() const noexcept { return cancel_requests_; }
  /// Task.uncancel(): takes one request back; at zero, an undelivered one is dropped (3.13).
  std::uint32_t uncancel() noexcept {
    if (cancel_requests_ > 0 && --cancel_requests_ == 0) cancel_request_ = nullptr;
    return cancel_requests_;
  }
  /// Python's Task._must_cancel: a cancel request not yet delivered to the coroutine.
  bool must_cancel() const noexcept { return cancel_request_ != nullptr; }
  /// Delivers the pending request: clears it and returns the cancelled_error to throw.
  std::exception_ptr take_cancel_request() noexcept {
    return std::exchange(cancel_request_, nullptr);
  }
  /// The message of the pending request ("" if none), for what the request is passed on to.
  std::string cancel_message() const;
  /// After each step of the task: a cancel request still undelivered while the coroutine waits
  /// in a raw Asio operation goes to that operation now (ours take it as they resume). So a
  /// cancel that arrived while the task was already scheduled to resume is never lost.
  void after_step() {
    if (cancel_request_ && !awaiting_ && !done()) emit_cancel();
  }

  /// The entry frame's memory has gone back: its reference to the task goes too, but only
  /// after the step running now if that is one of this task's (the coroutine ended in it). So
  /// a task lives until the end of each of its steps, and no step needs a reference of its
  /// own (an atomic add and subtract, each waiting for every store before it).
  void drop_frame_reference() noexcept;
  /// After the outermost of the task's steps running now: the frame's reference, if it went.
  void end_step() noexcept {
    if (frame_gone_) {
      frame_gone_ = false;
      intrusive_ptr_release(this);
    }
  }
  /// The coroutine has ended, with its value already set, or with `error`. Called from the
  /// task's entry frame, which holds a reference to the task.
  void finish_run(std::exception_ptr error);

  /// What the coroutine is suspended on, for print_tasks(): "sleep", "task", ... and the
  /// future or task, if it is one. Set by our awaits as they start, cleared as they resume.
  /// Unless `shielded`, cancel() passes requests to `on` (Python's Task._fut_waiter).
  void set_awaiting(const char* what, future_state_base* on, bool shielded = false) noexcept {
    awaiting_ = what;
    awaiting_on_ = on;
    shielded_ = shielded;
  }
  const char* awaiting() const noexcept { return awaiting_; }
  future_state_base* awaiting_on() const noexcept { return awaiting_on_; }

  /// Memory in the task for one ready-queue entry that resumes it: a suspended task waits for
  /// one thing at a time, so the room spares the usual wake-up its allocation. Null when taken
  /// or too small: the caller allocates elsewhere. Loop thread only.
  void* take_room(std::size_t size, std::size_t align) noexcept {
    if (room_taken_ || size > sizeof(room_) || align > alignof(std::max_align_t)) return nullptr;
    room_taken_ = true;
    return room_;
  }
  /// Gives `p` back if it is the room; false if it is not.
  bool give_back_room(void* p) noexcept {
    if (p != room_) return false;
    room_taken_ = false;
    return true;
  }

  /// The loop's list of pending tasks (all_tasks()); a finished task unlinks itself.
  boost::intrusive::list_member_hook<auto_unlink> pending_hook;

private:
  struct inline_slot;
  /// Wakes the wait the coroutine is suspended in, if any: one of ours through its hook, a
  /// raw Asio operation through the stack's cancellation state.
  void emit_cancel() {
    if (cancel_hook_) return cancel_hook_->fire(*cancel_hook_);
    if (stack_signal_) stack_state_call_.load(std::memory_order_relaxed)(stack_state_, false);
  }

  // The coroutine stack's cancellation state (Asio's private type, so kept as bytes), and its
  // signal once it is built; what calls such a state with a terminal cancellation (false) or
  // destroys it (true), the same for every task.
  alignas(void*) unsigned char stack_state_[16];
  boost::asio::cancellation_signal* stack_signal_ = nullptr;
  static std::atomic<void (*)(void*, bool destroy)> stack_state_call_;
  cancel_hook* cancel_hook_ = nullptr;
  std::unique_ptr<std::string> name_;  // "Task-<id>" unless named: most tasks never pay for one
  std::exception_ptr cancel_request_;
  const char* awaiting_ = nullptr;
  future_state_base* awaiting_on_ = nullptr;
  std::uint64_t id_;
  std::uint32_t cancel_requests_ = 0;
  bool shielded_ = false;  // see set_awaiting()
  bool room_taken_ = false;
  bool frame_gone_ = false;                           // see drop_frame_reference()
  alignas(std::max_align_t) unsigned char room_[96];  // a sleep's node, or a step
};

template <class T>
using future_state =
    std::conditional_t<std::is_void_v<T>, future_state_base, with_value<T, future_state_base>>;
template <class T>
using task_state =
    std::conditional_t<std::is_void_v<T>, task_state_base, with_value<T, task_state_base>>;

/// The task whose coroutine runs on this thread now (asyncio.current_task()), or null. In the
/// header, constant-initialized: every await reads it, so it is a plain load, not a call.
inline constinit thread_local task_state_base* this_thread_task = nullptr;
inline task_state_base* current_task_state() noexcept { return this_thread_task; }

inline void task_state_base::drop_frame_reference() noexcept {
  if (this_thread_task == this)
    frame_gone_ = true;
  else
    intrusive_ptr_release(this);
}

/// Makes `task` the current one for a scope; the task's executor wraps every handler in one.
class current_task_scope {
public:
  explicit current_task_scope(task_state_base* task) noexcept : previous_(this_thread_task) {
    this_thread_task = task;
  }
  ~current_task_scope() { this_thread_task = previous_; }
  current_task_scope(const current_task_scope&) = delete;
  current_task_scope& operator=(const current_task_scope&) = delete;

private:
  task_state_base* previous_;
};

}  // namespace asyncio::detail
