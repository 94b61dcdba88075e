#pragma once

// asyncio's synchronisation primitives: lock, event, condition, semaphore, bounded_semaphore,
// barrier. As in asyncio they belong to one loop and need no OS locks: only the loop's thread
// uses them. FIFO fair, and cancellation-safe: a waiter cancelled while queued neither keeps
// a slot nor swallows a wake-up meant for the next one. Uncontended, acquire and release
// neither allocate nor go through the loop; a handoff to a waiter is one post.

#include <asyncio/coroutine.hpp>
#include <asyncio/detail/waiter_queue.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace asyncio {

/// asyncio.Lock. `co_await l.acquire()` ... `l.release()`, or the scoped form:
/// @code
/// {
///   auto held = co_await l.scoped();   // async with lock:
///   ...                                //     ...
/// }                                    // released here, also on an exception or cancellation
/// @endcode
class lock {
public:
  /// The scoped form's guard: releases the lock when it goes out of scope.
  class guard {
  public:
    explicit guard(lock& l) noexcept : lock_(&l) {}
    guard(guard&& other) noexcept : lock_(std::exchange(other.lock_, nullptr)) {}
    guard& operator=(guard&&) = delete;
    ~guard() {
      if (lock_) lock_->release();
    }

  private:
    lock* lock_;
  };

private:
  struct acquire_kind {
    using value_type = void;
    lock* l;
    detail::waiter_queue& waiters() const noexcept { return l->waiters_; }
    // FIFO: no barging past a queued waiter, even one woken that has not run yet.
    bool ready() const noexcept { return !l->locked_ && !l->waiters_.any_waiting(); }
    void take() noexcept { l->locked_ = true; }
    bool after_wait(const detail::wait_node&, std::exception_ptr error, outcome<void>& result);
  };

public:
  [[nodiscard]] detail::primitive_wait<acquire_kind> acquire() {
    return detail::primitive_wait<acquire_kind>(acquire_kind{this});
  }
  /// Lock.release(): std::runtime_error if not locked.
  void release();
  bool locked() const noexcept { return locked_; }
  /// acquire(), then a guard that releases.
  [[nodiscard]] coroutine<guard> scoped();

private:
  detail::waiter_queue waiters_{"lock"};
  bool locked_ = false;
};

/// asyncio.Event: wait() until set(); set() wakes every waiter.
class event {
public:
private:
  struct wait_kind {
    using value_type = void;
    event* e;
    detail::waiter_queue& waiters() const noexcept { return e->waiters_; }
    bool ready() const noexcept { return e->set_; }
    void take() noexcept {}
    bool after_wait(const detail::wait_node&, std::exception_ptr error, outcome<void>& result) {
      result.error = std::move(error);
      return true;
    }
  };

public:
  [[nodiscard]] detail::primitive_wait<wait_kind> wait() {
    return detail::primitive_wait<wait_kind>(wait_kind{this});
  }
  void set();
  void clear() noexcept { set_ = false; }
  bool is_set() const noexcept { return set_; }

private:
  detail::waiter_queue waiters_{"event"};
  bool set_ = false;
};

/// asyncio.Condition, over its own lock or a given one. wait() and notify() need the lock held.
class condition {
public:
  condition() : lock_(&own_lock_) {}
  explicit condition(asyncio::lock& l) : lock_(&l) {}
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;

  [[nodiscard]] auto acquire() { return lock_->acquire(); }
  void release() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }
  [[nodiscard]] coroutine<lock::guard> scoped() { return lock_->scoped(); }

  /// Condition.wait(): releases the lock, waits for a notify, takes the lock back (always,
  /// even when cancelled, as Python does).
  [[nodiscard]] coroutine<void> wait();
  /// Condition.wait_for(predicate): waits until predicate() holds; returns it.
  [[nodiscard]] coroutine<bool> wait_for(std::function<bool()> predicate);
  /// Condition.notify(n): wakes up to n waiters; std::runtime_error without the lock.
  void notify(std::size_t n = 1);
  void notify_all() { notify(static_cast<std::size_t>(-1)); }

private:
  asyncio::lock own_lock_;
  asyncio::lock* lock_;
  detail::waiter_queue waiters_{"condition"};
};

/// asyncio.Semaphore: acquire() takes one of `value` slots, waiting (FIFO) when none is free.
class semaphore {
public:
  explicit semaphore(std::size_t value = 1) : value_(value) {}

private:
  struct acquire_kind {
    using value_type = void;
    semaphore* s;
    detail::waiter_queue& waiters() const noexcept { return s->waiters_; }
    bool ready() const noexcept { return !s->locked(); }
    void take() noexcept { --s->value_; }
    bool after_wait(const detail::wait_node& w, std::exception_ptr error, outcome<void>& result);
  };

public:
  [[nodiscard]] detail::primitive_wait<acquire_kind> acquire() {
    return detail::primitive_wait<acquire_kind>(acquire_kind{this});
  }
  /// Semaphore.release(); for a bounded_semaphore, std::invalid_argument (Python's ValueError) past
  /// the initial value.
  void release();
  /// True if acquire() would wait.
  bool locked() const { return value_ == 0 || waiters_.any_waiting(); }

protected:
  semaphore(std::size_t value, std::size_t bound) : value_(value), bound_(bound) {}

private:
  bool wake_next();

  std::size_t value_;
  std::optional<std::size_t> bound_;
  detail::waiter_queue waiters_{"semaphore"};
};

/// asyncio.BoundedSemaphore: releasing past the initial value is an error (std::invalid_argument,
/// as ValueError).
class bounded_semaphore : public semaphore {
public:
  explicit bounded_semaphore(std::size_t value = 1) : semaphore(value, value) {}
};

/// asyncio.Barrier (3.11): `parties` tasks meet; wait() gives each its arrival index.
class barrier {
public:
  explicit barrier(std::size_t parties);
  /// Waits until `parties` tasks wait; broken_barrier_error if aborted or reset meanwhile.
  [[nodiscard]] coroutine<std::size_t> wait();
  /// Barrier.reset(): back to empty; tasks waiting get broken_barrier_error.
  [[nodiscard]] coroutine<void> reset();
  /// Barrier.abort(): broken; waiting and later wait() calls get broken_barrier_error.
  [[nodiscard]] coroutine<void> abort();
  std::size_t parties() const noexcept { return parties_; }
  std::size_t n_waiting() const noexcept { return state_ == state::filling ? count_ : 0; }
  bool broken() const noexcept { return state_ == state::broken; }

private:
  enum class state { filling, draining, resetting, broken };
  void exit_wait();

  condition cond_;
  std::size_t parties_;
  std::size_t count_ = 0;
  state state_ = state::filling;
};

}  // namespace asyncio
