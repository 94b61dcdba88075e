// The same I/O-bound jobs run four ways, and one wrong way, timed.
//
// The same program in Python, as in the notes (runnable, printing the same lines:
// demos/python/sync_vs_async.py):
//
//   def job(): time.sleep(D)              # or a request to a slow server
//   for _ in range(N): job()                                      # sequential: N * D
//   ts = [Thread(target=job) for _ in range(N)]; ...              # a thread per job: ~D
//   with ThreadPoolExecutor(K) as pool: pool.map(job, ...)        # a pool: N / K * D
//   async def ajob(): await asyncio.sleep(D)
//   await asyncio.gather(*(ajob() for _ in range(N)))             # async, one thread: ~D
//   async def trap(): time.sleep(D)                               # blocks the loop: N * D
//
// Two kinds of job: a timer wait, and a real TCP request to a server this demo starts on
// 127.0.0.1 that answers each request after the same delay. Each way runs in a fresh
// process, so its CPU time and peak RSS are its own.

#include <asyncio.hpp>

#include "slow_server.hpp"
#include "support/chart.hpp"
#include "support/cli.hpp"
#include "support/isolate.hpp"
#include "support/measure.hpp"
#include "support/timeline.hpp"

#include <fmt/core.h>
#include <boost/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <thread>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ms = std::chrono::milliseconds;
using demo::clock_type;
using demo::ms_since;

enum class way { sequential, thread_per_job, thread_pool, async, async_blocking };
constexpr way all_ways[] = {way::sequential, way::thread_per_job, way::thread_pool, way::async,
                            way::async_blocking};
constexpr const char* keys[] = {"sequential", "thread_per_job", "thread_pool", "async",
                                "async_blocking"};
constexpr const char* titles[] = {"sequential (blocking)", "thread per job", "thread pool",
                                  "async, one thread", "async + blocking call"};

struct config {
  std::string kind;  // "timer" or "tcp"
  int jobs, pool;
  ms delay;
  unsigned short port;
};

struct span {
  double start_ms, end_ms;  // since the way began
};
constexpr int timeline_rows = 12;

// One job, blocking its thread: sleep, or connect, send a line, wait for the answer.
void blocking_job(const config& c, asio::io_context& ctx) {
  if (c.kind == "timer") return std::this_thread::sleep_for(c.delay);
  tcp::socket s(ctx);
  s.connect({asio::ip::make_address("127.0.0.1"), c.port});
  asio::write(s, asio::buffer(std::string_view("job\n")));
  asio::streambuf answer;
  asio::read_until(s, answer, '\n');
}

// The same job, suspending instead of blocking. Raw Asio sockets work inside our tasks.
asyncio::coroutine<void> async_job(config c) {
  if (c.kind == "timer") {
    co_await asyncio::sleep(c.delay);
    co_return;
  }
  tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect({asio::ip::make_address("127.0.0.1"), c.port}, asio::use_awaitable);
  co_await asio::async_write(s, asio::buffer(std::string_view("job\n")), asio::use_awaitable);
  asio::streambuf answer;
  co_await asio::async_read_until(s, answer, '\n', asio::use_awaitable);
}

asyncio::coroutine<void> timed_job(config c, span& slot, clock_type::time_point t0, bool block) {
  slot.start_ms = ms_since(t0);
  if (block)
    blocking_job(c, asyncio::get_running_loop().context());  // the trap: the loop stops
  else
    co_await async_job(c);
  slot.end_ms = ms_since(t0);
}

asyncio::coroutine<void> run_tasks(config c, std::vector<span>& spans, clock_type::time_point t0,
                                   bool block) {
  std::vector<asyncio::task<>> tasks;
  for (int i = 0; i < c.jobs; ++i)
    tasks.push_back(
        asyncio::create_task(timed_job(c, spans[i], t0, block), fmt::format("job {}", i)));
  co_await asyncio::gather(tasks);
}

// What one run of a way measured, in the child process that ran it.
struct run_result {
  double wall_ms, cpu_s, peak_rss;
  int kept;  // the first jobs' spans, for the timeline
  std::array<span, timeline_rows> spans;
};

run_result run_way(way w, const config& c) {
  std::vector<span> spans(c.jobs);
  asio::io_context ctx(1);  // owns the blocking ways' sockets; never run
  auto t0 = clock_type::now();
  auto job = [&](int i) {
    spans[i].start_ms = ms_since(t0);
    blocking_job(c, ctx);
    spans[i].end_ms = ms_since(t0);
  };
  switch (w) {
    case way::sequential:
      for (int i = 0; i < c.jobs; ++i) job(i);
      break;
    case way::thread_per_job: {
      std::vector<std::thread> threads;
      for (int i = 0; i < c.jobs; ++i) threads.emplace_back(job, i);
      for (auto& t : threads) t.join();
      break;
    }
    case way::thread_pool: {
      asio::thread_pool pool(c.pool);
      for (int i = 0; i < c.jobs; ++i) asio::post(pool, [&job, i] { job(i); });
      pool.join();
      break;
    }
    case way::async:
    case way::async_blocking:
      asyncio::run(run_tasks(c, spans, t0, w == way::async_blocking));
  }
  run_result out{ms_since(t0), 0, 0, std::min(c.jobs, timeline_rows), {}};
  auto u = demo::self_usage();
  out.cpu_s = u.cpu_s, out.peak_rss = u.peak_rss;
  std::copy_n(spans.begin(), out.kept, out.spans.begin());
  return out;
}

struct result {
  std::string kind;
  int jobs;
  way w;
  bool skipped;
  double wall_ms, cpu_s, peak_rss;
  std::vector<span> spans;
};

// What a way should take, from the notes' arithmetic: used to skip what would run too long.
double predicted_ms(way w, const config& c) {
  double d = static_cast<double>(c.delay.count());
  if (w == way::sequential || w == way::async_blocking) return c.jobs * d;
  if (w == way::thread_pool) return std::ceil(double(c.jobs) / c.pool) * d;
  return d;
}

result measure(way w, const config& c, double budget_ms, bool traced) {
  result r{c.kind, c.jobs, w, predicted_ms(w, c) > budget_ms, 0, 0, 0, {}};
  if (r.skipped) return r;
  auto run = demo::isolated([&] {
    if (!traced) asyncio::trace_to("");  // --trace follows one run only: the first async one
    return run_way(w, c);
  });
  r.wall_ms = run.wall_ms, r.cpu_s = run.cpu_s, r.peak_rss = run.peak_rss;
  r.spans.assign(run.spans.begin(), run.spans.begin() + run.kept);
  return r;
}

// The speed-up over the sequential run of the same jobs, both measured in this run; none
// when either was skipped.
std::optional<double> speedup(const result& r, const std::vector<result>& all) {
  for (const auto& s : all)
    if (s.w == way::sequential && s.kind == r.kind && s.jobs == r.jobs && !s.skipped && !r.skipped)
      return s.wall_ms / r.wall_ms;
  return std::nullopt;
}

std::string title(way w, const config& c) {
  return w == way::thread_pool ? fmt::format("thread pool ({})", c.pool)
                               : titles[static_cast<int>(w)];
}

void print_table(const std::vector<result>& rows, const config& c, bool timeline, bool ascii) {
  const double sum = double(c.jobs) * c.delay.count();
  fmt::print("\n{} jobs: {} of them, each {} ms{} (sum of the job times: {:.0f} ms)\n", c.kind,
             c.jobs, c.delay.count(), c.kind == "tcp" ? " of server delay" : "", sum);
  fmt::print("  {:<24} {:>10} {:>10} {:>10} {:>10}\n", "way", "wall", "CPU", "peak RSS",
             "speed-up");  // over sequential, both measured
  for (const auto& r : rows) {
    if (r.skipped) {
      fmt::print("  {:<24} {:>10}   (skipped: would take ~{:.0f} s; raise --budget-s)\n",
                 title(r.w, c), "-", predicted_ms(r.w, c) / 1000);
      continue;
    }
    auto up = speedup(r, rows);
    fmt::print("  {:<24} {:>7.0f} ms {:>7.1f} ms {:>6.1f} MiB {:>10}\n", title(r.w, c), r.wall_ms,
               r.cpu_s * 1000, r.peak_rss / (1 << 20), up ? fmt::format("{:.1f}x", *up) : "-");
  }
  if (!timeline) return;
  double axis = 0;  // one time axis for every way, so their lengths compare at a glance
  for (const auto& r : rows) axis = std::max(axis, r.wall_ms);
  for (const auto& r : rows) {
    if (r.skipped) continue;
    fmt::print("\n  {} (first {} jobs):\n", title(r.w, c), r.spans.size());
    demo::timeline tl;
    const bool trap = r.w == way::async_blocking;  // the loop's only thread, held by one job
    for (std::size_t i = 0; i < r.spans.size(); ++i)
      tl.add(fmt::format("job {}", i), "waits", r.spans[i].start_ms, r.spans[i].end_ms, trap);
    tl.print_chart(80, ascii, "holds the loop's thread", "waiting (blocked or suspended)", axis);
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  std::string kind, json_path, csv_path, plot_path;
  int jobs, pool;
  long delay_ms;
  double budget_s;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("kind", po::value(&kind)->default_value("both"), "timer, tcp or both")
      ("jobs", demo::number(&jobs, 1, 10'000)->default_value(50), "jobs per run (1-10000); with --sweep, the most")
      ("delay-ms", demo::number(&delay_ms, 1L, 10'000L)->default_value(50), "each job's wait (1-10000)")
      ("pool", demo::number(&pool, 1, 1000)->default_value(4), "threads in the pool (1-1000)")
      ("sweep", "run 1, 10, 100, ... up to --jobs jobs and show how each way scales")
      ("budget-s", po::value(&budget_s)->default_value(20), "skip a way expected to take longer (up to 3600)")
      ("timeline", "draw each way's first jobs on a terminal timeline")
      ("ascii", "draw the timeline with ASCII only")
      ("json", demo::output(&json_path), "write the results to this JSON file (- for stdout)")
      ("csv", demo::output(&csv_path), "write the results to this CSV file (- for stdout)")
      ("plot", demo::output(&plot_path), "draw the results as an SVG chart in this file (- for stdout)");
  // clang-format on
  auto vm = demo::parse(argc, argv,
                        "sync_vs_async: the same I/O-bound jobs run sequentially, a thread per "
                        "job, on a thread pool,\nasync on one thread, and async with a blocking "
                        "call inside (the trap).\n--trace records the first async run.",
                        options);
  if (kind != "timer" && kind != "tcp" && kind != "both")
    demo::usage_error(argv[0], "--kind must be timer, tcp or both, not '" + kind + "'");
  if (!(budget_s > 0 && budget_s <= 3600))
    demo::usage_error(argv[0], "--budget-s must be in (0, 3600]");
  const bool sweep = vm.count("sweep") > 0;

  // Many jobs hold many sockets at once: allow this process all the descriptors it may have.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  std::vector<std::string> kinds;
  if (kind != "tcp") kinds.push_back("timer");
  if (kind != "timer") kinds.push_back("tcp");
  std::vector<int> counts;
  for (int n = 1; sweep && n < jobs; n *= 10) counts.push_back(n);
  counts.push_back(jobs);

  std::optional<demo::slow_server> server;
  if (kind != "timer") server.emplace(ms(delay_ms));
  std::vector<result> results;
  bool traced = !asyncio::trace_path().empty();
  for (const auto& k : kinds) {
    for (int n : counts) {
      config c{k, n, pool, ms(delay_ms), server ? server->port() : std::uint16_t(0)};
      std::vector<result> rows;
      for (way w : all_ways) {
        rows.push_back(measure(w, c, budget_s * 1000, traced && w == way::async));
        if (w == way::async) traced = false;
      }
      print_table(rows, c, vm.count("timeline") > 0, vm.count("ascii") > 0);
      results.insert(results.end(), rows.begin(), rows.end());
    }
  }
  fmt::print(
      "\nSequential takes the sum of the job times; a thread per job and async take about one\n"
      "job's time, async on a single thread; the pool, jobs/pool rounds. A blocking call inside\n"
      "a coroutine stops the loop's only thread: as slow as sequential.\n"
      "Try --sweep --jobs 10000 --plot scaling.svg.\n");

  if (!json_path.empty()) {
    boost::json::array rows;
    for (const auto& r : results) {
      boost::json::object o{{"kind", r.kind},
                            {"jobs", r.jobs},
                            {"way", keys[static_cast<int>(r.w)]},
                            {"skipped", r.skipped}};
      if (!r.skipped) {
        o["wall_ms"] = r.wall_ms;
        o["cpu_ms"] = r.cpu_s * 1000;
        o["peak_rss_bytes"] = r.peak_rss;
        if (auto up = speedup(r, results)) o["speedup"] = *up;
        boost::json::array spans;  // the first jobs' [start, end] in ms, as the timeline shows
        for (const auto& s : r.spans) spans.push_back({s.start_ms, s.end_ms});
        o["spans"] = std::move(spans);
      }
      rows.push_back(std::move(o));
    }
    auto json = boost::json::serialize(
        boost::json::object{{"delay_ms", delay_ms}, {"pool", pool}, {"results", std::move(rows)}});
    if (!demo::write_file(json_path, json + "\n")) return 1;
  }
  if (!csv_path.empty()) {
    std::string csv = "kind,jobs,way,wall_ms,cpu_ms,peak_rss_bytes,speedup\n";
    for (const auto& r : results)
      if (!r.skipped)
        csv += fmt::format("{},{},{},{:.3f},{:.3f},{:.0f},{}\n", r.kind, r.jobs,
                           keys[static_cast<int>(r.w)], r.wall_ms, r.cpu_s * 1000, r.peak_rss,
                           speedup(r, results) ? fmt::format("{:.3f}", *speedup(r, results)) : "");
    if (!demo::write_file(csv_path, csv)) return 1;
  }
  if (!plot_path.empty()) {
    // A sweep: a line per way and kind, over the jobs count. One run: a bar per way, by kind.
    std::vector<demo::series> all;
    for (way w : all_ways)
      for (const auto& k : kinds) {
        if (!sweep && k != kinds.front()) continue;
        demo::series s{
            sweep && kinds.size() > 1 ? fmt::format("{} ({})", titles[int(w)], k) : titles[int(w)],
            {},
            int(w),
            k == "tcp" && sweep};  // a colour per way; tcp dashed
        for (const auto& r : results) {
          if (r.w != w || r.skipped || (sweep && r.kind != k)) continue;
          double group = std::find(kinds.begin(), kinds.end(), r.kind) - kinds.begin();
          s.points.emplace_back(sweep ? r.jobs : group, r.wall_ms);
        }
        if (!s.points.empty()) all.push_back(std::move(s));
      }
    auto svg = sweep ? demo::chart_svg("Wall time as the jobs grow", "jobs", "wall time (ms)", all)
                     : demo::chart_svg(fmt::format("{} jobs of {} ms", jobs, delay_ms), "job kind",
                                       "wall time (ms)", all, kinds);
    if (!demo::write_file(plot_path, svg)) return 1;
  }
}
