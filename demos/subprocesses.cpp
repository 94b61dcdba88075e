// Processes, run concurrently by one thread: the notes' threads-vs-processes idea at the
// command line, with asyncio's subprocesses.
//
// The same program in Python:
//
//   async def job(i):                                     # one shell job
//       p = await asyncio.create_subprocess_shell(f"sleep 0.3; echo job {i}", stdout=PIPE)
//       out, _ = await p.communicate()
//   for i in range(n): await job(i)                       # one after another: n x 0.3 s
//   await asyncio.gather(*(job(i) for i in range(n)))     # all at once: about 0.3 s
//
//   p = await asyncio.create_subprocess_shell("sort | uniq -c", stdin=PIPE, stdout=PIPE)
//   ... a task writes words to p.stdin while another reads p.stdout line by line.

#include <asyncio.hpp>

#include "support/cli.hpp"
#include "support/timeline.hpp"

#include <fmt/core.h>

#include <map>
#include <sstream>

namespace {

using asyncio::stdio;

struct config {
  int jobs;
  double job_s;
  int words;
};

// What one job printed, and when it ran (ms on the way's timeline).
struct finished {
  std::string out;
  double start_ms, end_ms;
};

// One job: a shell that sleeps, then says which job it is.
asyncio::coroutine<finished> job(const config& c, int i, const demo::timeline& clock) {
  double start = clock.now_ms();
  auto command = fmt::format("sleep {}; echo job {}", c.job_s, i);
  auto p = co_await asyncio::create_subprocess_shell(command, {stdio::devnull, stdio::pipe});
  auto result = co_await p.communicate();
  co_return finished{result.out, start, clock.now_ms()};
}

asyncio::coroutine<std::vector<finished>> one_after_another(const config& c,
                                                            const demo::timeline& clock) {
  std::vector<finished> done;
  for (int i = 0; i < c.jobs; ++i) {
    auto f = co_await job(c, i, clock);
    done.push_back(std::move(f));
  }
  co_return done;
}

asyncio::coroutine<std::vector<finished>> all_at_once(const config& c,
                                                      const demo::timeline& clock) {
  std::vector<asyncio::task<finished>> jobs;
  for (int i = 0; i < c.jobs; ++i) jobs.push_back(asyncio::create_task(job(c, i, clock)));
  co_return co_await asyncio::gather(jobs);
}

// Runs one way on a timeline of its own; checks every job's output; the way's wall time.
struct way_run {
  demo::timeline timeline;
  double wall_ms = 0;
  bool outputs_ok = true;
};

way_run chart(const std::vector<finished>& done, double wall_ms) {
  way_run w;
  w.wall_ms = wall_ms;
  for (std::size_t i = 0; i < done.size(); ++i) {
    w.timeline.add(fmt::format("job {}", i), "waits for its process", done[i].start_ms,
                   done[i].end_ms, false);
    w.outputs_ok = w.outputs_ok && done[i].out == fmt::format("job {}\n", i);
  }
  return w;
}

// The words fed to the pipeline: a few names, repeated unevenly.
std::vector<std::string> words_to_feed(int n) {
  const char* names[] = {"apple", "pear", "plum", "fig", "kiwi", "lime"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(names[(i * i + i / 3) % 6]);
  return out;
}

// Writes the words, a line each, draining as it goes, then closes: the pipeline's end of input.
asyncio::coroutine<void> feed(asyncio::stream_writer& in, const std::vector<std::string>& words) {
  for (const auto& w : words) {
    in.write(w + "\n");
    co_await in.drain();
  }
  in.close();
  co_await in.wait_closed();
}

// Reads the pipeline's answer as it comes, line by line: "  count word".
asyncio::coroutine<std::map<std::string, int>> read_counts(asyncio::stream_reader& out) {
  std::map<std::string, int> counts;
  for (;;) {
    auto line = co_await out.readline();
    if (line.empty()) break;
    std::istringstream fields(line);
    int count = 0;
    std::string word;
    fields >> count >> word;
    fmt::print("    read: {}", line);
    counts[word] = count;
  }
  co_return counts;
}

asyncio::coroutine<bool> pipeline(const config& c) {
  auto words = words_to_feed(c.words);
  auto p = co_await asyncio::create_subprocess_shell("sort | uniq -c", {stdio::pipe, stdio::pipe});
  fmt::print("  sort | uniq -c (pid {}): {} words in through stdin while its stdout is read\n",
             p.pid(), words.size());
  auto feeding = asyncio::create_task(feed(p.stdin(), words));
  auto counts = co_await read_counts(p.stdout());
  co_await *feeding;
  int status = co_await p.wait();
  std::map<std::string, int> expected;
  for (const auto& w : words) ++expected[w];
  bool same = counts == expected;
  fmt::print("  exit status {}; the counts match our own count of what we fed: {}\n", status,
             same ? "yes" : "NO");
  co_return same&& status == 0;
}

asyncio::coroutine<int> amain(config c, int width, bool ascii) {
  fmt::print("{} shell jobs, each 'sleep {}; echo job i':\n\n", c.jobs, c.job_s);
  demo::timeline clock;
  auto seq_done = co_await one_after_another(c, clock);
  auto seq = chart(seq_done, clock.now_ms());
  clock = demo::timeline();
  auto gather_done = co_await all_at_once(c, clock);
  auto gathered = chart(gather_done, clock.now_ms());

  const double axis = std::max(seq.wall_ms, gathered.wall_ms);
  fmt::print("  one after another: {:.0f} ms\n", seq.wall_ms);
  seq.timeline.print_chart(width, ascii, "working", "waiting for its process", axis);
  fmt::print("\n  all at once (gather): {:.0f} ms, {:.1f}x faster\n", gathered.wall_ms,
             seq.wall_ms / gathered.wall_ms);
  gathered.timeline.print_chart(width, ascii, "working", "waiting for its process", axis);
  const bool outputs_ok = seq.outputs_ok && gathered.outputs_ok;
  fmt::print("\n  every job's output came back, in order: {}\n", outputs_ok ? "yes" : "NO");
  fmt::print(
      "  Each job is a process of its own: the loop's one thread only starts them, reads their\n"
      "  pipes and reaps them when they end (a pidfd each), so they wait side by side.\n\n");

  fmt::print("A pipeline, read as it answers:\n");
  bool pipeline_ok = co_await pipeline(c);
  co_return outputs_ok&& pipeline_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  config c;
  int width;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("jobs", demo::number(&c.jobs, 1, 100)->default_value(8), "shell jobs (1-100)")
      ("job-seconds", demo::number(&c.job_s, 0.0, 10.0)->default_value(0.3), "each job's sleep (0-10)")
      ("words", demo::number(&c.words, 0, 100'000)->default_value(30), "words fed to sort | uniq -c (0-100000)")
      ("width", demo::number(&width, 20, 200)->default_value(60), "timeline columns (20-200)")
      ("ascii", "draw the timelines with ASCII only");
  // clang-format on
  auto vm = demo::parse(argc, argv,
                        "subprocesses: shell jobs one after another, then all at once with "
                        "gather;\nthen a pipeline fed and read at the same time.",
                        options);
  return asyncio::run(amain(c, width, vm.count("ascii") > 0));
}
