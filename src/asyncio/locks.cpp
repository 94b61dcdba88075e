#include <asyncio/locks.hpp>

#include <stdexcept>

namespace asyncio {

// Each wait below has the shape of its Python original: wait in the queue (the node leaves it
// as the waiter resumes); a waiter that was woken but will not use the wake-up (it was
// cancelled meanwhile) hands it on, so nothing is lost.

bool lock::acquire_kind::after_wait(const detail::wait_node&, std::exception_ptr error,
                                    outcome<void>& result) {
  if (error) {
    if (!l->locked_) l->waiters_.wake_first();
  } else {
    l->locked_ = true;
  }
  result.error = std::move(error);
  return true;
}

void lock::release() {
  waiters_.check_thread();  // debug mode: before anything changes
  if (!locked_) throw std::runtime_error("Lock is not acquired.");
  locked_ = false;
  waiters_.wake_first();
}

coroutine<lock::guard> lock::scoped() {
  co_await acquire();
  co_return guard(*this);
}

void event::set() {
  waiters_.check_thread();
  if (set_) return;
  set_ = true;
  waiters_.wake_all();
}

coroutine<void> condition::wait() {
  if (!locked()) throw std::runtime_error("cannot wait on un-acquired lock");
  release();
  detail::wait_node w;
  auto error = co_await waiters_.wait(w);
  for (;;) {  // the lock is taken back even if cancelled meanwhile
    try {
      co_await lock_->acquire();
      break;
    } catch (const cancelled_error&) {
      error = std::current_exception();
    }
  }
  if (error) {
    // It may have come after a notify meant for this waiter, while waiting or while taking the
    // lock back: notify another (at worst a spurious wake-up, which conditions allow), as 3.13.
    waiters_.wake(1);
    std::rethrow_exception(error);
  }
}

coroutine<bool> condition::wait_for(std::function<bool()> predicate) {
  while (!predicate()) co_await wait();
  co_return true;
}

void condition::notify(std::size_t n) {
  if (!locked()) throw std::runtime_error("cannot notify on un-acquired lock");
  waiters_.wake(n);
}

bool semaphore::acquire_kind::after_wait(const detail::wait_node& w, std::exception_ptr error,
                                         outcome<void>& result) {
  if (error && w.woken()) ++s->value_;  // woken, but not taking the slot
  while (s->value_ > 0 && s->wake_next()) {
  }
  result.error = std::move(error);
  return true;
}

void semaphore::release() {
  waiters_.check_thread();
  if (bound_ && value_ >= *bound_)
    throw std::invalid_argument("BoundedSemaphore released too many times");
  ++value_;
  wake_next();
}

bool semaphore::wake_next() {
  if (waiters_.wake(1) == 0) return false;
  --value_;  // the slot is the woken waiter's from now on
  return true;
}

barrier::barrier(std::size_t parties) : parties_(parties) {
  if (parties == 0) throw std::invalid_argument("parties must be > 0");
}

coroutine<std::size_t> barrier::wait() {
  auto held = co_await cond_.scoped();
  std::function<bool()> open = [this] {  // not draining or resetting
    return state_ == state::filling || state_ == state::broken;
  };
  co_await cond_.wait_for(open);
  if (state_ == state::broken) throw broken_barrier_error("Barrier aborted");
  const std::size_t index = count_++;
  std::exception_ptr error;
  try {
    if (index + 1 == parties_) {  // the last one: release everybody
      state_ = state::draining;
      cond_.notify_all();
    } else {
      std::function<bool()> released = [this] { return state_ != state::filling; };
      co_await cond_.wait_for(released);
      if (state_ == state::broken || state_ == state::resetting)
        throw broken_barrier_error("Abort call");
    }
  } catch (...) {
    error = std::current_exception();
  }
  --count_;
  exit_wait();
  if (error) std::rethrow_exception(error);
  co_return index;
}

void barrier::exit_wait() {
  if (count_ != 0) return;
  if (state_ == state::resetting || state_ == state::draining) state_ = state::filling;
  cond_.notify_all();
}

coroutine<void> barrier::reset() {
  auto held = co_await cond_.scoped();
  if (count_ > 0)
    state_ = state::resetting;
  else
    state_ = state::filling;
  cond_.notify_all();
}

coroutine<void> barrier::abort() {
  auto held = co_await cond_.scoped();
  state_ = state::broken;
  cond_.notify_all();
}

}  // namespace asyncio
