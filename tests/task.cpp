#include <asyncio/task.hpp>

#include "test.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

BOOST_AUTO_TEST_SUITE(task)

namespace {

asyncio::coroutine<void> mark(bool& ran) {
  ran = true;
  co_return;
}

// Notes which task it runs as, then yields once: an eager task's first step and its second.
asyncio::coroutine<int> note_then_yield(std::vector<std::string>& log, std::string name) {
  log.push_back(name + " first, as " + asyncio::current_task().get_name());
  co_await asyncio::sleep(0s);
  log.push_back(name + " second");
  co_return 7;
}

// An eager task whose first step creates another eager one.
asyncio::coroutine<void> creates_eager(std::vector<std::string>& log) {
  auto inner = asyncio::create_task(note_then_yield(log, "inner"), "inner", asyncio::eager_start);
  log.push_back("outer goes on as " + asyncio::current_task().get_name());
  co_await *inner;
}

asyncio::coroutine<int> ends_at_once() { co_return 5; }

asyncio::coroutine<void> fails_at_once() {
  throw std::runtime_error("failed in its eager step");
  co_return;
}

}  // namespace

CO_TEST_CASE(an_eager_task_takes_its_first_step_inside_create_task) {
  std::vector<std::string> log;
  const auto creator = asyncio::current_task().get_name();
  auto lazy = asyncio::create_task(note_then_yield(log, "lazy"), "lazy");
  auto eager = asyncio::create_task(note_then_yield(log, "eager"), "eager", asyncio::eager_start);
  log.push_back("created, as " + asyncio::current_task().get_name());
  BOOST_TEST(!eager.done());
  // One that ends in its first step is done at once, never scheduled; its error stays in it.
  auto quick = asyncio::create_task(ends_at_once(), asyncio::eager_start);
  BOOST_TEST(quick.done());
  BOOST_TEST(quick.result() == 5);
  auto failed = asyncio::create_task(fails_at_once(), asyncio::eager_start);
  BOOST_TEST(failed.done());
  BOOST_CHECK_THROW(failed.result(), std::runtime_error);
  auto nested = asyncio::create_task(creates_eager(log), "outer", asyncio::eager_start);
  BOOST_TEST(co_await *eager == 7);
  co_await *lazy;
  co_await *nested;
  BOOST_TEST(log == (std::vector<std::string>{"eager first, as eager", "created, as " + creator,
                                              "inner first, as inner", "outer goes on as outer",
                                              "lazy first, as lazy", "eager second", "inner second",
                                              "lazy second"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_eager_task_on_a_loop_not_running_is_scheduled) {
  asyncio::event_loop loop;
  bool ran = false;
  auto t = loop.create_task(mark(ran), "later", asyncio::eager_start);
  BOOST_TEST(!ran);  // as Python's: no running loop, no eager step
  loop.run_until_complete(t);
  BOOST_TEST(ran);
}

CO_TEST_CASE(create_task_does_not_run_it_until_the_creator_yields) {
  bool ran = false;
  auto t = asyncio::create_task(mark(ran));
  BOOST_TEST(!ran);
  co_await asyncio::sleep(0s);
  BOOST_TEST(ran);
  BOOST_TEST(t.done());
}

CO_TEST_CASE(tasks_start_in_creation_order) {
  std::vector<std::string> log;
  auto a = asyncio::create_task(test::record(log, "a", 2));
  auto b = asyncio::create_task(test::record(log, "b", 2));
  auto c = asyncio::create_task(test::record(log, "c", 2));
  co_await *c;
  co_await *a;
  BOOST_TEST(log == (std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "c1"}),
             boost::test_tools::per_element());
}

CO_TEST_CASE(awaiting_gives_the_value_or_the_exception_as_itself) {
  auto ok = asyncio::create_task(test::value_after(1ms, 42));
  BOOST_TEST(co_await *ok == 42);
  auto bad = asyncio::create_task(test::fail_after(1ms));
  BOOST_CHECK_THROW(co_await *bad, std::invalid_argument);
  BOOST_TEST(bad.done());
  BOOST_TEST(!bad.cancelled());
  BOOST_CHECK_THROW(bad.result(), std::invalid_argument);
}

CO_TEST_CASE(any_number_of_awaiters_before_and_after_it_ends) {
  auto t = asyncio::create_task(test::value_after(2ms, 5));
  auto awaiter = [](asyncio::task<int> t) -> asyncio::coroutine<int> { co_return co_await *t; };
  auto w1 = asyncio::create_task(awaiter(t));
  auto w2 = asyncio::create_task(awaiter(t));
  BOOST_TEST(co_await *t == 5);
  BOOST_TEST(co_await *w1 == 5);
  BOOST_TEST(co_await *w2 == 5);
  BOOST_TEST(co_await *t == 5);  // after the end too
  BOOST_TEST(t.result() == 5);
}

CO_TEST_CASE(result_of_a_pending_task_is_an_invalid_state) {
  auto t = asyncio::create_task(test::value_after(1ms, 1));
  BOOST_CHECK_THROW(t.result(), asyncio::invalid_state_error);
  BOOST_CHECK_THROW(t.exception(), asyncio::invalid_state_error);
  co_await *t;
  BOOST_TEST(!t.exception());
}

CO_TEST_CASE(cancel_throws_cancelled_error_at_the_current_await_and_cleanup_may_await) {
  std::vector<std::string> log;
  auto worker = [](std::vector<std::string>& log) -> asyncio::coroutine<void> {
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error& e) {
      log.push_back(std::string("cancelled:") + e.what());
    }
    // Cleanup that awaits, as Python allows, then re-raise.
    co_await asyncio::sleep(1ms);
    log.push_back("cleaned up");
    throw asyncio::cancelled_error("re-raised");
  };
  auto t = asyncio::create_task(worker(log));
  co_await asyncio::sleep(0s);
  BOOST_TEST(t.cancel("stop now"));
  BOOST_TEST(!t.done());  // a request: the coroutine has not seen it yet
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  BOOST_TEST(t.cancelled());
  BOOST_TEST(log == (std::vector<std::string>{"cancelled:stop now", "cleaned up"}),
             boost::test_tools::per_element());
}

CO_TEST_CASE(a_second_cancel_interrupts_the_cleanup) {
  std::vector<std::string> log;
  auto worker = [](std::vector<std::string>& log) -> asyncio::coroutine<void> {
    bool first = false;
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error&) {
      first = true;
    }
    if (first) {
      log.push_back("cleaning up");
      try {
        co_await asyncio::sleep(1h);  // a long cleanup
      } catch (const asyncio::cancelled_error& e) {
        log.push_back(std::string("cleanup interrupted: ") + e.what());
        throw;
      }
    }
  };
  auto t = asyncio::create_task(worker(log));
  co_await asyncio::sleep(0s);
  t.cancel("first");
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  BOOST_TEST(t.cancelling() == 1u);
  t.cancel("second");
  BOOST_TEST(t.cancelling() == 2u);
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  BOOST_TEST(log == (std::vector<std::string>{"cleaning up", "cleanup interrupted: second"}),
             boost::test_tools::per_element());
}

CO_TEST_CASE(uncancel_takes_back_a_request_not_yet_delivered) {
  auto t = asyncio::create_task(test::value_after(2ms, 1));
  t.cancel();                      // before it started: nothing has seen the request yet
  BOOST_TEST(t.uncancel() == 0u);  // as Python 3.13: at zero the pending request is dropped
  BOOST_TEST(co_await *t == 1);
  // Once an await has been cancelled, uncancel() no longer undoes it (Python alike).
  auto u = asyncio::create_task(test::value_after(1h, 1));
  co_await asyncio::sleep(0s);
  u.cancel();
  u.uncancel();
  BOOST_CHECK_THROW(co_await *u, asyncio::cancelled_error);
}

CO_TEST_CASE(cancel_before_start_means_the_body_never_runs) {
  bool ran = false;
  auto t = asyncio::create_task(mark(ran));
  t.cancel();
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  BOOST_TEST(!ran);
  BOOST_TEST(t.cancelled());
}

CO_TEST_CASE(cancel_of_a_finished_task_returns_false) {
  auto t = asyncio::create_task(test::value_after(0ms, 3));
  co_await *t;
  BOOST_TEST(!t.cancel());
  BOOST_TEST(!t.cancelled());
  BOOST_TEST(t.result() == 3);
}

CO_TEST_CASE(a_task_that_swallows_cancellation_is_not_cancelled) {
  auto stubborn = []() -> asyncio::coroutine<int> {
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error&) {
    }
    co_return 9;
  };
  auto t = asyncio::create_task(stubborn());
  co_await asyncio::sleep(0s);
  t.cancel();
  BOOST_TEST(co_await *t == 9);
  BOOST_TEST(!t.cancelled());
}

CO_TEST_CASE(cancelled_error_is_not_a_std_exception) {
  auto catches_std = []() -> asyncio::coroutine<bool> {
    try {
      co_await asyncio::sleep(1h);
    } catch (const std::exception&) {
      co_return true;  // would swallow the cancellation: must not happen
    }
    co_return false;
  };
  auto t = asyncio::create_task(catches_std());
  co_await asyncio::sleep(0s);
  t.cancel();
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  static_assert(!std::is_base_of_v<std::exception, asyncio::cancelled_error>);
}

CO_TEST_CASE(cancelling_the_awaiter_cancels_the_awaited_task) {
  auto inner = asyncio::create_task(test::value_after(1h, 0));
  auto outer_fn = [](asyncio::task<int> inner) -> asyncio::coroutine<int> {
    co_return co_await *inner;
  };
  auto outer = asyncio::create_task(outer_fn(inner));
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
  outer.cancel();
  BOOST_CHECK_THROW(co_await *outer, asyncio::cancelled_error);
  BOOST_TEST(inner.cancelled());  // as Python: the awaited task got the cancel too
}

CO_TEST_CASE(a_task_cancelling_itself_sees_it_at_its_next_await) {
  auto self_cancel = []() -> asyncio::coroutine<int> {
    asyncio::current_task().cancel("self");
    int reached = 1;
    try {
      co_await asyncio::sleep(1h);
      reached = 2;
    } catch (const asyncio::cancelled_error& e) {
      BOOST_TEST(std::string(e.what()) == "self");
      throw;
    }
    co_return reached;
  };
  auto t = asyncio::create_task(self_cancel());
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
}

CO_TEST_CASE(cancel_reaches_a_raw_asio_operation_as_cancellation) {
  auto raw = []() -> asyncio::coroutine<void> {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 1h);
    co_await timer.async_wait(boost::asio::use_awaitable);
  };
  auto t = asyncio::create_task(raw());
  co_await asyncio::sleep(0s);
  t.cancel();
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);  // not system_error
  BOOST_TEST(t.cancelled());
}

// The coroutine stack's cancellation state is the task's own (built inside it): Asio code that
// reads it sees the cancel, and one that resets it is still reached.
CO_TEST_CASE(raw_asio_code_sees_the_tasks_cancellation_state_and_may_reset_it) {
  auto raw = [](bool reset, boost::asio::cancellation_type_t& seen) -> asyncio::coroutine<void> {
    if (reset)
      co_await boost::asio::this_coro::reset_cancellation_state(
          boost::asio::enable_total_cancellation());
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 1h);
    auto [error] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    BOOST_TEST(error == boost::asio::error::operation_aborted);
    auto state = co_await boost::asio::this_coro::cancellation_state;
    seen = state.cancelled();
  };
  for (bool reset : {false, true}) {
    auto seen = boost::asio::cancellation_type::none;
    auto t = asyncio::create_task(raw(reset, seen));
    co_await asyncio::sleep(0s);
    BOOST_TEST(t.cancel());
    BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);  // the request stays the task's
    BOOST_TEST((seen == boost::asio::cancellation_type::terminal));
  }
}

CO_TEST_CASE(names_default_to_task_n_and_can_be_set) {
  auto t = asyncio::create_task(test::value_after(0ms, 0));
  BOOST_TEST(t.get_name().rfind("Task-", 0) == 0u);
  auto named = asyncio::create_task(test::value_after(0ms, 0), "fetcher");
  BOOST_TEST(named.get_name() == "fetcher");
  named.set_name("renamed");
  BOOST_TEST(named.get_name() == "renamed");
  co_await asyncio::gather(t, named);
}

CO_TEST_CASE(done_callbacks_are_scheduled_not_called_inline) {
  std::vector<std::string> log;
  auto t = asyncio::create_task(test::value_after(1ms, 4));
  t.add_done_callback(
      [&log](asyncio::task<int> done) { log.push_back("cb1:" + std::to_string(done.result())); });
  t.add_done_callback([&log](asyncio::task<int>) { log.push_back("cb2"); });
  BOOST_TEST(log.empty());
  co_await *t;
  log.push_back("awaiter");
  // Python's order: every party in the order it came; this awaiter came after both callbacks.
  BOOST_TEST(log == (std::vector<std::string>{"cb1:4", "cb2", "awaiter"}),
             boost::test_tools::per_element());
  // Added after the end: still scheduled, not run inline.
  bool late = false;
  t.add_done_callback([&late](asyncio::task<int>) { late = true; });
  BOOST_TEST(!late);
  co_await asyncio::sleep(0s);
  BOOST_TEST(late);
}

CO_TEST_CASE(current_task_and_all_tasks) {
  auto me = asyncio::current_task();
  BOOST_TEST(me);
  BOOST_TEST(!me.done());
  auto probe = [](asyncio::task<> creator) -> asyncio::coroutine<bool> {
    co_return asyncio::current_task() != creator;
  };
  auto t = asyncio::create_task(probe(me), "probe");
  auto all = asyncio::all_tasks();
  BOOST_TEST(all.size() == 2u);
  BOOST_TEST((std::find(all.begin(), all.end(), asyncio::task<>(t)) != all.end()));
  BOOST_TEST(co_await *t);
  BOOST_TEST(asyncio::all_tasks().size() == 1u);  // finished tasks leave the list
  BOOST_TEST(!asyncio::task<>());                 // a default handle is empty
}

BOOST_AUTO_TEST_CASE(current_task_is_empty_in_a_plain_callback) {
  asyncio::event_loop loop;
  bool empty = false;
  loop.call_soon([&] {
    empty = !asyncio::current_task();
    loop.stop();
  });
  loop.run_forever();
  BOOST_TEST(empty);
}

CO_TEST_CASE(dropping_every_handle_neither_cancels_nor_loses_the_task) {
  int finished = 0;
  auto worker = [](int& finished) -> asyncio::coroutine<void> {
    co_await asyncio::sleep(2ms);
    ++finished;
  };
  for (int i = 0; i < 3; ++i) asyncio::create_task(worker(finished));  // handles dropped at once
  co_await test::until([&finished] { return finished == 3; });
}

BOOST_AUTO_TEST_CASE(an_exception_nobody_retrieved_is_logged) {
  test::log_capture log;
  auto amain = []() -> asyncio::coroutine<void> {
    asyncio::create_task(test::fail_after(0ms), "orphan");
    auto seen = asyncio::create_task(test::fail_after(0ms), "seen");
    co_await asyncio::sleep(5ms);
    BOOST_CHECK_THROW(seen.result(), std::invalid_argument);
  };
  asyncio::run(amain());
  BOOST_TEST(log.contains("Task exception was never retrieved: orphan: failed"));
  BOOST_TEST(!log.contains("seen"));
}

CO_TEST_CASE(move_only_results) {
  auto make = []() -> asyncio::coroutine<std::unique_ptr<int>> {
    co_return std::make_unique<int>(8);
  };
  auto t = asyncio::create_task(make());
  auto p = co_await *t;
  BOOST_TEST(*p == 8);
}

// A task's entry frame lives in its state when it fits; a large result makes it too large, and
// it takes memory of its own. Either way the value arrives whole and the memory goes back
// (which the asan preset checks).
CO_TEST_CASE(small_and_large_results_arrive_whole) {
  auto small = []() -> asyncio::coroutine<int> {
    co_await asyncio::sleep(0s);
    co_return 7;
  };
  auto large = []() -> asyncio::coroutine<std::array<int, 512>> {
    std::array<int, 512> a{};
    std::iota(a.begin(), a.end(), 1);
    co_await asyncio::sleep(0s);
    co_return a;
  };
  auto s = asyncio::create_task(small());
  auto l = asyncio::create_task(large());
  BOOST_TEST(co_await *s == 7);
  auto a = co_await *l;
  BOOST_TEST(std::accumulate(a.begin(), a.end(), 0) == 512 * 513 / 2);
}

// A task that nobody holds is freed as its coroutine ends, which is inside one of its steps:
// the step still finishes on it (the asan preset checks), in the first step or a later one,
// with its entry frame in its state or apart.
CO_TEST_CASE(a_task_nobody_holds_outlives_the_step_it_ends_in) {
  int ended = 0;
  auto at_once = [](int& ended) -> asyncio::coroutine<int> {
    ++ended;
    co_return 1;
  };
  auto later = [](int& ended) -> asyncio::coroutine<std::array<int, 512>> {
    co_await asyncio::sleep(0s);
    ++ended;
    co_return std::array<int, 512>{};
  };
  asyncio::create_task(at_once(ended));  // handles dropped at once
  asyncio::create_task(later(ended));
  co_await test::until([&ended] { return ended == 2; });
}

// As Python's await of a done task or future: no suspension, so nothing else runs meanwhile
// and a pending cancel waits for the task's next real suspension.
CO_TEST_CASE(awaiting_a_done_task_or_future_does_not_suspend) {
  auto seven = []() -> asyncio::coroutine<int> { co_return 7; };
  auto t = asyncio::create_task(seven());
  BOOST_TEST(co_await *t == 7);  // it had to wait for this one
  auto f = asyncio::get_running_loop().create_future<int>();
  f.set_result(8);
  std::vector<std::string> log;
  asyncio::get_running_loop().call_soon([&log] { log.push_back("callback"); });
  asyncio::current_task().cancel();
  BOOST_TEST(co_await *t == 7);
  BOOST_TEST(co_await *f == 8);
  BOOST_TEST(co_await asyncio::shield(t) == 7);
  log.push_back("not cancelled yet");
  BOOST_CHECK_THROW(co_await asyncio::sleep(0s), asyncio::cancelled_error);
  BOOST_TEST(log == (std::vector<std::string>{"not cancelled yet", "callback"}),
             boost::test_tools::per_element());
}

// Handlers posted through a task's executor on its loop: the first queued takes the task's
// room, the others while it is taken memory of their own, and so does a sleep's timer node.
// All run, in the order posted, and the room serves again once its entry has run.
CO_TEST_CASE(several_wakeups_of_one_task_queued_at_once_run_in_order) {
  auto ex = co_await boost::asio::this_coro::executor;
  std::vector<int> order;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) boost::asio::post(ex, [&order, i] { order.push_back(i); });
    co_await asyncio::sleep(round == 1 ? 1ms : 0ms);
  }
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 0, 1, 2, 0, 1, 2}),
             boost::test_tools::per_element());
}

// A cancel that arrives when what the task awaited has already completed, but before the task
// resumed (CPython's Task.__step with _must_cancel), is never lost.

CO_TEST_CASE(a_cancel_between_a_sleeps_end_and_its_resumption_is_delivered) {
  auto& loop = asyncio::get_running_loop();
  asyncio::task<> worker;
  bool woke = false;
  // Due first, so it runs before the worker's wake-up that the same turn of timers queues.
  loop.call_later(1ms, [&worker] { worker.cancel("late"); });
  worker = asyncio::create_task([](bool& woke) -> asyncio::coroutine<void> {
    co_await asyncio::sleep(2ms);
    woke = true;
  }(woke));
  co_await asyncio::sleep(0s);       // the worker's sleep is armed
  std::this_thread::sleep_for(5ms);  // blocks the loop until both deadlines have passed
  BOOST_CHECK_EXCEPTION(co_await *worker, asyncio::cancelled_error,
                        [](const auto& e) { return std::string(e.what()) == "late"; });
  BOOST_TEST(!woke);
}

CO_TEST_CASE(a_cancel_between_a_threads_return_and_the_tasks_resumption_is_delivered) {
  auto& loop = asyncio::get_running_loop();
  asyncio::task<int> worker;
  bool resumed = false;
  worker = asyncio::create_task([](asyncio::event_loop& loop, asyncio::task<int>& self,
                                   bool& resumed) -> asyncio::coroutine<int> {
    int n = co_await asyncio::to_thread([&loop, &self] {
      // Reaches the loop before the result does: the thread's work is over by then.
      loop.call_soon_threadsafe([&self] { self.cancel("late"); });
      return 7;
    });
    resumed = true;
    co_return n;
  }(loop, worker, resumed));
  BOOST_CHECK_THROW(co_await *worker, asyncio::cancelled_error);
  BOOST_TEST(!resumed);
}

CO_TEST_CASE(a_cancel_between_a_raw_reads_completion_and_its_delivery_is_not_lost) {
  namespace net = boost::asio;
  using net::ip::tcp;
  auto ex = asyncio::get_running_loop().get_executor();
  tcp::acceptor acceptor(ex, {net::ip::address_v4::loopback(), 0});
  tcp::socket ours(ex), peer(ex);
  peer.connect(acceptor.local_endpoint());
  acceptor.accept(ours);
  asyncio::task<int> reader;
  // Queued on the socket before the reader's read: one pass of the reactor completes both,
  // the canceller first, so the read has completed but not been delivered when it cancels.
  auto canceller = asyncio::create_task(
      [](tcp::socket& s, asyncio::task<int>& reader) -> asyncio::coroutine<void> {
        co_await s.async_wait(tcp::socket::wait_read, net::use_awaitable);
        reader.cancel("late");
      }(ours, reader));
  co_await asyncio::sleep(0s);
  reader = asyncio::create_task([](tcp::socket& s) -> asyncio::coroutine<int> {
    char byte;
    int reads = 0;
    for (;;) {  // without the cancel, the second read waits for ever: no more bytes come
      co_await s.async_read_some(net::buffer(&byte, 1), net::use_awaitable);
      ++reads;
    }
    co_return reads;
  }(ours));
  co_await asyncio::sleep(0s);
  net::write(peer, net::buffer("x", 1));
  co_await *canceller;
  BOOST_CHECK_THROW(co_await *reader, asyncio::cancelled_error);
  BOOST_TEST(reader.cancelled());
}

// Cancellation as CPython's Task.cancel / Task.__step (3.11/3.12 give the same on these).

namespace {

// Swallows a cancel while waiting, then returns 42; notes the message it saw.
asyncio::coroutine<int> swallows(std::string& seen) {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error& e) {
    seen = e.what();
  }
  co_return 42;
}

asyncio::coroutine<int> awaits(asyncio::task<int> inner) { co_return co_await *inner; }

}  // namespace

CO_TEST_CASE(a_cancel_the_awaited_task_refuses_leaves_the_awaiter_its_value) {
  std::string seen;
  auto inner = asyncio::create_task(swallows(seen));
  auto outer = asyncio::create_task(awaits(inner));
  co_await asyncio::sleep(0s);
  BOOST_TEST(outer.cancel("chain"));
  BOOST_TEST(co_await *outer == 42);  // not cancelled: inner took the request and refused it
  BOOST_TEST(!outer.cancelled());
  BOOST_TEST(outer.cancelling() == 1u);
  BOOST_TEST(seen == "chain");  // the message travelled to the awaited task
}

CO_TEST_CASE(the_first_cancel_message_wins) {
  auto inner = asyncio::create_task([]() -> asyncio::coroutine<std::string> {
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error& e) {
      co_return e.what();
    }
    co_return "";
  }());
  auto outer =
      asyncio::create_task([](asyncio::task<std::string> inner) -> asyncio::coroutine<std::string> {
        co_return co_await *inner;
      }(inner));
  co_await asyncio::sleep(0s);
  outer.cancel("one");
  outer.cancel("two");
  BOOST_TEST(co_await *outer == "one");
  auto plain = asyncio::create_task(test::value_after(1h, 0));
  co_await asyncio::sleep(0s);
  plain.cancel("one");
  plain.cancel("two");
  BOOST_CHECK_EXCEPTION(co_await *plain, asyncio::cancelled_error,
                        [](const auto& e) { return std::string(e.what()) == "one"; });
}

CO_TEST_CASE(a_pending_cancel_goes_on_to_the_task_awaited_next) {
  // CPython's test_cancel_awaited_task (bpo-34872): a task cancelled while it runs passes
  // the cancel on to the task it awaits next, and ends once that one has.
  auto fut = asyncio::get_running_loop().create_future<int>();
  auto nested = asyncio::create_task(
      [](asyncio::future<int> f) -> asyncio::coroutine<int> { co_return co_await *f; }(fut));
  auto coro = [](asyncio::task<int> nested) -> asyncio::coroutine<int> {
    co_await asyncio::sleep(0s);
    asyncio::current_task().cancel("self");
    co_return co_await *nested;
  };
  auto t = asyncio::create_task(coro(nested));
  BOOST_CHECK_EXCEPTION(co_await *t, asyncio::cancelled_error,
                        [](const auto& e) { return std::string(e.what()) == "self"; });
  BOOST_TEST(t.cancelled());
  BOOST_TEST(nested.cancelled());
  BOOST_TEST(fut.cancelled());
}

CO_TEST_CASE(a_pending_cancel_goes_on_to_a_gather_awaited_next) {
  auto a = asyncio::create_task(test::value_after(1h, 1));
  auto b = asyncio::create_task(test::value_after(1h, 2));
  auto coro = [](asyncio::task<int> a, asyncio::task<int> b) -> asyncio::coroutine<void> {
    asyncio::current_task().cancel("all of it");
    co_await asyncio::gather(a, b);
  };
  auto t = asyncio::create_task(coro(a, b));
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  BOOST_TEST(a.cancelled());
  BOOST_TEST(b.cancelled());
  BOOST_CHECK_EXCEPTION(co_await *a, asyncio::cancelled_error,
                        [](const auto& e) { return std::string(e.what()) == "all of it"; });
}

CO_TEST_CASE(the_awaited_tasks_outcome_wins_when_it_did_not_end_cancelled) {
  // CPython's test_wait_for_reraises_exception_during_cancellation, without the timeout.
  auto inner = asyncio::create_task([]() -> asyncio::coroutine<int> {
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::cancelled_error&) {
      throw std::invalid_argument("turned into an error");
    }
    co_return 0;
  }());
  auto outer = asyncio::create_task(awaits(inner));
  co_await asyncio::sleep(0s);
  outer.cancel();
  BOOST_CHECK_THROW(co_await *outer, std::invalid_argument);
  BOOST_TEST(!outer.cancelled());
}

CO_TEST_CASE(a_cancelled_gather_passes_its_message_to_its_children) {
  auto a = asyncio::create_task(test::value_after(1h, 1));
  auto g = asyncio::create_task(
      [](asyncio::task<int> a) -> asyncio::coroutine<void> { co_await asyncio::gather(a); }(a));
  co_await asyncio::sleep(0s);
  g.cancel("stop all");
  BOOST_CHECK_THROW(co_await *g, asyncio::cancelled_error);
  BOOST_CHECK_EXCEPTION(co_await *a, asyncio::cancelled_error,
                        [](const auto& e) { return std::string(e.what()) == "stop all"; });
}

BOOST_AUTO_TEST_SUITE_END()
