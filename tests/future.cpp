#include <asyncio/future.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(future)

CO_TEST_CASE(set_result_from_a_callback_wakes_the_awaiter) {
  asyncio::future<int> f;
  asyncio::get_running_loop().call_later(1ms, [f]() mutable { f.set_result(42); });
  BOOST_TEST(!f.done());
  BOOST_TEST(co_await *f == 42);
  BOOST_TEST(f.done());
  BOOST_TEST(f.result() == 42);
  BOOST_TEST(co_await *f == 42);  // awaiting a done future gives it again
}

CO_TEST_CASE(set_exception_reaches_every_awaiter_as_itself) {
  auto f = asyncio::get_running_loop().create_future<int>();
  auto awaiter = [](asyncio::future<int> f) -> asyncio::coroutine<int> { co_return co_await *f; };
  auto a = asyncio::create_task(awaiter(f));
  auto b = asyncio::create_task(awaiter(f));
  co_await asyncio::sleep(0s);
  f.set_exception(std::make_exception_ptr(std::domain_error("nope")));
  BOOST_CHECK_THROW(co_await *a, std::domain_error);
  BOOST_CHECK_THROW(co_await *b, std::domain_error);
  BOOST_TEST(static_cast<bool>(f.exception()));
}

CO_TEST_CASE(a_future_is_set_once) {
  asyncio::future<int> f;
  BOOST_CHECK_THROW(f.result(), asyncio::invalid_state_error);
  f.set_result(1);
  BOOST_CHECK_THROW(f.set_result(2), asyncio::invalid_state_error);
  BOOST_CHECK_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                    asyncio::invalid_state_error);
  BOOST_TEST(!f.cancel());
  BOOST_TEST(f.result() == 1);
  co_return;
}

CO_TEST_CASE(a_move_only_result_is_taken_once) {
  asyncio::future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(7));
  BOOST_TEST(*f.result() == 7);
  BOOST_CHECK_THROW(f.result(), asyncio::invalid_state_error);  // not a moved-from null
  BOOST_CHECK_THROW(co_await *f, asyncio::invalid_state_error);

  auto make = []() -> asyncio::coroutine<std::unique_ptr<int>> {
    co_return std::make_unique<int>(8);
  };
  auto t = asyncio::create_task(make());
  BOOST_TEST(*(co_await *t) == 8);
  BOOST_CHECK_THROW(t.result(), asyncio::invalid_state_error);
}

CO_TEST_CASE(cancel_wakes_awaiters_with_cancelled_error) {
  asyncio::future<> f;
  auto awaiter = [](asyncio::future<> f) -> asyncio::coroutine<void> { co_await *f; };
  auto t = asyncio::create_task(awaiter(f));
  co_await asyncio::sleep(0s);
  BOOST_TEST(f.cancel("gone"));
  BOOST_TEST(f.cancelled());
  BOOST_CHECK_THROW(f.result(), asyncio::cancelled_error);
  BOOST_CHECK_THROW(f.exception(), asyncio::cancelled_error);
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  BOOST_TEST(t.cancelled());
}

CO_TEST_CASE(cancelling_a_task_cancels_the_future_it_awaits) {
  asyncio::future<int> f;
  auto awaiter = [](asyncio::future<int> f) -> asyncio::coroutine<int> { co_return co_await *f; };
  auto t = asyncio::create_task(awaiter(f));
  co_await asyncio::sleep(0s);
  t.cancel();
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  BOOST_TEST(f.cancelled());
}

CO_TEST_CASE(done_callbacks_run_in_order_with_the_future) {
  asyncio::future<std::string> f;
  std::vector<std::string> log;
  f.add_done_callback([&](asyncio::future<std::string> d) { log.push_back("1:" + d.result()); });
  f.add_done_callback([&](asyncio::future<std::string> d) { log.push_back("2:" + d.result()); });
  f.set_result("x");
  BOOST_TEST(log.empty());  // scheduled, not called from set_result
  co_await asyncio::sleep(0s);
  BOOST_TEST(log == (std::vector<std::string>{"1:x", "2:x"}), boost::test_tools::per_element());
}

CO_TEST_CASE(a_done_callback_taken_back_before_the_future_is_done_never_runs) {
  asyncio::future<int> f;
  std::vector<int> ran;
  auto first = f.add_done_callback([&](asyncio::future<int>) { ran.push_back(1); });
  auto second = f.add_done_callback([&](asyncio::future<int>) { ran.push_back(2); });
  BOOST_TEST(f.remove_done_callback(first) == 1u);
  BOOST_TEST(f.remove_done_callback(first) == 0u);  // already taken back
  f.set_result(7);
  BOOST_TEST(f.remove_done_callback(second) == 0u);  // scheduled: too late, as in Python
  co_await asyncio::sleep(0s);
  BOOST_TEST(ran == (std::vector<int>{2}), boost::test_tools::per_element());
  auto after = f.add_done_callback([&](asyncio::future<int>) { ran.push_back(3); });
  BOOST_TEST(f.remove_done_callback(after) == 0u);  // added when done: scheduled at once
  co_await asyncio::sleep(0s);
  BOOST_TEST(ran == (std::vector<int>{2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_future_nobody_sets_leaks_nothing) {
  // The awaiter holds the future, the future holds the awaiter: run() must break the cycle.
  auto amain = []() -> asyncio::coroutine<void> {
    auto stuck = [](asyncio::future<int> f, test::live) -> asyncio::coroutine<int> {
      co_return co_await *f;
    };
    asyncio::create_task(stuck(asyncio::future<int>(), {}));
    co_await asyncio::sleep(0s);
  };
  asyncio::run(amain());
  BOOST_TEST(test::live::count == 0);
}

BOOST_AUTO_TEST_CASE(an_exception_nobody_retrieved_is_logged) {
  test::log_capture log;
  {
    asyncio::event_loop loop;
    asyncio::future<int> f(loop);
    f.set_exception(std::make_exception_ptr(std::runtime_error("lost result")));
  }
  BOOST_TEST(log.contains("Future exception was never retrieved: lost result"));
}

BOOST_AUTO_TEST_SUITE_END()
