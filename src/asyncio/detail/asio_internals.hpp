#pragma once

// Every use of Boost.Asio's undocumented internals, in one place, each with its reason. They are
// checked against Asio 1.26 (Boost 1.81) only: the static_assert stops a build against another
// version until they have been checked against it (then widen the range in CMakeLists.txt and
// cmake/asyncio-config.cmake.in too).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/version.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <utility>

static_assert(BOOST_ASIO_VERSION == 102600,
              "asyncio-cpp relies on Asio internals checked against Asio 1.26 (Boost 1.81) only");

// Also relied on, elsewhere: cancellation_state's constructor asks its parent slot only for
// is_connected() and emplace<State>() (task_state_base::inline_slot, future_state.cpp).

namespace asyncio {
template <class T>
struct outcome;
}  // namespace asyncio

namespace asyncio::detail {

template <class T>
struct outcome_tag;
template <class T>
using outcome_signature = outcome_tag<T>(outcome<T>);

/// A task's bottom frame, the one co_spawn gives its coroutine stack: with it, a task runs
/// without co_spawn's completion handler and work guard (see run_task).
using entry_point = boost::asio::awaitable<boost::asio::detail::awaitable_thread_entry_point,
                                           boost::asio::any_io_executor>;

/// A task's coroutine stack, ready to launch: what co_spawn builds around an entry point.
using coroutine_stack = boost::asio::detail::awaitable_handler<boost::asio::any_io_executor, void>;

struct frame_access;

/// As `co_await this_coro::throw_if_cancelled(false)` first thing in the entry point, without
/// that await's room in its frame (16 bytes a task) and its instructions.
void dont_throw_if_cancelled(entry_point& e) noexcept;

/// The promise of an entry point whose frame lives in memory that `Memory` gives for the
/// coroutine's arguments (run_task's: in its task's state), in place of Asio's allocation:
/// Asio's own promise, with its allocation and its handle's type changed, and an await of a
/// coroutine that pushes it as Asio's does (Asio's wants a handle of its own promise type;
/// its check of throw_if_cancelled is left out, as our entry points never throw on it).
template <class Memory>
class entry_frame
    : public boost::asio::detail::awaitable_frame<boost::asio::detail::awaitable_thread_entry_point,
                                                  boost::asio::any_io_executor> {
public:
  entry_point get_return_object() noexcept;

  template <class T>
  struct coroutine_awaiter {
    boost::asio::awaitable<T, boost::asio::any_io_executor> body;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<entry_frame> h) noexcept;
    T await_resume() { return body.await_resume(); }
  };
  template <class T>
  coroutine_awaiter<T> await_transform(
      boost::asio::awaitable<T, boost::asio::any_io_executor> body) noexcept {
    return {std::move(body)};
  }

  template <class... Args>
  static void* operator new(std::size_t size, Args&... args) {
    return Memory::allocate(size, args...);
  }
  static void operator delete(void* p, std::size_t size) noexcept { Memory::deallocate(p, size); }
};

/// An operation of ours that can tell, as it is awaited, that it completes at once (a queue's
/// get with items waiting): it then gives its result without suspending, as a Python coroutine
/// that does not await.
template <class Op>
concept ready_operation = requires(Op& op) {
  { op.ready() } -> std::same_as<bool>;
  op.take();
};

}  // namespace asyncio::detail

namespace boost::asio::detail {

/// How a coroutine awaits a ready_operation: as Asio awaits any operation, but when ready()
/// says so, take() gives the result without suspending. (Asio 1.81 always suspends, and an
/// operation completing from inside its initiation would nest one more pump per await.)
template <typename T, typename Op, typename Executor>
requires asyncio::detail::ready_operation<Op>
class awaitable_async_op<asyncio::detail::outcome_signature<T>, Op, Executor> {
public:
  using handler_type = awaitable_async_op_handler<asyncio::detail::outcome_signature<T>, Executor>;

  awaitable_async_op(Op&& op, awaitable_frame_base<Executor>* frame)
      : op_(std::forward<Op>(op)), frame_(frame) {}

  bool await_ready() { return ready_ = op_.ready(); }

  void await_suspend(coroutine_handle<void>) {
    frame_->after_suspend(
        [](void* arg) {
          auto* self = static_cast<awaitable_async_op*>(arg);
          std::forward<Op&&>(self->op_)(handler_type(self->frame_->detach_thread(), self->result_));
        },
        this);
  }

  T await_resume() {
    if (ready_) return op_.take();
    return handler_type::resume(result_);
  }

private:
  Op&& op_;
  awaitable_frame_base<Executor>* frame_;
  typename handler_type::result_type result_ = nullptr;
  bool ready_ = false;
};

/// How a coroutine resumes from one of our operations (signature outcome_tag<T>(outcome<T>)):
/// it rethrows the error or returns the value. Asio 1.81's own handler for the natural
/// `void(std::exception_ptr, T)` does not compile (it tests `*result` on a struct; fixed in
/// Asio 1.28), so our operations complete under this signature instead.
template <typename T, typename Executor>
class awaitable_async_op_handler<asyncio::detail::outcome_signature<T>, Executor>
    : public awaitable_thread<Executor> {
public:
  typedef asyncio::outcome<T>* result_type;

  awaitable_async_op_handler(awaitable_thread<Executor>* h, result_type& result)
      : awaitable_thread<Executor>(std::move(*h)), result_(result) {}

  void operator()(asyncio::outcome<T> result) {
    result_ = &result;
    this->entry_point()->top_of_stack_->attach_thread(this);
    this->entry_point()->top_of_stack_->clear_cancellation_slot();
    this->pump();
  }

  static T resume(result_type& result) { return std::move(*result).get(); }

private:
  result_type& result_;
};

/// The key to an awaitable's frame: Asio befriends every awaitable_thread<E>, this one too.
template <>
class awaitable_thread<asyncio::detail::frame_access> {
public:
  static void dont_throw_if_cancelled(asyncio::detail::entry_point& e) noexcept {
    e.frame_->throw_if_cancelled_ = false;
  }
  template <class T>
  static void push_frame(awaitable<T, any_io_executor>& body,
                         awaitable_frame_base<any_io_executor>& caller) noexcept {
    body.frame_->push_frame(&caller);
  }
  static asyncio::detail::entry_point make_entry_point(
      awaitable_frame<awaitable_thread_entry_point, any_io_executor>* frame) noexcept {
    return asyncio::detail::entry_point(frame);
  }
};

}  // namespace boost::asio::detail

inline void asyncio::detail::dont_throw_if_cancelled(entry_point& e) noexcept {
  boost::asio::detail::awaitable_thread<frame_access>::dont_throw_if_cancelled(e);
}

template <class Memory>
asyncio::detail::entry_point asyncio::detail::entry_frame<Memory>::get_return_object() noexcept {
  this->coro_ = std::coroutine_handle<entry_frame>::from_promise(*this);
  return boost::asio::detail::awaitable_thread<frame_access>::make_entry_point(this);
}

template <class Memory>
template <class T>
void asyncio::detail::entry_frame<Memory>::coroutine_awaiter<T>::await_suspend(
    std::coroutine_handle<entry_frame> h) noexcept {
  boost::asio::detail::awaitable_thread<frame_access>::push_frame(body, h.promise());
}
