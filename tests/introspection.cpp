#include <asyncio/introspection.hpp>

#include "test.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

BOOST_AUTO_TEST_SUITE(introspection)

CO_TEST_CASE(format_tasks_says_what_each_task_awaits) {
  auto sleeper = asyncio::create_task(test::value_after(1h, 0), "sleeper");
  auto waiter_fn = [](asyncio::task<int> t) -> asyncio::coroutine<int> { co_return co_await *t; };
  auto waiter = asyncio::create_task(waiter_fn(sleeper), "waiter");
  asyncio::future<int> f;
  auto on_future = asyncio::create_task(
      waiter_fn(asyncio::create_task(
          [](asyncio::future<int> f) -> asyncio::coroutine<int> { co_return co_await *f; }(f),
          "future-waiter")),
      "chain");
  co_await asyncio::sleep(0s);  // every task takes its first step, to its await
  auto report = asyncio::format_tasks(asyncio::get_running_loop());
  BOOST_TEST_MESSAGE(report);
  auto line_of = [&report](const std::string& name) {
    auto at = report.find(name + " ");
    return at == std::string::npos ? std::string() : report.substr(at, report.find('\n', at) - at);
  };
  BOOST_TEST(line_of("sleeper").find("awaiting sleep") != std::string::npos);
  BOOST_TEST(line_of("waiter").find("awaiting task 'sleeper'") != std::string::npos);
  BOOST_TEST(line_of("future-waiter").find("awaiting future") != std::string::npos);
  BOOST_TEST(line_of("chain").find("awaiting task 'future-waiter'") != std::string::npos);
  BOOST_TEST(line_of(asyncio::current_task().get_name()).find("running") != std::string::npos);
  f.set_result(1);
  sleeper.cancel();
  BOOST_CHECK_THROW(co_await *waiter, asyncio::cancelled_error);
  BOOST_TEST(co_await *on_future == 1);
}

namespace {

// What the real "asyncio" logger writes to standard error for one warning: stderr goes to a
// file meanwhile, so the line is the one a user would see, formatter, sink and all.
std::string formatted(const std::string& text) {
  char path[] = "/tmp/asyncio-log-XXXXXX";
  const int file = ::mkstemp(path);
  BOOST_REQUIRE(file >= 0);
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(file, STDERR_FILENO);
  asyncio::detail::log().warn("{}", text);
  asyncio::detail::log().flush();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(file);
  std::ifstream in(path);
  std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path);
  return line;
}

}  // namespace

CO_TEST_CASE(log_lines_name_the_task_they_come_from) {
  auto named = [](std::string* line) -> asyncio::coroutine<void> {
    *line = formatted("inside");
    co_return;
  };
  std::string line;
  co_await *asyncio::create_task(named(&line), "worker-7");
  BOOST_TEST(line.find("[task worker-7] inside") != std::string::npos, line);
  BOOST_TEST(formatted("x").find("[task ") != std::string::npos);  // the test's own task
}

BOOST_AUTO_TEST_CASE(log_lines_outside_any_task_name_none) {
  auto line = formatted("outside");
  BOOST_TEST(line.find("[task") == std::string::npos, line);
  BOOST_TEST(line.find("[warning] outside") != std::string::npos, line);
}

BOOST_AUTO_TEST_SUITE_END()
