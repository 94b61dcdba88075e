#include <asyncio/event_loop.hpp>

#include <asyncio/detail/log.hpp>
#include <asyncio/detail/trace_hooks.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

namespace asyncio {

namespace {

thread_local event_loop* running_loop = nullptr;

// As Python's Handle._run: a callback's exception goes to the exception handler, and the loop
// runs on.
void invoke_reported(event_loop& loop, std::function<void()>& fn) {
  try {
    fn();
  } catch (...) {
    loop.call_exception_handler({"Exception in callback", std::current_exception(), {}});
  }
}

}  // namespace

// In the ready queue (call_soon), or first in the timer heap (call_at).
struct handle::state : detail::ready_node, detail::timer_entry {
  event_loop* loop = nullptr;
  std::function<void()> fn;
  std::shared_ptr<state> queued;  // the loop's reference, while the entry waits there
  bool cancelled = false;

  static std::shared_ptr<state> make(event_loop* loop, std::function<void()> fn) {
    auto s = std::make_shared<state>();
    s->loop = loop;
    s->fn = std::move(fn);
    s->fire = [](detail::ready_node& n, bool run) {
      auto& self = static_cast<state&>(n);
      auto keep = std::move(self.queued);
      if (run) self.run();
    };
    s->queued = s;
    return s;
  }

  void run() {
    if (cancelled) return;
    auto f = std::move(fn);
    if (!detail::instrumented(*loop)) return invoke_reported(*loop, f);
    std::pair<event_loop*, std::function<void()>*> call{loop, &f};
    detail::run_instrumented_step(
        *loop, nullptr,
        [](void* p) {
          auto* c = static_cast<decltype(call)*>(p);
          invoke_reported(*c->first, *c->second);
        },
        &call);
  }
};

void handle::cancel() noexcept {
  if (!state_ || state_->cancelled) return;
  state_->cancelled = true;
  state_->fn = nullptr;  // drop what the callback holds now, as Python does
  if (state_->index != detail::timer_entry::not_queued) {
    detail::cancel_timer(*state_->loop, *state_);
    state_->queued.reset();
  }
}

bool handle::cancelled() const noexcept { return state_ && state_->cancelled; }

event_loop::event_loop() {
  const char* env = std::getenv("ASYNCIO_DEBUG");
  debug_ = env && *env && std::string_view(env) != "0";
  if (detail::trace::enabled()) trace_id_ = detail::trace::loop_opened();
}

event_loop::~event_loop() {
  // A thread between schedule_threadsafe_later() and its post_inbox() is about to post here.
  while (inbox_posts_owed_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  // Threads still running to_thread work post back into the io_context: let them finish first.
  if (pool_) pool_->join();
  bool cancelled = cancel_pending();
  // Entries never run are destroyed while the io_context, which what they own may use, lives;
  // what destroying them schedules goes to the io_context, which destroys it in turn.
  disposing_ = true;
  while (!timers_.empty()) {
    auto& e = timers_.pop();
    e.expire(e, false);
  }
  ready_.clear();
  // A closed loop has written its trace already, unless cancelling added to it.
  if (cancelled || !closed_) {
    if (trace_id_) detail::trace::loop_closed();
  }
}

bool event_loop::cancel_pending() {
  if (pending_.empty() || running_loop) return false;
  // Tasks left pending: Python's GC would report and drop them. We report them too, then
  // cancel them and let them unwind, so no coroutine frame (or what it owns) outlives the loop.
  auto tasks = all_tasks();
  for (auto& t : tasks) {
    call_exception_handler({"Task was destroyed but it is pending!", nullptr, t.get_name()});
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

void event_loop::call_exception_handler(const exception_context& context) noexcept {
  if (!exception_handler_) return default_exception_handler(context);
  try {
    auto handler = exception_handler_;  // it may replace itself while it runs
    handler(*this, context);
  } catch (...) {
    // As Python's: the default handler says so, with the context the handler was given.
    default_exception_handler(
        {"Unhandled error in exception handler (context: " + context.message + ")",
         std::current_exception(), context.task});
  }
}

void event_loop::default_exception_handler(const exception_context& context) noexcept {
  std::string text = context.message;
  if (!context.task.empty()) text += ": " + context.task;
  if (context.exception) text += ": " + describe(context.exception);
  detail::log().error("{}", text);
}

void detail::report_error(event_loop& loop, const exception_context& context) noexcept {
  if (running_loop() == &loop)
    loop.call_exception_handler(context);
  else
    event_loop::default_exception_handler(context);
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
      loop->stop_requested_ = false;
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
  if (is_running()) {
    stop_requested_ = true;
    context_.stop();
  } else {
    stopping_ = true;
  }
}

namespace {

// The loop's budget per turn of the ready queue: enough that a chain of handoffs between
// tasks rarely pays for a pass through the reactor, small enough that I/O waits little.
constexpr int ready_budget = 128;

// A ready entry handed to the io_context instead (while the loop is destroyed): run or
// disposed of exactly once.
class posted_entry {
public:
  explicit posted_entry(detail::ready_node& n) noexcept : n_(&n) {}
  posted_entry(posted_entry&& other) noexcept : n_(std::exchange(other.n_, nullptr)) {}
  posted_entry& operator=(posted_entry&&) = delete;
  ~posted_entry() {
    if (n_) n_->fire(*n_, false);
  }
  void operator()() {
    auto* n = std::exchange(n_, nullptr);
    n->fire(*n, true);
  }

private:
  detail::ready_node* n_;
};

}  // namespace

void event_loop::schedule(detail::ready_node& n) {
  if (disposing_) return boost::asio::post(context_, posted_entry(n));
  ready_.push(n);
  if (!run_ready_posted_) post_run_ready();
}

void event_loop::add_timer(detail::timer_entry& e) {
  timers_.push(e);
  if (&timers_.top() == &e && (!alarm_at_ || e.when < *alarm_at_)) arm_alarm(e.when);
}

void event_loop::arm_alarm(clock::time_point when) {
  alarm_at_ = when;
  alarm_.expires_at(when);  // a wait already set ends with operation_aborted, ignored
  alarm_.async_wait([this](boost::system::error_code ec) {
    if (!ec) on_alarm();
  });
}

void event_loop::on_alarm() {
  alarm_at_.reset();
  expire_due_timers();
  if (!timers_.empty()) arm_alarm(timers_.top().when);
}

void event_loop::expire_due_timers() {
  if (timers_.empty()) return;
  const auto now = clock::now();
  while (!timers_.empty() && timers_.top().when <= now) {
    auto& e = timers_.pop();
    e.expire(e, true);
  }
}

void event_loop::post_run_ready() {
  boost::asio::post(context_, [this] { run_ready(); });
  run_ready_posted_ = true;
}

void event_loop::run_ready() {
  // As node's microtask queue, entries queued meanwhile run in the same turn: a handoff
  // between tasks then costs no pass through the reactor (an epoll_wait each, once any I/O
  // object exists). The budget and stop() end the turn early.
  struct end_of_turn {
    event_loop& loop;
    ~end_of_turn() noexcept(false) {
      loop.run_ready_posted_ = false;
      if (!loop.ready_.empty()) loop.post_run_ready();
    }
  } end{*this};
  // In generations, as CPython's _run_once: what one generation schedules runs in the next,
  // and timers due by then join the queue before it.
  detail::ready_node* end_of_generation = ready_.back();
  for (int budget = ready_budget; budget > 0 && !stop_requested_; --budget) {
    detail::ready_node* n = ready_.pop();
    if (!n) break;
    const bool last = n == end_of_generation;
    n->fire(*n, true);
    if (last) {
      expire_due_timers();
      end_of_generation = ready_.back();
    }
  }
}

void event_loop::close() {
  check_not_running();
  if (closed_) return;
  closed_ = true;
  signal_handlers_.clear();
  if (pool_) {
    pool_->join();
    pool_.reset();
  }
  if (trace_id_) detail::trace::loop_closed();
}

// One caught signal: Asio's signal_set counts deliveries, so none is lost between two waits.
struct event_loop::signal_entry {
  explicit signal_entry(boost::asio::io_context& context) : signals(context) {}
  boost::asio::signal_set signals;
  std::function<void()> fn;
};

namespace {

void check_signal(int sig) {
  if (sig < 1 || sig >= NSIG)
    throw std::invalid_argument(fmt::format("sig {} out of range(1, {})", sig, NSIG));
}

}  // namespace

void event_loop::add_signal_handler(int sig, std::function<void()> fn) {
  check_signal(sig);
  check_open();
  if (auto known = signal_handlers_.find(sig); known != signal_handlers_.end()) {
    known->second->fn = std::move(fn);
    return;
  }
  auto entry = std::make_unique<signal_entry>(context_);
  boost::system::error_code error;
  entry->signals.add(sig, error);
  if (error) throw std::runtime_error(fmt::format("sig {} cannot be caught", sig));
  entry->fn = std::move(fn);
  wait_for_signal(*entry);
  signal_handlers_.emplace(sig, std::move(entry));
}

void event_loop::wait_for_signal(signal_entry& e) {
  e.signals.async_wait([this, &e](boost::system::error_code error, int) {
    if (error) return;  // removed, or the loop closed: e is gone
    call_soon(e.fn);
    wait_for_signal(e);
  });
}

bool event_loop::remove_signal_handler(int sig) {
  check_signal(sig);
  return signal_handlers_.erase(sig) > 0;  // the last registration restores SIG_DFL
}

bool detail::has_signal_handler(const event_loop& loop, int sig) noexcept {
  return loop.signal_handlers_.count(sig) > 0;
}

handle event_loop::call_soon(std::function<void()> fn) {
  check_open();
  auto s = handle::state::make(this, std::move(fn));
  schedule(*s);
  return handle(std::move(s));
}

handle event_loop::call_later(clock::duration delay, std::function<void()> fn) {
  return call_at(time() + delay, std::move(fn));
}

handle event_loop::call_at(clock::time_point when, std::function<void()> fn) {
  check_open();
  auto s = handle::state::make(this, std::move(fn));
  s->when = when;
  // Due, it joins the ready queue, as CPython moves a due TimerHandle to loop._ready.
  s->expire = [](detail::timer_entry& e, bool run) {
    auto& self = static_cast<handle::state&>(e);
    if (run)
      self.loop->schedule(self);
    else
      self.fire(self, false);
  };
  add_timer(*s);
  return handle(std::move(s));
}

void event_loop::call_soon_threadsafe(std::function<void()> fn) {
  detail::post_threadsafe(*this,
                          [this, fn = std::move(fn)]() mutable { invoke_reported(*this, fn); });
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

std::thread::id detail::debug_owner() noexcept {
  auto* loop = asyncio::running_loop;
  return loop && loop->get_debug() ? std::this_thread::get_id() : std::thread::id{};
}

void detail::throw_wrong_thread(const char* what) {
  throw std::runtime_error(std::string("asyncio debug mode: ") + what +
                           " used from a thread other than its loop's; a loop's primitives are "
                           "for its own tasks (from other threads: call_soon_threadsafe, or a "
                           "threadsafe_queue between loops)");
}

void detail::schedule(event_loop& loop, ready_node& n) { loop.schedule(n); }

void detail::schedule_threadsafe(event_loop& loop, ready_node& n) {
  if (schedule_threadsafe_later(loop, n)) post_inbox(loop);
}

bool detail::schedule_threadsafe_later(event_loop& loop, ready_node& n) {
  // The push that finds the inbox empty posts; the post on its way takes later pushes too.
  if (!loop.inbox_.push(n)) return false;
  loop.inbox_posts_owed_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void detail::post_inbox(event_loop& loop) {
  struct paid {
    event_loop& loop;
    ~paid() { loop.inbox_posts_owed_.fetch_sub(1, std::memory_order_release); }
  } owed{loop};
  boost::asio::post(loop.context_, [&loop] { loop.run_inbox(); });
}

bool detail::unschedule_threadsafe(event_loop& loop, ready_node& n) noexcept {
  return loop.inbox_.remove(n);
}

void event_loop::run_inbox() {
  detail::ready_queue batch;
  inbox_.take(batch);
  // No task runs until every entry of the batch has fired (each only wakes something), so
  // none can be taken back meanwhile from `batch`, where unschedule_threadsafe cannot see it.
  detail::run_then_ready(
      *this,
      [](void* b) {
        auto& entries = *static_cast<detail::ready_queue*>(b);
        while (auto* n = entries.pop()) n->fire(*n, true);
      },
      &batch);
}

void detail::run_then_ready(event_loop& loop, void (*fn)(void*), void* arg) {
  if (loop.run_ready_posted_) return fn(arg);  // a turn is on its way: it runs what fn wakes
  loop.run_ready_posted_ = true;               // so that fn's wake-ups post no turn of their own
  try {
    fn(arg);
  } catch (...) {
    loop.run_ready_posted_ = false;
    if (!loop.ready_.empty()) loop.post_run_ready();
    throw;
  }
  loop.run_ready();
}

void detail::add_timer(event_loop& loop, timer_entry& e) { loop.add_timer(e); }

void detail::cancel_timer(event_loop& loop, timer_entry& e) noexcept { loop.timers_.remove(e); }

void detail::register_task(event_loop& loop, task_state_base& t) noexcept {
  loop.pending_.push_back(t);
}

std::uint32_t detail::trace_id(const event_loop& loop) noexcept { return loop.trace_id_; }

bool detail::instrumented(const event_loop& loop) noexcept { return loop.instrumented(); }

void detail::run_instrumented_step(event_loop& loop, const task_state_base* task,
                                   void (*step)(void*), void* arg) {
  auto start = event_loop::clock::now();
  step(arg);
  auto end = event_loop::clock::now();
  if (trace_id(loop))
    trace::step(trace_id(loop), task ? task->id() : 0, task ? task->get_name() : "callbacks", start,
                end);
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
