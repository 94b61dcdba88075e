#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace asyncio::detail {

/// One timer of a loop's heap (CPython's loop._scheduled): a sleep, a call_later. It lives in
/// its owner (the sleep's own node, the callback's handle), so arming one allocates nothing
/// but, now and then, room in the heap.
struct timer_entry {
  static constexpr std::uint32_t not_queued = static_cast<std::uint32_t>(-1);

  std::chrono::steady_clock::time_point when;
  /// Called once it is due and out of the heap (run), or when the loop goes away first.
  void (*expire)(timer_entry& self, bool run) = nullptr;
  std::uint64_t seq = 0;  // ties fire in the order they were armed
  // Its place in the heap, so a cancelled one leaves at once. 32 bits (a heap of four billion
  // timers would need hundreds of gigabytes) leave room for a small field of the owner's.
  std::uint32_t index = not_queued;
};

/// A binary min-heap of timers by (deadline, arming order), each knowing its place, so that a
/// cancelled timer is removed in O(log n) and leaves nothing behind.
class timer_heap {
public:
  bool empty() const noexcept { return heap_.empty(); }
  timer_entry& top() const noexcept { return *heap_.front(); }

  void push(timer_entry& e) {
    e.seq = next_seq_++;
    heap_.push_back(&e);
    e.index = static_cast<std::uint32_t>(heap_.size() - 1);
    up(e.index);
  }
  /// Takes `e` out of the heap; nothing happens if it is not in it.
  void remove(timer_entry& e) noexcept {
    if (e.index == timer_entry::not_queued) return;
    std::size_t i = e.index;
    e.index = timer_entry::not_queued;
    timer_entry* last = heap_.back();
    heap_.pop_back();
    if (last == &e) return;
    place(i, last);
    if (i > 0 && before(*heap_[i], *heap_[(i - 1) / 2]))
      up(i);
    else
      down(i);
  }
  timer_entry& pop() noexcept {
    timer_entry& e = top();
    remove(e);
    return e;
  }

private:
  static bool before(const timer_entry& a, const timer_entry& b) noexcept {
    return a.when < b.when || (a.when == b.when && a.seq < b.seq);
  }
  void place(std::size_t i, timer_entry* e) noexcept {
    heap_[i] = e;
    e->index = static_cast<std::uint32_t>(i);
  }
  void up(std::size_t i) noexcept {
    timer_entry* e = heap_[i];
    while (i > 0 && before(*e, *heap_[(i - 1) / 2])) {
      place(i, heap_[(i - 1) / 2]);
      i = (i - 1) / 2;
    }
    place(i, e);
  }
  void down(std::size_t i) noexcept {
    timer_entry* e = heap_[i];
    const std::size_t n = heap_.size();
    for (std::size_t child; (child = 2 * i + 1) < n; i = child) {
      if (child + 1 < n && before(*heap_[child + 1], *heap_[child])) ++child;
      if (!before(*heap_[child], *e)) break;
      place(i, heap_[child]);
    }
    place(i, e);
  }

  std::vector<timer_entry*> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace asyncio::detail
