// "Minimum memory usage": N waiting threads against N waiting coroutines.
//
// The same experiment in Python:
//
//   def wait(ev): ev.wait()                                   # a thread: a stack of its own
//   threads = [threading.Thread(target=wait, args=(ev,)) for _ in range(N)]
//   async def await_(ev): await ev.wait()                     # a coroutine: one small frame
//   tasks = [asyncio.create_task(await_(aev)) for _ in range(N)]
//
// Each side runs in a fresh process; once all N are waiting, its resident memory (RSS), its
// virtual memory and the kernel's stacks are read from /proc, then everyone is released and ends.

#include <asyncio.hpp>

#include "support/cli.hpp"
#include "support/isolate.hpp"
#include "support/measure.hpp"

#include <fmt/core.h>
#include <boost/json.hpp>

#include <condition_variable>
#include <fstream>
#include <latch>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace {

using demo::clock_type;
using demo::ms_since;

/// Memory now: this process's and the machine's kernel stacks.
struct memory {
  demo::memory process;
  double kernel;  // bytes
};

memory read_memory() { return {demo::memory_now(), demo::kernel_stacks()}; }

/// What one side measured, in the child process that ran it.
struct per_unit {
  double units;              // started (the machine may allow fewer threads than asked for)
  double start_ms;           // to start them all
  double rss, virt, kernel;  // bytes per unit
};

per_unit measured(double units, double start_ms, memory before, memory after) {
  const double k = std::max(units, 1.0);
  // Threads of other processes that end meanwhile can make the machine-wide delta negative.
  return {units, start_ms, (after.process.rss - before.process.rss) / k,
          (after.process.virt - before.process.virt) / k,
          std::max(after.kernel - before.kernel, 0.0) / k};
}

per_unit measure_threads(long n) {
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> threads;
  threads.reserve(n);
  auto before = read_memory();
  auto t0 = clock_type::now();
  std::latch waiting(n);
  long started = 0;
  try {
    for (; started < n; ++started)
      threads.emplace_back([&] {
        std::unique_lock lock(m);
        waiting.count_down();
        cv.wait(lock, [&go] { return go; });
      });
  } catch (const std::system_error&) {  // the machine allows no more: measure what we have
    waiting.count_down(n - started);
  }
  waiting.wait();
  double start_ms = ms_since(t0);
  auto after = read_memory();
  {
    std::lock_guard lock(m);
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  return measured(double(started), start_ms, before, after);
}

asyncio::coroutine<void> waiter(asyncio::event& ev) { co_await ev.wait(); }

asyncio::coroutine<per_unit> measure_coroutines(long n) {
  asyncio::event ev;
  std::vector<asyncio::task<>> tasks;
  tasks.reserve(n);  // the handles are ours, not the coroutines' cost
  auto before = read_memory();
  auto t0 = clock_type::now();
  for (long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(waiter(ev)));
  co_await asyncio::sleep(0s);  // every task runs to its wait
  double start_ms = ms_since(t0);
  auto after = read_memory();
  ev.set();
  co_await asyncio::gather(tasks);
  co_return measured(double(n), start_ms, before, after);
}

std::string bytes(double b) {
  if (b >= 1 << 20) return fmt::format("{:.1f} MiB", b / (1 << 20));
  if (b >= 1 << 10) return fmt::format("{:.1f} KiB", b / (1 << 10));
  return fmt::format("{:.0f} B", b);
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  long n_threads, n_coroutines;
  std::string json_path;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("threads", demo::number(&n_threads, 1L, 100'000L)->default_value(1'000), "waiting threads (1-100000)")
      ("coroutines", demo::number(&n_coroutines, 1L, 10'000'000L)->default_value(100'000), "waiting coroutines (1-10000000)")
      ("json", demo::output(&json_path), "also write the results to this JSON file (- for stdout)");
  // clang-format on
  demo::parse(argc, argv,
              "threads_vs_coroutines: what one waiting thread costs, against one waiting "
              "coroutine.\nRSS and virtual memory per unit, and the time to start them all.",
              options);

  auto t = demo::isolated([n_threads] { return measure_threads(n_threads); });
  auto c =
      demo::isolated([n_coroutines] { return asyncio::run(measure_coroutines(n_coroutines)); });

  fmt::print("  {:<11} {:>10} {:>12} {:>14} {:>12} {:>14} {:>14} {:>12}\n", "", "waiting",
             "start all", "start / unit", "RSS / unit", "kernel / unit", "memory / unit",
             "virtual / unit");
  for (auto [name, r] : {std::pair{"threads", t}, std::pair{"coroutines", c}})
    fmt::print("  {:<11} {:>10} {:>9.1f} ms {:>11.2f} us {:>12} {:>14} {:>14} {:>12}\n", name,
               r.units, r.start_ms, r.start_ms * 1000 / r.units, bytes(r.rss), bytes(r.kernel),
               bytes(r.rss + r.kernel), bytes(r.virt));
  if (t.units < n_threads)
    fmt::print("  (the machine allowed only {} of the {} threads asked for)\n", t.units, n_threads);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  fmt::print(
      "\n  one thread costs {:.0f}x the memory (RSS and kernel stack), {:.0f}x the virtual\n"
      "  memory and {:.0f}x the start time of one coroutine.\n",
      ratio(t.rss + t.kernel, c.rss + c.kernel), ratio(t.virt, c.virt),
      ratio(t.start_ms / t.units, c.start_ms / c.units));
  fmt::print(
      "\nA thread is a kernel task with two stacks: its own ({} reserved, pages touched become\n"
      "RSS) and one in the kernel ({} each here, in no process's RSS: /proc/meminfo's\n"
      "KernelStack, machine-wide). A waiting coroutine is its task's frames on the heap, the\n"
      "waiter node inside them. Try --threads 10000 --coroutines 1000000.\n",
      bytes(t.virt), bytes(t.kernel));

  if (!json_path.empty()) {
    auto record = [](const per_unit& r) {
      return boost::json::object{{"count", r.units},
                                 {"start_ms", r.start_ms},
                                 {"rss_bytes_per_unit", r.rss},
                                 {"virtual_bytes_per_unit", r.virt},
                                 {"kernel_stack_bytes_per_unit", r.kernel}};
    };
    auto json = boost::json::serialize(
        boost::json::object{{"threads", record(t)}, {"coroutines", record(c)}});
    if (!demo::write_file(json_path, json + "\n")) return 1;
  }
}
