// Producers and consumers at different speeds, through a bounded queue.
//
// The same program in Python:
//
//   async def producer(q, name, n):
//       for i in range(n):
//           await asyncio.sleep(PRODUCE)         # making the item
//           await q.put(f"{name}-{i}")           # waits while the queue is full: back-pressure
//
//   async def consumer(q, name):
//       while True:
//           item = await q.get()                 # QueueShutDown once shut down and empty
//           await asyncio.sleep(CONSUME)         # using it
//           q.task_done()
//
//   q = asyncio.Queue(maxsize=3)
//   consumers = [asyncio.create_task(consumer(q, f"c{i}")) for i in range(2)]
//   await asyncio.gather(*(producer(q, f"p{i}", 5) for i in range(3)))
//   await q.join()                               # every item put has been processed
//   q.shutdown()                                 # the consumers end (3.13)
//
// The producers are faster than the consumers, so the queue fills and they wait at put():
// the queue's bound, not a growing backlog, sets their pace.

#include <asyncio.hpp>

#include "support/cli.hpp"
#include "support/timeline.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>

using ms = std::chrono::milliseconds;

namespace {

struct shared {
  asyncio::queue<std::string> queue;
  demo::timeline timeline;
  std::map<std::string, int> produced, consumed;  // item -> times
  std::size_t longest = 0;                        // the most items the queue held
  double waited_ms = 0;                           // producers' time blocked in put()
  ms produce, consume;
  bool verbose;

  void say(const std::string& who, const std::string& what) {
    if (verbose)
      fmt::print("  [{:>5.0f} ms] {:<3} {:<24} queue {}/{}\n", timeline.now_ms(), who, what,
                 queue.qsize(), queue.maxsize());
  }
};

asyncio::coroutine<void> producer(shared& s, std::string name, int n) {
  for (int i = 0; i < n; ++i) {
    double start = s.timeline.now_ms();
    co_await asyncio::sleep(s.produce);
    s.timeline.add(name, "produce", start, true);
    auto item = fmt::format("{}-{}", name, i);
    if (s.queue.full()) s.say(name, "waits: queue full");
    start = s.timeline.now_ms();
    co_await s.queue.put(item);
    double waited = s.timeline.now_ms() - start;
    if (waited >= 1) s.timeline.add(name, "blocked in put", start, false);
    s.waited_ms += waited;
    ++s.produced[item];
    s.longest = std::max(s.longest, s.queue.qsize());
    s.say(name, "put " + item);
  }
}

asyncio::coroutine<void> consumer(shared& s, std::string name) {
  for (;;) {
    std::string item;
    try {
      item = co_await s.queue.get();
    } catch (const asyncio::queue_shut_down&) {
      s.say(name, "queue shut down: ends");
      co_return;
    }
    s.say(name, "got " + item);
    double start = s.timeline.now_ms();
    co_await asyncio::sleep(s.consume);
    s.timeline.add(name, "consume", start, true);
    ++s.consumed[item];
    s.queue.task_done();
  }
}

asyncio::coroutine<void> amain(shared& s, int producers, int consumers, int items) {
  std::vector<asyncio::task<>> consuming, producing;
  for (int i = 0; i < consumers; ++i)
    consuming.push_back(asyncio::create_task(consumer(s, fmt::format("c{}", i))));
  for (int i = 0; i < producers; ++i)
    producing.push_back(asyncio::create_task(producer(s, fmt::format("p{}", i), items)));
  co_await asyncio::gather(producing);
  s.say("", "producers done; join()");
  co_await s.queue.join();
  s.say("", "all processed; shutdown()");
  s.queue.shutdown();
  co_await asyncio::gather(consuming);
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  int producers, consumers, items, maxsize, width;
  long produce_ms, consume_ms;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("producers", demo::number(&producers, 1, 100)->default_value(3), "producer tasks (1-100)")
      ("consumers", demo::number(&consumers, 1, 100)->default_value(2), "consumer tasks (1-100)")
      ("items", demo::number(&items, 1, 10'000)->default_value(5), "items each producer makes (1-10000)")
      ("maxsize", demo::number(&maxsize, 1, 10'000)->default_value(3), "the queue's bound (1-10000)")
      ("produce-ms", demo::number(&produce_ms, 0L, 60'000L)->default_value(20), "time to make one item (0-60000)")
      ("consume-ms", demo::number(&consume_ms, 0L, 60'000L)->default_value(50), "time to use one item (0-60000)")
      ("width", demo::number(&width, 20, 200)->default_value(80), "timeline columns (20-200)")
      ("quiet", "no event log, only the chart and the totals")
      ("ascii", "draw the timeline with ASCII only");
  // clang-format on
  auto vm = demo::parse(argc, argv,
                        "producer_consumer: fast producers and slow consumers through a bounded "
                        "asyncio::queue.\nShows back-pressure (put waits while the queue is full) "
                        "and a clean shutdown with join().",
                        options);
  // Producers work side by side, and so do consumers: the slower side sets the length.
  const double longest_s =
      std::max(double(items) * produce_ms, double(producers) * items * consume_ms / consumers) /
      1000;
  if (longest_s > 3600)
    demo::usage_error(argv[0],
                      fmt::format("that run would take about {:.0f} s; at most 3600", longest_s));

  shared s{asyncio::queue<std::string>(maxsize),
           {},
           {},
           {},
           0,
           0,
           ms(produce_ms),
           ms(consume_ms),
           vm.count("quiet") == 0};
  asyncio::run(amain(s, producers, consumers, items));

  fmt::print("\n");
  s.timeline.print_chart(width, vm.count("ascii") > 0, "producing/consuming", "blocked in put");
  const int expected = producers * items;
  bool once = s.consumed == s.produced && static_cast<int>(s.produced.size()) == expected;
  for (const auto& [item, times] : s.consumed) once = once && times == 1;
  fmt::print("  total: {:.0f} ms\n\n", s.timeline.total_ms());
  fmt::print("Produced {} items, consumed {}: every item exactly once: {}.\n", s.produced.size(),
             s.consumed.size(), once ? "yes" : "NO");
  fmt::print("The queue never held more than {} (maxsize {}); producers spent {:.0f} ms in all\n",
             s.longest, maxsize, s.waited_ms);
  fmt::print("blocked in put(): that is the back-pressure, pacing them to the consumers.\n");
  return once && s.longest <= static_cast<std::size_t>(maxsize) ? 0 : 1;
}
