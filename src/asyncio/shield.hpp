#pragma once

#include <asyncio/task.hpp>

namespace asyncio {

/// asyncio.shield(aw): awaits `t`, but cancelling the awaiter does not cancel `t`: the awaiter
/// gets cancelled_error at once and `t` runs on (keep its handle to await it later).
/// @code
/// auto saved = co_await asyncio::shield(save_task);   // res = await shield(save_task)
/// @endcode
template <class T>
[[nodiscard]] detail::await_future<T, typename task<T>::state_type, true> shield(const task<T>& t) {
  return detail::await_future<T, typename task<T>::state_type, true>(t.state());
}

/// shield(coroutine): runs it as a task first, as Python's ensure_future does.
template <class T>
[[nodiscard]] auto shield(coroutine<T> coro) {
  return shield(create_task(std::move(coro)));
}

}  // namespace asyncio
