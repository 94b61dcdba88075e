#include <asyncio/trace.hpp>

#include <asyncio/detail/future_state.hpp>
#include <asyncio/detail/log.hpp>
#include <asyncio/detail/trace_hooks.hpp>
#include <asyncio/event_loop.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

namespace asyncio {

namespace detail::trace {

std::atomic<bool> on{false};

namespace {

/// Everything recorded, for every loop of the process; loops on other threads record too,
/// hence the mutex (taken only while tracing).
struct recorder {
  std::mutex mutex;
  std::string path;
  clock::time_point origin = clock::now();
  struct track {
    std::string name;
    bool started = false;
  };
  std::vector<std::pair<double, boost::json::object>> events;       // by time, once sorted
  std::map<std::pair<std::uint32_t, std::uint64_t>, track> tracks;  // (loop, task) -> track
  std::uint32_t loops = 0;

  double micros(clock::time_point t) const {
    return std::chrono::duration<double, std::micro>(t - origin).count();
  }
  boost::json::object event(const char* ph, std::string_view name, std::uint32_t loop,
                            std::uint64_t task, clock::time_point at) const {
    return {{"ph", ph}, {"name", name}, {"pid", loop}, {"tid", task}, {"ts", micros(at)}};
  }
  void add(boost::json::object e) {
    double ts = e.at("ts").as_double();
    events.emplace_back(ts, std::move(e));
  }
  void write();
};

recorder& rec() {
  static recorder r;
  return r;
}

void recorder::write() {
  boost::json::array all;
  for (std::uint32_t loop = 1; loop <= loops; ++loop)
    all.push_back({{"ph", "M"},
                   {"name", "process_name"},
                   {"pid", loop},
                   {"args", {{"name", "event loop " + std::to_string(loop)}}}});
  for (const auto& [key, track] : tracks) {
    const auto& [loop, task] = key;
    all.push_back({{"ph", "M"},
                   {"name", "thread_name"},
                   {"pid", loop},
                   {"tid", task},
                   {"args", {{"name", track.name}}}});
    all.push_back({{"ph", "M"},
                   {"name", "thread_sort_index"},
                   {"pid", loop},
                   {"tid", task},
                   {"args", {{"sort_index", task}}}});
  }
  // A step is recorded when it ends, with the time it began: in time order for readers.
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [ts, e] : events) all.push_back(e);
  std::ofstream out(path, std::ios::trunc);
  out << boost::json::serialize(
             boost::json::object{{"traceEvents", std::move(all)}, {"displayTimeUnit", "ms"}})
      << "\n";
  if (!out) log().error("cannot write the trace file '{}'", path);
}

// ASYNCIO_TRACE=path: on from the start, before any loop exists.
const bool from_environment = [] {
  const char* path = std::getenv("ASYNCIO_TRACE");
  if (path && *path) trace_to(path);
  return true;
}();

}  // namespace

std::uint32_t loop_opened() {
  auto& r = rec();
  std::lock_guard lock(r.mutex);
  return ++r.loops;
}

void loop_closed() {
  auto& r = rec();
  std::lock_guard lock(r.mutex);
  if (!r.path.empty()) r.write();
}

void task_created(std::uint32_t loop, std::uint64_t task, const std::string& name) {
  auto& r = rec();
  auto creator = current_task_state();
  std::lock_guard lock(r.mutex);
  r.tracks[{loop, task}].name = name;
  auto e = r.event("i", "create", loop, task, clock::now());
  e["s"] = "t";
  if (creator) e["args"] = {{"by", r.tracks[{loop, creator->id()}].name}};
  r.add(std::move(e));
}

void step(std::uint32_t loop, std::uint64_t task, const std::string& name, clock::time_point start,
          clock::time_point end) {
  auto& r = rec();
  std::lock_guard lock(r.mutex);
  auto& track = r.tracks[{loop, task}];
  track.name = name;  // set_name() may have renamed it
  const bool first = !std::exchange(track.started, true);
  auto e = r.event("X", task == 0 ? "callback" : first ? "start" : "resume", loop, task, start);
  e["dur"] = std::chrono::duration<double, std::micro>(end - start).count();
  r.add(std::move(e));
}

void task_finished(std::uint32_t loop, std::uint64_t task, const char* how) {
  auto& r = rec();
  std::lock_guard lock(r.mutex);
  auto e = r.event("i", "finish", loop, task, clock::now());
  e["s"] = "t";
  e["args"] = {{"state", how}};
  r.add(std::move(e));
}

namespace {

void wait_event(const char* ph, const void* id, const char* what, boost::json::object args) {
  auto* loop = running_loop();
  auto* task = current_task_state();
  if (!loop || !trace_id(*loop)) return;
  auto& r = rec();
  std::lock_guard lock(r.mutex);
  auto e = r.event(ph, what, trace_id(*loop), task ? task->id() : 0, clock::now());
  e["cat"] = "wait";
  e["id"] = reinterpret_cast<std::uintptr_t>(id);
  if (!args.empty()) e["args"] = std::move(args);
  r.add(std::move(e));
}

}  // namespace

void wait_began(const void* id, const char* what, clock::duration delay) {
  wait_event("b", id, what,
             {{"delay_ms", std::chrono::duration<double, std::milli>(delay).count()}});
}

void wait_ended(const void* id, const char* what) { wait_event("e", id, what, {}); }

}  // namespace detail::trace

void trace_to(std::string path) {
  auto& r = detail::trace::rec();
  std::lock_guard lock(r.mutex);
  r.path = std::move(path);
  detail::trace::on.store(!r.path.empty(), std::memory_order_relaxed);
}

std::string trace_path() {
  auto& r = detail::trace::rec();
  std::lock_guard lock(r.mutex);
  return r.path;
}

}  // namespace asyncio
