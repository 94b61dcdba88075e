#pragma once

#include <boost/asio/recycling_allocator.hpp>

#include <atomic>
#include <memory>
#include <new>
#include <utility>

namespace asyncio::detail {

/// One entry of a loop's ready queue (CPython's loop._ready). Intrusive: queueing an entry
/// allocates nothing beyond the entry itself.
struct ready_node {
  ready_node* next = nullptr;
  /// Runs the entry, or with run == false only disposes of it (the loop goes away first).
  /// Either way the queue is done with it: it may free itself.
  void (*fire)(ready_node& self, bool run) = nullptr;
};

/// The FIFO of entries ready to run, owned by one loop and used from its thread only.
class ready_queue {
public:
  ready_queue() = default;
  ready_queue(const ready_queue&) = delete;
  ready_queue& operator=(const ready_queue&) = delete;
  ~ready_queue() { clear(); }

  bool empty() const noexcept { return head_ == nullptr; }
  ready_node* back() const noexcept { return tail_; }
  void push(ready_node& n) noexcept {
    n.next = nullptr;
    (tail_ ? tail_->next : head_) = &n;
    tail_ = &n;
  }
  ready_node* pop() noexcept {
    ready_node* n = head_;
    if (n && !(head_ = n->next)) tail_ = nullptr;
    return n;
  }
  /// Disposes of every entry without running it, those that disposing adds too.
  void clear() noexcept {
    while (ready_node* n = pop()) n->fire(*n, false);
  }

private:
  ready_node* head_ = nullptr;
  ready_node* tail_ = nullptr;
};

/// Entries other threads queue for one loop (schedule_threadsafe): a stack they push onto
/// without a lock, which the loop's thread takes whole, oldest first. The push that finds it
/// empty tells the loop (one post), which takes what was pushed meanwhile too; until then
/// nothing else takes an entry out, so the pusher still holds what the entry wakes.
class inbox {
public:
  inbox() = default;
  inbox(const inbox&) = delete;
  inbox& operator=(const inbox&) = delete;
  ~inbox() {
    ready_queue left;  // disposes of what was never taken
    take(left);
  }

  /// From any thread. True if the inbox was empty: the loop must be told.
  bool push(ready_node& n) noexcept {
    ready_node* newest = stack_.load(std::memory_order_relaxed);
    do {
      n.next = newest;
    } while (!stack_.compare_exchange_weak(newest, &n, std::memory_order_release,
                                           std::memory_order_relaxed));
    return newest == nullptr;
  }

  /// From the loop's thread: every entry pushed so far, oldest first, into the empty `batch`.
  void take(ready_queue& batch) noexcept {
    ready_node* oldest = nullptr;
    for (ready_node* n = stack_.exchange(nullptr, std::memory_order_acquire); n && n != &end_;) {
      ready_node* older = n->next;
      n->next = oldest;
      oldest = n;
      n = older;
    }
    while (oldest) {
      ready_node* newer = oldest->next;
      batch.push(*oldest);
      oldest = newer;
    }
  }

  /// From the loop's thread: takes `n` out if it is still in (true).
  bool remove(ready_node& n) noexcept {
    ready_node* newest = stack_.load(std::memory_order_acquire);
    // The newest entry's place is what pushes race for: leave it by a compare-exchange. The
    // inbox does not become empty meanwhile (end_ stays instead), as the loop has been told.
    while (newest == &n)
      if (stack_.compare_exchange_weak(newest, n.next ? n.next : &end_, std::memory_order_acquire))
        return true;
    // Below the newest only this thread changes links.
    for (ready_node* at = newest; at && at != &end_; at = at->next) {
      if (at->next != &n) continue;
      at->next = n.next;
      return true;
    }
    return false;
  }

private:
  std::atomic<ready_node*> stack_{nullptr};
  ready_node end_;  // the bottom of a stack emptied by remove(): not empty for push()
};

/// A handler as a ready entry, in memory from `Alloc`: by default the per-thread memory Asio
/// recycles for its own handlers, so that after warm-up a wake-up through the queue calls
/// malloc no more than Asio's post does.
template <class F, class Alloc = boost::asio::recycling_allocator<void>>
class ready_call final : public ready_node {
public:
  static ready_call* make(F f, Alloc a = {}) {
    allocator alloc(a);
    ready_call* p = alloc.allocate(1);
    try {
      return ::new (static_cast<void*>(p)) ready_call(std::move(f), alloc);
    } catch (...) {
      alloc.deallocate(p, 1);
      throw;
    }
  }

private:
  using allocator = typename std::allocator_traits<Alloc>::template rebind_alloc<ready_call>;

  ready_call(F f, const allocator& alloc) : f_(std::move(f)), alloc_(alloc) { fire = &call; }

  // The memory goes back before the call, so the handler's own wake-ups can reuse it.
  static void call(ready_node& self, bool run) {
    auto* p = static_cast<ready_call*>(&self);
    F f(std::move(p->f_));
    allocator alloc(p->alloc_);
    p->~ready_call();
    alloc.deallocate(p, 1);
    if (run) std::move(f)();
  }

  F f_;
  [[no_unique_address]] allocator alloc_;
};

}  // namespace asyncio::detail
