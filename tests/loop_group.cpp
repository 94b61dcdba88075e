#include <asyncio/loop_group.hpp>
#include <asyncio/streams.hpp>
#include <asyncio/threadsafe_queue.hpp>

#include "child.hpp"
#include "test.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
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
  std::atomic<bool> ok = false, back_ok = false;
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

asyncio::coroutine<int> cancelled_there() {
  co_await asyncio::sleep(0s);
  throw asyncio::cancelled_error();
}

// The other way: from loop 1 to loop 0, a result, and a remote task that ends cancelled
// (the awaiter gets cancelled_error, as awaiting a cancelled task in Python).
asyncio::coroutine<void> on_loop_1(shared* s) {
  asyncio::event may_end;
  s->loop_1_may_end = &may_end;
  auto& loop_0 = (*s->group)[0];
  auto there = co_await asyncio::run_on(loop_0, where_it_ran());
  bool cancelled = false;
  try {
    co_await asyncio::run_on(loop_0, cancelled_there());
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  s->back_ok = there != std::this_thread::get_id() && cancelled;
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

// Task names ("Task-<id>") are unique in the process, as Python's, also when loops on two
// threads create tasks at once (each thread takes ids in blocks: more than one block here).
BOOST_AUTO_TEST_CASE(tasks_made_on_two_loops_at_once_have_different_names) {
  std::vector<std::string> names[2];
  asyncio::loop_group group(2);
  group.run([&names](asyncio::event_loop&, std::size_t i) -> asyncio::coroutine<void> {
    return [](std::vector<std::string>& mine) -> asyncio::coroutine<void> {
      for (int n = 0; n < 3000; ++n)
        mine.push_back(asyncio::create_task(where_it_ran()).get_name());
      co_return;
    }(names[i]);
  });
  std::vector<std::string> all = names[0];
  all.insert(all.end(), names[1].begin(), names[1].end());
  std::sort(all.begin(), all.end());
  BOOST_TEST(all.size() == 6000u);
  const bool all_different = std::adjacent_find(all.begin(), all.end()) == all.end();
  BOOST_TEST(all_different);
}

BOOST_AUTO_TEST_CASE(run_on_gives_results_and_errors_across_loops_and_cancels_both_ways) {
  asyncio::loop_group group(2);
  shared s;
  s.group = &group;
  group.run([&s](asyncio::event_loop&, std::size_t i) { return two_mains(&s, i); });
  BOOST_TEST(s.ok.load());
  BOOST_TEST(s.back_ok.load());
  BOOST_TEST(s.cleaned.load() == 1);
  BOOST_CHECK_THROW(
      group.run([](asyncio::event_loop&, std::size_t) { return fails_once_all_began(0, 1); }),
      std::runtime_error);  // once only: the loops are closed
}

namespace {

std::atomic<bool> main_1_ended = false;

asyncio::coroutine<void> ends_at_once() {
  main_1_ended = true;
  co_return;
}

// Loop 1's main has ended: its loop still serves a run_on() until every main has ended.
asyncio::coroutine<void> uses_loop_1_after_its_main(asyncio::loop_group* group, bool* ok) {
  co_await test::until([] { return main_1_ended.load(); });
  auto there = co_await asyncio::run_on((*group)[1], where_it_ran());
  *ok = there != std::this_thread::get_id();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_loop_whose_main_has_ended_serves_the_others_until_all_have) {
  asyncio::loop_group group(2);
  bool ok = false;
  group.run([&](asyncio::event_loop&, std::size_t i) {
    return i == 0 ? uses_loop_1_after_its_main(&group, &ok) : ends_at_once();
  });
  BOOST_TEST(ok);
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

// A main function that throws instead of giving a coroutine fails its loop, as a main would,
// and the other main (waiting an hour) is cancelled: run() returns.
BOOST_AUTO_TEST_CASE(a_main_that_throws_at_once_fails_its_loop) {
  asyncio::loop_group group(2);
  std::atomic<int> cancelled = 0;  // 0 or 1: cancelled before its first step, it never runs
  try {
    group.run([&cancelled](asyncio::event_loop&, std::size_t i) -> asyncio::coroutine<void> {
      if (i == 1) throw std::length_error("no main for loop 1");
      return idle_until_cancelled(&cancelled);
    });
    BOOST_FAIL("no error");
  } catch (const std::length_error& e) {
    BOOST_TEST(std::string(e.what()) == "no main for loop 1");
  }
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
    BOOST_TEST(std::string(g.what()).rfind("loop_group: 2 loops failed (2 sub-exceptions)", 0) ==
               0u);
  }
}

namespace {

// Two loops serve one port with reuse_port; each connection is answered with the loop's index.
struct two_servers {
  asyncio::threadsafe_queue<std::uint16_t> port;  // loop 0 to loop 1: where to listen
  asyncio::threadsafe_queue<int> listening, done;
  std::atomic<int> answered_by[2] = {0, 0};
};

asyncio::coroutine<void> answer_index(std::size_t i, asyncio::stream_reader,
                                      asyncio::stream_writer w) {
  w.write(std::to_string(i));
  co_await w.drain();
}

asyncio::coroutine<asyncio::server> serve(std::size_t i, std::uint16_t port) {
  co_return co_await asyncio::start_server(
      [i](asyncio::stream_reader r, asyncio::stream_writer w) {
        return answer_index(i, std::move(r), std::move(w));
      },
      "127.0.0.1", port, {.reuse_port = true});
}

asyncio::coroutine<void> reuse_port_main(two_servers* s, std::size_t i) {
  if (i == 1) {
    auto port = co_await s->port.get();
    auto srv = co_await serve(1, port);
    s->listening.put_nowait(1);
    co_await s->done.get();
    srv.close();
    co_return;
  }
  auto srv = co_await serve(0, 0);
  s->port.put_nowait(srv.port());
  co_await s->listening.get();
  for (int c = 0; c < 64; ++c) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", srv.port());
    auto index = co_await reader.read();
    ++s->answered_by[std::stoi(index)];
    writer.close();
  }
  s->done.put_nowait(0);
  srv.close();
}

}  // namespace

BOOST_AUTO_TEST_CASE(reuse_port_servers_on_two_loops_both_get_connections) {
  two_servers s;
  asyncio::loop_group group(2);
  group.run([&s](asyncio::event_loop&, std::size_t i) { return reuse_port_main(&s, i); });
  BOOST_TEST(s.answered_by[0] + s.answered_by[1] == 64);
  // The kernel spreads them by a hash of each connection's address: all 64 on one side
  // has a chance of 2^-63.
  BOOST_TEST(s.answered_by[0] > 0);
  BOOST_TEST(s.answered_by[1] > 0);
}

namespace {

std::atomic<int> waiting_mains = 0;

// Waits; cancelled, writes "i" to `out` and re-raises. Main 0 sends SIGINT once both wait.
asyncio::coroutine<void> interrupted_main(int out, std::size_t i) {
  ++waiting_mains;
  if (i == 0) {
    co_await test::until([] { return waiting_mains.load() == 2; });
    ::kill(::getpid(), SIGINT);
  }
  try {
    co_await asyncio::sleep(3600s);
  } catch (const asyncio::cancelled_error&) {
    (void)!::write(out, i == 0 ? "0" : "1", 1);
    throw;
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(ctrl_c_cancels_every_loops_main_then_the_process_dies_of_sigint) {
  auto end = test::in_child(SIGINT, [](int out) {
    try {
      asyncio::loop_group group(2);
      group.run([out](asyncio::event_loop&, std::size_t i) { return interrupted_main(out, i); });
    } catch (...) {
    }  // the child exits 0 only if run() did not re-raise the signal
  });
  std::sort(end.written.begin(), end.written.end());
  BOOST_TEST(end.written == "01");  // both mains cancelled, each cleaned up
  BOOST_TEST(WIFSIGNALED(end.status));
  BOOST_TEST(WTERMSIG(end.status) == SIGINT);
}

namespace {

asyncio::coroutine<void> waits_for(asyncio::event* e) { co_await e->wait(); }

}  // namespace

// In debug mode, a loop's primitive touched from another thread while its tasks wait on it
// raises an error naming it, instead of racing; used rightly, it works as before.
CO_TEST_CASE(debug_mode_names_a_primitive_touched_from_another_thread) {
  asyncio::get_running_loop().set_debug(true);
  asyncio::event ready;
  asyncio::queue<int> q;
  auto waiting = asyncio::create_task(waits_for(&ready));
  auto getting = asyncio::create_task(q.get());
  co_await asyncio::sleep(0s);
  std::string event_error, queue_error;
  std::thread([&] {
    try {
      ready.set();
    } catch (const std::runtime_error& e) {
      event_error = e.what();
    }
    try {
      q.put_nowait(1);
    } catch (const std::runtime_error& e) {
      queue_error = e.what();
    }
  }).join();
  BOOST_TEST(event_error.find("event used from a thread other than its loop's") !=
             std::string::npos);
  BOOST_TEST(queue_error.find("queue.get used from a thread") != std::string::npos);
  BOOST_TEST(!waiting.done());
  BOOST_TEST(q.empty());  // refused before anything changed
  ready.set();            // from the loop's own thread
  co_await *waiting;
  q.put_nowait(2);
  BOOST_TEST(co_await *getting == 2);
}

BOOST_AUTO_TEST_SUITE_END()
