#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace asyncio {

/// `async def f() -> T`: calling f() returns a coroutine object and runs nothing; it runs
/// when awaited (`co_await f()`) or handed to the loop (run, create_task, run_until_complete).
/// An alias, not a wrapper: any `boost::asio::awaitable<T>` is one.
template <class T = void>
using coroutine = boost::asio::awaitable<T>;

}  // namespace asyncio
