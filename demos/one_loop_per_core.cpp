// One loop runs on one thread: CPU work inside a task stops every other task of that loop.
// Jobs that wait (I/O) and then hash a chunk (CPU) are run three ways: on one loop (the
// trap), on one loop handing the hashing to threads (to_thread), and on a loop_group, one
// loop per core, each running its share of the jobs.
//
// The same program in Python:
//
//   async def job(i):
//       for c in range(chunks):
//           await asyncio.sleep(wait)                        # I/O
//           digest ^= hash_chunk(i, c)                       # CPU: the loop stops meanwhile
//   asyncio.run(main())                                      # one loop: one core at most
//   ...     await asyncio.to_thread(hash_chunk, i, c)        # threads: the GIL serialises them
//                                                            # (unless free-threaded 3.13t)
//   ProcessPoolExecutor, or one asyncio.run per process      # Python's way to every core
//
// Here a loop_group runs one loop per core in one process, sharing memory.

#include <asyncio.hpp>

#include "support/cli.hpp"
#include "support/timeline.hpp"

#include <fmt/core.h>
#include <boost/json.hpp>

#include <sys/resource.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace {

struct settings {
  int jobs, chunks, wait_ms, chunk_kib, loops;
};

// FNV-1a over chunk_kib KiB of bytes made from (job, chunk): pure CPU, a serial chain of
// multiplies that no compiler shortens, mixed at the end (splitmix64's finaliser) so that
// the sum of all chunks' hashes shows that each was hashed once.
std::uint64_t hash_chunk(int job, int chunk, int chunk_kib) {
  std::uint64_t h = 1469598103934665603ull;
  for (long i = 0; i < chunk_kib * 1024L; ++i) {
    h ^= static_cast<std::uint8_t>(i + job * 31 + chunk * 7);
    h *= 1099511628211ull;
  }
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

// Who hashed when: a span per chunk, from any thread.
class hashing_log {
public:
  explicit hashing_log(demo::timeline& t) : timeline_(t) {}
  void add(const std::string& actor, double start_ms) {
    std::lock_guard lock(m_);
    timeline_.add(actor, "hashes", start_ms, true);
  }
  // "thread 0", "thread 1", ... in the order the pool's threads first show up.
  std::string thread_name() {
    std::lock_guard lock(m_);
    auto [it, _] = threads_.try_emplace(std::this_thread::get_id(), threads_.size());
    return "thread " + std::to_string(it->second);
  }
  double now_ms() const { return timeline_.now_ms(); }

private:
  std::mutex m_;
  demo::timeline& timeline_;
  std::map<std::thread::id, std::size_t> threads_;
};

struct run_state {
  const settings* s;
  hashing_log* log;
  std::atomic<std::uint64_t> digest = 0;  // the sum of every chunk's hash
};

std::uint64_t hash_logged(run_state* r, std::string actor, int job, int chunk) {
  double start = r->log->now_ms();
  auto h = hash_chunk(job, chunk, r->s->chunk_kib);
  r->log->add(actor.empty() ? r->log->thread_name() : actor, start);
  return h;
}

// `actor` empty: the hashing goes to the loop's thread pool.
asyncio::coroutine<void> job(run_state* r, int i, std::string actor) {
  for (int c = 0; c < r->s->chunks; ++c) {
    co_await asyncio::sleep(std::chrono::milliseconds(r->s->wait_ms));  // the I/O
    std::uint64_t h;
    if (actor.empty())
      h = co_await asyncio::to_thread(hash_logged, r, std::string(), i, c);
    else
      h = hash_logged(r, actor, i, c);  // on the loop's thread: its other tasks wait
    r->digest += h;
  }
}

// The jobs i with i % every == first, on the running loop.
asyncio::coroutine<void> jobs(run_state* r, int first, int every, bool to_thread) {
  std::vector<asyncio::task<>> tasks;
  for (int i = first; i < r->s->jobs; i += every)
    tasks.push_back(asyncio::create_task(
        job(r, i, to_thread ? std::string() : "loop " + std::to_string(first))));
  co_await asyncio::gather(std::move(tasks));
}

double cpu_ms() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

struct result {
  std::string way;
  double wall_ms, cpu_ms;
  std::uint64_t digest;
  demo::timeline timeline;
};

enum class way { one_loop, to_thread, loop_group };

result run_one_way(const settings& s, way w) {
  result out{};
  hashing_log log(out.timeline);
  run_state r{&s, &log};
  double cpu0 = cpu_ms();
  auto t0 = std::chrono::steady_clock::now();
  if (w == way::loop_group) {
    asyncio::loop_group group(static_cast<std::size_t>(s.loops));
    group.run([&r, &s](asyncio::event_loop&, std::size_t i) {
      return jobs(&r, static_cast<int>(i), s.loops, false);
    });
    out.way = fmt::format("loop_group ({} loops)", s.loops);
  } else {
    asyncio::run(jobs(&r, 0, 1, w == way::to_thread));
    out.way = w == way::to_thread ? "one loop + to_thread" : "one loop";
  }
  out.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  out.cpu_ms = cpu_ms() - cpu0;
  out.digest = r.digest;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = demo::po;
  settings s{};
  bool ascii = false;
  std::string json_path;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("jobs", demo::number(&s.jobs, 1, 1000)->default_value(8), "jobs, each waiting then hashing (1-1000)")
      ("chunks", demo::number(&s.chunks, 1, 1000)->default_value(8), "chunks each job hashes (1-1000)")
      ("wait-ms", demo::number(&s.wait_ms, 0, 10'000)->default_value(10), "the I/O wait before each chunk (0-10000)")
      ("chunk-kib", demo::number(&s.chunk_kib, 1, 1 << 20)->default_value(2048), "KiB hashed per chunk: its CPU time (1-1048576)")
      ("loops", demo::number(&s.loops, 1, 256)->default_value(cores), "loops of the loop_group (1-256; default: one per core)")
      ("ascii", po::bool_switch(&ascii), "draw the timelines with ASCII only")
      ("json", demo::output(&json_path), "also write the results to this JSON file (- for stdout)");
  // clang-format on
  demo::parse(argc, argv,
              "one_loop_per_core: CPU work among I/O waits, on one loop (the trap), with "
              "to_thread,\nand on a loop_group of one loop per core.",
              options);

  fmt::print("{} jobs x {} chunks: wait {} ms (I/O), then hash {} KiB (CPU); {} cores\n\n", s.jobs,
             s.chunks, s.wait_ms, s.chunk_kib, cores);
  std::vector<result> results;
  for (way w : {way::one_loop, way::to_thread, way::loop_group})
    results.push_back(run_one_way(s, w));

  const double base = results[0].wall_ms;
  double axis = 0;  // one time axis for the three charts
  for (const auto& r : results) axis = std::max(axis, r.wall_ms);
  fmt::print("  {:<22} {:>9} {:>9} {:>9} {:>9}\n", "way", "wall", "CPU", "CPU/wall", "speed-up");
  for (const auto& r : results)
    fmt::print("  {:<22} {:>6.0f} ms {:>6.0f} ms {:>8.2f}x {:>8.2f}x\n", r.way, r.wall_ms, r.cpu_ms,
               r.cpu_ms / r.wall_ms, base / r.wall_ms);
  bool same = std::all_of(results.begin(), results.end(),
                          [&](const result& r) { return r.digest == results[0].digest; });
  fmt::print("\nEvery chunk hashed, the same digest all three ways: {} ({:016x})\n",
             same ? "yes" : "NO", results[0].digest);

  for (const auto& r : results) {
    fmt::print("\n{}: who hashed when\n", r.way);
    r.timeline.print_chart(64, ascii, "hashing", "", axis);
  }
  fmt::print(
      "\nOn one loop, a task that computes holds the loop's only thread: the other jobs' waits "
      "end,\nbut they cannot run, and one core does all the work. to_thread hands the "
      "computing to\nthreads (in C++ they run at once; Python's GIL would serialise them). A "
      "loop_group runs\none loop per core: each loop's tasks compute on its own core.\n");

  if (!json_path.empty()) {
    boost::json::array out;
    for (const auto& r : results)
      out.push_back({{"way", r.way},
                     {"wall_ms", r.wall_ms},
                     {"cpu_ms", r.cpu_ms},
                     {"speedup", base / r.wall_ms}});
    auto json = boost::json::serialize(boost::json::object{{"jobs", s.jobs},
                                                           {"chunks", s.chunks},
                                                           {"loops", s.loops},
                                                           {"same_digest", same},
                                                           {"results", std::move(out)}});
    if (!demo::write_file(json_path, json + "\n")) return 1;
  }
  return same ? 0 : 1;
}
