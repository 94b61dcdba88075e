#pragma once

#include <asyncio/detail/future_state.hpp>
#include <asyncio/detail/loop_hooks.hpp>
#include <asyncio/detail/ready_queue.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/require.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace asyncio::detail {

/// One step of `task` (Python's Task.__step): f() with the task current, so that
/// current_task() and our awaits know which task runs. The task lives until the step's end,
/// even if its coroutine ends in it (task_state_base::drop_frame_reference).
template <class F>
void run_step(task_state_base& task, F& f) {
  const bool outermost = current_task_state() != &task;
  {
    current_task_scope scope(&task);
    if (!instrumented(task.loop()))
      std::move(f)();
    else
      run_instrumented_step(
          task.loop(), &task, [](void* f) { std::move (*static_cast<F*>(f))(); }, &f);
    task.after_step();
  }
  if (outermost) task.end_step();
}

/// A handler run as one step of its task. Task is a reference to it (queued, the step may be
/// all that keeps the task alive), or its address where f owns the task's coroutine stack,
/// which keeps it alive.
template <class F, class Task = ref<task_state_base>>
struct task_step {
  Task task;
  F f;

  void operator()() { run_step(*task, f); }
};

template <class T>
struct room_allocator;

/// f as `task`'s next step, at the back of its loop's ready queue, in the task's room if free.
/// On the loop's thread only. Task as for task_step.
template <class Task, class F>
void schedule_step(Task task, F f);

/// Memory in the task's room while it is free (task_state_base::take_room), else (or with no
/// task) in Asio's recycled memory. Whatever lives in the room must keep its task alive.
template <class T>
struct room_allocator {
  using value_type = T;

  explicit room_allocator(task_state_base* t) noexcept : task(t) {}
  template <class U>
  room_allocator(const room_allocator<U>& other) noexcept : task(other.task) {}

  T* allocate(std::size_t n) {
    if (task)
      if (void* p = task->take_room(sizeof(T) * n, alignof(T))) return static_cast<T*>(p);
    return boost::asio::recycling_allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (!task || !task->give_back_room(p)) boost::asio::recycling_allocator<T>().deallocate(p, n);
  }
  friend bool operator==(const room_allocator& a, const room_allocator& b) noexcept {
    return a.task == b.task;
  }

  task_state_base* task;
};

/// The executor a task's coroutine runs on: the loop's executor, plus the task. Every handler
/// that resumes the coroutine runs through execute(). Posted on the loop's own thread (Asio's
/// post, or a wake-up of ours), it goes through the loop's ready queue; dispatched there, it
/// runs at once; from another thread, it takes the io_context's thread-safe path. Copies may
/// be made and used on any thread: the task's reference count is atomic.
template <class Inner>
class task_executor {
public:
  task_executor(Inner inner, ref<task_state_base> task) noexcept
      : inner_(std::move(inner)), task_(std::move(task)) {}

  // Asio requires executors to copy without throwing; intrusive_ptr does not say it.
  task_executor(const task_executor& other) noexcept : inner_(other.inner_), task_(other.task_) {}
  task_executor(task_executor&& other) noexcept = default;
  task_executor& operator=(const task_executor& other) noexcept {
    inner_ = other.inner_;
    task_ = other.task_;
    return *this;
  }
  task_executor& operator=(task_executor&& other) noexcept = default;
  ~task_executor() = default;

  const Inner& inner() const noexcept { return inner_; }

  template <class F>
  void execute(F f) const {
    if (boost::asio::query(inner_, boost::asio::execution::blocking) ==
            boost::asio::execution::blocking.never &&
        on_loop_thread())
      return schedule(std::move(f));
    inner_.execute(task_step<F>{task_, std::move(f)});
  }

  /// True on the thread running the task's loop, where schedule() may be used.
  bool on_loop_thread() const noexcept { return running_loop() == &task_->loop(); }

  /// f as the task's next step, at the back of the loop's ready queue.
  template <class F>
  void schedule(F f) const {
    schedule_step(task_, std::move(f));
  }

  // clang-format off
  template <class Property>
    requires boost::asio::can_query<const Inner&, const Property&>::value
  decltype(auto) query(const Property& p) const { return boost::asio::query(inner_, p); }
  // clang-format on

  // clang-format off
  template <class Property>
    requires boost::asio::can_require<const Inner&, const Property&>::value
  auto require(const Property& p) const { return wrap(boost::asio::require(inner_, p)); }
  // clang-format on

  // clang-format off
  template <class Property>
    requires boost::asio::can_prefer<const Inner&, const Property&>::value
  auto prefer(const Property& p) const { return wrap(boost::asio::prefer(inner_, p)); }
  // clang-format on

  friend bool operator==(const task_executor& a, const task_executor& b) noexcept {
    return a.inner_ == b.inner_ && a.task_ == b.task_;
  }
  friend bool operator!=(const task_executor& a, const task_executor& b) noexcept {
    return !(a == b);
  }

private:
  template <class Other>
  task_executor<Other> wrap(Other other) const {
    return task_executor<Other>(std::move(other), task_);
  }

  Inner inner_;
  ref<task_state_base> task_;
};

template <class Task, class F>
void schedule_step(Task task, F f) {
  using entry = ready_call<task_step<F, Task>, room_allocator<void>>;
  task_state_base* t = &*task;
  detail::schedule(t->loop(),
                   *entry::make({std::move(task), std::move(f)}, room_allocator<void>(t)));
}

/// boost::asio::post(ex, f), but straight into the loop's ready queue when `ex` is a task's
/// executor and its loop runs on this thread: a wake-up then skips Asio's type-erased executor
/// layers and their allocation.
template <class Executor, class F>
void post_step(const Executor& ex, F f) {
  using loop_task_executor = task_executor<boost::asio::io_context::executor_type>;
  if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
    auto* te = ex.template target<loop_task_executor>();
    if (te && te->on_loop_thread()) return te->schedule(std::move(f));
  }
  boost::asio::post(ex, std::move(f));
}

}  // namespace asyncio::detail
