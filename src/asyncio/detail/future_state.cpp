#include <asyncio/detail/future_state.hpp>

#include <asyncio/detail/asio_internals.hpp>  // inline_slot
#include <asyncio/detail/trace_hooks.hpp>
#include <asyncio/event_loop.hpp>

#include <atomic>

namespace asyncio::detail {

namespace {

std::atomic<std::uint64_t> next_task_id{1};

// Unique in the process, as Python's task names; each thread takes them in blocks, so that
// loops on several threads do not contend for one counter at every task.
std::uint64_t new_task_id() noexcept {
  constexpr std::uint64_t block = 1024;
  static constinit thread_local std::uint64_t next = 0, end = 0;
  if (next == end) {
    next = next_task_id.fetch_add(block, std::memory_order_relaxed);
    end = next + block;
  }
  return next++;
}

void schedule_callback(std::function<void(future_state_base&)> fn, future_state_base& f) {
  f.loop().call_soon([fn = std::move(fn), keep = ref<future_state_base>(&f)] { fn(*keep); });
}

struct callback_waiter final : waiter {
  std::function<void(future_state_base&)> fn;
  done_callback id;

  // Owned by the list: freed when it fires, or when the future dies unfinished.
  static void fire(waiter& self, future_state_base* done) {
    std::unique_ptr<callback_waiter> owned(static_cast<callback_waiter*>(&self));
    if (done) schedule_callback(std::move(owned->fn), *done);
  }
};

// Unique on the thread: callbacks are added and taken back on their loop's thread.
done_callback new_callback_id() noexcept {
  static constinit thread_local std::uint64_t last = 0;
  return done_callback{++last};
}

}  // namespace

future_state_base::~future_state_base() {
  while (!waiters_.empty()) {
    waiter& w = waiters_.front();
    waiters_.pop_front();
    w.on_done(w, nullptr);
  }
  if (unretrieved_error())
    report_error(loop(), {"Future exception was never retrieved", error_, {}});
}

bool future_state_base::cancel(std::string message) {
  if (done()) return false;
  finish(status::cancelled, std::make_exception_ptr(cancelled_error(std::move(message))));
  return true;
}

void future_state_base::set_exception(std::exception_ptr error) {
  check_pending();
  if (!error) throw std::invalid_argument("set_exception needs an exception");
  finish(status::finished, std::move(error));
}

std::exception_ptr future_state_base::exception() {
  if (status_ == status::pending) throw invalid_state_error("Exception is not set.");
  if (status_ == status::cancelled) std::rethrow_exception(error_);
  retrieved_ = true;
  return error_;
}

void future_state_base::rethrow_if_error() {
  if (status_ == status::pending) throw invalid_state_error("Result is not set.");
  retrieved_ = true;
  if (error_) std::rethrow_exception(error_);
}

void future_state_base::check_pending() const {
  if (done()) throw invalid_state_error("invalid state: already done");
}

void future_state_base::finish(status s, std::exception_ptr error, bool held) {
  status_ = s;
  error_ = std::move(error);
  ref<future_state_base> keep(held ? nullptr : this);  // a waiter may drop the last other one
  while (!waiters_.empty()) {
    waiter& w = waiters_.front();
    waiters_.pop_front();
    w.on_done(w, this);
  }
}

done_callback future_state_base::add_done_callback(std::function<void(future_state_base&)> fn) {
  auto id = new_callback_id();
  if (done()) {
    schedule_callback(std::move(fn), *this);
    return id;
  }
  auto* w = new callback_waiter;
  w->fn = std::move(fn);
  w->id = id;
  w->on_done = &callback_waiter::fire;
  add_waiter(*w);
  return id;
}

std::size_t future_state_base::remove_done_callback(done_callback cb) noexcept {
  for (auto& w : waiters_)
    if (w.on_done == &callback_waiter::fire && static_cast<callback_waiter&>(w).id == cb) {
      delete &static_cast<callback_waiter&>(w);  // its hook unlinks it
      return 1;
    }
  return 0;
}

task_state_base::task_state_base(event_loop& loop, std::string name)
    : future_state_base(loop), id_(new_task_id()) {
  if (!name.empty()) name_ = std::make_unique<std::string>(std::move(name));
  register_task(loop, *this);
  if (trace_id(loop)) trace::task_created(trace_id(loop), id_, get_name());
}

task_state_base::~task_state_base() {
  if (stack_signal_) stack_state_call_.load(std::memory_order_relaxed)(stack_state_, true);
  if (unretrieved_error()) {
    report_error(loop(), {"Task exception was never retrieved", error(), get_name()});
    mark_retrieved();
  }
}

std::string task_state_base::get_name() const {
  return name_ ? *name_ : "Task-" + std::to_string(id_);
}

void task_state_base::set_name(std::string name) {
  name_ = std::make_unique<std::string>(std::move(name));
}

bool task_state_base::cancel(std::string message) {
  if (done()) return false;
  ++cancel_requests_;
  if (awaiting_on_ && !shielded_ && awaiting_on_->cancel(message)) return true;
  // As Python's _must_cancel. If it reached an awaited future first, that future's message
  // comes back with it, so the first request's message wins.
  if (!cancel_request_)
    cancel_request_ = std::make_exception_ptr(cancelled_error(std::move(message)));
  // Wakes the operation the coroutine is suspended in, if any; ours deliver the request.
  emit_cancel();
  return true;
}

/// A parent slot that builds the child state in the task: what cancellation_state's
/// constructor asks of a slot.
struct task_state_base::inline_slot {
  task_state_base* task;
  bool is_connected() const noexcept { return true; }
  template <class State>
  State& emplace() {
    static_assert(sizeof(State) <= sizeof(task->stack_state_) && alignof(State) <= alignof(void*));
    auto* state = ::new (static_cast<void*>(task->stack_state_)) State();
    task->stack_signal_ = &state->signal_;
    // Every task has the same State, so the first one stores its function and the others
    // only read it: a store at every task would bounce the line between the threads of a
    // loop_group. Relaxed is enough for a value that never changes.
    if (!stack_state_call_.load(std::memory_order_relaxed))
      stack_state_call_.store(
          [](void* p, bool destroy) {
            auto* s = static_cast<State*>(p);
            if (destroy)
              s->~State();
            else
              (*s)(boost::asio::cancellation_type::terminal);
          },
          std::memory_order_relaxed);
    return *state;
  }
};

boost::asio::cancellation_state task_state_base::coroutine_cancellation_state() noexcept {
  return boost::asio::cancellation_state(inline_slot{this});
}

std::string task_state_base::cancel_message() const {
  if (!cancel_request_) return {};
  try {
    std::rethrow_exception(cancel_request_);
  } catch (const cancelled_error& e) {
    return e.what();
  } catch (...) {
    return {};
  }
}

void task_state_base::finish_run(std::exception_ptr error) {
  pending_hook.unlink();
  if (is_cancellation(error) || (!error && cancel_request_)) {
    // A raw Asio operation_aborted becomes cancelled_error, carrying cancel()'s message.
    auto request = take_cancel_request();
    if (!request) {
      try {
        std::rethrow_exception(error);
      } catch (const cancelled_error&) {
        request = error;
      } catch (...) {
        request = std::make_exception_ptr(cancelled_error());
      }
    }
    finish(status::cancelled, std::move(request), true);
  } else {
    finish(status::finished, std::move(error), true);
  }
  if (trace_id(loop()))
    trace::task_finished(trace_id(loop()), id_,
                         cancelled() ? "cancelled"
                         : failed()  ? "failed"
                                     : "finished");
}

std::atomic<void (*)(void*, bool)> task_state_base::stack_state_call_{nullptr};

}  // namespace asyncio::detail
