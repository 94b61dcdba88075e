#include <asyncio/timeout.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(timeout)

namespace {

// Sleeps `d`; on cancellation, records it, cleans up with an await, and re-raises.
asyncio::coroutine<int> slow(std::chrono::milliseconds d, std::vector<std::string>& log) {
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error&) {
    log.push_back("cancelled");
    throw;
  }
  co_return 1;
}

asyncio::coroutine<int> slow_with_cleanup(std::vector<std::string>& log) {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    log.push_back("cleanup started");
  }
  co_await asyncio::sleep(5ms);  // cleanup that awaits
  log.push_back("cleanup done");
  throw asyncio::cancelled_error();
}

}  // namespace

CO_TEST_CASE(wait_for_gives_the_result_when_in_time) {
  std::vector<std::string> log;
  BOOST_TEST(co_await asyncio::wait_for(slow(1ms, log), 1h) == 1);
  auto t = asyncio::create_task(test::value_after(1ms, 7));
  BOOST_TEST(co_await asyncio::wait_for(t, 1h) == 7);
  BOOST_TEST(log.empty());
  BOOST_TEST(asyncio::current_task().cancelling() == 0u);
}

CO_TEST_CASE(wait_for_passes_the_inner_exception_through_unchanged) {
  BOOST_CHECK_THROW(co_await asyncio::wait_for(test::fail_after(1ms), 1h), std::invalid_argument);
}

CO_TEST_CASE(wait_for_on_timeout_cancels_waits_for_cleanup_then_throws_timeout_error) {
  std::vector<std::string> log;
  auto t = asyncio::create_task(slow_with_cleanup(log));
  BOOST_CHECK_THROW(co_await asyncio::wait_for(t, 5ms), asyncio::timeout_error);
  BOOST_TEST(t.cancelled());  // finished cancelling before wait_for returned
  BOOST_TEST(log == (std::vector<std::string>{"cleanup started", "cleanup done"}),
             boost::test_tools::per_element());
  BOOST_TEST(asyncio::current_task().cancelling() == 0u);  // its own request was taken back
  co_await asyncio::sleep(1ms);                            // and the task goes on normally
}

CO_TEST_CASE(wait_for_a_coroutine_cancels_it_inside_the_caller) {
  std::vector<std::string> log;
  BOOST_CHECK_THROW(co_await asyncio::wait_for(slow(1h, log), 2ms), asyncio::timeout_error);
  BOOST_TEST(log == std::vector<std::string>{"cancelled"}, boost::test_tools::per_element());
}

CO_TEST_CASE(wait_for_zero_on_a_done_task_gives_its_result) {
  auto t = asyncio::create_task(test::value_after(0ms, 3));
  co_await test::until([&t] { return t.done(); });
  BOOST_TEST(co_await asyncio::wait_for(t, 0s) == 3);
  auto pending = asyncio::create_task(test::value_after(1h, 0));
  BOOST_CHECK_THROW(co_await asyncio::wait_for(pending, 0s), asyncio::timeout_error);
  BOOST_TEST(pending.cancelled());
}

// CPython's test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started.
CO_TEST_CASE(wait_for_zero_or_less_never_starts_a_coroutine) {
  int started = 0;
  auto body = [](int& started) -> asyncio::coroutine<int> {
    ++started;
    co_return 1;
  };
  BOOST_CHECK_THROW(co_await asyncio::wait_for(body(started), 0s), asyncio::timeout_error);
  BOOST_CHECK_THROW(co_await asyncio::wait_for(body(started), -1s), asyncio::timeout_error);
  BOOST_TEST(started == 0);
  BOOST_TEST(co_await asyncio::wait_for(body(started), 1h) == 1);
  BOOST_TEST(started == 1);
}

CO_TEST_CASE(cancelling_the_caller_of_wait_for_cancels_the_inner_task) {
  auto inner = asyncio::create_task(test::value_after(1h, 0));
  auto caller = asyncio::create_task(asyncio::wait_for(inner, 1h));
  co_await asyncio::sleep(0s);  // the caller awaits inner, in its first step
  caller.cancel();
  BOOST_CHECK_THROW(co_await *caller, asyncio::cancelled_error);  // not timeout_error
  BOOST_TEST(inner.cancelled());
}

CO_TEST_CASE(nested_timeouts_each_report_their_own_expiry) {
  std::vector<std::string> log;
  // The inner deadline comes first: the inner scope times out, the outer goes on.
  auto outer = [](std::vector<std::string>& log) -> asyncio::coroutine<int> {
    try {
      co_await asyncio::wait_for(slow(1h, log), 2ms);
    } catch (const asyncio::timeout_error&) {
      log.push_back("inner timed out");
    }
    co_return 5;
  };
  BOOST_TEST(co_await asyncio::wait_for(outer(log), 1h) == 5);
  // The outer deadline comes first: the outer scope reports it, not the inner.
  auto inner_long = [](std::vector<std::string>& log) -> asyncio::coroutine<int> {
    try {
      co_return co_await asyncio::wait_for(slow(1h, log), 1h);
    } catch (const asyncio::timeout_error&) {
      log.push_back("wrong scope");
      throw;
    }
  };
  BOOST_CHECK_THROW(co_await asyncio::wait_for(inner_long(log), 2ms), asyncio::timeout_error);
  BOOST_TEST(log == (std::vector<std::string>{"cancelled", "inner timed out", "cancelled"}),
             boost::test_tools::per_element());
}

CO_TEST_CASE(timeout_scope_can_be_rescheduled_and_tells_if_it_expired) {
  bool expired_inside = true;
  auto body = [&expired_inside](asyncio::timeout_handle& scope) -> asyncio::coroutine<int> {
    scope.reschedule(asyncio::get_running_loop().time() + 1h);  // push the deadline away
    co_await asyncio::sleep(5ms);
    expired_inside = scope.expired();
    co_return 2;
  };
  BOOST_TEST(co_await asyncio::timeout(1ms, body) == 2);
  BOOST_TEST(!expired_inside);

  auto never = [](asyncio::timeout_handle& scope) -> asyncio::coroutine<void> {
    scope.reschedule(std::nullopt);
    co_await asyncio::sleep(2ms);
  };
  co_await asyncio::timeout(0s, never);

  auto expires = [](asyncio::timeout_handle& scope) -> asyncio::coroutine<void> {
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error&) {
      BOOST_TEST(scope.expired());
      throw;
    }
  };
  BOOST_CHECK_THROW(co_await asyncio::timeout_at(asyncio::get_running_loop().time(), expires),
                    asyncio::timeout_error);
}

CO_TEST_CASE(a_body_that_swallows_the_cancel_returns_normally) {
  auto stubborn = [](asyncio::timeout_handle& scope) -> asyncio::coroutine<int> {
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error&) {
    }
    co_return scope.expired() ? 1 : 0;
  };
  BOOST_TEST(co_await asyncio::timeout(1ms, stubborn) == 1);
}

CO_TEST_CASE(timeout_and_completion_at_the_same_moment) {
  // The body's timer and the deadline are due together: either outcome is Python's, but it
  // must be one of them, cleanly: a value, or timeout_error, and no stray cancel left behind.
  auto& loop = asyncio::get_running_loop();
  for (int i = 0; i < 20; ++i) {
    auto when = loop.time() + 2ms;
    auto body = [](asyncio::event_loop::clock::time_point when) -> asyncio::coroutine<int> {
      co_await asyncio::sleep(when - asyncio::event_loop::clock::now());
      co_return 1;
    };
    try {
      BOOST_TEST(co_await asyncio::timeout_at(when, body(when)) == 1);
    } catch (const asyncio::timeout_error&) {
    }
    BOOST_TEST(asyncio::current_task().cancelling() == 0u);
    co_await asyncio::sleep(0s);  // a stray cancel request would throw here
  }
}

BOOST_AUTO_TEST_CASE(timeout_outside_a_task_is_refused) {
  asyncio::event_loop loop;
  bool refused = false;
  loop.call_soon([&] {
    try {
      asyncio::timeout_handle scope(std::nullopt);
    } catch (const std::runtime_error&) {
      refused = true;
    }
    loop.stop();
  });
  loop.run_forever();
  BOOST_TEST(refused);
}

namespace {

// Swallows the cancel that ends its wait, notes it, and returns `value` instead.
asyncio::coroutine<int> refuses_the_cancel(int value, int& cancels_seen) {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    ++cancels_seen;
  }
  co_return value;
}

}  // namespace

CO_TEST_CASE(wait_for_a_task_that_refuses_the_cancel_gives_its_value) {
  // As CPython 3.12: the deadline's cancel goes to the task, which returns a value instead.
  int cancels_seen = 0;
  auto stubborn = asyncio::create_task(refuses_the_cancel(42, cancels_seen));
  BOOST_TEST(co_await asyncio::wait_for(stubborn, 20ms) == 42);
  BOOST_TEST(cancels_seen == 1);
  auto again = asyncio::create_task(refuses_the_cancel(43, cancels_seen));
  auto body = [](asyncio::task<int> t) -> asyncio::coroutine<int> { co_return co_await *t; };
  BOOST_TEST(co_await asyncio::timeout(20ms, body(again)) == 43);  // inside a timeout() body
  BOOST_TEST(cancels_seen == 2);
}

BOOST_AUTO_TEST_SUITE_END()
