#include <asyncio/sleep.hpp>

#include "test.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

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

namespace {

asyncio::coroutine<int> nap(std::chrono::steady_clock::duration d, int value) {
  co_return co_await asyncio::sleep(d, value);
}

asyncio::coroutine<int> race(std::chrono::steady_clock::duration a,
                             std::chrono::steady_clock::duration b) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto first = co_await (nap(a, 1) || nap(b, 2));
  co_return first.index() == 0 ? std::get<0>(first) : std::get<1>(first);
}

}  // namespace

// Asio's awaitable operators give each side a cancellation slot of its own: a sleep there
// hears the cancel through that slot, not through its task.
CO_TEST_CASE(a_sleep_under_asios_awaitable_operators_is_cancelled_through_their_slot) {
  BOOST_TEST(co_await race(1h, 1ms) == 2);  // the 1 h side cancelled, or this never ends
  // Cancelling the task reaches both sides through the operator's slots; both end cancelled,
  // which the operator reports as Asio does, as multiple_exceptions.
  auto t = asyncio::create_task(race(1h, 1h));
  co_await asyncio::sleep(0s);
  t.cancel();
  try {
    co_await *t;
    BOOST_FAIL("not cancelled");
  } catch (const boost::asio::multiple_exceptions& e) {
    BOOST_CHECK_THROW(std::rethrow_exception(e.first_exception()), asyncio::cancelled_error);
  }
}

BOOST_AUTO_TEST_SUITE_END()
