#include <asyncio/event_loop.hpp>

#include "test.hpp"

#include <asyncio/queue.hpp>
#include <asyncio/streams.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <latch>
#include <random>
#include <semaphore>
#include <thread>

BOOST_AUTO_TEST_SUITE(event_loop)

BOOST_AUTO_TEST_CASE(call_soon_runs_callbacks_in_fifo_order) {
  asyncio::event_loop loop;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(call_later_fires_in_deadline_order_not_call_order) {
  asyncio::event_loop loop;
  std::vector<int> order;
  // Scheduled last-first, with gaps wide enough for any slow (sanitized) scheduling.
  auto start = loop.time();
  loop.call_later(300ms, [&] {
    order.push_back(3);
    loop.stop();
  });
  loop.call_at(start + 200ms, [&] { order.push_back(2); });
  loop.call_later(10ms, [&] { order.push_back(1); });
  loop.run_forever();
  BOOST_TEST(order == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST((loop.time() - start >= 300ms));  // a timer never fires early
}

BOOST_AUTO_TEST_CASE(cancelled_handle_does_not_run) {
  asyncio::event_loop loop;
  bool soon = false, later = false;
  auto h1 = loop.call_soon([&] { soon = true; });
  auto h2 = loop.call_later(5ms, [&] { later = true; });
  h1.cancel();
  h2.cancel();
  BOOST_TEST(h1.cancelled());
  loop.call_later(10ms, [&] { loop.stop(); });
  loop.run_forever();
  BOOST_TEST(!soon);
  BOOST_TEST(!later);
}

BOOST_AUTO_TEST_CASE(callback_exception_is_logged_and_the_loop_goes_on) {
  test::log_capture log;
  asyncio::event_loop loop;
  bool after = false;
  loop.call_soon([] { throw std::runtime_error("boom in callback"); });
  loop.call_soon([&] {
    after = true;
    loop.stop();
  });
  loop.run_forever();
  BOOST_TEST(after);
  BOOST_TEST(log.contains("Exception in callback: boom in callback"));
}

namespace {

asyncio::coroutine<void> fail_unheard() {
  throw std::runtime_error("nobody asked");
  co_return;
}

// Lets each task created before it take its steps.
asyncio::coroutine<void> two_passes() {
  co_await asyncio::sleep(0s);
  co_await asyncio::sleep(0s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_exception_handler_gets_what_has_nowhere_else_to_go) {
  test::log_capture log;
  asyncio::event_loop loop;
  BOOST_TEST(!loop.get_exception_handler());
  std::vector<asyncio::exception_context> seen;
  loop.set_exception_handler([&](asyncio::event_loop& l, const asyncio::exception_context& c) {
    BOOST_TEST(&l == &loop);
    seen.push_back(c);
  });
  BOOST_TEST(static_cast<bool>(loop.get_exception_handler()));
  loop.call_soon([] { throw std::runtime_error("boom in callback"); });
  loop.create_task(fail_unheard(), "orphan");  // its handle dropped at once
  loop.run_until_complete(two_passes());
  BOOST_TEST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].message == "Exception in callback");
  BOOST_TEST(asyncio::describe(seen[0].exception) == "boom in callback");
  BOOST_TEST(seen[1].message == "Task exception was never retrieved");
  BOOST_TEST(seen[1].task == "orphan");
  BOOST_TEST(asyncio::describe(seen[1].exception) == "nobody asked");
  BOOST_TEST(!log.contains("boom in callback"));  // the handler took them: nothing logged
  BOOST_TEST(!log.contains("nobody asked"));

  // A handler that throws: the default one says so, with what the handler was given.
  loop.set_exception_handler([](asyncio::event_loop&, const asyncio::exception_context&) {
    throw std::logic_error("oops");
  });
  loop.call_soon([] { throw std::runtime_error("second boom"); });
  loop.run_until_complete(two_passes());
  BOOST_TEST(
      log.contains("Unhandled error in exception handler (context: Exception in callback): oops"));

  // Empty: the default handler again, which logs.
  loop.set_exception_handler({});
  loop.call_exception_handler(
      {"said by hand", std::make_exception_ptr(std::runtime_error("why")), "t"});
  BOOST_TEST(log.contains("said by hand: t: why"));
  BOOST_TEST(seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_handler_may_replace_itself_while_it_runs) {
  asyncio::event_loop loop;
  std::vector<std::string> seen;
  std::string tag(100, 'h');  // captured by value: the handler's own storage
  loop.set_exception_handler([&, tag](asyncio::event_loop& l, const asyncio::exception_context& c) {
    l.set_exception_handler({});
    seen.push_back(tag + ": " + c.message);  // the handler is still whole here
  });
  loop.call_exception_handler({"first", nullptr, {}});
  BOOST_TEST(seen == std::vector<std::string>{tag + ": first"}, boost::test_tools::per_element());
  BOOST_TEST(!loop.get_exception_handler());
}

BOOST_AUTO_TEST_CASE(an_error_found_while_its_loop_is_not_running_goes_to_the_default_handler) {
  // The loop may be gone by then: the future's destructor does not reach for its handler.
  test::log_capture log;
  asyncio::event_loop loop;
  int heard = 0;
  loop.set_exception_handler(
      [&](asyncio::event_loop&, const asyncio::exception_context&) { ++heard; });
  std::optional<asyncio::future<int>> kept;
  kept.emplace(loop.create_future<int>());
  kept->set_exception(std::make_exception_ptr(std::runtime_error("lost after the run")));
  loop.run_until_complete(two_passes());
  kept.reset();
  BOOST_TEST(heard == 0);
  BOOST_TEST(log.contains("Future exception was never retrieved: lost after the run"));
}

BOOST_AUTO_TEST_CASE(call_soon_threadsafe_runs_on_the_loop_thread) {
  asyncio::event_loop loop;
  std::thread::id ran_on;
  std::thread other([&] {
    loop.call_soon_threadsafe([&] {
      ran_on = std::this_thread::get_id();
      loop.stop();
    });
  });
  loop.run_forever();  // run_forever keeps the loop alive until the thread's callback stops it
  other.join();
  BOOST_TEST((ran_on == std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(stop_before_run_forever_runs_one_round) {
  asyncio::event_loop loop;
  int ran = 0;
  loop.call_soon([&] { ++ran; });
  loop.stop();
  loop.run_forever();
  BOOST_TEST(ran == 1);
}

BOOST_AUTO_TEST_CASE(run_until_complete_gives_the_value_or_rethrows) {
  asyncio::event_loop loop;
  auto ok = []() -> asyncio::coroutine<int> { co_return 7; };
  auto bad = []() -> asyncio::coroutine<int> {
    throw std::out_of_range("bad");
    co_return 0;
  };
  BOOST_TEST(loop.run_until_complete(ok()) == 7);
  BOOST_CHECK_THROW(loop.run_until_complete(bad()), std::out_of_range);
  BOOST_TEST(loop.run_until_complete(ok()) == 7);  // the loop can run again
}

BOOST_AUTO_TEST_CASE(run_until_complete_throws_if_the_loop_stops_first) {
  asyncio::event_loop loop;
  auto stopper = [](asyncio::event_loop& loop) -> asyncio::coroutine<void> {
    loop.stop();
    co_await asyncio::sleep(1h);
  };
  auto t = loop.create_task(stopper(loop));
  BOOST_CHECK_THROW(loop.run_until_complete(t), std::runtime_error);
  BOOST_TEST(!t.done());
  t.cancel();
  BOOST_CHECK_THROW(loop.run_until_complete(t), asyncio::cancelled_error);
}

BOOST_AUTO_TEST_CASE(running_loop_is_known_only_while_it_runs) {
  BOOST_CHECK_THROW(asyncio::get_running_loop(), std::runtime_error);
  asyncio::event_loop loop;
  BOOST_TEST(!loop.is_running());
  auto probe = [](asyncio::event_loop& expected) -> asyncio::coroutine<bool> {
    co_return &asyncio::get_running_loop() == &expected&& expected.is_running();
  };
  BOOST_TEST(loop.run_until_complete(probe(loop)));
  BOOST_TEST(!loop.is_running());
}

BOOST_AUTO_TEST_CASE(a_loop_cannot_run_inside_a_running_loop) {
  asyncio::event_loop outer;
  auto nested = [](asyncio::event_loop& loop) -> asyncio::coroutine<bool> {
    try {
      loop.run_forever();
    } catch (const std::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  BOOST_TEST(outer.run_until_complete(nested(outer)));
  asyncio::event_loop inner;
  BOOST_TEST(outer.run_until_complete(nested(inner)));
}

BOOST_AUTO_TEST_CASE(closed_loop_refuses_work) {
  asyncio::event_loop loop;
  BOOST_TEST(!loop.is_closed());
  loop.close();
  BOOST_TEST(loop.is_closed());
  BOOST_CHECK_THROW(loop.call_soon([] {}), std::runtime_error);
  BOOST_CHECK_THROW(loop.run_forever(), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(closing_a_running_loop_throws) {
  asyncio::event_loop loop;
  auto closer = [](asyncio::event_loop& loop) -> asyncio::coroutine<bool> {
    try {
      loop.close();
    } catch (const std::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  BOOST_TEST(loop.run_until_complete(closer(loop)));
}

CO_TEST_CASE(raw_asio_mixes_with_the_loop) {
  // A plain Asio timer on the loop's io_context, awaited the Asio way inside a task.
  auto& loop = asyncio::get_running_loop();
  boost::asio::steady_timer timer(loop.context(), 1ms);
  co_await timer.async_wait(boost::asio::use_awaitable);
  boost::asio::steady_timer on_executor(loop.get_executor(), 1ms);
  co_await on_executor.async_wait(boost::asio::use_awaitable);
  BOOST_TEST(asyncio::current_task());  // still inside our task
}

BOOST_AUTO_TEST_CASE(destroying_a_loop_with_pending_tasks_cancels_them_and_leaks_nothing) {
  test::log_capture log;
  {
    asyncio::event_loop loop;
    auto waiter = [](test::live) -> asyncio::coroutine<void> { co_await asyncio::sleep(1h); };
    loop.create_task(waiter({}), "forgotten");
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(test::live::count == 1);
  }
  BOOST_TEST(test::live::count == 0);
  BOOST_TEST(log.contains("Task was destroyed but it is pending"));
}

BOOST_AUTO_TEST_CASE(debug_mode_names_a_task_whose_step_blocks_too_long) {
  auto blocker = []() -> asyncio::coroutine<void> {
    std::this_thread::sleep_for(20ms);  // a blocking call inside a coroutine: the classic bug
    co_return;
  };
  {
    test::log_capture log;
    asyncio::event_loop loop;
    BOOST_TEST(!loop.get_debug());
    loop.run_until_complete(loop.create_task(blocker(), "blocker"));
    BOOST_TEST(!log.contains("Executing"));  // off: nothing measured
  }
  test::log_capture log;
  asyncio::event_loop loop;
  loop.set_debug(true);
  loop.set_slow_callback_duration(10ms);
  loop.run_until_complete(loop.create_task(blocker(), "blocker"));
  loop.call_soon([] { std::this_thread::sleep_for(20ms); });
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  BOOST_TEST(log.contains("Executing task 'blocker' took "));  // how long: the machine's load
  BOOST_TEST(log.contains("Executing a callback took "));
}

BOOST_AUTO_TEST_CASE(debug_mode_from_the_environment_or_run) {
  ::setenv("ASYNCIO_DEBUG", "1", 1);
  bool from_env = asyncio::event_loop().get_debug();
  ::setenv("ASYNCIO_DEBUG", "0", 1);
  bool zero_is_off = !asyncio::event_loop().get_debug();
  ::unsetenv("ASYNCIO_DEBUG");
  BOOST_TEST(from_env);
  BOOST_TEST(zero_is_off);
  auto probe = []() -> asyncio::coroutine<bool> {
    co_return asyncio::get_running_loop().get_debug();
  };
  BOOST_TEST(asyncio::run(probe(), {.debug = true}));
  BOOST_TEST(!asyncio::run(probe()));
}

BOOST_AUTO_TEST_CASE(timers_with_one_deadline_fire_in_the_order_they_were_armed) {
  asyncio::event_loop loop;
  std::vector<int> order;
  auto when = loop.time() + 1ms;
  for (int i = 0; i < 5; ++i) loop.call_at(when, [&order, i] { order.push_back(i); });
  loop.call_at(when, [&loop] { loop.stop(); });
  loop.run_forever();
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_timer_heap_keeps_deadline_order_through_removals) {
  // Cancelled timers leave the heap at once: nothing accumulates, the rest keep their order.
  using asyncio::detail::timer_entry;
  std::mt19937 random(7);
  std::vector<timer_entry> entries(1000);
  asyncio::detail::timer_heap heap;
  auto base = std::chrono::steady_clock::time_point{};
  for (auto& e : entries) {
    e.when = base + std::chrono::milliseconds(random() % 50);  // many ties
    heap.push(e);
  }
  std::vector<timer_entry*> kept;
  for (auto& e : entries) {
    if (random() % 3 == 0)
      heap.remove(e);
    else
      kept.push_back(&e);
  }
  std::stable_sort(kept.begin(), kept.end(), [](auto* a, auto* b) { return a->when < b->when; });
  std::vector<timer_entry*> popped;
  while (!heap.empty()) popped.push_back(&heap.pop());
  BOOST_TEST(popped == kept);
  BOOST_TEST(std::all_of(entries.begin(), entries.end(),
                         [](auto& e) { return e.index == timer_entry::not_queued; }));
}

namespace {

std::vector<asyncio::detail::ready_node*> take_all(asyncio::detail::inbox& in) {
  asyncio::detail::ready_queue batch;
  in.take(batch);
  std::vector<asyncio::detail::ready_node*> out;
  while (auto* e = batch.pop()) out.push_back(e);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_entry_taken_back_from_the_inbox_leaves_the_rest_in_order) {
  // The inbox of other threads' wake-ups: a waiter cancelled before its wake-up has fired
  // takes it back, from anywhere in it.
  using asyncio::detail::ready_node;
  std::array<ready_node, 5> n;
  asyncio::detail::inbox in;
  BOOST_TEST(in.push(n[0]));  // found empty: the loop must be told
  for (int i = 1; i < 5; ++i) BOOST_TEST(!in.push(n[i]));
  BOOST_TEST(in.remove(n[4]));  // the newest
  BOOST_TEST(in.remove(n[2]));  // one in the middle
  BOOST_TEST(in.remove(n[0]));  // the oldest
  BOOST_TEST(!in.remove(n[0]));
  BOOST_TEST(take_all(in) == (std::vector<ready_node*>{&n[1], &n[3]}));
  BOOST_TEST(take_all(in).empty());

  BOOST_TEST(in.push(n[0]));    // empty again: told again
  BOOST_TEST(in.remove(n[0]));  // the only one, taken back before the loop took it
  BOOST_TEST(!in.push(n[1]));   // the loop was told already: its take finds this one
  BOOST_TEST(in.remove(n[1]));
  BOOST_TEST(!in.push(n[2]));
  BOOST_TEST(take_all(in) == (std::vector<ready_node*>{&n[2]}));
  BOOST_TEST(in.push(n[3]));  // taken: the next push tells the loop again
  BOOST_TEST(take_all(in) == (std::vector<ready_node*>{&n[3]}));
}

BOOST_AUTO_TEST_CASE(the_inbox_takes_every_push_of_every_thread_once_in_its_order) {
  // Threads push without a lock, and tell the owner when they find the inbox empty, as
  // schedule_threadsafe posts to the loop; the owner takes only when told, and takes entries
  // back: some known to be in, then others while the pushes go on. An entry pushed with
  // nobody told would hang this test. (TSan checks the memory order.)
  using asyncio::detail::ready_node;
  constexpr int threads = 3, each = 20'000, first = 60;
  std::vector<std::vector<ready_node>> nodes(threads, std::vector<ready_node>(each));
  std::vector<std::vector<bool>> taken_back(threads, std::vector<bool>(each));
  asyncio::detail::inbox in;
  std::counting_semaphore<> told(0);
  std::latch first_pushed(threads);
  std::vector<std::thread> pushers;
  for (auto& mine : nodes)
    pushers.emplace_back([&in, &told, &first_pushed, &mine] {
      for (int i = 0; i < each; ++i) {
        if (in.push(mine[i])) told.release();
        if (i == first - 1) first_pushed.count_down();
      }
    });
  int seen = 0;  // taken or taken back
  first_pushed.wait();
  for (int t = 0; t < threads; ++t)
    for (int i = 1; i < first; i += 3) {
      BOOST_REQUIRE(in.remove(nodes[t][i]));
      taken_back[t][i] = true;
      ++seen;
    }
  auto owner_of = [&nodes](ready_node* e) {
    for (int t = 0; t < threads; ++t)
      if (e >= nodes[t].data() && e < nodes[t].data() + each) return t;
    return -1;
  };
  std::vector<int> next(threads, 0);  // per thread: the index its next entry must have
  auto skip_taken_back = [&](int t) {
    while (next[t] < each && taken_back[t][next[t]]) ++next[t];
  };
  std::mt19937 random(7);
  while (seen < threads * each) {
    told.acquire();
    for (auto* e : take_all(in)) {
      int t = owner_of(e);
      BOOST_REQUIRE(t >= 0);
      skip_taken_back(t);
      BOOST_REQUIRE(e == &nodes[t][next[t]]);  // in push order, none lost or twice
      ++next[t];
      ++seen;
      // Now and then take back one a little ahead, if it is in the inbox now.
      auto ahead = next[t] + static_cast<int>(random() % 16);
      if (random() % 8 == 0 && ahead < each && !taken_back[t][ahead] &&
          in.remove(nodes[t][ahead])) {
        taken_back[t][ahead] = true;
        ++seen;
      }
    }
  }
  for (auto& p : pushers) p.join();
  BOOST_TEST(take_all(in).empty());
  for (int t = 0; t < threads; ++t) skip_taken_back(t);
  BOOST_TEST(next == std::vector<int>(threads, each), boost::test_tools::per_element());
}

namespace {

// Passes a token back and forth without end: one task is always ready to run.
asyncio::coroutine<void> ping_pong(asyncio::queue<int>& in, asyncio::queue<int>& out) {
  for (;;) {
    int token = co_await in.get();
    co_await out.put(token + 1);
  }
}

asyncio::coroutine<void> echo_line(asyncio::stream_reader reader, asyncio::stream_writer writer) {
  auto line = co_await reader.readline();
  writer.write(line);
  co_await writer.drain();
  writer.close();
}

}  // namespace

CO_TEST_CASE(tasks_always_ready_do_not_starve_timers_or_io) {
  auto& loop = asyncio::get_running_loop();
  asyncio::queue<int> a(1), b(1);
  auto ping = asyncio::create_task(ping_pong(a, b));
  auto pong = asyncio::create_task(ping_pong(b, a));
  a.put_nowait(0);
  auto timer_fired = loop.create_future<void>();
  loop.call_later(10ms, [timer_fired]() mutable { timer_fired.set_result(); });
  co_await *timer_fired;
  auto server = co_await asyncio::start_server(echo_line, "127.0.0.1", 0);
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server.port());
  writer.write("over loopback\n");
  auto echoed = co_await reader.readline();
  BOOST_TEST(echoed == "over loopback\n");
  writer.close();
  server.close();
  co_await server.wait_closed();
  ping.cancel();
  pong.cancel();
  BOOST_CHECK_THROW(co_await *ping, asyncio::cancelled_error);
  BOOST_CHECK_THROW(co_await *pong, asyncio::cancelled_error);
  BOOST_TEST(a.qsize() + b.qsize() == 1u);  // the token is in one queue, never lost
}

// ---- signals ----

CO_TEST_CASE(a_signal_handler_runs_once_per_delivered_signal_on_the_loop_outside_any_task) {
  auto& loop = asyncio::get_running_loop();
  int calls = 0, fences = 0;
  bool in_a_task = false, elsewhere = false;
  loop.add_signal_handler(SIGUSR1, [&] {
    ++calls;
    in_a_task = in_a_task || asyncio::current_task();
    elsewhere = elsewhere || &asyncio::get_running_loop() != &loop;
  });
  loop.add_signal_handler(SIGUSR2, [&] { ++fences; });
  for (int i = 0; i < 3; ++i) std::raise(SIGUSR1);
  co_await test::until([&] { return calls >= 3; });
  std::raise(SIGUSR2);  // a round of the reactor after the three: no fourth call came
  co_await test::until([&] { return fences == 1; });
  BOOST_TEST(calls == 3);
  BOOST_TEST(!in_a_task);
  BOOST_TEST(!elsewhere);
  BOOST_TEST(loop.remove_signal_handler(SIGUSR1));
  BOOST_TEST(loop.remove_signal_handler(SIGUSR2));
}

CO_TEST_CASE(a_second_handler_for_a_signal_replaces_the_first) {
  auto& loop = asyncio::get_running_loop();
  int first = 0, second = 0;
  loop.add_signal_handler(SIGUSR1, [&] { ++first; });
  loop.add_signal_handler(SIGUSR1, [&] { ++second; });
  std::raise(SIGUSR1);
  co_await test::until([&] { return second == 1; });
  BOOST_TEST(first == 0);
  BOOST_TEST(loop.remove_signal_handler(SIGUSR1));
}

// The default action, which would end the process, only looked at.
bool has_default_action(int sig) {
  struct sigaction current {};
  ::sigaction(sig, nullptr, &current);
  return current.sa_handler == SIG_DFL;
}

BOOST_AUTO_TEST_CASE(removing_a_handler_or_closing_the_loop_gives_the_signal_its_default_back) {
  asyncio::event_loop loop;
  BOOST_TEST(!loop.remove_signal_handler(SIGUSR1));  // none was set
  loop.add_signal_handler(SIGUSR1, [] {});
  BOOST_TEST(!has_default_action(SIGUSR1));
  BOOST_TEST(loop.remove_signal_handler(SIGUSR1));
  BOOST_TEST(has_default_action(SIGUSR1));
  BOOST_TEST(!loop.remove_signal_handler(SIGUSR1));
  loop.add_signal_handler(SIGUSR2, [] {});
  loop.close();
  BOOST_TEST(has_default_action(SIGUSR2));
  BOOST_CHECK_THROW(loop.add_signal_handler(SIGUSR2, [] {}), std::runtime_error);  // closed
}

BOOST_AUTO_TEST_CASE(a_number_that_is_no_signal_or_cannot_be_caught_is_refused) {
  asyncio::event_loop loop;
  for (int sig : {0, -1, NSIG}) {
    BOOST_CHECK_THROW(loop.add_signal_handler(sig, [] {}), std::invalid_argument);
    BOOST_CHECK_THROW(loop.remove_signal_handler(sig), std::invalid_argument);
  }
  BOOST_CHECK_THROW(loop.add_signal_handler(SIGKILL, [] {}), std::runtime_error);
  BOOST_CHECK_THROW(loop.add_signal_handler(SIGSTOP, [] {}), std::runtime_error);
  BOOST_TEST(!loop.remove_signal_handler(SIGKILL));
}

BOOST_AUTO_TEST_CASE(a_programs_own_sigint_handler_stands_in_for_runs_ctrl_c) {
  auto amain = []() -> asyncio::coroutine<int> {
    int seen = 0;
    asyncio::get_running_loop().add_signal_handler(SIGINT, [&seen] { ++seen; });
    std::raise(SIGINT);
    co_await test::until([&seen] { return seen == 1; });
    co_return seen;  // not cancelled: run()'s Ctrl-C handling stood aside
  };
  BOOST_TEST(asyncio::run(amain()) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
