#include <asyncio/loop_group.hpp>

#include <asyncio/run.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace asyncio {

namespace {

// A main that threw instead of giving its coroutine: that loop's main fails with it.
coroutine<void> failed_main(std::exception_ptr error) {
  std::rethrow_exception(error);
  co_return;
}

// main(loop, i), whatever it does.
coroutine<void> main_of(const std::function<coroutine<void>(event_loop&, std::size_t)>& main,
                        event_loop& loop, std::size_t i) {
  try {
    return main(loop, i);
  } catch (...) {
    return failed_main(std::current_exception());
  }
}

}  // namespace

loop_group::loop_group(std::size_t n) {
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < n; ++i) loops_.push_back(std::make_unique<event_loop>());
}

loop_group::~loop_group() = default;

void loop_group::run(std::function<coroutine<void>(event_loop&, std::size_t)> main) {
  const std::size_t n = loops_.size();
  if (std::any_of(loops_.begin(), loops_.end(), [](const auto& l) { return l->is_closed(); }))
    throw std::runtime_error("loop_group::run(): the loops have run already");
  std::vector<std::optional<task<>>> mains(n);  // each touched on its own loop's thread only
  std::vector<std::exception_ptr> errors(n);

  // Every main but `spared` is cancelled, on its own loop (a main already done ignores it).
  auto cancel_mains = [&](std::size_t spared, const char* reason) {
    for (std::size_t j = 0; j < n; ++j)
      if (j != spared)
        loops_[j]->call_soon_threadsafe([&mains, j, reason] { mains[j]->cancel(reason); });
  };

  // The loops end together, in two steps: each runs until every main has ended, then until
  // every loop's leftover tasks have unwound. A loop whose own work is done still serves the
  // others meanwhile: a run_on() into it, a threadsafe_queue's wake-up, a cleanup's await.
  std::mutex m;
  std::size_t mains_left = n, cleanups_left = n;  // under m
  auto count_down = [&](std::size_t& left) {
    bool last;
    {
      std::lock_guard lock(m);
      last = --left == 0;
    }
    if (last)
      for (auto& loop : loops_) loop->call_soon_threadsafe([l = loop.get()] { l->stop(); });
  };
  auto run_until_none_left = [&](event_loop& loop, const std::size_t& left) {
    for (;;) {  // a stop() from the program itself does not end a step early
      loop.run_forever();
      std::lock_guard lock(m);
      if (left == 0) return;
    }
  };

  // Ctrl-C cancels every main, as asyncio::run's does its one. The calling thread waits for
  // it while the loops run, so that it is heard as long as any of them runs.
  boost::asio::io_context watcher;
  std::atomic<std::size_t> running = n;
  detail::interrupt_guard interrupt(
      watcher, false, [&](const char* reason) { cancel_mains(n, reason); },
      [](int) { return false; });

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      auto& loop = *loops_[i];
      mains[i] = loop.create_task(main_of(main, loop, i), "main " + std::to_string(i));
      mains[i]->add_done_callback([&, i](task<> t) {
        if (!t.cancelled() && t.exception()) cancel_mains(i, "");
        count_down(mains_left);
      });
      run_until_none_left(loop, mains_left);
      auto leftovers = detail::cancel_leftovers(loop);
      loop.create_task(detail::wait_for_all(leftovers)).add_done_callback([&](task<>) {
        count_down(cleanups_left);
      });
      run_until_none_left(loop, cleanups_left);
      detail::report_leftover_errors(loop, leftovers);
      loop.close();
      if (!mains[i]->cancelled()) errors[i] = mains[i]->exception();
      if (--running == 0) watcher.stop();
    });
  watcher.run();  // at once if SIGINT was not ours to handle
  for (auto& t : threads) t.join();
  interrupt.reraise_if_interrupted(
      std::any_of(mains.begin(), mains.end(), [](const auto& t) { return t->cancelled(); }));

  std::vector<std::exception_ptr> failed;
  for (auto& e : errors)
    if (e) failed.push_back(e);
  if (failed.size() == 1) std::rethrow_exception(failed[0]);
  if (failed.size() > 1) {
    // Counted first: the arguments below may be evaluated in either order.
    auto what = "loop_group: " + std::to_string(failed.size()) + " loops failed";
    throw exception_group(what, std::move(failed));
  }
}

}  // namespace asyncio
