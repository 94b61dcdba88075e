#include <asyncio/coroutine.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(coroutine)

namespace {

asyncio::coroutine<int> add(int& calls, int a, int b) {
  ++calls;
  co_return a + b;
}

}  // namespace

BOOST_AUTO_TEST_CASE(calling_an_async_function_runs_nothing) {
  int calls = 0;
  {
    auto coro = add(calls, 1, 2);  // a coroutine object, as in Python
    BOOST_TEST(calls == 0);
  }  // dropped unawaited: never ran
  BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_CASE(awaiting_runs_it_inline_in_the_awaiter) {
  int calls = 0;
  auto outer = [](int& calls) -> asyncio::coroutine<int> {
    auto coro = add(calls, 20, 22);
    BOOST_TEST(calls == 0);
    int v = co_await std::move(coro);
    BOOST_TEST(calls == 1);
    // The same task runs it: no new task was made.
    BOOST_TEST(asyncio::all_tasks().size() == 1u);
    co_return v;
  };
  BOOST_TEST(asyncio::run(outer(calls)) == 42);
}

BOOST_AUTO_TEST_CASE(handing_it_to_the_loop_runs_it) {
  int calls = 0;
  asyncio::event_loop loop;
  BOOST_TEST(loop.run_until_complete(add(calls, 2, 3)) == 5);
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_SUITE_END()
