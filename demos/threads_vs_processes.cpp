// Threads share memory, processes don't, and coroutines share it safely without a lock.
//
// The same program in Python, as in the notes:
//
//   counter = 0
//   def bump(n):
//       global counter
//       for _ in range(n): counter += 1                 # read, add one, write back
//   threads = [threading.Thread(target=bump, args=(N,)) for _ in range(4)]   # share counter:
//   ...                                                 # updates are lost (with a Lock, none)
//   p = multiprocessing.Process(target=bump, args=(N,))  # a copy of the memory:
//   p.start(); p.join(); print(counter)                  # 0: the child changed its own copy
//   async def abump(n):
//       global counter
//       for _ in range(n): counter += 1; await asyncio.sleep(0)   # switches only at await
//
// (C++ threads really run at once, so the race is real; Python's GIL hides most of it.)

#include <asyncio.hpp>

#include "support/cli.hpp"

#include <fmt/core.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

struct row {
  std::string way;
  long expected, got;
  double ms;
  std::string why;
};

// `counter += 1` as two steps, as it really is: another thread may write in between. (A
// relaxed atomic load and store race the same way, without undefined behaviour.)
void bump_racing(std::atomic<long>& counter, long n) {
  for (long i = 0; i < n; ++i)
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

template <class Body>
double run_threads(int workers, Body body) {
  std::latch start(workers + 1);  // all begin together, so they really overlap
  std::vector<std::thread> threads;
  for (int t = 0; t < workers; ++t)
    threads.emplace_back([&start, &body] {
      start.arrive_and_wait();
      body();
    });
  auto t0 = clock_type::now();
  start.arrive_and_wait();
  for (auto& t : threads) t.join();
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// The child bumps its copy of the counter and reports it; the parent's stays as it was.
std::pair<long, long> run_process(long n) {
  long counter = 0;
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    for (long i = 0; i < n; ++i) ++counter;
    bool ok = ::write(fds[1], &counter, sizeof counter) == sizeof counter;
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  long child = -1;
  bool got = ::read(fds[0], &child, sizeof child) == sizeof child;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the child process failed");
  return {child, counter};
}

asyncio::coroutine<void> bump_at_awaits(long& counter, long n) {
  for (long i = 0; i < n; ++i) {
    counter += 1;  // no await inside: no other coroutine can run in between
    co_await asyncio::sleep(0s);
  }
}

asyncio::coroutine<void> bump_across_an_await(long& counter, long n) {
  for (long i = 0; i < n; ++i) {
    long seen = counter;
    co_await asyncio::sleep(0s);  // the others run here, and read the same value
    counter = seen + 1;
  }
}

asyncio::coroutine<void> run_coroutines(long& counter, int workers, long n, bool across_await) {
  std::vector<asyncio::task<>> tasks;
  for (int t = 0; t < workers; ++t)
    tasks.push_back(asyncio::create_task(across_await ? bump_across_an_await(counter, n)
                                                      : bump_at_awaits(counter, n)));
  co_await asyncio::gather(tasks);
}

double since_ms(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  int workers;
  long n;
  std::string json_path;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("workers", demo::number(&workers, 2, 64)->default_value(4), "threads / tasks bumping the counter (2-64)")
      ("increments", demo::number(&n, 1L, 100'000'000L)->default_value(100'000), "increments by each (1-100000000)")
      ("json", demo::output(&json_path), "also write the results to this JSON file (- for stdout)");
  // clang-format on
  demo::parse(argc, argv,
              "threads_vs_processes: who shares memory, and who races on it.\nA counter is bumped "
              "by threads (with and without a lock), by a child process,\nand by coroutines on "
              "one thread.",
              options);

  const long total = workers * n;
  std::vector<row> rows;

  std::atomic<long> racing{0};
  double ms = run_threads(workers, [&racing, n] { bump_racing(racing, n); });
  const long lost = total - racing.load();
  rows.push_back({"threads, no lock", total, racing.load(), ms,
                  lost > 0 ? "the threads raced" : "none lost this time: try more --increments"});

  long locked = 0;
  std::mutex m;
  ms = run_threads(workers, [&] {
    for (long i = 0; i < n; ++i) {
      std::lock_guard guard(m);
      ++locked;
    }
  });
  rows.push_back({"threads, std::mutex", total, locked, ms, "one at a time"});

  auto t0 = clock_type::now();
  auto [child, parent] = run_process(n);
  ms = since_ms(t0);
  rows.push_back({"process (fork): child's count", n, child, ms, "its own copy of memory"});
  rows.push_back({"process (fork): parent's after", 0, parent, ms, "never sees the child's"});

  long shared = 0;
  t0 = clock_type::now();
  asyncio::run(run_coroutines(shared, workers, n, false));
  rows.push_back(
      {"coroutines, one thread, no lock", total, shared, since_ms(t0), "switch only at co_await"});

  long across = 0;
  t0 = clock_type::now();
  asyncio::run(run_coroutines(across, workers, n, true));
  rows.push_back(
      {"coroutines, co_await mid-update", total, across, since_ms(t0), "others run at that await"});

  fmt::print("{} workers x {} increments each\n\n", workers, n);
  fmt::print("  {:<31} {:>9} {:>9} {:>9} {:>9}\n", "who bumps the counter", "expected", "got",
             "lost", "time");
  for (const auto& r : rows)
    fmt::print("  {:<31} {:>9} {:>9} {:>9} {:>6.1f} ms  {}\n", r.way, r.expected, r.got,
               r.expected - r.got, r.ms, r.why);
  fmt::print(
      "\nThreads share one memory: without a lock their updates can collide. A process gets a "
      "copy:\n"
      "nothing it does reaches the parent. Coroutines share one memory on one thread and take\n"
      "turns only at co_await, so an update with no await inside needs no lock.\n");

  if (!json_path.empty()) {
    boost::json::array out;
    for (const auto& r : rows)
      out.push_back({{"way", r.way}, {"expected", r.expected}, {"got", r.got}, {"ms", r.ms}});
    auto json = boost::json::serialize(
        boost::json::object{{"workers", workers}, {"increments", n}, {"results", std::move(out)}});
    if (!demo::write_file(json_path, json + "\n")) return 1;
  }
}
