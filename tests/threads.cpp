#include <asyncio/threads.hpp>

#include "test.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <future>
#include <latch>
#include <thread>

BOOST_AUTO_TEST_SUITE(threads)

CO_TEST_CASE(to_thread_runs_elsewhere_and_gives_the_result) {
  auto loop_thread = std::this_thread::get_id();
  auto [id, sum] = co_await asyncio::to_thread(
      [](int a, int b) {
        return std::pair{std::this_thread::get_id(), a + b};
      },
      40, 2);
  BOOST_TEST((id != loop_thread));
  BOOST_TEST(sum == 42);
  BOOST_TEST((std::this_thread::get_id() == loop_thread));  // resumed on the loop
}

CO_TEST_CASE(to_thread_rethrows_the_functions_exception) {
  BOOST_CHECK_THROW(co_await asyncio::to_thread([] { throw std::length_error("in thread"); }),
                    std::length_error);
}

CO_TEST_CASE(run_in_executor_hands_f_to_the_pool_at_once_and_its_task_gives_the_result) {
  std::promise<std::thread::id> started;
  auto ran_on = started.get_future();
  auto sum = asyncio::run_in_executor(
      [&started](int a, int b) {
        started.set_value(std::this_thread::get_id());
        return a + b;
      },
      2, 3);
  // Waited for here, without any await: f was handed over in the call (the bound only turns
  // a lazy start, which would never come while this blocks, into a failure).
  BOOST_REQUIRE(ran_on.wait_for(60s) == std::future_status::ready);
  BOOST_TEST((ran_on.get() != std::this_thread::get_id()));
  BOOST_TEST(co_await *sum == 5);
  auto failing = asyncio::run_in_executor([] { throw std::range_error("in thread"); });
  BOOST_CHECK_THROW(co_await *failing, std::range_error);
}

CO_TEST_CASE(the_loop_keeps_running_while_a_thread_blocks) {
  // The thread blocks until a task on the loop releases it: this finishes only if both
  // run at once (a blocking call on the loop thread would deadlock here).
  std::latch release(1);
  auto blocked = asyncio::create_task(asyncio::to_thread([&release] {
    release.wait();
    return 1;
  }));
  auto releaser = asyncio::create_task([](std::latch& l) -> asyncio::coroutine<void> {
    co_await asyncio::sleep(1ms);
    l.count_down();
  }(release));
  BOOST_TEST(co_await *blocked == 1);
  co_await *releaser;
}

BOOST_AUTO_TEST_CASE(a_plain_thread_submits_a_coroutine_and_waits_on_its_future) {
  asyncio::event_loop loop;
  auto work = [](int x) -> asyncio::coroutine<int> {
    co_await asyncio::sleep(1ms);
    BOOST_TEST(asyncio::current_task());  // it runs as a task of the loop
    co_return x * 2;
  };
  auto failing = []() -> asyncio::coroutine<void> {
    co_await asyncio::sleep(0s);
    throw std::runtime_error("remote failure");
  };
  int result = 0;
  bool rethrown = false;
  std::thread client([&] {
    auto f = asyncio::run_coroutine_threadsafe(work(21), loop);
    result = f.get();
    try {
      asyncio::run_coroutine_threadsafe(failing(), loop).get();
    } catch (const std::runtime_error&) {
      rethrown = true;
    }
    loop.call_soon_threadsafe([&loop] { loop.stop(); });
  });
  loop.run_forever();
  client.join();
  BOOST_TEST(result == 42);
  BOOST_TEST(rethrown);
}

namespace {

// Hands out the executor of the task it runs in (not as the task's value: that would be a
// reference cycle, the state holding its own executor).
asyncio::coroutine<void> own_executor(boost::asio::any_io_executor& out) {
  out = co_await boost::asio::this_coro::executor;
}

// Copies `ex` and posts `n` handlers through the copies, from the calling thread.
void post_copies(const boost::asio::any_io_executor& ex, int n, int& ran, asyncio::event& all) {
  for (int i = 0; i < n; ++i) {
    auto copy = ex;
    boost::asio::post(copy, [&ran, &all, n] {
      if (++ran == n) all.set();
    });
  }
}

}  // namespace

CO_TEST_CASE(a_task_executor_may_be_copied_and_posted_to_from_any_thread) {
  // The everyday Asio idiom: a task's executor handed to a thread that posts to it, while
  // the task runs and after it has ended. TSan checks the task's reference count.
  constexpr int n = 2000;
  asyncio::event during, after;
  int ran_during = 0, ran_after = 0;
  std::promise<boost::asio::any_io_executor> running, ended;
  std::thread poster([&, r = running.get_future(), e = ended.get_future()]() mutable {
    post_copies(r.get(), n, ran_during, during);
    post_copies(e.get(), n, ran_after, after);
  });
  boost::asio::any_io_executor of_running, of_ended;
  co_await own_executor(of_running);  // this task's executor, while it runs
  running.set_value(std::move(of_running));
  co_await during.wait();
  {
    auto t = asyncio::create_task(own_executor(of_ended));
    co_await *t;
  }
  ended.set_value(std::move(of_ended));  // now the only reference to the ended task's state
  co_await after.wait();
  poster.join();
  BOOST_TEST(ran_during == n);
  BOOST_TEST(ran_after == n);
}

BOOST_AUTO_TEST_SUITE_END()
