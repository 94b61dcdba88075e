#include <asyncio/shield.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(shield)

CO_TEST_CASE(cancelling_the_awaiter_leaves_the_shielded_task_running) {
  asyncio::future<int> release;  // the inner task ends only when the test says so
  auto inner = asyncio::create_task(
      [](asyncio::future<int> f) -> asyncio::coroutine<int> { co_return co_await *f; }(release));
  auto outer_fn = [](asyncio::task<int> inner) -> asyncio::coroutine<int> {
    co_return co_await asyncio::shield(inner);
  };
  auto outer = asyncio::create_task(outer_fn(inner));
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  outer.cancel();
  BOOST_CHECK_THROW(co_await *outer, asyncio::cancelled_error);
  BOOST_TEST(!inner.done());  // still running
  release.set_result(42);
  BOOST_TEST(co_await *inner == 42);
  BOOST_TEST(!inner.cancelled());
}

CO_TEST_CASE(a_shielded_await_gives_the_result_or_the_error) {
  BOOST_TEST(co_await asyncio::shield(test::value_after(1ms, 3)) == 3);
  BOOST_CHECK_THROW(co_await asyncio::shield(test::fail_after(1ms)), std::invalid_argument);
}

CO_TEST_CASE(cancelling_the_inner_task_still_reaches_the_awaiter) {
  auto inner = asyncio::create_task(test::value_after(1h, 0));
  asyncio::get_running_loop().call_soon([inner]() mutable { inner.cancel(); });
  BOOST_CHECK_THROW(co_await asyncio::shield(inner), asyncio::cancelled_error);
  BOOST_TEST(inner.cancelled());
}

BOOST_AUTO_TEST_SUITE_END()
