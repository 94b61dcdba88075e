#pragma once

#include <asyncio/detail/operation.hpp>
#include <asyncio/task.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>

#include <functional>
#include <future>
#include <type_traits>

namespace asyncio {

namespace detail {

/// Runs fn on the loop's default executor; the result is posted back to the awaiter.
template <class R, class F>
class thread_op {
public:
  explicit thread_op(F fn) : fn_(std::move(fn)) {}

  template <boost::asio::completion_token_for<outcome_signature<R>> Token>
  auto operator()(Token&& token) && {
    return boost::asio::async_initiate<Token, outcome_signature<R>>(initiate{}, token,
                                                                    std::move(fn_));
  }

private:
  struct initiate {
    template <class Handler>
    void operator()(Handler handler, F fn) const {
      if (cancelled_before_start<R>(handler, "to_thread")) return;
      auto& loop = get_running_loop();
      // Keeps the loop running while the thread works.
      auto work = boost::asio::make_work_guard(loop.get_executor());
      boost::asio::post(loop.default_executor(), [handler = std::move(handler), fn = std::move(fn),
                                                  work = std::move(work)]() mutable {
        outcome<R> result;
        try {
          if constexpr (std::is_void_v<R>)
            fn();
          else
            result.value.emplace(fn());
        } catch (...) {
          result.error = std::current_exception();
        }
        // Back through the task's executor: from this thread, the io_context's thread-safe
        // path; the work guard kept the loop running until then.
        post_resume<R>(std::move(handler), std::move(result));
      });
    }
  };

  F fn_;
};

template <class T>
coroutine<T> await_in_task(coroutine<T> coro) {
  auto t = create_task(std::move(coro));
  co_return co_await *t;
}

}  // namespace detail

/// asyncio.to_thread(f, *args): runs f(args...) on the loop's thread pool without blocking
/// the loop; gives its result or rethrows its exception. A thread cannot be interrupted, so a
/// cancel arriving meanwhile is delivered when f returns (Python's await returns at once, but
/// its thread, too, runs on).
template <class F, class... Args>
[[nodiscard]] coroutine<std::invoke_result_t<F, Args...>> to_thread(F f, Args... args) {
  using R = std::invoke_result_t<F, Args...>;
  auto call = [f = std::move(f), ... args = std::move(args)]() mutable -> R {
    return std::invoke(f, args...);
  };
  detail::thread_op<R, decltype(call)> op(std::move(call));
  if constexpr (std::is_void_v<R>)
    co_await std::move(op);
  else
    co_return co_await std::move(op);
}

/// loop.run_in_executor(None, f, *args): f(args...) handed to the loop's thread pool now, in
/// the call, even if nobody awaits; a task (Python's gives a future) for its result: to_thread
/// as an eagerly started task. In a running loop.
template <class F, class... Args>
[[nodiscard]] task<std::invoke_result_t<F, Args...>> run_in_executor(F f, Args... args) {
  return create_task(to_thread(std::move(f), std::move(args)...), eager_start);
}

/// asyncio.run_coroutine_threadsafe(coro, loop): from any thread, runs coro as a task on the
/// (running) loop; the std::future gives its result or exception.
template <class T>
std::future<T> run_coroutine_threadsafe(coroutine<T> coro, event_loop& loop) {
  return boost::asio::co_spawn(loop.get_executor(), detail::await_in_task(std::move(coro)),
                               boost::asio::use_future);
}

}  // namespace asyncio
