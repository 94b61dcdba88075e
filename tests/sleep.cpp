#include <asyncio/sleep.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(sleeping)  // not "sleep": POSIX has one

CO_TEST_CASE(sleep_gives_its_result_no_earlier_than_asked) {
  auto& loop = asyncio::get_running_loop();
  auto start = loop.time();
  std::string v = co_await asyncio::sleep(5ms, std::string("done"));
  BOOST_TEST(v == "done");
  BOOST_TEST((loop.time() - start >= 5ms));
}

CO_TEST_CASE(sleep_zero_yields_to_the_loop_exactly_once) {
  std::vector<std::string> log;
  auto& loop = asyncio::get_running_loop();
  loop.call_soon([&] { log.push_back("callback"); });
  log.push_back("before");
  co_await asyncio::sleep(0s);
  log.push_back("after");
  BOOST_TEST(log == (std::vector<std::string>{"before", "callback", "after"}),
             boost::test_tools::per_element());
  co_await asyncio::sleep(-1s);  // negative: as zero
}

CO_TEST_CASE(sleepers_wake_in_deadline_order) {
  std::vector<int> order;
  auto sleeper = [](std::vector<int>& order, int ms) -> asyncio::coroutine<void> {
    co_await asyncio::sleep(std::chrono::milliseconds(ms));
    order.push_back(ms);
  };
  std::vector<asyncio::task<>> tasks;
  // Gaps wide enough for slow (sanitized, valgrind) runs.
  for (int ms : {300, 100, 200, 1}) tasks.push_back(asyncio::create_task(sleeper(order, ms)));
  co_await asyncio::gather(tasks);
  BOOST_TEST(order == (std::vector<int>{1, 100, 200, 300}), boost::test_tools::per_element());
}

CO_TEST_CASE(cancel_wakes_a_sleeper_with_cancelled_error) {
  auto t =
      asyncio::create_task([]() -> asyncio::coroutine<void> { co_await asyncio::sleep(1h); }());
  co_await asyncio::sleep(0s);
  t.cancel("wake up");
  try {
    co_await *t;
    BOOST_FAIL("not cancelled");
  } catch (const asyncio::cancelled_error& e) {
    BOOST_TEST(std::string(e.what()) == "wake up");
  }
  BOOST_TEST(t.cancelled());
}

BOOST_AUTO_TEST_SUITE_END()
