#pragma once

#include <asyncio/detail/future_state.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <optional>

namespace asyncio::detail {

/// What an await of ours completes with: an error, or a value.
template <class T>
struct outcome {
  std::exception_ptr error;
  std::optional<T> value = std::nullopt;  // initialised, so that {error} does not warn

  bool has_value() const noexcept { return !error; }
  T get() && {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct outcome<void> {
  std::exception_ptr error;

  bool has_value() const noexcept { return !error; }
  void get() && {
    if (error) std::rethrow_exception(error);
  }
};

/// Tag for the completion signature `outcome_tag<T>(outcome<T>)` of every awaitable
/// operation of ours. Asio 1.81's coroutine handler for the natural `void(std::exception_ptr, T)`
/// does not compile (it tests `*result` on a struct; fixed in 1.82), so our operations complete
/// under this signature instead, whose handler (below) rethrows the error or returns the value.
template <class T>
struct outcome_tag {};

template <class T>
using outcome_signature = outcome_tag<T>(outcome<T>);

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

/// boost::asio::post(ex, f), but straight into the loop's ready queue when `ex` is a task's
/// executor and its loop runs on this thread: a wake-up then skips Asio's type-erased executor
/// layers and their allocation. Defined in task_executor.hpp, which needs the loop.
template <class Executor, class F>
void post_step(const Executor& ex, F f);

/// resume(), later: from inside another task's step, or from a foreign thread.
template <class T, class Handler>
void post_resume(Handler handler, outcome<T> result) {
  auto ex = boost::asio::get_associated_executor(handler);
  post_step(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
    resume<T>(handler, std::move(result));
  });
}

/// An await of ours begins: notes what the task waits on (print_tasks), and tells whether
/// the task was cancelled before it began, in which case it must not start its work
/// (Python's __step delivers the cancellation at once).
inline bool begin_await(const char* what, future_state_base* on = nullptr,
                        future_state_base* fut_waiter = nullptr) noexcept {
  auto* task = current_task_state();
  if (!task) return false;
  task->set_awaiting(what, on, fut_waiter);
  return task->must_cancel();
}

}  // namespace asyncio::detail

namespace boost::asio::detail {

template <typename T, typename Executor>
class awaitable_async_op_handler<asyncio::detail::outcome_signature<T>, Executor>
    : public awaitable_thread<Executor> {
public:
  typedef asyncio::detail::outcome<T>* result_type;

  awaitable_async_op_handler(awaitable_thread<Executor>* h, result_type& result)
      : awaitable_thread<Executor>(std::move(*h)), result_(result) {}

  void operator()(asyncio::detail::outcome<T> result) {
    result_ = &result;
    this->entry_point()->top_of_stack_->attach_thread(this);
    this->entry_point()->top_of_stack_->clear_cancellation_slot();
    this->pump();
  }

  static T resume(result_type& result) { return std::move(*result).get(); }

private:
  result_type& result_;
};

}  // namespace boost::asio::detail
