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
  std::mutex m;
  std::vector<bool> ended(n, false);  // under m: a loop whose main has ended takes no posts

  // Every main still running but `spared` is cancelled, on its own loop.
  auto cancel_others = [&](std::size_t spared, const char* reason) {
    std::lock_guard lock(m);
    for (std::size_t j = 0; j < n; ++j)
      if (j != spared && !ended[j])
        loops_[j]->call_soon_threadsafe([&mains, j, reason] { mains[j]->cancel(reason); });
  };

  // Ctrl-C cancels every main, as asyncio::run's does its one. The calling thread waits for
  // it while the loops run, so that it is heard as long as any of them runs.
  boost::asio::io_context watcher;
  std::atomic<std::size_t> running = n;
  detail::interrupt_guard interrupt(
      watcher, false, [&](const char* reason) { cancel_others(n, reason); },
      [](int) { return false; });

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      auto& loop = *loops_[i];
      mains[i] = loop.create_task(main(loop, i), "main " + std::to_string(i));
      mains[i]->add_done_callback([&, i](task<> t) {
        {
          std::lock_guard lock(m);
          ended[i] = true;
        }
        if (!t.cancelled() && t.exception()) cancel_others(i, "");
      });
      try {
        detail::run_to_end(loop, *mains[i]);
        if (!mains[i]->cancelled()) errors[i] = mains[i]->exception();
      } catch (...) {  // the loop was stopped under its main: that loop's failure
        errors[i] = std::current_exception();
      }
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
  if (failed.size() > 1)
    throw exception_group("loop_group: " + std::to_string(failed.size()) + " loops failed",
                          std::move(failed));
}

}  // namespace asyncio
