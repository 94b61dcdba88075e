#pragma once

// asyncio's queues: queue (FIFO), lifo_queue and priority_queue. One loop's, no OS locks.
// put() waits while full, get() while empty, FIFO-fair among waiters and cancellation-safe:
// a cancelled get() loses no item, a cancelled put() keeps no slot, and neither swallows the
// wake-up meant for the next waiter. Items are moved, so move-only types work.

#include <asyncio/errors.hpp>
#include <asyncio/locks.hpp>

#include <boost/circular_buffer.hpp>

#include <algorithm>
#include <exception>
#include <functional>
#include <vector>

namespace asyncio {

namespace detail {

// A ring that only grows: unlike std::deque, a steady put/get never allocates.
struct fifo_order {
  template <class T>
  using container = boost::circular_buffer<T>;
  template <class T>
  static void put(boost::circular_buffer<T>& c, T item) {
    if (c.full()) c.set_capacity(std::max<std::size_t>(16, 2 * c.capacity()));
    c.push_back(std::move(item));
  }
  template <class T>
  static T take(boost::circular_buffer<T>& c) {
    T item = std::move(c.front());
    c.pop_front();
    return item;
  }
};

struct lifo_order {
  template <class T>
  using container = std::vector<T>;
  template <class T>
  static T take(std::vector<T>& c) {
    T item = std::move(c.back());
    c.pop_back();
    return item;
  }
};

template <class Compare>
struct priority_order {
  template <class T>
  using container = std::vector<T>;
  // A heap with the *smallest* on top, as Python's heapq: Compare is "less than".
  static constexpr auto greater = [](const auto& a, const auto& b) { return Compare{}(b, a); };
  template <class T>
  static void put(std::vector<T>& c, T item) {
    c.push_back(std::move(item));
    std::push_heap(c.begin(), c.end(), greater);
  }
  template <class T>
  static T take(std::vector<T>& c) {
    std::pop_heap(c.begin(), c.end(), greater);
    T item = std::move(c.back());
    c.pop_back();
    return item;
  }
};

template <class Order, class T>
concept has_put = requires(typename Order::template container<T>& c, T item) {
  Order::put(c, std::move(item));
};

/// The queue, whatever the order of its items (Python's Queue with _put/_get overridden).
template <class T, class Order>
class basic_queue {
public:
  /// maxsize 0: unbounded.
  explicit basic_queue(std::size_t maxsize = 0) : maxsize_(maxsize) {}
  basic_queue(const basic_queue&) = delete;
  basic_queue& operator=(const basic_queue&) = delete;

  std::size_t qsize() const noexcept { return items_.size(); }
  std::size_t maxsize() const noexcept { return maxsize_; }
  bool empty() const noexcept { return items_.empty(); }
  bool full() const noexcept { return maxsize_ > 0 && items_.size() >= maxsize_; }

private:
  // Python's two loops in put() and get(), as primitive_wait kinds.
  struct get_kind {
    using value_type = T;
    basic_queue* q;

    waiter_queue& waiters() const noexcept { return q->getters_; }
    bool ready() const noexcept { return !q->empty() || q->shut_down_; }
    T take() { return q->get_nowait(); }
    bool after_wait(const wait_node& w, std::exception_ptr error, outcome<T>& result) {
      if (error) {
        if (!q->empty() && w.woken()) q->getters_.wake(1);  // the item is the next getter's
        result.error = std::move(error);
        return true;
      }
      if (!ready()) return false;
      result.value.emplace(take());
      return true;
    }
  };
  struct put_kind {
    using value_type = void;
    basic_queue* q;
    T item;

    waiter_queue& waiters() const noexcept { return q->putters_; }
    bool ready() const noexcept { return !q->full() || q->shut_down_; }
    void take() { q->put_nowait(std::move(item)); }
    bool after_wait(const wait_node& w, std::exception_ptr error, outcome<void>& result) {
      if (error) {
        if (!q->full() && w.woken()) q->putters_.wake(1);  // the room is the next putter's
        result.error = std::move(error);
        return true;
      }
      if (!ready()) return false;
      take();
      return true;
    }
  };

public:
  /// Queue.put(item): waits while full; queue_shut_down after shutdown().
  [[nodiscard]] primitive_wait<put_kind> put(T item) {
    return primitive_wait<put_kind>(put_kind{this, std::move(item)});
  }

  /// Queue.get(): waits while empty; queue_shut_down once shut down and empty.
  [[nodiscard]] primitive_wait<get_kind> get() { return primitive_wait<get_kind>(get_kind{this}); }

  /// Queue.put_nowait(item): queue_full if full, queue_shut_down after shutdown().
  void put_nowait(T item) {
    getters_.check_thread();  // before anything changes
    if (shut_down_) throw queue_shut_down();
    if (full()) throw queue_full();
    if constexpr (has_put<Order, T>)
      Order::put(items_, std::move(item));
    else
      items_.push_back(std::move(item));
    ++unfinished_;
    finished_.clear();
    getters_.wake(1);
  }

  /// Queue.get_nowait(): queue_empty if empty (queue_shut_down if also shut down).
  T get_nowait() {
    putters_.check_thread();
    if (empty()) {
      if (shut_down_) throw queue_shut_down();
      throw queue_empty();
    }
    T item = Order::take(items_);
    putters_.wake(1);
    return item;
  }

  /// Queue.task_done(): one item fetched earlier is fully processed.
  void task_done() {
    if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }

  /// Queue.join(): waits until every item put has been marked task_done().
  [[nodiscard]] coroutine<void> join() {
    if (unfinished_ > 0) co_await finished_.wait();
  }

  /// Queue.shutdown(immediate=False) (3.13): put() fails from now on; waiting getters and
  /// putters wake (getters get the items left, then queue_shut_down). immediate: the items
  /// left are dropped and join() returns.
  void shutdown(bool immediate = false) {
    shut_down_ = true;
    if (immediate) {
      while (!empty()) {
        Order::take(items_);
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    getters_.wake_all();
    putters_.wake_all();
  }

private:
  typename Order::template container<T> items_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  waiter_queue getters_{"queue.get"}, putters_{"queue.put"};
  event finished_;
  bool shut_down_ = false;
};

}  // namespace detail

/// asyncio.Queue: first in, first out.
/// @code
/// asyncio::queue<int> q(10);    // q = asyncio.Queue(maxsize=10)
/// co_await q.put(1);            // await q.put(1)
/// int x = co_await q.get();     // x = await q.get()
/// @endcode
template <class T>
using queue = detail::basic_queue<T, detail::fifo_order>;

/// asyncio.LifoQueue: last in, first out.
template <class T>
using lifo_queue = detail::basic_queue<T, detail::lifo_order>;

/// asyncio.PriorityQueue: smallest first (by Compare, "less than"), as Python's heapq.
template <class T, class Compare = std::less<T>>
using priority_queue = detail::basic_queue<T, detail::priority_order<Compare>>;

}  // namespace asyncio
