#include <asyncio/locks.hpp>

#include "test.hpp"

#include <random>
#include <string>

BOOST_AUTO_TEST_SUITE(locks)

namespace {

asyncio::coroutine<void> hold(asyncio::lock& l, std::vector<int>& order, int id) {
  co_await l.acquire();
  order.push_back(id);
  co_await asyncio::sleep(1ms);
  l.release();
}

// Waits on the condition once, then counts itself woken.
asyncio::coroutine<void> wait_on(asyncio::condition& c, int& woke) {
  auto held = co_await c.scoped();
  co_await c.wait();
  ++woke;
}

}  // namespace

CO_TEST_CASE(lock_is_fifo_fair) {
  asyncio::lock l;
  std::vector<int> order;
  std::vector<asyncio::task<>> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(asyncio::create_task(hold(l, order, i)));
  co_await asyncio::gather(tasks);
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
  BOOST_TEST(!l.locked());
  BOOST_CHECK_THROW(l.release(), std::runtime_error);
}

CO_TEST_CASE(scoped_lock_releases_on_exception_and_cancellation) {
  asyncio::lock l;
  auto failing = [](asyncio::lock& l) -> asyncio::coroutine<void> {
    auto held = co_await l.scoped();
    throw std::runtime_error("inside");
  };
  BOOST_CHECK_THROW(co_await failing(l), std::runtime_error);
  BOOST_TEST(!l.locked());
  auto sleeper = [](asyncio::lock& l) -> asyncio::coroutine<void> {
    auto held = co_await l.scoped();
    co_await asyncio::sleep(1h);
  };
  auto t = asyncio::create_task(sleeper(l));
  co_await asyncio::sleep(0s);
  BOOST_TEST(l.locked());
  t.cancel();
  BOOST_CHECK_THROW(co_await *t, asyncio::cancelled_error);
  BOOST_TEST(!l.locked());
}

CO_TEST_CASE(a_cancelled_acquire_leaves_the_lock_to_the_next_in_line) {
  asyncio::lock l;
  co_await l.acquire();
  std::vector<int> order;
  auto a = asyncio::create_task(hold(l, order, 1));
  auto b = asyncio::create_task(hold(l, order, 2));
  co_await asyncio::sleep(0s);
  l.release();  // wakes a...
  a.cancel();   // ...which is cancelled before it runs: b must get the lock
  BOOST_CHECK_THROW(co_await *a, asyncio::cancelled_error);
  co_await *b;
  BOOST_TEST(order == std::vector<int>{2}, boost::test_tools::per_element());
  BOOST_TEST(!l.locked());
}

// A task cancelled before it awaits does not start the wait; cancelled again before it
// resumes, it gets the second cancellation, and the lock it never took stays with its holder.
CO_TEST_CASE(an_acquire_cancelled_before_it_began_and_again_before_it_resumed) {
  asyncio::lock l;
  co_await l.acquire();
  auto self_cancelling = [](asyncio::lock& l) -> asyncio::coroutine<std::string> {
    asyncio::current_task().cancel("first");
    try {
      co_await l.acquire();
    } catch (const asyncio::cancelled_error& e) {
      co_return e.what();
    }
    co_return "acquired";
  };
  auto t = asyncio::create_task(self_cancelling(l));
  co_await asyncio::sleep(0s);  // its first step: cancelled before its acquire began
  t.cancel("second");           // before it resumes
  BOOST_TEST(co_await *t == "second");
  BOOST_TEST(l.locked());
  l.release();
  co_await l.acquire();  // nothing of the cancelled wait is left behind
  l.release();
}

CO_TEST_CASE(many_waiters_random_cancels_no_one_stuck) {
  asyncio::lock l;
  std::mt19937 rng(42);
  int entered = 0;
  auto worker = [](asyncio::lock& l, int& entered) -> asyncio::coroutine<void> {
    co_await l.acquire();
    ++entered;
    co_await asyncio::sleep(0s);
    l.release();
  };
  std::vector<asyncio::task<>> tasks;
  for (int i = 0; i < 200; ++i) tasks.push_back(asyncio::create_task(worker(l, entered)));
  int cancelled = 0;
  for (int round = 0; round < 50; ++round) {
    co_await asyncio::sleep(0s);
    auto& t = tasks[rng() % tasks.size()];
    if (!t.done() && t.cancel()) ++cancelled;
  }
  auto results = co_await asyncio::gather(asyncio::return_exceptions, tasks);
  int ok = 0;
  for (auto& r : results) ok += r.has_value();
  BOOST_TEST(ok == entered);          // everyone not cancelled got the lock once
  BOOST_TEST(ok + cancelled >= 200);  // a cancel may land after the task got through
  BOOST_TEST(!l.locked());
}

CO_TEST_CASE(wait_for_timeout_on_acquire_leaves_the_lock_to_the_next_in_line) {
  asyncio::lock l;
  co_await l.acquire();
  std::vector<int> order;
  auto next = asyncio::create_task(hold(l, order, 2));
  BOOST_CHECK_THROW(co_await asyncio::wait_for(l.acquire(), 1ms), asyncio::timeout_error);
  l.release();
  co_await *next;
  BOOST_TEST(order == std::vector<int>{2}, boost::test_tools::per_element());
  BOOST_TEST(!l.locked());
}

CO_TEST_CASE(a_waiting_task_shows_what_it_waits_on) {
  asyncio::lock l;
  co_await l.acquire();
  auto t = asyncio::create_task(l.acquire(), "locker");
  co_await asyncio::sleep(0s);
  auto report = asyncio::format_tasks(asyncio::get_running_loop());
  BOOST_TEST(report.find("awaiting lock") != std::string::npos, report);
  l.release();
  co_await *t;
  BOOST_TEST(l.locked());  // t holds it now
}

BOOST_AUTO_TEST_CASE(waiters_still_queued_when_the_run_ends_are_cancelled_and_unwind) {
  asyncio::lock l;
  asyncio::queue<int> q;
  auto stuck = [](asyncio::lock& l, asyncio::queue<int>& q,
                  test::live) -> asyncio::coroutine<void> {
    auto a = asyncio::create_task(l.acquire());  // waits behind the main task, forever
    auto b = asyncio::create_task(q.get());      // nothing is ever put
    co_await l.acquire();
    co_await asyncio::sleep(0s);  // a and b are queued now
    BOOST_TEST(!a.done());
    BOOST_TEST(!b.done());
  };
  asyncio::run(stuck(l, q, {}));  // main returns holding the lock; run cancels a and b
  BOOST_TEST(test::live::count == 0);
  BOOST_TEST(l.locked());  // the cancelled waiter took nothing
  BOOST_TEST(q.empty());
}

CO_TEST_CASE(event_wakes_every_waiter) {
  asyncio::event e;
  int woke = 0;
  auto waiter = [](asyncio::event& e, int& woke) -> asyncio::coroutine<void> {
    co_await e.wait();
    ++woke;
  };
  std::vector<asyncio::task<>> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(asyncio::create_task(waiter(e, woke)));
  co_await asyncio::sleep(0s);
  BOOST_TEST(woke == 0);
  e.set();
  BOOST_TEST(e.is_set());
  co_await asyncio::gather(tasks);
  BOOST_TEST(woke == 3);
  co_await e.wait();  // set: no wait
  e.clear();
  BOOST_TEST(!e.is_set());
}

CO_TEST_CASE(condition_notify_n_and_wait_for) {
  asyncio::condition c;
  int woke = 0, value = 0;
  std::vector<asyncio::task<>> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(asyncio::create_task(wait_on(c, woke)));
  co_await asyncio::sleep(0s);  // each takes the lock and waits, in its first step
  {
    auto held = co_await c.scoped();
    c.notify(2);
  }
  co_await test::until([&woke] { return woke == 2; });
  co_await asyncio::sleep(0s);  // one more turn: the third stays asleep
  BOOST_TEST(woke == 2);
  {
    auto held = co_await c.scoped();
    c.notify_all();
  }
  co_await asyncio::gather(tasks);
  BOOST_TEST(woke == 3);
  BOOST_CHECK_THROW(c.notify(), std::runtime_error);  // not holding the lock

  auto setter = [](asyncio::condition& c, int& value) -> asyncio::coroutine<void> {
    for (int i = 1; i <= 3; ++i) {
      co_await asyncio::sleep(1ms);
      auto held = co_await c.scoped();
      value = i;
      c.notify_all();
    }
  };
  auto s = asyncio::create_task(setter(c, value));
  {
    auto held = co_await c.scoped();
    std::function<bool()> reached = [&value] { return value == 3; };
    BOOST_TEST(co_await c.wait_for(reached));
    BOOST_TEST(c.locked());  // held again on return
  }
  co_await *s;
}

CO_TEST_CASE(a_notified_waiter_cancelled_before_it_runs_passes_the_notify_on) {
  asyncio::condition c;
  int woke = 0;
  auto a = asyncio::create_task(wait_on(c, woke));
  auto b = asyncio::create_task(wait_on(c, woke));
  co_await asyncio::sleep(0s);
  {
    auto held = co_await c.scoped();
    c.notify(1);  // wakes a...
    a.cancel();   // ...which is cancelled before it runs: b must get the notify
  }
  BOOST_CHECK_THROW(co_await *a, asyncio::cancelled_error);
  co_await *b;
  BOOST_TEST(woke == 1);
  BOOST_TEST(!c.locked());  // a took the lock back before it ended, then released it
}

CO_TEST_CASE(a_notified_waiter_cancelled_while_taking_the_lock_back_passes_the_notify_on) {
  asyncio::condition c;
  int woke = 0;
  auto a = asyncio::create_task(wait_on(c, woke));
  auto b = asyncio::create_task(wait_on(c, woke));
  co_await asyncio::sleep(0s);  // both wait
  {
    auto held = co_await c.scoped();
    c.notify(1);                  // wakes a...
    co_await asyncio::sleep(0s);  // ...which runs and queues for the lock held here...
    BOOST_TEST(!a.done());
    a.cancel();  // ...and is cancelled there: b must get the notify
  }
  BOOST_CHECK_THROW(co_await *a, asyncio::cancelled_error);
  // Without the notify passed on, b would wait for ever: the bound turns that into a failure.
  co_await asyncio::wait_for(b, 10s);
  BOOST_TEST(woke == 1);
  BOOST_TEST(!c.locked());
}

// Python: a task cancelled before it awaits the condition and again before that await
// returns still takes the lock back before it raises, so its `async with` releases a held lock.
CO_TEST_CASE(a_waiter_cancelled_before_and_during_its_wait_takes_the_lock_back) {
  asyncio::condition c;
  asyncio::event go;
  auto self_cancelling = [](asyncio::condition& c, asyncio::event& go) -> asyncio::coroutine<void> {
    auto held = co_await c.scoped();
    co_await go.wait();
    asyncio::current_task().cancel("first");
    co_await c.wait();  // releases the lock, which wakes the canceller first
  };
  auto canceller = [](asyncio::condition& c, asyncio::task<>& a) -> asyncio::coroutine<void> {
    auto held = co_await c.scoped();
    BOOST_TEST(a.cancel("second"));  // a's wait has ended, a has not yet run again
  };
  auto a = asyncio::create_task(self_cancelling(c, go));
  co_await asyncio::sleep(0s);  // a holds the lock
  auto b = asyncio::create_task(canceller(c, a));
  co_await asyncio::sleep(0s);  // b waits for it
  go.set();
  try {
    co_await *a;
    BOOST_FAIL("a was not cancelled");
  } catch (const asyncio::cancelled_error& e) {
    BOOST_TEST(std::string(e.what()) == "second");  // the newer request wins, as in __step
  }
  co_await *b;
  BOOST_TEST(!c.locked());
}

CO_TEST_CASE(semaphore_limits_concurrency_fifo_and_bounded_release_throws) {
  asyncio::semaphore sem(2);
  int inside = 0, most = 0;
  std::vector<int> order;
  auto worker = [](asyncio::semaphore& sem, int& inside, int& most, std::vector<int>& order,
                   int id) -> asyncio::coroutine<void> {
    co_await sem.acquire();
    order.push_back(id);
    most = std::max(most, ++inside);
    co_await asyncio::sleep(1ms);
    --inside;
    sem.release();
  };
  std::vector<asyncio::task<>> tasks;
  for (int i = 0; i < 6; ++i)
    tasks.push_back(asyncio::create_task(worker(sem, inside, most, order, i)));
  co_await asyncio::gather(tasks);
  BOOST_TEST(most == 2);
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4, 5}), boost::test_tools::per_element());

  asyncio::bounded_semaphore bounded(1);
  co_await bounded.acquire();
  bounded.release();
  BOOST_CHECK_THROW(bounded.release(), std::invalid_argument);
  asyncio::semaphore plain(1);
  plain.release();  // unbounded: fine
}

CO_TEST_CASE(a_cancelled_semaphore_waiter_hands_its_slot_on) {
  asyncio::semaphore sem(1);
  co_await sem.acquire();
  bool b_got_it = false;
  auto a = asyncio::create_task(sem.acquire());
  auto b = asyncio::create_task([](asyncio::semaphore& sem, bool& got) -> asyncio::coroutine<void> {
    co_await sem.acquire();
    got = true;
  }(sem, b_got_it));
  co_await asyncio::sleep(0s);
  sem.release();  // a is woken...
  a.cancel();     // ...and cancelled before it runs
  BOOST_CHECK_THROW(co_await *a, asyncio::cancelled_error);
  co_await *b;
  BOOST_TEST(b_got_it);
}

CO_TEST_CASE(barrier_gives_indices_and_abort_breaks_it) {
  asyncio::barrier b(3);
  std::vector<std::size_t> indices;
  auto party = [](asyncio::barrier& b, std::vector<std::size_t>& out) -> asyncio::coroutine<void> {
    out.push_back(co_await b.wait());
  };
  std::vector<asyncio::task<>> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(asyncio::create_task(party(b, indices)));
  co_await asyncio::gather(tasks);
  std::sort(indices.begin(), indices.end());
  BOOST_TEST(indices == (std::vector<std::size_t>{0, 1, 2}), boost::test_tools::per_element());
  BOOST_TEST(b.n_waiting() == 0u);

  // Reusable: a second round works too.
  tasks.clear();
  indices.clear();
  for (int i = 0; i < 3; ++i) tasks.push_back(asyncio::create_task(party(b, indices)));
  co_await asyncio::gather(tasks);
  BOOST_TEST(indices.size() == 3u);

  auto lone = asyncio::create_task(party(b, indices));
  co_await asyncio::sleep(0s);  // it waits, in its first step
  BOOST_TEST(b.n_waiting() == 1u);
  co_await b.abort();
  BOOST_CHECK_THROW(co_await *lone, asyncio::broken_barrier_error);
  BOOST_TEST(b.broken());
  BOOST_CHECK_THROW(co_await b.wait(), asyncio::broken_barrier_error);
  co_await b.reset();
  BOOST_TEST(!b.broken());
}

CO_TEST_CASE(barrier_reset_breaks_the_waiters) {
  asyncio::barrier b(2);
  auto lone = asyncio::create_task(b.wait());
  co_await asyncio::sleep(0s);  // it waits, in its first step
  co_await b.reset();
  BOOST_CHECK_THROW(co_await *lone, asyncio::broken_barrier_error);
  BOOST_CHECK_THROW(asyncio::barrier(0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
