#pragma once

// A queue between loops (Python's janus, for asyncio loops on several threads): tasks on any
// loop of a loop_group put and get, waiting as asyncio.Queue's do. One mutex guards the items
// and the waiters; a waiter is a node in its own coroutine frame, woken on its own loop: by
// its loop's inbox (schedule_threadsafe: no allocation, one post to the io_context for all the
// wake-ups queued meanwhile) when the waker runs on another thread, and by nothing but the
// waiter's event when on the same one.

#include <asyncio/coroutine.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/event_loop.hpp>
#include <asyncio/locks.hpp>
#include <asyncio/queue.hpp>

#include <boost/intrusive/list.hpp>

#include <cstddef>
#include <exception>
#include <mutex>

namespace asyncio {

/// threadsafe_queue<T>: asyncio.Queue (FIFO) whose put/get may be awaited from tasks of any
/// loop, and whose *_nowait calls may come from any thread. Cancellation-safe as queue<T>: a
/// cancelled get() loses no item, a cancelled put() keeps no slot, and a waiter woken and then
/// cancelled hands its wake-up to the next one. No task_done()/join(): count across loops
/// yourself. The queue must outlive every task and thread that uses it.
/// @code
/// asyncio::threadsafe_queue<int> q(100);  // shared by the loops of a loop_group
/// co_await q.put(1);                      // on one loop
/// int x = co_await q.get();               // on another
/// @endcode
template <class T>
class threadsafe_queue {
public:
  /// maxsize 0: unbounded.
  explicit threadsafe_queue(std::size_t maxsize = 0) : maxsize_(maxsize) {}
  threadsafe_queue(const threadsafe_queue&) = delete;
  threadsafe_queue& operator=(const threadsafe_queue&) = delete;

  std::size_t maxsize() const noexcept { return maxsize_; }
  /// A snapshot: other threads may change it at once.
  std::size_t qsize() const {
    std::lock_guard lock(m_);
    return items_.size();
  }
  bool empty() const { return qsize() == 0; }
  bool full() const {
    std::lock_guard lock(m_);
    return is_full();
  }

  /// Queue.put(item): waits while full; queue_shut_down after shutdown().
  [[nodiscard]] coroutine<void> put(T item) {
    for (;;) {
      waiter w;
      {
        wake_after_unlock wake;
        std::lock_guard lock(m_);
        if (shut_down_) throw queue_shut_down();
        if (!is_full()) {
          push(std::move(item), wake);
          co_return;
        }
        wait_in(putters_, w);
      }
      co_await wait_woken(w, putters_, [this] { return !is_full(); });
    }
  }

  /// Queue.get(): waits while empty; queue_shut_down once shut down and empty.
  [[nodiscard]] coroutine<T> get() {
    for (;;) {
      waiter w;
      {
        wake_after_unlock wake;
        std::lock_guard lock(m_);
        if (!items_.empty()) co_return take(wake);
        if (shut_down_) throw queue_shut_down();
        wait_in(getters_, w);
      }
      co_await wait_woken(w, getters_, [this] { return !items_.empty(); });
    }
  }

  /// Queue.put_nowait(item), from any thread: queue_full if full, queue_shut_down after
  /// shutdown().
  void put_nowait(T item) {
    wake_after_unlock wake;
    std::lock_guard lock(m_);
    if (shut_down_) throw queue_shut_down();
    if (is_full()) throw queue_full();
    push(std::move(item), wake);
  }

  /// Queue.get_nowait(), from any thread: queue_empty if empty (queue_shut_down if also shut
  /// down).
  T get_nowait() {
    wake_after_unlock wake;
    std::lock_guard lock(m_);
    if (items_.empty()) {
      if (shut_down_) throw queue_shut_down();
      throw queue_empty();
    }
    return take(wake);
  }

  /// Queue.shutdown(immediate=False) (3.13), from any thread: put() fails from now on; every
  /// waiter wakes (getters get the items left, then queue_shut_down). immediate: the items
  /// left are dropped.
  void shutdown(bool immediate = false) {
    std::lock_guard lock(m_);
    shut_down_ = true;
    if (immediate) items_.clear();
    while (!getters_.empty()) wake_first(getters_, nullptr);
    while (!putters_.empty()) wake_first(putters_, nullptr);
  }

private:
  /// A task waiting on its own loop, in its coroutine frame. Woken from another thread, it
  /// is an entry of its loop's inbox until it fires there.
  struct waiter : boost::intrusive::list_base_hook<>, detail::ready_node {
    waiter() noexcept {
      fire = [](detail::ready_node& n, bool run) {
        if (run) static_cast<waiter&>(n).woken_event.set();
      };
    }
    event_loop* loop = nullptr;
    event woken_event;   // touched on `loop`'s thread only
    bool woken = false;  // under m_
  };
  using waiters = boost::intrusive::list<waiter>;

  /// A waiter of another loop woken under m_ is posted to once m_ is released (so declared
  /// before the lock_guard): else it would wake, find m_ still held, and sleep on it again.
  struct wake_after_unlock {
    wake_after_unlock() = default;
    wake_after_unlock(const wake_after_unlock&) = delete;
    wake_after_unlock& operator=(const wake_after_unlock&) = delete;
    ~wake_after_unlock() {
      if (loop) detail::post_inbox(*loop);
    }
    event_loop* loop = nullptr;
  };

  bool is_full() const noexcept { return maxsize_ > 0 && items_.size() >= maxsize_; }

  // The four below run under m_. The items are queue<T>'s ring.
  void push(T item, wake_after_unlock& wake) {
    detail::fifo_order::put(items_, std::move(item));
    if (!getters_.empty()) wake_first(getters_, &wake);
  }
  T take(wake_after_unlock& wake) {
    T item = detail::fifo_order::take(items_);
    if (!putters_.empty()) wake_first(putters_, &wake);
    return item;
  }
  void wait_in(waiters& queue, waiter& w) {
    w.loop = &get_running_loop();
    queue.push_back(w);
  }
  /// Wakes the first waiter; on another loop, by a post now or, with `wake`, after m_.
  static void wake_first(waiters& queue, wake_after_unlock* wake) {
    waiter& w = queue.front();
    queue.pop_front();
    w.woken = true;
    if (w.loop == detail::running_loop())
      w.woken_event.set();
    else if (!wake)
      detail::schedule_threadsafe(*w.loop, w);
    else if (detail::schedule_threadsafe_later(*w.loop, w))
      wake->loop = w.loop;
  }

  /// Waits on the loop for the wake-up. Cancelled: leaves the queue, or, if woken already,
  /// takes back a wake-up still on its way to the loop (it would fire in a frame gone) and,
  /// if what it was woken for is still there, hands the wake-up to the next waiter.
  template <class Ready>
  coroutine<void> wait_woken(waiter& w, waiters& queue, Ready ready) {
    std::exception_ptr error;
    try {
      co_await w.woken_event.wait();
    } catch (...) {
      error = std::current_exception();
    }
    if (!error) co_return;
    wake_after_unlock wake;
    std::lock_guard lock(m_);
    if (!w.woken) {
      queue.erase(queue.iterator_to(w));
    } else {
      detail::unschedule_threadsafe(*w.loop, w);
      if (ready() && !queue.empty()) wake_first(queue, &wake);
    }
    std::rethrow_exception(error);
  }

  mutable std::mutex m_;
  detail::fifo_order::container<T> items_;
  std::size_t maxsize_;
  waiters getters_, putters_;
  bool shut_down_ = false;
};

}  // namespace asyncio
