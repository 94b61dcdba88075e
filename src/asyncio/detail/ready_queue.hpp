#pragma once

#include <boost/asio/recycling_allocator.hpp>

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
  void swap(ready_queue& other) noexcept {
    std::swap(head_, other.head_);
    std::swap(tail_, other.tail_);
  }
  /// Takes `n` out if it is queued (a walk: for short queues); false if it is not.
  bool remove(ready_node& n) noexcept {
    ready_node* before = nullptr;
    for (ready_node* at = head_; at; before = at, at = at->next) {
      if (at != &n) continue;
      (before ? before->next : head_) = n.next;
      if (tail_ == &n) tail_ = before;
      return true;
    }
    return false;
  }
  /// Disposes of every entry without running it, those that disposing adds too.
  void clear() noexcept {
    while (ready_node* n = pop()) n->fire(*n, false);
  }

private:
  ready_node* head_ = nullptr;
  ready_node* tail_ = nullptr;
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
