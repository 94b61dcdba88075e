#include <asyncio/task_group.hpp>

#include "test.hpp"

BOOST_AUTO_TEST_SUITE(task_group)

namespace {

// Sleeps `d`, noting a cancellation in `log` before re-raising it.
asyncio::coroutine<int> child(std::chrono::milliseconds d, int v, std::vector<std::string>& log) {
  try {
    co_await asyncio::sleep(d);
  } catch (const asyncio::cancelled_error&) {
    log.push_back("cancelled " + std::to_string(v));
    throw;
  }
  co_return v;
}

asyncio::coroutine<int> five_at_once() { co_return 5; }

asyncio::coroutine<int> fails_at_once() {
  throw std::invalid_argument("failed in its eager step");
  co_return 0;
}

}  // namespace

CO_TEST_CASE(an_eager_child_starts_inside_create_task_and_its_failure_stops_the_group) {
  std::vector<std::string> log;
  auto body = [&log](asyncio::task_group& tg) -> asyncio::coroutine<void> {
    tg.create_task(child(1h, 1, log));  // a lazy one: not started yet
    auto quick = tg.create_task(five_at_once(), "quick", asyncio::eager_start);
    log.push_back(quick.done() ? "quick done at once" : "quick pending");
    tg.create_task(fails_at_once(), "fails", asyncio::eager_start);
    log.push_back("body goes on");
    co_await asyncio::sleep(1h);  // cancelled, as the lazy child is: the eager one failed
  };
  BOOST_CHECK_THROW(co_await asyncio::task_group::run(body), std::invalid_argument);
  BOOST_TEST(log == (std::vector<std::string>{"quick done at once", "body goes on", "cancelled 1"}),
             boost::test_tools::per_element());
}

CO_TEST_CASE(leaving_the_group_waits_for_every_child) {
  std::vector<asyncio::task<int>> kids;
  auto body = [&kids](asyncio::task_group& tg) -> asyncio::coroutine<int> {
    kids.push_back(tg.create_task(test::value_after(5ms, 1)));
    kids.push_back(tg.create_task(test::value_after(1ms, 2), "second"));
    co_return 7;
  };
  BOOST_TEST(co_await asyncio::task_group::run(body) == 7);
  for (auto& k : kids) BOOST_TEST(k.done());
  BOOST_TEST(kids[0].result() + kids[1].result() == 3);
  BOOST_TEST(kids[1].get_name() == "second");
}

CO_TEST_CASE(one_failure_cancels_the_others_and_the_body_and_arrives_as_itself) {
  std::vector<std::string> log;
  auto body = [&log](asyncio::task_group& tg) -> asyncio::coroutine<void> {
    tg.create_task(child(1h, 1, log));
    tg.create_task(test::fail_after(1ms));
    try {
      co_await asyncio::sleep(1h);  // the body is cancelled too
    } catch (const asyncio::cancelled_error&) {
      log.push_back("body cancelled");
      throw;
    }
  };
  BOOST_CHECK_THROW(co_await asyncio::task_group::run(body), std::invalid_argument);
  BOOST_TEST(log.size() == 2u);
  BOOST_TEST((std::find(log.begin(), log.end(), "cancelled 1") != log.end()));
  BOOST_TEST((std::find(log.begin(), log.end(), "body cancelled") != log.end()));
  BOOST_TEST(asyncio::current_task().cancelling() == 0u);  // the group took its cancel back
  co_await asyncio::sleep(0s);                             // and this task goes on
}

CO_TEST_CASE(several_failures_arrive_as_an_exception_group) {
  // Both fail in their first step, before the group hears of either (its callbacks are
  // scheduled after both steps), so neither is cancelled first: two errors, whatever the speed.
  auto fail_now = []() -> asyncio::coroutine<int> {
    throw std::invalid_argument("failed");
    co_return 0;
  };
  auto body = [&fail_now](asyncio::task_group& tg) -> asyncio::coroutine<void> {
    tg.create_task(fail_now());
    tg.create_task(fail_now());
    co_return;
  };
  try {
    co_await asyncio::task_group::run(body);
    BOOST_FAIL("no exception");
  } catch (const asyncio::exception_group& g) {
    BOOST_TEST(g.exceptions().size() == 2u);
    for (auto& e : g.exceptions())
      BOOST_CHECK_THROW(std::rethrow_exception(e), std::invalid_argument);
  }
}

CO_TEST_CASE(a_failing_body_cancels_the_children) {
  std::vector<std::string> log;
  auto body = [&log](asyncio::task_group& tg) -> asyncio::coroutine<void> {
    tg.create_task(child(1h, 1, log));
    co_await asyncio::sleep(0s);  // the child takes its first step, to its sleep
    throw std::domain_error("body failed");
  };
  BOOST_CHECK_THROW(co_await asyncio::task_group::run(body), std::domain_error);
  BOOST_TEST(log == std::vector<std::string>{"cancelled 1"}, boost::test_tools::per_element());
}

CO_TEST_CASE(cancelling_the_caller_cancels_the_group_and_no_child_outlives_it) {
  std::vector<std::string> log;
  std::vector<asyncio::task<int>> kids;
  auto runner = [](std::vector<std::string>& log,
                   std::vector<asyncio::task<int>>& kids) -> asyncio::coroutine<void> {
    auto body = [&](asyncio::task_group& tg) -> asyncio::coroutine<void> {
      kids.push_back(tg.create_task(child(1h, 1, log)));
      kids.push_back(tg.create_task(child(1h, 2, log)));
      co_return;  // the group now waits for its children in exit
    };
    co_await asyncio::task_group::run(body);
  };
  auto caller = asyncio::create_task(runner(log, kids));
  co_await test::until([&kids] { return kids.size() == 2; });
  co_await asyncio::sleep(0s);  // the kids, queued before this task, take their first step
  caller.cancel();
  BOOST_CHECK_THROW(co_await *caller, asyncio::cancelled_error);
  BOOST_TEST(kids.size() == 2u);
  for (auto& k : kids) BOOST_TEST(k.cancelled());  // done before the group returned
  BOOST_TEST(log.size() == 2u);
}

CO_TEST_CASE(no_new_children_once_a_failure_shut_it_down) {
  bool refused = false;
  auto body = [&refused](asyncio::task_group& tg) -> asyncio::coroutine<void> {
    tg.create_task(test::fail_after(0ms));
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error&) {
      try {
        tg.create_task(test::value_after(0ms, 1));
      } catch (const std::runtime_error&) {
        refused = true;
      }
      throw;
    }
  };
  BOOST_CHECK_THROW(co_await asyncio::task_group::run(body), std::invalid_argument);
  BOOST_TEST(refused);
}

CO_TEST_CASE(gather_inside_task_group_inside_wait_for) {
  // The nesting of the issue: a timeout around a group around a gather; the timeout wins,
  // everything inside unwinds, and the caller sees timeout_error alone.
  std::vector<std::string> log;
  auto body = [&log](asyncio::task_group& tg) -> asyncio::coroutine<void> {
    tg.create_task(child(1h, 1, log));
    co_await asyncio::gather(child(1h, 2, log), child(1h, 3, log));
  };
  BOOST_CHECK_THROW(co_await asyncio::wait_for(asyncio::task_group::run(body), 5ms),
                    asyncio::timeout_error);
  BOOST_TEST(log.size() == 3u);
  BOOST_TEST(asyncio::current_task().cancelling() == 0u);
  BOOST_TEST(asyncio::all_tasks().size() == 1u);  // only this test's own task is left
}

BOOST_AUTO_TEST_CASE(nothing_is_alive_after_run_returns) {
  auto amain = []() -> asyncio::coroutine<void> {
    auto holder = [](test::live, std::chrono::milliseconds d) -> asyncio::coroutine<int> {
      co_await asyncio::sleep(d);
      co_return 0;
    };
    auto body = [&holder](asyncio::task_group& tg) -> asyncio::coroutine<void> {
      tg.create_task(holder({}, 1h));
      asyncio::create_task(holder({}, 1h));  // outside the group, left for run() to cancel
      co_await asyncio::shield(holder({}, 1h));
    };
    try {
      co_await asyncio::wait_for(asyncio::task_group::run(body), 5ms);
    } catch (const asyncio::timeout_error&) {
    }
    BOOST_TEST(test::live::count == 2);  // the shielded one and the loose one run on
  };
  asyncio::run(amain());
  BOOST_TEST(test::live::count == 0);
}

BOOST_AUTO_TEST_SUITE_END()
