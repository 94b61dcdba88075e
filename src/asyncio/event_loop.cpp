#include <asyncio/event_loop.hpp>

#include <asyncio/detail/log.hpp>
#include <asyncio/trace.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace asyncio {

namespace {

thread_local event_loop* running_loop = nullptr;

// Python logs a callback's exception and keeps the loop running; so do we.
void invoke_logged(std::function<void()>& fn) {
  try {
    fn();
  } catch (...) {
    detail::log().error("Exception in callback: {}", describe(std::current_exception()));
  }
}

}  // namespace

struct handle::state {
  std::function<void()> fn;
  std::optional<boost::asio::steady_timer> timer;
  bool cancelled = false;

  void run(event_loop& loop) {
    if (cancelled) return;
    auto f = std::move(fn);
    if (!loop.instrumented()) return invoke_logged(f);
    detail::run_instrumented_step(
        loop, nullptr, [](void* f) { invoke_logged(*static_cast<std::function<void()>*>(f)); }, &f);
  }
};

void handle::cancel() noexcept {
  if (!state_ || state_->cancelled) return;
  state_->cancelled = true;
  state_->fn = nullptr;  // drop what the callback holds now, as Python does
  if (state_->timer) state_->timer->cancel();
}

bool handle::cancelled() const noexcept { return state_ && state_->cancelled; }

event_loop::event_loop() {
  const char* env = std::getenv("ASYNCIO_DEBUG");
  debug_ = env && *env && std::string_view(env) != "0";
  if (detail::trace::enabled()) trace_id_ = detail::trace::loop_opened();
}

event_loop::~event_loop() {
  // Threads still running to_thread work post back into the io_context: let them finish first.
  if (pool_) pool_->join();
  // A closed loop has written its trace already, unless cancelling added to it.
  if (cancel_pending() || !closed_) {
    if (trace_id_) detail::trace::loop_closed();
  }
}

bool event_loop::cancel_pending() {
  if (pending_.empty() || running_loop) return false;
  // Tasks left pending: Python's GC would report and drop them. We report them too, then
  // cancel them and let them unwind, so no coroutine frame (or what it owns) outlives the loop.
  auto tasks = all_tasks();
  for (auto& t : tasks) {
    detail::log().error("Task was destroyed but it is pending!: {}", t.get_name());
    t.cancel();
  }
  tasks.clear();
  running_loop = this;
  context_.restart();
  while (!pending_.empty() && context_.poll() > 0) {
  }
  running_loop = nullptr;
  return true;
}

void event_loop::check_open() const {
  if (closed_) throw std::runtime_error("Event loop is closed");
}

void event_loop::check_not_running() const {
  if (is_running()) throw std::runtime_error("This event loop is already running");
  if (running_loop)
    throw std::runtime_error("Cannot run the event loop while another loop is running");
}

void event_loop::run_forever() {
  check_open();
  check_not_running();
  running_loop = this;
  running_ = true;
  struct leave {
    event_loop* loop;
    ~leave() {
      running_loop = nullptr;
      loop->running_ = false;
    }
  } on_exit{this};
  context_.restart();
  if (std::exchange(stopping_, false)) {  // stop() came first: run one round, as Python does
    context_.poll();
    return;
  }
  auto work = boost::asio::make_work_guard(context_);
  context_.run();
}

void event_loop::stop() {
  if (is_running())
    context_.stop();
  else
    stopping_ = true;
}

void event_loop::close() {
  check_not_running();
  if (closed_) return;
  closed_ = true;
  if (pool_) {
    pool_->join();
    pool_.reset();
  }
  if (trace_id_) detail::trace::loop_closed();
}

handle event_loop::call_soon(std::function<void()> fn) {
  check_open();
  auto s = std::make_shared<handle::state>();
  s->fn = std::move(fn);
  boost::asio::post(context_, [this, s] { s->run(*this); });
  return handle(std::move(s));
}

handle event_loop::call_later(clock::duration delay, std::function<void()> fn) {
  return call_at(time() + delay, std::move(fn));
}

handle event_loop::call_at(clock::time_point when, std::function<void()> fn) {
  check_open();
  auto s = std::make_shared<handle::state>();
  s->fn = std::move(fn);
  s->timer.emplace(context_, when);
  s->timer->async_wait([this, s](boost::system::error_code ec) {
    if (!ec) s->run(*this);
  });
  return handle(std::move(s));
}

void event_loop::call_soon_threadsafe(std::function<void()> fn) {
  boost::asio::post(context_, [fn = std::move(fn)]() mutable { invoke_logged(fn); });
}

boost::asio::thread_pool& event_loop::default_executor() {
  check_open();
  // Python's default: min(32, cpu_count + 4) threads.
  if (!pool_) pool_.emplace(std::min(32u, std::thread::hardware_concurrency() + 4));
  return *pool_;
}

std::vector<task<void>> event_loop::all_tasks() {
  std::vector<task<void>> tasks;
  for (auto& t : pending_) tasks.emplace_back(detail::ref<detail::task_state_base>(&t));
  return tasks;
}

event_loop* detail::running_loop() noexcept { return asyncio::running_loop; }

void detail::run_instrumented_step(event_loop& loop, const task_state_base* task,
                                   void (*step)(void*), void* arg) {
  auto start = event_loop::clock::now();
  step(arg);
  auto end = event_loop::clock::now();
  if (loop.trace_id())
    trace::step(loop.trace_id(), task ? task->id() : 0, task ? task->get_name() : "callbacks",
                start, end);
  auto took = end - start;
  if (loop.get_debug() && took > loop.slow_callback_duration())
    log().warn("Executing {} took {:.3f} seconds",
               task ? "task '" + task->get_name() + "'" : std::string("a callback"),
               std::chrono::duration<double>(took).count());
}

event_loop& get_running_loop() {
  if (!running_loop) throw std::runtime_error("no running event loop");
  return *running_loop;
}

}  // namespace asyncio
