#pragma once

#include <asyncio/detail/wait_op.hpp>
#include <asyncio/outcome.hpp>
#include <asyncio/task.hpp>

#include <optional>
#include <tuple>
#include <variant>
#include <vector>

namespace asyncio {

/// Tag for gather(return_exceptions, ...): Python's return_exceptions=True.
struct return_exceptions_t {
  explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

/// What gather gives for a task<void>: Python's None.
template <class T>
using gathered_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

namespace detail {

template <class T>
task<T> as_task(task<T> t) {
  return t;
}

template <class T>
task<T> as_task(coroutine<T> coro) {
  return create_task(std::move(coro));
}

/// gather(sleep(1s), ...): an operation becomes a task too, as Python's ensure_future does.
// clang-format off
template <class Op>
  requires boost::asio::is_async_operation<Op>::value
task<operation_value_t<Op>> as_task(Op op) { return create_task(await_operation(std::move(op))); }
// clang-format on

template <class T>
gathered_t<T> gathered_value(const task<T>& t) {
  if constexpr (std::is_void_v<T>) {
    t.result();
    return {};
  } else {
    return t.result();
  }
}

/// A gather's list of children and what it gives for each, R: its value (gathered_t) or its
/// outcome (return_exceptions). The wait takes each as its child ends (wait_op::collector).
template <class T, class R>
class gathered_list final : public wait_op::collector {
public:
  explicit gathered_list(std::vector<task<T>> tasks)
      : collector{&take}, tasks_(std::move(tasks)), results_(tasks_.size()) {}

  std::vector<future_state_base*> states() const { return states_of(tasks_); }

  /// Once the wait has ended with every child taken.
  std::vector<R> results() {
    std::vector<R> out;
    out.reserve(results_.size());
    for (auto& r : results_) out.push_back(std::move(*r));
    return out;
  }

private:
  static std::exception_ptr take(collector& c, std::size_t i) noexcept {
    auto& self = static_cast<gathered_list&>(c);
    try {
      if constexpr (std::is_same_v<R, outcome<T>>)
        self.results_[i].emplace(outcome_of<T>(*self.tasks_[i].state()));
      else
        self.results_[i].emplace(gathered_value(self.tasks_[i]));
    } catch (...) {
      return std::current_exception();
    }
    self.tasks_[i] = {};
    return nullptr;
  }

  std::vector<task<T>> tasks_;
  std::vector<std::optional<R>> results_;
};

// One tuple parameter, not a pack: g++ 12 cannot copy a parameter pack into a coroutine frame.
template <class... T>
coroutine<std::tuple<gathered_t<T>...>> gather_tasks(std::tuple<task<T>...> tasks) {
  co_await gather_states(states_of(tasks), false);
  co_return std::apply(
      [](auto&... t) { return std::tuple<gathered_t<T>...>{gathered_value(t)...}; }, tasks);
}

template <class... T>
coroutine<std::tuple<outcome<T>...>> gather_outcomes(std::tuple<task<T>...> tasks) {
  co_await gather_states(states_of(tasks), true);
  co_return std::apply(
      [](auto&... t) { return std::tuple<outcome<T>...>{outcome_of<T>(*t.state())...}; }, tasks);
}

}  // namespace detail

/// asyncio.gather(*aws, return_exceptions=True): waits for every child; each one's outcome,
/// value or exception, in argument order. Nothing is thrown for a child's failure.
template <class... Aws>
[[nodiscard]] auto gather(return_exceptions_t, Aws&&... aws) {
  return detail::gather_outcomes(std::tuple{detail::as_task(std::forward<Aws>(aws))...});
}

/// gather(return_exceptions, tasks) over a list.
template <class T>
[[nodiscard]] coroutine<std::vector<outcome<T>>> gather(return_exceptions_t,
                                                        std::vector<task<T>> tasks) {
  detail::gathered_list<T, outcome<T>> list(std::move(tasks));
  co_await detail::gather_states(list.states(), true, &list);
  co_return list.results();
}

/// asyncio.gather(*aws): runs coroutines and tasks concurrently; their results in argument
/// order. Coroutines are wrapped in tasks at once (as Python does), so call it on a running loop.
/// The first exception reaches the awaiter at once, as itself; the others keep running.
/// Cancelling the gather cancels every child.
///
/// @code
/// auto [a, b] = co_await asyncio::gather(fetch(1), fetch(2));   // a, b = await gather(...)
/// @endcode
template <class... Aws>
[[nodiscard]] auto gather(Aws&&... aws) {
  return detail::gather_tasks(std::tuple{detail::as_task(std::forward<Aws>(aws))...});
}

/// asyncio.gather(*tasks) over a list: results in the list's order.
template <class T>
[[nodiscard]] coroutine<std::vector<gathered_t<T>>> gather(std::vector<task<T>> tasks) {
  detail::gathered_list<T, gathered_t<T>> list(std::move(tasks));
  co_await detail::gather_states(list.states(), false, &list);
  co_return list.results();
}

}  // namespace asyncio
