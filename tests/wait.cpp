#include <asyncio/wait.hpp>

#include "test.hpp"

#include <array>

BOOST_AUTO_TEST_SUITE(wait)

namespace {

std::vector<asyncio::task<int>> three(std::chrono::milliseconds a, std::chrono::milliseconds b,
                                      std::chrono::milliseconds c) {
  return {asyncio::create_task(test::value_after(a, 1)),
          asyncio::create_task(test::value_after(b, 2)),
          asyncio::create_task(test::value_after(c, 3))};
}

}  // namespace

CO_TEST_CASE(all_completed_waits_for_every_task) {
  auto tasks = three(3ms, 1ms, 2ms);
  auto [done, pending] = co_await asyncio::wait(tasks);
  BOOST_TEST(done.size() == 3u);
  BOOST_TEST(pending.empty());
}

CO_TEST_CASE(first_completed_returns_with_the_rest_still_running) {
  auto tasks = three(1h, 1ms, 1h);
  auto [done, pending] = co_await asyncio::wait(tasks, asyncio::return_when::first_completed);
  BOOST_TEST(done.size() == 1u);
  BOOST_TEST(done[0].result() == 2);
  BOOST_TEST(pending.size() == 2u);
  for (auto& t : pending) {
    BOOST_TEST(!t.done());  // still running, as in Python
    t.cancel();
  }
  co_await asyncio::wait(pending);
}

CO_TEST_CASE(first_exception_returns_at_the_first_failure_without_throwing) {
  std::vector<asyncio::task<int>> tasks{asyncio::create_task(test::value_after(1h, 1)),
                                        asyncio::create_task(test::fail_after(1ms)),
                                        asyncio::create_task(test::value_after(0ms, 3))};
  auto [done, pending] = co_await asyncio::wait(tasks, asyncio::return_when::first_exception);
  BOOST_TEST(done.size() == 2u);
  BOOST_TEST(pending.size() == 1u);
  BOOST_TEST(static_cast<bool>(tasks[1].exception()));
  pending[0].cancel();
  co_await asyncio::wait(pending);
}

CO_TEST_CASE(first_exception_does_not_take_a_cancelled_task_for_a_failure) {
  asyncio::event go;
  auto fail_when = [](asyncio::event& go) -> asyncio::coroutine<int> {
    co_await go.wait();
    throw std::runtime_error("boom");
  };
  std::vector<asyncio::task<int>> tasks{asyncio::create_task(test::value_after(1h, 1)),
                                        asyncio::create_task(fail_when(go))};
  tasks[0].cancel();
  auto waiter = asyncio::create_task(asyncio::wait(tasks, asyncio::return_when::first_exception));
  co_await asyncio::sleep(0s);  // the first task ends cancelled, the wait begins
  BOOST_TEST(tasks[0].cancelled());
  go.set();
  auto [done, pending] = co_await *waiter;
  BOOST_TEST(done.size() == 2u);  // as CPython: it waited for the task that raised
  BOOST_TEST(pending.empty());
  BOOST_CHECK_THROW(co_await *tasks[1], std::runtime_error);
}

CO_TEST_CASE(a_timeout_returns_what_is_done_and_cancels_nothing) {
  auto tasks = three(1ms, 1h, 1h);
  auto [done, pending] = co_await asyncio::wait(tasks, asyncio::return_when::all_completed, 50ms);
  BOOST_TEST(done.size() == 1u);
  BOOST_TEST(pending.size() == 2u);
  for (auto& t : pending) BOOST_TEST(!t.cancelled());
  for (auto& t : pending) t.cancel();
  co_await asyncio::wait(pending);
}

CO_TEST_CASE(cancelling_a_wait_leaves_the_tasks_alone) {
  auto tasks = three(1h, 1h, 1h);
  auto waiter = asyncio::create_task(asyncio::wait(tasks));
  co_await asyncio::sleep(0s);  // it waits, in its first step
  waiter.cancel();
  BOOST_CHECK_THROW(co_await *waiter, asyncio::cancelled_error);
  for (auto& t : tasks) BOOST_TEST(!t.done());
  for (auto& t : tasks) t.cancel();
  co_await asyncio::wait(tasks);
}

CO_TEST_CASE(wait_on_nothing_is_an_error) {
  BOOST_CHECK_THROW(co_await asyncio::wait(std::vector<asyncio::task<int>>{}),
                    std::invalid_argument);
}

CO_TEST_CASE(as_completed_hands_out_tasks_in_finishing_order_as_they_finish) {
  std::array<asyncio::event, 3> go;
  auto when_set = [](asyncio::event& e, int v) -> asyncio::coroutine<int> {
    co_await e.wait();
    co_return v;
  };
  std::vector<asyncio::task<int>> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(asyncio::create_task(when_set(go[i], i + 1)));
  asyncio::as_completed<int> finished(tasks);
  std::vector<int> order;
  for (int i : {1, 2, 0}) {  // the second finishes first, then the third, then the first
    go[i].set();
    auto t = co_await finished.next();
    order.push_back(t.result());
    BOOST_TEST(tasks[0].done() == (i == 0));  // streamed: each handed out as it finishes
  }
  BOOST_TEST(order == (std::vector<int>{2, 3, 1}), boost::test_tools::per_element());
  BOOST_CHECK_THROW(co_await finished.next(), std::out_of_range);
}

BOOST_AUTO_TEST_SUITE_END()
