#include <asyncio/trace.hpp>

#include "test.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

BOOST_AUTO_TEST_SUITE(trace)

namespace {

boost::json::array read_events(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).at("traceEvents").as_array();
}

asyncio::coroutine<int> napper(int ms) {
  co_await asyncio::sleep(std::chrono::milliseconds(ms));
  co_return ms;
}

asyncio::coroutine<void> traced_main() {
  auto a = asyncio::create_task(napper(2), "napper-a");
  auto b = asyncio::create_task(napper(1), "napper-b");
  co_await asyncio::gather(a, b);
}

/// Turns tracing on for a scope, to a fresh file; off again after.
struct traced_scope {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("asyncio-trace-" + std::to_string(::getpid()) + ".json"))
                         .string();
  traced_scope() { asyncio::trace_to(path); }
  ~traced_scope() {
    asyncio::trace_to("");
    std::remove(path.c_str());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_task_has_a_named_track_with_create_start_and_finish) {
  traced_scope scope;
  asyncio::run(traced_main());
  auto events = read_events(scope.path);

  std::map<std::int64_t, std::string> names;             // tid -> task name
  std::map<std::string, std::vector<std::string>> life;  // task name -> its events, in order
  for (const auto& v : events) {
    const auto& e = v.as_object();
    if (e.at("ph") == "M" && e.at("name") == "thread_name")
      names[e.at("tid").to_number<std::int64_t>()] = e.at("args").at("name").as_string().c_str();
  }
  for (const auto& v : events) {
    const auto& e = v.as_object();
    if (e.at("ph") == "M") continue;
    auto tid = e.at("tid").to_number<std::int64_t>();
    life[names[tid]].push_back(e.at("name").as_string().c_str());
  }
  for (const char* task : {"napper-a", "napper-b"}) {
    BOOST_TEST_CONTEXT(task) {
      const auto& l = life[task];
      BOOST_TEST_REQUIRE(l.size() >= 5u);
      BOOST_TEST(l.front() == "create");
      BOOST_TEST(l[1] == "start");
      BOOST_TEST((std::find(l.begin(), l.end(), "sleep") != l.end()));  // its timer wait
      BOOST_TEST((std::find(l.begin(), l.end(), "resume") != l.end()));
      BOOST_TEST(l.back() == "finish");
    }
  }
}

BOOST_AUTO_TEST_CASE(steps_of_one_loop_never_overlap) {
  traced_scope scope;
  asyncio::run(traced_main());
  std::vector<std::pair<double, double>> steps;
  for (const auto& v : read_events(scope.path)) {
    const auto& e = v.as_object();
    if (e.at("ph") == "X")
      steps.emplace_back(e.at("ts").to_number<double>(),
                         e.at("ts").to_number<double>() + e.at("dur").to_number<double>());
  }
  BOOST_TEST_REQUIRE(steps.size() >= 5u);
  std::sort(steps.begin(), steps.end());
  for (std::size_t i = 1; i < steps.size(); ++i) BOOST_TEST(steps[i].first >= steps[i - 1].second);
}

BOOST_AUTO_TEST_CASE(off_means_no_loop_is_traced) {
  BOOST_TEST(asyncio::trace_path().empty());
  asyncio::event_loop loop;
  BOOST_TEST(asyncio::detail::trace_id(loop) == 0u);
  BOOST_TEST(!asyncio::detail::instrumented(loop));
}

BOOST_AUTO_TEST_SUITE_END()
