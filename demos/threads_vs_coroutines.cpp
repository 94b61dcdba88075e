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

#include "cli.hpp"
#include "isolate.hpp"

#include <fmt/core.h>
#include <boost/json.hpp>

#include <condition_variable>
#include <fstream>
#include <latch>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

struct memory {
  double rss, virt, kernel;  // bytes
};

// The kernel's stacks, one per thread of the machine (about 16 KiB each here): memory a thread
// costs that its process's RSS does not show. Machine-wide, so read close together.
double kernel_stacks() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (meminfo >> key >> kib)
    if (key == "KernelStack:")
      return kib * 1024;
    else
      meminfo.ignore(256, '\n');
  return 0;
}

memory read_memory() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  return {resident * page, size * page, kernel_stacks()};
}

// {units started, ms to start them all, then per unit: RSS, virtual and kernel-stack bytes}
std::vector<double> per_unit(double units, double start_ms, memory before, memory after) {
  const double k = std::max(units, 1.0);
  // Threads of other processes that end meanwhile can make the machine-wide delta negative.
  return {units, start_ms, (after.rss - before.rss) / k, (after.virt - before.virt) / k,
          std::max(after.kernel - before.kernel, 0.0) / k};
}

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

std::vector<double> measure_threads(long n) {
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
  return per_unit(double(started), start_ms, before, after);
}

asyncio::coroutine<void> waiter(asyncio::event& ev) { co_await ev.wait(); }

asyncio::coroutine<std::vector<double>> measure_coroutines(long n) {
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
  co_return per_unit(double(n), start_ms, before, after);
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
      ("threads", po::value(&n_threads)->default_value(1'000), "waiting threads (1-100000)")
      ("coroutines", po::value(&n_coroutines)->default_value(100'000), "waiting coroutines (1-10000000)")
      ("json", demo::output(&json_path), "also write the results to this JSON file (- for stdout)");
  // clang-format on
  demo::parse(argc, argv,
              "threads_vs_coroutines: what one waiting thread costs, against one waiting "
              "coroutine.\nRSS and virtual memory per unit, and the time to start them all.",
              options);
  if (n_threads < 1 || n_threads > 100'000)
    demo::usage_error(argv[0], "--threads must be 1-100000");
  if (n_coroutines < 1 || n_coroutines > 10'000'000)
    demo::usage_error(argv[0], "--coroutines must be 1-10000000");

  auto t = demo::isolated([n_threads] { return measure_threads(n_threads); });
  auto c =
      demo::isolated([n_coroutines] { return asyncio::run(measure_coroutines(n_coroutines)); });

  fmt::print("  {:<11} {:>10} {:>12} {:>14} {:>12} {:>14} {:>14} {:>12}\n", "", "waiting",
             "start all", "start / unit", "RSS / unit", "kernel / unit", "memory / unit",
             "virtual / unit");
  for (auto [name, r] : {std::pair{"threads", t}, std::pair{"coroutines", c}})
    fmt::print("  {:<11} {:>10} {:>9.1f} ms {:>11.2f} us {:>12} {:>14} {:>14} {:>12}\n", name, r[0],
               r[1], r[1] * 1000 / r[0], bytes(r[2]), bytes(r[4]), bytes(r[2] + r[4]), bytes(r[3]));
  if (t[0] < n_threads)
    fmt::print("  (the machine allowed only {} of the {} threads asked for)\n", t[0], n_threads);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  fmt::print(
      "\n  one thread costs {:.0f}x the memory (RSS and kernel stack), {:.0f}x the virtual\n"
      "  memory and {:.0f}x the start time of one coroutine.\n",
      ratio(t[2] + t[4], c[2] + c[4]), ratio(t[3], c[3]), ratio(t[1] / t[0], c[1] / c[0]));
  fmt::print(
      "\nA thread is a kernel task with two stacks: its own ({} reserved, pages touched become\n"
      "RSS) and one in the kernel ({} each here, in no process's RSS: /proc/meminfo's\n"
      "KernelStack, machine-wide). A waiting coroutine is its task's frames on the heap, the\n"
      "waiter node inside them. Try --threads 10000 --coroutines 1000000.\n",
      bytes(t[3]), bytes(t[4]));

  if (!json_path.empty()) {
    auto record = [](const std::vector<double>& r) {
      return boost::json::object{{"count", r[0]},
                                 {"start_ms", r[1]},
                                 {"rss_bytes_per_unit", r[2]},
                                 {"virtual_bytes_per_unit", r[3]},
                                 {"kernel_stack_bytes_per_unit", r[4]}};
    };
    auto json = boost::json::serialize(
        boost::json::object{{"threads", record(t)}, {"coroutines", record(c)}});
    if (!demo::write_file(json_path, json + "\n")) return 1;
  }
}
