#include <asyncio/loop_group.hpp>
#include <asyncio/threadsafe_queue.hpp>

#include "test.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <thread>

BOOST_AUTO_TEST_SUITE(threadsafe_queue)

namespace {

using int_queue = asyncio::threadsafe_queue<int>;

asyncio::coroutine<int> get_one(int_queue* q) { co_return co_await q->get(); }

}  // namespace

CO_TEST_CASE(on_one_loop_it_is_a_queue) {
  int_queue q(2);
  BOOST_TEST(q.maxsize() == 2u);
  q.put_nowait(1);
  co_await q.put(2);
  BOOST_TEST(q.full());
  BOOST_CHECK_THROW(q.put_nowait(3), asyncio::queue_full);
  auto putter = asyncio::create_task(q.put(3));  // waits for room
  co_await asyncio::sleep(0s);
  BOOST_TEST(!putter.done());
  BOOST_TEST(co_await q.get() == 1);
  co_await *putter;
  BOOST_TEST(q.get_nowait() == 2);
  BOOST_TEST(q.get_nowait() == 3);
  BOOST_CHECK_THROW(q.get_nowait(), asyncio::queue_empty);

  auto getter = asyncio::create_task(get_one(&q));
  co_await asyncio::sleep(0s);
  q.put_nowait(4);
  BOOST_TEST(co_await *getter == 4);

  // shutdown: the items left are still got, then queue_shut_down; waiting getters wake.
  q.put_nowait(5);
  auto waiting = asyncio::create_task(get_one(&q));
  auto late = asyncio::create_task(get_one(&q));
  co_await asyncio::sleep(0s);
  q.shutdown();
  BOOST_TEST(co_await *waiting == 5);
  BOOST_CHECK_THROW(co_await *late, asyncio::queue_shut_down);
  BOOST_CHECK_THROW(q.put_nowait(6), asyncio::queue_shut_down);
}

CO_TEST_CASE(a_getter_woken_then_cancelled_hands_the_item_on) {
  int_queue q;
  auto first = asyncio::create_task(get_one(&q));
  auto second = asyncio::create_task(get_one(&q));
  co_await asyncio::sleep(0s);
  q.put_nowait(7);  // wakes `first`...
  first.cancel();   // ...which is cancelled before it runs
  BOOST_CHECK_THROW(co_await *first, asyncio::cancelled_error);
  BOOST_TEST(co_await *second == 7);
}

// Woken from another thread, a getter waits in its loop's inbox until the loop takes the
// wake-up; cancelled before that, it takes the wake-up back (its frame, where the entry is,
// goes away) and hands the item on. Under ASan, a wake-up left behind is a use after free.
CO_TEST_CASE(a_getter_woken_from_another_thread_then_cancelled_hands_the_item_on) {
  int_queue q;
  auto first = asyncio::create_task(get_one(&q));
  auto second = asyncio::create_task(get_one(&q));
  co_await asyncio::sleep(0s);
  std::thread([&q] { q.put_nowait(7); }).join();  // wakes `first` through the loop's inbox...
  first.cancel();  // ...which is cancelled before this step ends, so before the loop takes it
  BOOST_CHECK_THROW(co_await *first, asyncio::cancelled_error);
  BOOST_TEST(co_await *second == 7);
}

CO_TEST_CASE(a_put_from_a_plain_thread_wakes_a_getter_on_the_loop) {
  int_queue q;
  auto getter = asyncio::create_task(get_one(&q));
  co_await asyncio::sleep(0s);
  std::thread([&q] { q.put_nowait(42); }).join();
  BOOST_TEST(co_await *getter == 42);
}

namespace {

// Four loops in a ring: loop i puts its ids into queue i+1 and gets those of loop i-1 from
// queue i. One operation in eight is cancelled at a random moment (as a task of its own),
// one in eight is a *_nowait; the ids each loop receives are counted.
// A million items; ten thousand under ASYNCIO_TEST_QUICK (make valgrind).
constexpr int loops = 4, workers = 2;
const int per_loop = std::getenv("ASYNCIO_TEST_QUICK") ? 2'500 : 250'000;

struct ring {
  std::vector<std::unique_ptr<int_queue>> queues;
  std::vector<std::uint8_t> seen = std::vector<std::uint8_t>(loops * per_loop);  // by id
  std::array<int, loops> received{};  // each loop's, touched by its thread only
  std::atomic<int> cancels = 0;
};

asyncio::coroutine<void> yield_a_few(std::minstd_rand& rng) {
  for (auto k = rng() % 3; k > 0; --k) co_await asyncio::sleep(0s);
}

asyncio::coroutine<void> produce(ring* r, int_queue* q, int first, unsigned seed) {
  std::minstd_rand rng(seed);
  for (int id = first; id < first + per_loop / workers;) {
    auto dice = rng() % 8;
    if (dice == 0) {  // cancelled: put again, unless it went in before the cancel
      auto t = asyncio::create_task(q->put(id));
      co_await yield_a_few(rng);
      t.cancel();
      try {
        co_await *t;
        ++id;
      } catch (const asyncio::cancelled_error&) {
        ++r->cancels;
      }
    } else if (dice == 1) {
      try {
        q->put_nowait(id);
        ++id;
      } catch (const asyncio::queue_full&) {  // the next dice decides again
      }
    } else {
      co_await q->put(id);
      ++id;
    }
  }
}

asyncio::coroutine<int> get_maybe_cancelled(ring* r, int_queue* q, std::minstd_rand& rng) {
  auto dice = rng() % 8;
  if (dice == 0) {
    auto t = asyncio::create_task(get_one(q));
    co_await yield_a_few(rng);
    t.cancel();
    try {
      co_return co_await *t;
    } catch (const asyncio::cancelled_error&) {
      ++r->cancels;
      co_return -1;
    }
  }
  if (dice == 1) {
    try {
      co_return q->get_nowait();
    } catch (const asyncio::queue_empty&) {
      co_return -1;
    }
  }
  co_return co_await q->get();
}

// Gets until the loop has received all it is due, then shuts its queue down, which ends the
// other workers' waits.
asyncio::coroutine<void> consume(ring* r, int_queue* q, std::size_t loop, unsigned seed) {
  std::minstd_rand rng(seed);
  for (;;) {
    int id;
    try {
      id = co_await get_maybe_cancelled(r, q, rng);
    } catch (const asyncio::queue_shut_down&) {
      co_return;
    }
    if (id < 0) continue;
    ++r->seen.at(static_cast<std::size_t>(id));  // ids for this loop: seen by its thread only
    if (++r->received[loop] == per_loop) q->shutdown();
  }
}

asyncio::coroutine<void> ring_member(ring* r, std::size_t i) {
  auto* out = r->queues[(i + 1) % loops].get();
  auto* in = r->queues[i].get();
  std::vector<asyncio::task<>> tasks;
  for (int w = 0; w < workers; ++w) {
    auto seed = static_cast<unsigned>(i * workers + w + 1);
    tasks.push_back(asyncio::create_task(
        produce(r, out, static_cast<int>(i) * per_loop + w * (per_loop / workers), seed)));
    tasks.push_back(asyncio::create_task(consume(r, in, i, seed * 7919)));
  }
  // A bound on a lost item, so that a defect fails the test instead of hanging it.
  co_await asyncio::wait_for(asyncio::gather(std::move(tasks)), 120s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(four_loops_exchange_a_million_items_under_random_cancels_none_lost) {
  ring r;
  for (int i = 0; i < loops; ++i) r.queues.push_back(std::make_unique<int_queue>(64));
  asyncio::loop_group group(loops);
  group.run([&r](asyncio::event_loop&, std::size_t i) { return ring_member(&r, i); });
  auto once = std::count(r.seen.begin(), r.seen.end(), 1);
  BOOST_TEST(once == loops * per_loop);           // each id received exactly once
  BOOST_TEST(r.cancels.load() > per_loop / 250);  // and the cancels really happened
}

BOOST_AUTO_TEST_SUITE_END()
