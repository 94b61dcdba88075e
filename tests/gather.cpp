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

namespace {

asyncio::coroutine<int> value_after_event(asyncio::event& go, int v) {
  co_await go.wait();
  co_return v;
}

asyncio::coroutine<int> fail_after_event(asyncio::event& go) {
  co_await go.wait();
  throw std::invalid_argument("failed");
}

// A result whose copy fails: reading it throws.
struct fragile {
  fragile() = default;
  fragile(const fragile&) { throw std::runtime_error("copy failed"); }
  fragile(fragile&&) noexcept = default;
};

asyncio::coroutine<fragile> make_fragile() { co_return fragile{}; }

}  // namespace

// A gather over a list takes each child's result as the child ends (or as the gather begins,
// if it has) and lets go of it. Cancelled then, it cancels only the children still running.
CO_TEST_CASE(a_list_gather_cancelled_midway_cancels_only_the_children_still_running) {
  asyncio::event go;
  std::vector<asyncio::task<int>> tasks{asyncio::create_task(test::value_after(0ms, 1)),
                                        asyncio::create_task(value_after_event(go, 2))};
  auto running = asyncio::create_task(test::value_after(1h, 3));
  tasks.push_back(running);
  co_await *tasks[0];  // ended before the gather begins
  auto g = asyncio::create_task(asyncio::gather(std::move(tasks)));  // its only handles on 0, 1
  co_await asyncio::sleep(0s);                                       // the gather waits
  go.set();
  co_await asyncio::sleep(0s);  // the second child ends while the gather waits
  BOOST_TEST(!g.done());
  g.cancel();
  BOOST_CHECK_THROW(co_await *g, asyncio::cancelled_error);
  BOOST_TEST(running.cancelled());
}

BOOST_AUTO_TEST_CASE(a_failed_list_gather_answers_for_the_errors_of_children_still_running) {
  test::log_capture log;
  auto amain = []() -> asyncio::coroutine<void> {
    asyncio::event go;
    auto later = asyncio::create_task(fail_after_event(go), "later");
    std::vector<asyncio::task<int>> tasks{asyncio::create_task(test::fail_after(0ms)), later};
    BOOST_CHECK_THROW(co_await asyncio::gather(std::move(tasks)), std::invalid_argument);
    BOOST_TEST(!later.done());
    go.set();
    co_await test::until([&later] { return later.done(); });  // it fails after the gather
  };
  asyncio::run(amain());
  BOOST_TEST(!log.contains("never retrieved"));
}

CO_TEST_CASE(a_list_gather_whose_result_cannot_be_read_fails_with_that_error) {
  std::vector<asyncio::task<fragile>> tasks{asyncio::create_task(make_fragile())};
  try {
    co_await asyncio::gather(tasks);
    BOOST_FAIL("the copy did not fail");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) == "copy failed");
  }
  auto outcomes = co_await asyncio::gather(asyncio::return_exceptions, std::move(tasks));
  BOOST_TEST(outcomes.size() == 1u);  // with return_exceptions, the failed read is the outcome
  BOOST_CHECK_THROW(std::move(outcomes[0]).get(), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
