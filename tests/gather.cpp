#include <asyncio/gather.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(gather)

CO_TEST_CASE(results_come_in_argument_order_not_finishing_order) {
  auto [a, b, c] = co_await asyncio::gather(test::value_after(6ms, 1), test::value_after(1ms, 2),
                                            test::value_after(3ms, 3));
  BOOST_TEST(a == 1);
  BOOST_TEST(b == 2);
  BOOST_TEST(c == 3);
}

CO_TEST_CASE(tasks_coroutines_and_sleeps_mix_and_void_gives_monostate) {
  auto t = asyncio::create_task(test::value_after(1ms, 10));
  auto [x, nothing, s] = co_await asyncio::gather(
      t, asyncio::sleep(1ms), []() -> asyncio::coroutine<std::string> { co_return "s"; }());
  BOOST_TEST(x == 10);
  BOOST_TEST(s == "s");
  static_assert(std::is_same_v<decltype(nothing), std::monostate>);
}

CO_TEST_CASE(a_list_of_tasks_gives_a_list_of_results) {
  std::vector<asyncio::task<int>> tasks;
  for (int i = 0; i < 100; ++i)
    tasks.push_back(
        asyncio::create_task(test::value_after(std::chrono::milliseconds(100 - i) / 20, i)));
  auto results = co_await asyncio::gather(tasks);
  BOOST_TEST(results.size() == 100u);
  for (int i = 0; i < 100; ++i) BOOST_TEST(results[i] == i);
  auto none = co_await asyncio::gather(std::vector<asyncio::task<int>>{});
  BOOST_TEST(none.empty());
}

CO_TEST_CASE(the_first_exception_arrives_at_once_as_itself_and_the_others_keep_running) {
  auto slow = asyncio::create_task(test::value_after(1h, 7));
  BOOST_CHECK_THROW(co_await asyncio::gather(slow, test::fail_after(1ms)), std::invalid_argument);
  BOOST_TEST(!slow.done());  // gather did not wait for it, and it still runs, as in Python
  co_await asyncio::sleep(0s);
  BOOST_TEST(!slow.done());
  slow.cancel();
  BOOST_CHECK_THROW(co_await *slow, asyncio::cancelled_error);
}

CO_TEST_CASE(cancelling_a_gather_cancels_its_children) {
  auto a = asyncio::create_task(test::value_after(1h, 1));
  auto b = asyncio::create_task(test::value_after(1h, 2));
  auto both = [](asyncio::task<int> a, asyncio::task<int> b) -> asyncio::coroutine<void> {
    co_await asyncio::gather(a, b);
  };
  auto g = asyncio::create_task(both(a, b));
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  g.cancel();
  BOOST_CHECK_THROW(co_await *g, asyncio::cancelled_error);
  BOOST_TEST(a.cancelled());
  BOOST_TEST(b.cancelled());
}

CO_TEST_CASE(a_child_cancelled_on_its_own_fails_the_gather_with_cancelled_error) {
  auto a = asyncio::create_task(test::value_after(1h, 1));
  auto b = asyncio::create_task(test::value_after(1ms, 2));
  asyncio::get_running_loop().call_soon([a]() mutable { a.cancel(); });
  BOOST_CHECK_THROW(co_await asyncio::gather(a, b), asyncio::cancelled_error);
  BOOST_TEST(asyncio::current_task().cancelled() == false);
}

CO_TEST_CASE(return_exceptions_gives_every_outcome_in_argument_order) {
  auto cancelled = asyncio::create_task(test::value_after(1h, 0));
  asyncio::get_running_loop().call_soon([cancelled]() mutable { cancelled.cancel(); });
  auto [ok, failed, gone] = co_await asyncio::gather(
      asyncio::return_exceptions, test::value_after(1ms, 1), test::fail_after(2ms), cancelled);
  BOOST_TEST(ok.has_value());
  BOOST_TEST(*ok.value == 1);
  BOOST_TEST(!failed.has_value());
  BOOST_CHECK_THROW(std::move(failed).get(), std::invalid_argument);
  BOOST_CHECK_THROW(std::move(gone).get(), asyncio::cancelled_error);

  std::vector<asyncio::task<int>> tasks{asyncio::create_task(test::fail_after(0ms)),
                                        asyncio::create_task(test::value_after(1ms, 2))};
  auto outcomes = co_await asyncio::gather(asyncio::return_exceptions, tasks);
  BOOST_TEST(outcomes.size() == 2u);
  BOOST_TEST(!outcomes[0].has_value());
  BOOST_TEST(*outcomes[1].value == 2);
}

BOOST_AUTO_TEST_SUITE_END()
