#pragma once

#include <asyncio/coroutine.hpp>
#include <asyncio/detail/future_state.hpp>
#include <asyncio/detail/loop_hooks.hpp>
#include <asyncio/detail/ready_queue.hpp>
#include <asyncio/detail/timer_heap.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/intrusive/list.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asyncio {

template <class T>
class task;
template <class T>
class future;

/// create_task(..., eager_start) asks for Python's eager_start=True (3.14; 3.12's
/// eager_task_factory): see event_loop::create_task.
struct eager_start_t {
  explicit eager_start_t() = default;
};
inline constexpr eager_start_t eager_start{};

/// What loop.call_exception_handler(context) is given: Python's context dict, with the keys
/// that apply here.
struct exception_context {
  std::string message;           ///< always there
  std::exception_ptr exception;  ///< the error, if there is one
  std::string task;              ///< the name of the task concerned, if any
};

/// loop.set_exception_handler(handler)'s handler: called as handler(loop, context).
using exception_handler = std::function<void(event_loop&, const exception_context&)>;

/// asyncio.Handle / TimerHandle: a callback scheduled with call_soon / call_later / call_at.
class handle {
public:
  handle() = default;
  /// Handle.cancel(): the callback will not run (no effect once it has run).
  void cancel() noexcept;
  bool cancelled() const noexcept;

private:
  friend class event_loop;
  struct state;
  explicit handle(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

/// asyncio's event loop: owns one io_context, run by one thread.
///
/// Everything bound to a loop (tasks, futures, timers) is used from the thread running it;
/// other threads reach it through call_soon_threadsafe and run_coroutine_threadsafe.
class event_loop {
public:
  using executor_type = boost::asio::io_context::executor_type;
  using clock = std::chrono::steady_clock;

  event_loop();
  /// Tasks still pending are reported ("Task was destroyed but it is pending!"), cancelled and
  /// given the chance to unwind, so that nothing they own outlives the loop.
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// loop.run_until_complete(coro): runs it as a task until it is done; returns or rethrows.
  template <class T>
  T run_until_complete(coroutine<T> coro);
  template <class T>
  T run_until_complete(task<T> t);
  /// loop.run_forever(): runs until stop().
  void run_forever();
  /// loop.stop(): run_forever returns soon (at once if called before it).
  void stop();
  /// loop.close(): the loop can no longer run; pending callbacks are dropped with it.
  void close();
  /// loop.is_running(): true while run_forever / run_until_complete runs it, seen from any thread.
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }
  /// loop.set_debug() / get_debug(): debug mode, also on when ASYNCIO_DEBUG is set (and not
  /// "0"). It warns through spdlog when one step of a task or callback runs longer than
  /// slow_callback_duration (100 ms by default), naming the task.
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  bool get_debug() const noexcept { return debug_; }
  void set_slow_callback_duration(clock::duration d) noexcept { slow_callback_duration_ = d; }
  clock::duration slow_callback_duration() const noexcept { return slow_callback_duration_; }

  /// loop.time(): the loop's clock, which call_at and timers use.
  clock::time_point time() const noexcept { return clock::now(); }

  /// loop.set_exception_handler(h): h(loop, context) gets what has nowhere else to go: an
  /// exception in a callback or in a start_server callback, a task's or future's exception
  /// never retrieved, a task destroyed pending, a failed accept(). Empty: the default again.
  void set_exception_handler(exception_handler h) { exception_handler_ = std::move(h); }
  /// loop.get_exception_handler(): the handler set; empty for the default.
  const exception_handler& get_exception_handler() const noexcept { return exception_handler_; }
  /// loop.call_exception_handler(context): the handler set, else the default one. A handler
  /// that throws is reported by the default one, with the context it was given.
  void call_exception_handler(const exception_context& context) noexcept;
  /// loop.default_exception_handler(context): logs "message: task: exception" as an error.
  static void default_exception_handler(const exception_context& context) noexcept;

  /// loop.call_soon(fn): callbacks run in the order scheduled.
  handle call_soon(std::function<void()> fn);
  /// loop.call_later(delay, fn)
  handle call_later(clock::duration delay, std::function<void()> fn);
  /// loop.call_at(when, fn)
  handle call_at(clock::time_point when, std::function<void()> fn);
  /// loop.call_soon_threadsafe(fn): the only call other threads may make on a loop.
  void call_soon_threadsafe(std::function<void()> fn);

  /// loop.add_signal_handler(sig, fn): fn runs on the loop's thread, outside any task, once per
  /// delivered signal (scheduled as call_soon schedules); a second call for sig replaces fn.
  /// std::invalid_argument for a number that is no signal, std::runtime_error for a signal
  /// that cannot be caught (SIGKILL, SIGSTOP), as Python's ValueError and RuntimeError.
  void add_signal_handler(int sig, std::function<void()> fn);
  /// loop.remove_signal_handler(sig): false if none was set. The signal gets its default
  /// action back (SIGINT too: see README's differences). close() removes every handler.
  bool remove_signal_handler(int sig);

  /// loop.create_task(coro, name=): schedules coro; it starts once the caller yields.
  template <class T>
  task<T> create_task(coroutine<T> coro, std::string name = {});
  /// loop.create_task(coro, name=, eager_start=True): on the running loop, the first step runs
  /// now, inside this call, as the new task (current_task()), up to the coroutine's first
  /// suspension; one that ends there is done when this returns, never scheduled. On a loop not
  /// running now on this thread it is scheduled, as without eager_start.
  template <class T>
  task<T> create_task(coroutine<T> coro, std::string name, eager_start_t);
  /// loop.create_future()
  template <class T = void>
  future<T> create_future();

  executor_type get_executor() noexcept { return context_.get_executor(); }
  /// The io_context, for raw Asio objects bound to this loop.
  boost::asio::io_context& context() noexcept { return context_; }
  /// The pool behind to_thread (Python's default executor), started on first use.
  boost::asio::thread_pool& default_executor();

  /// Tasks of this loop not done yet, in creation order (asyncio.all_tasks()).
  std::vector<task<void>> all_tasks();

private:
  // The machinery the library reaches through detail/loop_hooks.hpp.
  friend void detail::schedule(event_loop&, detail::ready_node&);
  friend void detail::run_then_ready(event_loop&, void (*)(void*), void*);
  friend bool detail::schedule_threadsafe_later(event_loop&, detail::ready_node&);
  friend void detail::post_inbox(event_loop&);
  friend bool detail::unschedule_threadsafe(event_loop&, detail::ready_node&) noexcept;
  friend void detail::add_timer(event_loop&, detail::timer_entry&);
  friend void detail::cancel_timer(event_loop&, detail::timer_entry&) noexcept;
  friend void detail::register_task(event_loop&, detail::task_state_base&) noexcept;
  friend std::uint32_t detail::trace_id(const event_loop&) noexcept;
  friend bool detail::instrumented(const event_loop&) noexcept;
  friend bool detail::has_signal_handler(const event_loop&, int) noexcept;

  /// Queues `n` to run after every entry queued before it (CPython's loop._ready); from the
  /// loop's thread only. Task steps, call_soon and done callbacks all come this way.
  void schedule(detail::ready_node& n);
  void add_timer(detail::timer_entry& e);
  bool instrumented() const noexcept { return debug_ || trace_id_ != 0; }
  /// Runs the ready queue until it is empty or the budget is spent, then lets the reactor
  /// (I/O, timers, other threads' posts) have its turn.
  void run_ready();
  void post_run_ready();
  /// Fires what other threads queued (schedule_threadsafe), then runs the ready queue.
  void run_inbox();
  /// The one Asio timer, set for the earliest deadline of the heap.
  void arm_alarm(clock::time_point when);
  void on_alarm();
  /// Moves the timers due by now to the ready queue, in deadline order.
  void expire_due_timers();
  void check_open() const;
  // By reference: each parameter by value is one more move and destruction per task (W1).
  template <class T>
  task<T> start_task(coroutine<T>&& coro, std::string&& name, bool now);
  /// Cancels and unwinds the tasks left pending at destruction; false if there were none.
  bool cancel_pending();
  void check_not_running() const;
  struct signal_entry;
  void wait_for_signal(signal_entry& e);
  using pending_list = boost::intrusive::list<
      detail::task_state_base,
      boost::intrusive::member_hook<detail::task_state_base,
                                    boost::intrusive::list_member_hook<detail::auto_unlink>,
                                    &detail::task_state_base::pending_hook>,
      boost::intrusive::constant_time_size<false>>;

  // Destroyed after the io_context, whose pending handlers own the tasks that unlink from it.
  pending_list pending_;
  detail::ready_queue ready_;
  detail::timer_heap timers_;
  boost::asio::io_context context_{1};  // one thread runs it: no locking for its own handlers
  boost::asio::steady_timer alarm_{context_};
  // Other threads' entries (schedule_threadsafe); destroyed before the io_context, so before
  // the coroutine frames its handlers own, in which the entries live.
  detail::inbox inbox_;
  std::atomic<int> inbox_posts_owed_ = 0;  // schedule_threadsafe_later()s not posted yet
  std::map<int, std::unique_ptr<signal_entry>> signal_handlers_;  // uses the io_context
  std::optional<clock::time_point> alarm_at_;                     // set while the alarm waits
  std::optional<boost::asio::thread_pool> pool_;
  std::atomic<bool> running_ = false;
  bool debug_;
  std::uint32_t trace_id_ = 0;
  clock::duration slow_callback_duration_ = std::chrono::milliseconds(100);
  exception_handler exception_handler_;
  bool closed_ = false;
  bool stopping_ = false;        // stop() before run_forever(): run one round
  bool stop_requested_ = false;  // stop() while running: the ready queue yields at once
  bool run_ready_posted_ = false;
  bool disposing_ = false;  // the destructor: entries go to the io_context, which destroys them
};

/// asyncio.get_running_loop(): the loop running on this thread; std::runtime_error if none.
event_loop& get_running_loop();

namespace detail {

/// An error with nowhere else to go, found where the loop may not run (a future's destructor):
/// to loop.call_exception_handler() while the loop runs on this thread (its close() included),
/// else to the default handler, as the loop may be gone.
void report_error(event_loop& loop, const exception_context& context) noexcept;

/// f() on `loop`, from any thread (call_soon_threadsafe's way, without its std::function):
/// what f wakes there runs in the same pass (run_then_ready).
template <class F>
void post_threadsafe(event_loop& loop, F f) {
  boost::asio::post(loop.context(), [&loop, f = std::move(f)]() mutable {
    run_then_ready(
        loop, [](void* p) { (*static_cast<F*>(p))(); }, &f);
  });
}

}  // namespace detail

}  // namespace asyncio

// The definitions of create_future, create_task and run_until_complete: they need future and
// task, which need the loop declared above, so they come last.
#include <asyncio/future.hpp>
#include <asyncio/task.hpp>
