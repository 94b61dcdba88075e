#include <asyncio/run.hpp>

#include "child.hpp"
#include "test.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

BOOST_AUTO_TEST_SUITE(run)

// A task that waits for ever and, cancelled, counts it.
asyncio::coroutine<void> lingering(int& cleaned, test::live) {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::cancelled_error&) {
    ++cleaned;
    throw;
  }
}

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

BOOST_AUTO_TEST_CASE(a_runner_keeps_its_loop_and_the_tasks_left_between_runs) {
  asyncio::runner runner;
  auto& loop = runner.get_loop();
  asyncio::future<int> handed(loop);
  auto background = [](asyncio::future<int> handed) -> asyncio::coroutine<void> {
    co_await asyncio::sleep(0s);
    co_await asyncio::sleep(0s);
    handed.set_result(7);
  };
  auto first = [](auto background,
                  asyncio::future<int> handed) -> asyncio::coroutine<asyncio::event_loop*> {
    asyncio::create_task(background(handed));  // left behind, unfinished
    co_return &asyncio::get_running_loop();
  };
  auto second = [](asyncio::future<int> handed) -> asyncio::coroutine<int> {
    co_return co_await *handed;
  };
  BOOST_TEST(runner.run(first(background, handed)) == &loop);
  BOOST_TEST(!handed.done());
  BOOST_TEST(runner.run(second(handed)) == 7);  // the task left behind went on, on that loop
  BOOST_TEST(&runner.get_loop() == &loop);
}

BOOST_AUTO_TEST_CASE(closing_a_runner_cancels_what_is_left_and_nothing_is_alive_after) {
  auto start = [](int& cleaned) -> asyncio::coroutine<void> {
    asyncio::create_task(lingering(cleaned, {}));
    co_await asyncio::sleep(0s);
  };
  int cleaned = 0;
  {
    asyncio::runner runner;
    runner.run(start(cleaned));
    BOOST_TEST(test::live::count == 1);
    runner.close();
    BOOST_TEST(cleaned == 1);
    BOOST_TEST(test::live::count == 0);
    runner.close();  // again: nothing
    BOOST_CHECK_THROW(runner.run(start(cleaned)), std::runtime_error);
    BOOST_CHECK_THROW(runner.get_loop(), std::runtime_error);
  }
  {
    asyncio::runner runner;
    runner.run(start(cleaned));
  }  // as Python's `with` block ends
  BOOST_TEST(cleaned == 2);
  BOOST_TEST(test::live::count == 0);
}

BOOST_AUTO_TEST_CASE(an_error_in_main_reaches_the_caller_and_the_runner_runs_on) {
  auto bad = []() -> asyncio::coroutine<void> {
    co_await asyncio::sleep(0s);
    throw std::overflow_error("bad");
  };
  auto ok = []() -> asyncio::coroutine<int> { co_return 1; };
  asyncio::runner runner;
  BOOST_CHECK_THROW(runner.run(bad()), std::overflow_error);
  BOOST_TEST(runner.run(ok()) == 1);
}

BOOST_AUTO_TEST_CASE(a_runner_cannot_run_or_close_from_inside_its_loop) {
  auto inner = []() -> asyncio::coroutine<int> { co_return 1; };
  auto outer = [](asyncio::runner& runner, auto inner) -> asyncio::coroutine<int> {
    int refused = 0;
    try {
      runner.run(inner());
    } catch (const std::runtime_error&) {
      ++refused;
    }
    try {
      runner.close();
    } catch (const std::runtime_error&) {
      ++refused;
    }
    co_return refused;
  };
  asyncio::runner runner;
  BOOST_TEST(runner.run(outer(runner, inner)) == 2);
  BOOST_TEST(runner.run(inner()) == 1);  // neither closed nor broke it
}

// In a child process: run(main, options) where main leaves a task behind and sends itself
// `sig` while it waits. What main's cleanup and then the task's wrote, and how the child ended.
test::ending send_while_main_waits(int sig, asyncio::run_options options) {
  return test::in_child(sig, [sig, options](int out) {
    auto amain = [](int out, int sig) -> asyncio::coroutine<void> {
      auto left = [](int out) -> asyncio::coroutine<void> {
        try {
          co_await asyncio::sleep(10s);
        } catch (const asyncio::cancelled_error&) {
          (void)!::write(out, ", left", 6);
          throw;
        }
      };
      asyncio::create_task(left(out));
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
  BOOST_TEST(end.written == "cleanup, left");  // main's cleanup, then the task's, then death
  BOOST_TEST(WIFSIGNALED(end.status));
  BOOST_TEST(WTERMSIG(end.status) == SIGINT);  // the shell reports 130
}

BOOST_AUTO_TEST_CASE(with_cancel_on_sigterm_sigterm_cancels_the_main_task_as_ctrl_c_does) {
  auto end = send_while_main_waits(SIGTERM, {.cancel_on_sigterm = true});
  BOOST_TEST(end.written == "cleanup, left");
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
