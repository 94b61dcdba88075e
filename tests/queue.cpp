#include <asyncio/queue.hpp>

#include "test.hpp"

#include <random>
#include <set>

BOOST_AUTO_TEST_SUITE(queue)

CO_TEST_CASE(each_queue_keeps_its_order) {
  asyncio::queue<int> fifo;
  asyncio::lifo_queue<int> lifo;
  asyncio::priority_queue<int> prio;
  for (int v : {3, 1, 2}) {
    fifo.put_nowait(v);
    lifo.put_nowait(v);
    prio.put_nowait(v);
  }
  std::vector<int> f, l, p;
  for (int i = 0; i < 3; ++i) {
    f.push_back(co_await fifo.get());
    l.push_back(co_await lifo.get());
    p.push_back(co_await prio.get());
  }
  BOOST_TEST(f == (std::vector<int>{3, 1, 2}), boost::test_tools::per_element());
  BOOST_TEST(l == (std::vector<int>{2, 1, 3}), boost::test_tools::per_element());
  BOOST_TEST(p == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());  // smallest first
  asyncio::priority_queue<std::pair<int, std::string>> jobs;
  jobs.put_nowait({2, "later"});
  jobs.put_nowait({1, "first"});
  BOOST_TEST((co_await jobs.get()).second == "first");
}

CO_TEST_CASE(nowait_errors_and_sizes) {
  asyncio::queue<int> q(2);
  BOOST_TEST(q.maxsize() == 2u);
  BOOST_TEST(q.empty());
  BOOST_CHECK_THROW(q.get_nowait(), asyncio::queue_empty);
  q.put_nowait(1);
  q.put_nowait(2);
  BOOST_TEST(q.full());
  BOOST_TEST(q.qsize() == 2u);
  BOOST_CHECK_THROW(q.put_nowait(3), asyncio::queue_full);
  BOOST_TEST(q.get_nowait() == 1);
  asyncio::queue<int> unbounded;
  for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
  BOOST_TEST(!unbounded.full());
  co_return;
}

CO_TEST_CASE(put_waits_while_full_get_waits_while_empty) {
  asyncio::queue<int> q(1);
  std::vector<std::string> log;
  auto producer = [](asyncio::queue<int>& q,
                     std::vector<std::string>& log) -> asyncio::coroutine<void> {
    for (int i = 0; i < 3; ++i) {
      co_await q.put(i);
      log.push_back("put " + std::to_string(i));
    }
  };
  auto p = asyncio::create_task(producer(q, log));
  co_await asyncio::sleep(0s);  // its first step puts 0, then waits to put 1
  BOOST_TEST(log == std::vector<std::string>{"put 0"},
             boost::test_tools::per_element());  // back-pressure
  for (int i = 0; i < 3; ++i) BOOST_TEST(co_await q.get() == i);
  co_await *p;
  auto getter = asyncio::create_task(q.get());
  co_await asyncio::sleep(0s);  // it waits, in its first step
  BOOST_TEST(!getter.done());
  q.put_nowait(9);
  BOOST_TEST(co_await *getter == 9);
}

CO_TEST_CASE(move_only_items) {
  asyncio::queue<std::unique_ptr<int>> q(1);
  co_await q.put(std::make_unique<int>(5));
  auto p = co_await q.get();
  BOOST_TEST(*p == 5);
}

CO_TEST_CASE(join_waits_for_every_task_done) {
  asyncio::queue<int> q;
  int processed = 0;
  auto worker = [](asyncio::queue<int>& q, int& processed) -> asyncio::coroutine<void> {
    for (;;) {
      int item = co_await q.get();
      co_await asyncio::sleep(std::chrono::milliseconds(item));
      ++processed;
      q.task_done();
    }
  };
  for (int i = 0; i < 5; ++i) q.put_nowait(1);
  auto w = asyncio::create_task(worker(q, processed));
  co_await q.join();
  BOOST_TEST(processed == 5);
  BOOST_CHECK_THROW(q.task_done(), std::invalid_argument);
  w.cancel();
  BOOST_CHECK_THROW(co_await *w, asyncio::cancelled_error);
}

CO_TEST_CASE(shutdown_wakes_waiters_and_drains_or_drops) {
  asyncio::queue<int> q(1);
  auto getter = asyncio::create_task(q.get());
  co_await asyncio::sleep(0s);
  q.shutdown();
  BOOST_CHECK_THROW(co_await *getter, asyncio::queue_shut_down);
  BOOST_CHECK_THROW(co_await q.put(1), asyncio::queue_shut_down);
  BOOST_CHECK_THROW(q.put_nowait(1), asyncio::queue_shut_down);

  asyncio::queue<int> r(1);
  r.put_nowait(1);
  auto putter = asyncio::create_task(r.put(2));
  co_await asyncio::sleep(0s);
  r.shutdown();
  BOOST_CHECK_THROW(co_await *putter, asyncio::queue_shut_down);
  BOOST_TEST(co_await r.get() == 1);  // not immediate: what is in it can still be read
  BOOST_CHECK_THROW(co_await r.get(), asyncio::queue_shut_down);

  asyncio::queue<int> s;
  s.put_nowait(1);
  s.put_nowait(2);
  s.shutdown(true);  // immediate: dropped, and join() does not wait for them
  BOOST_TEST(s.empty());
  co_await s.join();
}

// As Python's get() and put() when they need not wait: no suspension, so nothing else runs
// meanwhile and a pending cancel waits for the task's next real suspension.
CO_TEST_CASE(a_get_or_put_that_need_not_wait_does_not_suspend) {
  asyncio::queue<int> q(1);
  std::vector<std::string> log;
  asyncio::get_running_loop().call_soon([&log] { log.push_back("callback"); });
  co_await q.put(1);
  log.push_back("put");
  BOOST_TEST(co_await q.get() == 1);
  log.push_back("got");
  asyncio::current_task().cancel();
  co_await q.put(2);
  BOOST_TEST(co_await q.get() == 2);
  log.push_back("not cancelled yet");
  BOOST_CHECK_THROW(co_await asyncio::sleep(0s), asyncio::cancelled_error);
  BOOST_TEST(log == (std::vector<std::string>{"put", "got", "not cancelled yet", "callback"}),
             boost::test_tools::per_element());
}

// A getter woken for an item that someone took before it ran waits again, behind those
// already waiting, as in Python's loop.
CO_TEST_CASE(a_woken_getter_whose_item_was_taken_waits_again_at_the_back) {
  asyncio::queue<int> q;
  auto a = asyncio::create_task(q.get());
  auto b = asyncio::create_task(q.get());
  co_await asyncio::sleep(0s);      // both wait, a first
  q.put_nowait(1);                  // wakes a...
  BOOST_TEST(q.get_nowait() == 1);  // ...but the item is gone before a runs
  co_await asyncio::sleep(0s);      // a runs, and waits again, behind b
  BOOST_TEST(!a.done());
  q.put_nowait(2);
  q.put_nowait(3);
  BOOST_TEST(co_await *b == 2);
  BOOST_TEST(co_await *a == 3);
}

CO_TEST_CASE(a_cancelled_get_loses_no_item) {
  asyncio::queue<int> q;
  auto a = asyncio::create_task(q.get());
  auto b = asyncio::create_task(q.get());
  co_await asyncio::sleep(0s);
  q.put_nowait(7);  // wakes a...
  a.cancel();       // ...which is cancelled before it takes the item: b gets it
  BOOST_CHECK_THROW(co_await *a, asyncio::cancelled_error);
  BOOST_TEST(co_await *b == 7);
}

CO_TEST_CASE(a_cancelled_put_keeps_no_slot) {
  asyncio::queue<int> q(1);
  q.put_nowait(0);
  auto a = asyncio::create_task(q.put(1));
  auto b = asyncio::create_task(q.put(2));
  co_await asyncio::sleep(0s);
  BOOST_TEST(co_await q.get() == 0);  // room for one: a is woken...
  a.cancel();                         // ...and cancelled: b takes the room
  BOOST_CHECK_THROW(co_await *a, asyncio::cancelled_error);
  co_await *b;
  BOOST_TEST(q.qsize() == 1u);
  BOOST_TEST(q.get_nowait() == 2);
}

CO_TEST_CASE(wait_for_timeout_on_get_loses_no_item) {
  asyncio::queue<int> q;
  BOOST_CHECK_THROW(co_await asyncio::wait_for(q.get(), 1ms), asyncio::timeout_error);
  auto later = asyncio::create_task(q.get());
  co_await asyncio::sleep(0s);
  q.put_nowait(5);
  BOOST_TEST(co_await *later == 5);
  BOOST_TEST(q.empty());

  asyncio::queue<int> full(1);
  full.put_nowait(1);
  BOOST_CHECK_THROW(co_await asyncio::wait_for(full.put(2), 1ms), asyncio::timeout_error);
  BOOST_TEST(full.qsize() == 1u);  // the timed-out put left nothing behind
  BOOST_TEST(full.get_nowait() == 1);
}

CO_TEST_CASE(many_producers_and_consumers_with_random_cancels_lose_nothing) {
  // Consumers are cancelled at random while waiting; every item still arrives exactly once.
  asyncio::queue<int> q(4);
  std::multiset<int> got;
  const int items = 500;
  auto producer = [](asyncio::queue<int>& q, int from, int n) -> asyncio::coroutine<void> {
    for (int i = from; i < from + n; ++i) co_await q.put(i);
  };
  auto consumer = [](asyncio::queue<int>& q, std::multiset<int>& got) -> asyncio::coroutine<void> {
    for (;;) got.insert(co_await q.get());
  };
  std::vector<asyncio::task<>> producers, consumers;
  for (int p = 0; p < 5; ++p) producers.push_back(asyncio::create_task(producer(q, p * 100, 100)));
  std::mt19937 rng(7);
  for (int c = 0; c < 3; ++c) consumers.push_back(asyncio::create_task(consumer(q, got)));
  for (int round = 0; round < 100'000 && got.size() < static_cast<std::size_t>(items); ++round) {
    co_await asyncio::sleep(0s);
    if (rng() % 4 == 0) {  // cancel a consumer, start a fresh one
      auto i = rng() % consumers.size();
      consumers[i].cancel();
      consumers[i] = asyncio::create_task(consumer(q, got));
    }
  }
  co_await asyncio::gather(producers);
  BOOST_TEST(got.size() == static_cast<std::size_t>(items));
  for (int i = 0; i < items; ++i) BOOST_TEST(got.count(i) == 1u);
  BOOST_TEST(q.empty());
  for (auto& c : consumers) c.cancel();
  co_await asyncio::wait(consumers);
}

BOOST_AUTO_TEST_SUITE_END()
