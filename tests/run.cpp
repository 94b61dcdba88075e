#include <asyncio/run.hpp>

#include "child.hpp"
#include "test.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

BOOST_AUTO_TEST_SUITE(run)

BOOST_AUTO_TEST_CASE(run_gives_the_result_or_rethrows) {
  auto ok = []() -> asyncio::coroutine<std::string> { co_return "ok"; };
  auto bad = []() -> asyncio::coroutine<void> {
    co_await asyncio::sleep(0s);
    throw std::overflow_error("bad");
  };
  BOOST_TEST(asyncio::run(ok()) == "ok");
  BOOST_CHECK_THROW(asyncio::run(bad()), std::overflow_error);
}

BOOST_AUTO_TEST_CASE(leftover_tasks_are_cancelled_and_nothing_is_alive_after_run) {
  int cleaned = 0;
  auto amain = [](int& cleaned) -> asyncio::coroutine<int> {
    auto lingering = [](int& cleaned, test::live) -> asyncio::coroutine<void> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::cancelled_error&) {
        ++cleaned;
        throw;
      }
    };
    for (int i = 0; i < 10; ++i) asyncio::create_task(lingering(cleaned, {}));
    auto& loop = asyncio::get_running_loop();
    loop.call_later(1h, [keep = test::live()] {});  // a timer still pending
    asyncio::future<int> never(loop);
    co_await asyncio::sleep(0s);  // every task takes its first step
    BOOST_TEST(test::live::count == 11);
    co_return 5;
  };
  BOOST_TEST(asyncio::run(amain(cleaned)) == 5);
  BOOST_TEST(cleaned == 10);
  BOOST_TEST(test::live::count == 0);
}

BOOST_AUTO_TEST_CASE(run_inside_a_running_loop_is_refused) {
  auto inner = []() -> asyncio::coroutine<void> { co_return; };
  auto outer = [](auto inner) -> asyncio::coroutine<bool> {
    try {
      asyncio::run(inner());
    } catch (const std::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  BOOST_TEST(asyncio::run(outer(inner)));
}

// In a child process: run(main, options) where main sends itself `sig` while it waits. What
// main's cleanup wrote, and how the child ended.
test::ending send_while_main_waits(int sig, asyncio::run_options options) {
  return test::in_child(sig, [sig, options](int out) {
    auto amain = [](int out, int sig) -> asyncio::coroutine<void> {
      ::kill(::getpid(), sig);  // Ctrl-C, or a service manager's stop, while main waits
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::cancelled_error&) {
        (void)!::write(out, "cleanup", 7);
        throw;
      }
    };
    try {
      asyncio::run(amain(out, sig), options);
    } catch (...) {
    }  // the child exits 0 only if run() did not re-raise the signal
  });
}

BOOST_AUTO_TEST_CASE(ctrl_c_cancels_the_main_task_then_the_process_dies_of_sigint) {
  auto end = send_while_main_waits(SIGINT, {});
  BOOST_TEST(end.written == "cleanup");
  BOOST_TEST(WIFSIGNALED(end.status));
  BOOST_TEST(WTERMSIG(end.status) == SIGINT);  // the shell reports 130
}

BOOST_AUTO_TEST_CASE(with_cancel_on_sigterm_sigterm_cancels_the_main_task_as_ctrl_c_does) {
  auto end = send_while_main_waits(SIGTERM, {.cancel_on_sigterm = true});
  BOOST_TEST(end.written == "cleanup");
  BOOST_TEST(WIFSIGNALED(end.status));
  BOOST_TEST(WTERMSIG(end.status) == SIGTERM);
}

BOOST_AUTO_TEST_CASE(without_it_sigterm_ends_the_process_at_once) {
  auto end = send_while_main_waits(SIGTERM, {});
  BOOST_TEST(end.written == "");
  BOOST_TEST(WIFSIGNALED(end.status));
  BOOST_TEST(WTERMSIG(end.status) == SIGTERM);
}

BOOST_AUTO_TEST_SUITE_END()
