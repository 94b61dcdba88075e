#pragma once

#include <asyncio/future.hpp>
#include <asyncio/task.hpp>

#include <concepts>
#include <optional>
#include <vector>

namespace asyncio {

/// asyncio.TaskGroup (3.11): structured concurrency. The body creates children through the
/// group; leaving the group waits for all of them. When a child fails, the others and the
/// body are cancelled; the errors then reach the caller: one as itself, several as an
/// exception_group. Cancelling the caller cancels the group. No child outlives it.
///
/// Like timeout(), the group runs its body, rather than being an RAII object: on the way out
/// it must await its children and replace the exception in flight, which a destructor cannot.
/// @code
/// co_await asyncio::task_group::run([](asyncio::task_group& tg) -> asyncio::coroutine<void> {
///   tg.create_task(fetch(1));                   // async with asyncio.TaskGroup() as tg:
///   tg.create_task(fetch(2));                   //     tg.create_task(fetch(1)) ...
///   co_return;
/// });
/// @endcode
class task_group {
public:
  /// Runs `body(group)` in the current task, then waits for every child (see above).
  template <class F>
  requires std::invocable<F&, task_group&>
  [[nodiscard]] static auto run(F body)
      -> coroutine<typename std::invoke_result_t<F&, task_group&>::value_type>;

  /// TaskGroup.create_task(coro, name=): std::runtime_error once the group is shutting down
  /// (a child failed) or finished.
  template <class T>
  task<T> create_task(coroutine<T> coro, std::string name = {}) {
    check_open();
    return adopted(parent_.get_loop().create_task(std::move(coro), std::move(name)));
  }
  /// TaskGroup.create_task(coro, name=, eager_start=True) (3.14): the child's first step runs
  /// inside this call (see event_loop::create_task); one failing there stops the group as any.
  template <class T>
  task<T> create_task(coroutine<T> coro, std::string name, eager_start_t) {
    check_open();
    return adopted(parent_.get_loop().create_task(std::move(coro), std::move(name), eager_start));
  }

  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

private:
  template <class R, class F>
  static coroutine<R> run_body(F make_body);

  task_group();
  void check_open() const;
  void adopt(task<> child);
  template <class T>
  task<T> adopted(task<T> child) {
    adopt(child);
    return child;
  }
  void on_child_done(const task<>& child);
  void abort();
  /// Python's __aexit__: waits for the children, then throws what the group ended with.
  coroutine<void> exit(std::exception_ptr body_error);

  task<> parent_;
  std::vector<task<>> children_;  // not done yet
  std::vector<std::exception_ptr> errors_;
  std::optional<future<>> all_done_;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
};

template <class R, class F>
coroutine<R> task_group::run_body(F make_body) {
  task_group group;
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<R>, char, R>> value;
  try {
    auto body = make_body(group);
    if constexpr (std::is_void_v<R>)
      co_await std::move(body);
    else
      value.emplace(co_await std::move(body));
  } catch (...) {
    error = std::current_exception();
  }
  co_await group.exit(error);
  if constexpr (!std::is_void_v<R>) co_return std::move(*value);
}

template <class F>
requires std::invocable<F&, task_group&>
auto task_group::run(F body)
    -> coroutine<typename std::invoke_result_t<F&, task_group&>::value_type> {
  return run_body<typename std::invoke_result_t<F&, task_group&>::value_type>(std::move(body));
}

}  // namespace asyncio
