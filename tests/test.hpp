#pragma once

// Helpers shared by the suites: coroutine test cases, a live-object counter, a log capture.

#include <asyncio.hpp>
#include <asyncio/detail/log.hpp>

#include <spdlog/sinks/base_sink.h>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;

/// A test case whose body is a coroutine run by asyncio::run on a fresh loop.
#define CO_TEST_CASE(name)                                    \
  asyncio::coroutine<void> name##_body();                     \
  BOOST_AUTO_TEST_CASE(name) { asyncio::run(name##_body()); } \
  asyncio::coroutine<void> name##_body()

namespace test {

/// Counts live instances: a leak shows up as a non-zero count after run() returns.
struct live {
  static inline int count = 0;
  live() { ++count; }
  live(const live&) { ++count; }
  ~live() { --count; }
};

/// Collects what the "asyncio" logger says while it is alive.
class log_capture {
public:
  log_capture();
  ~log_capture();
  /// True if some line contains `text`.
  bool contains(const std::string& text) const;
  const std::vector<std::string>& lines() const { return sink_->lines; }

private:
  struct sink : spdlog::sinks::base_sink<std::mutex> {
    std::vector<std::string> lines;
    void sink_it_(const spdlog::details::log_msg& msg) override {
      lines.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}
  };
  std::shared_ptr<sink> sink_ = std::make_shared<sink>();
};

inline log_capture::log_capture() { asyncio::detail::log().sinks().push_back(sink_); }

inline log_capture::~log_capture() {
  auto& sinks = asyncio::detail::log().sinks();
  std::erase(sinks, sink_);
}

inline bool log_capture::contains(const std::string& text) const {
  for (const auto& line : sink_->lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

/// Yields to the loop until `done()` holds: a barrier on a state, never on time. A state that
/// never comes fails the test after a million turns instead of hanging it.
template <class Pred>
asyncio::coroutine<void> until(Pred done) {
  for (int turns = 0; !done(); ++turns) {
    if (turns == 1'000'000) throw std::runtime_error("test::until: the state never came");
    co_await asyncio::sleep(std::chrono::seconds(0));
  }
}

/// v, after d.
inline asyncio::coroutine<int> value_after(std::chrono::milliseconds d, int v) {
  co_await asyncio::sleep(d);
  co_return v;
}

/// std::invalid_argument("failed"), after d.
inline asyncio::coroutine<int> fail_after(std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  throw std::invalid_argument("failed");
}

/// A coroutine that records its steps into a shared log.
inline asyncio::coroutine<void> record(std::vector<std::string>& log, std::string name, int steps) {
  for (int i = 0; i < steps; ++i) {
    log.push_back(name + std::to_string(i));
    co_await asyncio::sleep(0s);
  }
}

}  // namespace test
