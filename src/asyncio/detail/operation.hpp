#pragma once

#include <asyncio/detail/asio_internals.hpp>
#include <asyncio/detail/future_state.hpp>
#include <asyncio/detail/task_executor.hpp>  // post_step
#include <asyncio/outcome.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace asyncio::detail {

/// Tag for the completion signature `outcome_tag<T>(outcome<T>)` of every awaitable
/// operation of ours, whose coroutine handler (asio_internals.hpp) rethrows the error or
/// returns the value.
template <class T>
struct outcome_tag {};

/// The value type of one of our awaitable operations (sleep, ...).
template <class Signature>
struct outcome_value;
template <class T>
struct outcome_value<outcome_tag<T>(outcome<T>)> {
  using type = T;
};
template <class Op>
using operation_value_t =
    typename outcome_value<typename boost::asio::completion_signature_of<Op>::type>::type;

/// An operation of ours as a coroutine, for what takes coroutines (create_task, timeout).
template <class Op>
boost::asio::awaitable<operation_value_t<Op>> await_operation(Op op) {
  co_return co_await std::move(op);
}

/// As a task's coroutine is resumed: the cancel request that reached the task meanwhile, if
/// any, which wins over what the await produced, as in Python's Task.__step.
inline std::exception_ptr take_pending_cancel() noexcept {
  auto* task = current_task_state();
  if (!task) return nullptr;
  task->set_awaiting(nullptr, nullptr);
  return task->must_cancel() ? task->take_cancel_request() : nullptr;
}

/// A raw Asio operation a wrapper awaited (a socket's read, say) ended with operation_aborted
/// because its task was cancelled (a close under it is the caller's to tell apart first):
/// the task's own cancel request reaches the caller, message and all.
[[noreturn]] inline void throw_cancelled() {
  if (auto request = take_pending_cancel()) std::rethrow_exception(request);
  throw cancelled_error();
}

/// Resumes an awaiting coroutine, from the context of its own executor; a pending cancel
/// request makes the await throw cancelled_error.
template <class T, class Handler>
void resume(Handler& handler, outcome<T> result) {
  if (auto cancel = take_pending_cancel()) {
    result = {};
    result.error = std::move(cancel);
  }
  std::move(handler)(std::move(result));
}

/// The running task, if `handler` resumes its coroutine stack (the common case), else null.
template <class Handler>
task_state_base* resumed_task(const Handler& handler) noexcept {
  auto* task = current_task_state();
  return task && task->owns(boost::asio::get_associated_cancellation_slot(handler)) ? task
                                                                                    : nullptr;
}

/// post_step(handler's executor, f), f owning `handler` (so it is read before f moves).
/// A handler that resumes the running task's own stack has that task's executor: f is then
/// the task's next step without a copy of the executor and without a reference (the stack in
/// f keeps the task alive), whose atomic operations would each wait for every store before.
template <class Handler, class F>
void post_step_for(const Handler& handler, F&& f) {
  if constexpr (std::is_same_v<boost::asio::associated_executor_t<Handler>,
                               boost::asio::any_io_executor>)
    if (auto* task = resumed_task(handler)) return schedule_step(task, std::forward<F>(f));
  auto ex = boost::asio::get_associated_executor(handler);
  post_step(ex, std::forward<F>(f));
}

template <class T, class Handler>
struct resume_later {
  Handler handler;
  outcome<T> result;
  void operator()() { resume<T>(handler, std::move(result)); }
};

/// resume(), later: from inside another task's step, or from a foreign thread.
template <class T, class Handler>
void post_resume(Handler handler, outcome<T> result) {
  resume_later<T, Handler> later{std::move(handler), std::move(result)};
  post_step_for(later.handler, std::move(later));
}

/// Connects `hook` to the cancellation of the wait that `handler` resumes: through the awaiting
/// task itself when the handler resumes that task's coroutine stack (resumed_task), else
/// through the handler's slot (a composition's own, such as awaitable operators give).
template <class Handler>
void connect_cancel(Handler& handler, cancel_hook& hook) {
  if (auto* task = resumed_task(handler)) return task->hook_cancel(hook);
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  if (!slot.is_connected()) return;
  struct fire_hook {
    cancel_hook* hook;
    void operator()(boost::asio::cancellation_type_t) const { hook->fire(*hook); }
  };
  slot.template emplace<fire_hook>(&hook);
}

/// Undoes connect_cancel, before `handler` is resumed or destroyed. Through the slot, this
/// destroys a fire_hook that may be running: after it, the caller touches only locals.
template <class Handler>
void disconnect_cancel(Handler& handler, cancel_hook& hook) {
  if (hook.task) return hook.task->unhook_cancel(hook);
  boost::asio::get_associated_cancellation_slot(handler).clear();
}

/// An await of ours begins: notes what the task waits on (print_tasks), and tells whether
/// the task was cancelled before it began, in which case it must not start its work
/// (Python's __step delivers the cancellation at once).
inline bool begin_await(const char* what, future_state_base* on = nullptr,
                        bool shielded = false) noexcept {
  auto* task = current_task_state();
  if (!task) return false;
  task->set_awaiting(what, on, shielded);
  return task->must_cancel();
}

/// The prologue of an await of ours: begin_await(what), and if the task was cancelled before,
/// the awaiter resumes with that cancellation: true, and the operation must not start. (A wait
/// in a primitive's queue gives the error as its value, and an awaited task or future takes the
/// cancel over first: those two call begin_await themselves.)
template <class T, class Handler>
bool cancelled_before_start(Handler& handler, const char* what) {
  if (!begin_await(what)) return false;
  post_resume<T>(std::move(handler), outcome<T>{current_task_state()->take_cancel_request()});
  return true;
}

}  // namespace asyncio::detail
