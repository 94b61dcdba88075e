#include <asyncio/loop_group.hpp>

#include "test.hpp"

#include <atomic>
#include <thread>

BOOST_AUTO_TEST_SUITE(loop_group)

namespace {

asyncio::coroutine<std::thread::id> where_it_ran() {
  co_await asyncio::sleep(0s);
  co_return std::this_thread::get_id();
}

asyncio::coroutine<int> fails_there() {
  co_await asyncio::sleep(0s);
  throw std::out_of_range("from the other loop");
}

// Waits "for ever" on its loop; cancelled, it cleans up with an await, notes it, re-raises.
asyncio::coroutine<void> waits_then_cleans_up(std::atomic<int>* started,
                                              std::atomic<int>* cleaned) {
  ++*started;
  std::exception_ptr cancelled;
  try {
    co_await asyncio::sleep(3600s);
  } catch (const asyncio::cancelled_error&) {
    cancelled = std::current_exception();
  }
  co_await asyncio::sleep(0s);  // cleanup that awaits, as Python allows
  ++*cleaned;
  std::rethrow_exception(cancelled);
}

struct shared {
  asyncio::loop_group* group;
  std::atomic<int> started = 0, cleaned = 0;
  std::atomic<bool> ok = false;
  asyncio::event* loop_1_may_end = nullptr;  // loop 1's, set from loop 1's thread only
};

asyncio::coroutine<void> let_loop_1_end(shared* s) {
  s->loop_1_may_end->set();
  co_return;
}

asyncio::coroutine<void> from_loop_0(shared* s) {
  auto& other = (*s->group)[1];
  auto there = co_await asyncio::run_on(other, where_it_ran());
  bool moved = there != std::this_thread::get_id();
  bool crossed = false;
  try {
    co_await asyncio::run_on(other, fails_there());
  } catch (const std::out_of_range& e) {
    crossed = std::string(e.what()) == "from the other loop";
  }
  // Cancelling the awaiter cancels the remote task and waits for its cleanup.
  auto waiting =
      asyncio::create_task(asyncio::run_on(other, waits_then_cleans_up(&s->started, &s->cleaned)));
  // Once it runs there (a task cancelled before its first step never runs, as in Python).
  co_await test::until([s] { return s->started.load() == 1; });
  waiting.cancel();
  bool cancelled = false;
  try {
    co_await *waiting;
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  bool cleaned_first = s->cleaned.load() == 1;  // its cleanup ended before the awaiter did
  auto same = co_await asyncio::run_on(asyncio::get_running_loop(), where_it_ran());
  s->ok = moved && crossed && cancelled && cleaned_first && same == std::this_thread::get_id();
  co_await asyncio::run_on(other, let_loop_1_end(s));
}

asyncio::coroutine<void> on_loop_1(shared* s) {
  asyncio::event may_end;
  s->loop_1_may_end = &may_end;
  co_await may_end.wait();
}

asyncio::coroutine<void> two_mains(shared* s, std::size_t i) {
  if (i == 0) return from_loop_0(s);
  return on_loop_1(s);
}

// How many mains have begun: a task cancelled before its first step never runs at all (as
// in Python), so the mains that fail wait until the others are under way.
std::atomic<int> begun = 0;

asyncio::coroutine<void> idle_until_cancelled(std::atomic<int>* cancelled) {
  ++begun;
  try {
    co_await asyncio::sleep(3600s);
  } catch (const asyncio::cancelled_error&) {
    ++*cancelled;
    throw;
  }
}

asyncio::coroutine<void> fails_once_all_began(int code, int mains) {
  ++begun;
  co_await test::until([mains] { return begun.load() == mains; });
  throw std::out_of_range("loop failed: " + std::to_string(code));
}

// Fails whether or not the other loop's failure cancelled it first: two failures, always.
asyncio::coroutine<void> fails_even_if_cancelled(int code, int mains) {
  ++begun;
  try {
    co_await test::until([mains] { return begun.load() == mains; });
  } catch (const asyncio::cancelled_error&) {
  }
  throw std::out_of_range("loop failed: " + std::to_string(code));
}

}  // namespace

BOOST_AUTO_TEST_CASE(run_on_gives_results_and_errors_across_loops_and_cancels_both_ways) {
  asyncio::loop_group group(2);
  shared s;
  s.group = &group;
  group.run([&s](asyncio::event_loop&, std::size_t i) { return two_mains(&s, i); });
  BOOST_TEST(s.ok.load());
  BOOST_TEST(s.cleaned.load() == 1);
  BOOST_CHECK_THROW(
      group.run([](asyncio::event_loop&, std::size_t) { return fails_once_all_began(0, 1); }),
      std::runtime_error);  // once only: the loops are closed
}

BOOST_AUTO_TEST_CASE(one_failing_loop_cancels_the_others_and_its_error_comes_out) {
  asyncio::loop_group group(3);
  BOOST_TEST(group.size() == 3u);
  std::atomic<int> cancelled = 0;
  begun = 0;
  try {
    group.run([&cancelled](asyncio::event_loop&, std::size_t i) {
      return i == 1 ? fails_once_all_began(1, 3) : idle_until_cancelled(&cancelled);
    });
    BOOST_FAIL("no error");
  } catch (const std::out_of_range& e) {
    BOOST_TEST(std::string(e.what()) == "loop failed: 1");
  }
  BOOST_TEST(cancelled.load() == 2);
}

BOOST_AUTO_TEST_CASE(several_failures_arrive_as_an_exception_group) {
  asyncio::loop_group group(2);
  begun = 0;
  try {
    group.run(
        [](asyncio::event_loop&, std::size_t i) { return fails_even_if_cancelled(int(i), 2); });
    BOOST_FAIL("no error");
  } catch (const asyncio::exception_group& g) {
    BOOST_TEST(g.exceptions().size() == 2u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
