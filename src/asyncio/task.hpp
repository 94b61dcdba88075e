#pragma once

#include <asyncio/coroutine.hpp>
#include <asyncio/detail/asio_internals.hpp>
#include <asyncio/detail/future_handle.hpp>
#include <asyncio/detail/operation.hpp>
#include <asyncio/detail/task_executor.hpp>
#include <asyncio/event_loop.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <coroutine>
#include <cstddef>
#include <new>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

namespace asyncio {

/// asyncio.Task: a coroutine scheduled on a loop, seen through a cheap copyable handle.
/// `co_await *t` awaits it (see future_handle for why not a bare `co_await t`). Dropping every
/// handle neither cancels nor loses the task: it runs to its end.
///
/// @code
/// auto t = asyncio::create_task(fetch(url), "fetch");   // t = asyncio.create_task(fetch(url))
/// int n = co_await *t;                                   // n = await t
/// @endcode
template <class T = void>
class task : public detail::future_handle<task<T>, T, detail::task_state<T>> {
  using base = detail::future_handle<task<T>, T, detail::task_state<T>>;

public:
  using typename base::state_type;

  task() = default;
  explicit task(detail::ref<state_type> state) noexcept : base(std::move(state)) {}
  /// Any task, seen as task<> (current_task, all_tasks): awaiting it discards the value.
  // clang-format off
  template <class U>
    requires(std::is_void_v<T> && !std::is_void_v<U>)
  task(const task<U>& other) noexcept : base(other.state()) {}
  // clang-format on

  /// Task.cancel(msg): false if already done. A request: the coroutine sees cancelled_error
  /// at its current await, may clean up, and the task ends cancelled unless it swallows it.
  bool cancel(std::string message = {}) { return this->state_->cancel(std::move(message)); }
  /// Task.cancelling() / Task.uncancel() (3.11): how many cancel requests are outstanding;
  /// structured concurrency (timeout, task_group) takes back the ones it made.
  std::uint32_t cancelling() const noexcept { return this->state_->cancelling(); }
  std::uint32_t uncancel() noexcept { return this->state_->uncancel(); }
  std::string get_name() const { return this->state_->get_name(); }
  void set_name(std::string name) { this->state_->set_name(std::move(name)); }

  /// Python's repr: <task pending name='Task-1'>.
  friend std::ostream& operator<<(std::ostream& os, const task& t) {
    if (!t) return os << "<task none>";
    const char* status = !t.done() ? "pending" : t.cancelled() ? "cancelled" : "finished";
    return os << "<task " << status << " name='" << t.get_name() << "'>";
  }
};

namespace detail {

template <class T>
class spawned_task;

/// run_task's frame memory (see entry_frame): inside its task's state, an allocation less per
/// task. The frame holds a reference to the task until its memory goes back, which is after
/// the frame's arguments (the last other reference, perhaps) are destroyed; a frame too large
/// for the room is allocated apart, with the task's address after it.
template <class T>
struct task_frame_memory {
  static void* allocate(std::size_t size, ref<spawned_task<T>>& task, coroutine<T>&) {
    intrusive_ptr_add_ref(task.get());
    if (size <= sizeof(task->frame_room_.bytes)) return task->frame_room_.bytes;
    void* p = ::operator new(apart(size) + sizeof(spawned_task<T>*));
    ::new (static_cast<char*>(p) + apart(size)) spawned_task<T>*(task.get());
    return p;
  }
  static void deallocate(void* p, std::size_t size) noexcept;

private:
  static constexpr std::size_t apart(std::size_t size) noexcept {
    return (size + alignof(void*) - 1) / alignof(void*) * alignof(void*);
  }
};

}  // namespace detail
}  // namespace asyncio

template <class T>
struct std::coroutine_traits<asyncio::detail::entry_point,
                             asyncio::detail::ref<asyncio::detail::spawned_task<T>>,
                             asyncio::coroutine<T>> {
  using promise_type = asyncio::detail::entry_frame<asyncio::detail::task_frame_memory<T>>;
};

namespace asyncio {
namespace detail {

/// The bottom frame of every task, in place of co_spawn's: it stores the outcome in the state
/// (so no error is lost) and adds nothing else, no handler, no work guards, no extra frame.
/// It runs with throw_if_cancelled(false) (see create_task): after a cancellation, Asio would
/// make *every* later co_await throw; Python lets cleanup code await, and our awaits deliver
/// cancellation themselves.
// g++ pairs the frame's operator delete(void*, size_t), the one the standard names for every
// coroutine frame, with no placement-form operator new, and warns (at -O0) of a mismatch.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
template <class T>
entry_point run_task(ref<spawned_task<T>> state, coroutine<T> body) {
  // Cancelled before it started: as in Python, the body never runs.
  std::exception_ptr error = state->take_cancel_request();
  if (!error) {
    try {
      if constexpr (std::is_void_v<T>)
        co_await std::move(body);
      else
        state->set_value(co_await std::move(body));
    } catch (...) {
      error = std::current_exception();
    }
  }
  state->finish_run(std::move(error));
}
#pragma GCC diagnostic pop

/// A task's state with its first step and its bottom frame inside: the ready queue's entry for
/// create_task is the state itself, and run_task's frame lives in it, so starting a task
/// allocates nothing beyond the state and the coroutine's own frame.
template <class T>
class spawned_task final : public task_state<T>, public ready_node {
public:
  using task_state<T>::task_state;

  /// Queues the first step of `entry`, this task's coroutine: Python's create_task, which
  /// calls loop.call_soon(task.__step). The entry frame's references keep the task alive.
  /// With `now`, runs that step at once instead (Python's Task.__eager_start).
  void launch(entry_point entry, bool now) {
    frame_room_.entry = std::move(entry);
    fire = &first_step;
    if (now)
      first_step(*this, true);
    else
      detail::schedule(this->loop(), *this);
  }

private:
  friend struct task_frame_memory<T>;

  struct start {
    coroutine_stack thread;
    void operator()() { thread.launch(); }
  };

  static void first_step(ready_node& node, bool run) {
    auto* self = static_cast<spawned_task*>(&node);
    auto entry = std::move(self->frame_room_.entry);
    if (!run) return;
    // What co_spawn does, minus its handler and guards.
    boost::asio::any_io_executor ex = task_executor<event_loop::executor_type>(
        self->loop().get_executor(), ref<task_state_base>(self));
    auto cancel_state = self->coroutine_cancellation_state();
    dont_throw_if_cancelled(entry);
    start step{{std::move(entry), std::move(ex), self->cancellation_slot(), cancel_state}};
    run_step(*self, step);
  }

  // Sized for run_task's frame as g++ 12 lays it out: 208 bytes, plus T unless T fits in its
  // padding, for a T up to 256 bytes. A larger frame (a larger T, another compiler) takes
  // memory of its own.
  static constexpr std::size_t value_size = sizeof(std::conditional_t<std::is_void_v<T>, char, T>);
  static constexpr std::size_t frame_size =
      208 + (value_size > 8 && value_size <= 256 ? value_size : 0);
  // The entry and the owner fill what would be padding before the aligned bytes.
  struct frame_room {
    entry_point entry;  // until the first step builds the coroutine stack around it
    spawned_task* owner;
    alignas(std::max_align_t) unsigned char bytes[frame_size];
  };

  frame_room frame_room_{{}, this, {}};
};

template <class T>
void task_frame_memory<T>::deallocate(void* p, std::size_t size) noexcept {
  using room = typename spawned_task<T>::frame_room;
  if (size <= sizeof(room::bytes))
    return reinterpret_cast<room*>(static_cast<char*>(p) - offsetof(room, bytes))
        ->owner->drop_frame_reference();
  auto* owner =
      *std::launder(reinterpret_cast<spawned_task<T>**>(static_cast<char*>(p) + apart(size)));
  ::operator delete(p, apart(size) + sizeof(spawned_task<T>*));
  owner->drop_frame_reference();
}

}  // namespace detail

template <class T>
task<T> event_loop::create_task(coroutine<T> coro, std::string name) {
  // Python's create_task schedules the first step; it never runs it inline.
  return start_task(std::move(coro), std::move(name), false);
}

template <class T>
task<T> event_loop::create_task(coroutine<T> coro, std::string name, eager_start_t) {
  return start_task(std::move(coro), std::move(name), detail::running_loop() == this);
}

template <class T>
task<T> event_loop::start_task(coroutine<T>&& coro, std::string&& name, bool now) {
  check_open();
  detail::ref<detail::spawned_task<T>> state(new detail::spawned_task<T>(*this, std::move(name)));
  state->launch(detail::run_task<T>(state, std::move(coro)), now);
  return task<T>(std::move(state));
}

template <class T>
T event_loop::run_until_complete(coroutine<T> coro) {
  return run_until_complete(create_task(std::move(coro)));
}

template <class T>
T event_loop::run_until_complete(task<T> t) {
  if (!t.done()) {
    t.add_done_callback([this](const task<T>&) { stop(); });
    run_forever();
  }
  if (!t.done()) throw std::runtime_error("Event loop stopped before Future completed.");
  return t.result();
}

/// asyncio.create_task(coro, name=): on the running loop.
template <class T>
task<T> create_task(coroutine<T> coro, std::string name = {}) {
  return get_running_loop().create_task(std::move(coro), std::move(name));
}

/// asyncio.create_task(coro, name=, eager_start=True) (3.14): the first step runs now, inside
/// this call (see event_loop::create_task).
template <class T>
task<T> create_task(coroutine<T> coro, std::string name, eager_start_t) {
  return get_running_loop().create_task(std::move(coro), std::move(name), eager_start);
}
template <class T>
task<T> create_task(coroutine<T> coro, eager_start_t) {
  return get_running_loop().create_task(std::move(coro), {}, eager_start);
}

/// create_task(op): one of our awaitable operations (sleep, a queue's get or put) as a task.
// clang-format off
template <class Op>
  requires boost::asio::is_async_operation<Op>::value
task<detail::operation_value_t<Op>> create_task(Op op, std::string name = {}) {
  return create_task(detail::await_operation(std::move(op)), std::move(name));
}
// clang-format on

/// asyncio.current_task(): the task running now; an empty handle outside any task.
inline task<> current_task() {
  return task<>(detail::ref<detail::task_state_base>(detail::current_task_state()));
}

/// asyncio.all_tasks(): the running loop's tasks not done yet.
inline std::vector<task<>> all_tasks() { return get_running_loop().all_tasks(); }

}  // namespace asyncio
