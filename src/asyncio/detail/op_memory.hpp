#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

namespace asyncio::detail {

/// Memory for Asio's operation objects (a socket's read, a write), recycled per thread: a free
/// list per size class of 64 bytes, up to 1 KiB, each keeping up to 64 blocks. Asio's own
/// cache keeps two blocks a thread, enough when each completion starts the next operation at
/// once; a loop runs its completions in a batch and its tasks' steps after them, so with many
/// sockets most operations would go to malloc.
class op_memory {
public:
  static void* allocate(std::size_t size) {
    if (size > largest) return ::operator new(size);
    auto c = size_class(size);
    if (auto* cache = this_thread(); cache && cache->free_[c]) {
      auto* b = cache->free_[c];
      cache->free_[c] = b->next;
      --cache->count_[c];
      return b;
    }
    return ::operator new((c + 1) * granule);  // whole, as any thread's cache may keep it
  }

  static void deallocate(void* p, std::size_t size) noexcept {
    if (auto* cache = this_thread(); cache && size <= largest) {
      auto c = size_class(size);
      if (cache->count_[c] < depth) {
        cache->free_[c] = ::new (p) block{cache->free_[c]};
        ++cache->count_[c];
        return;
      }
    }
    ::operator delete(p);
  }

  op_memory() noexcept { current = this; }
  ~op_memory() {
    current = nullptr;  // what is freed after this thread's cache is gone goes to the heap
    for (auto* list : free_)
      while (list) ::operator delete(std::exchange(list, list->next));
  }
  op_memory(const op_memory&) = delete;
  op_memory& operator=(const op_memory&) = delete;

private:
  static constexpr std::size_t granule = 64, classes = 16, largest = granule * classes;
  static constexpr std::uint16_t depth = 64;

  struct block {
    block* next;
  };

  static std::size_t size_class(std::size_t size) noexcept {
    return size == 0 ? 0 : (size - 1) / granule;
  }

  // The thread's cache, built on first use; null once the thread's destructors have run it
  // down (`current` is trivial, so it can be read then).
  static op_memory* this_thread() noexcept {
    if (!built) {
      built = true;
      thread_local op_memory cache;
    }
    return current;
  }

  static inline thread_local op_memory* current = nullptr;
  static inline thread_local bool built = false;

  block* free_[classes] = {};
  std::uint16_t count_[classes] = {};
};

/// An allocator over op_memory, to bind to the handler of an Asio operation.
template <class T>
struct op_allocator {
  using value_type = T;

  op_allocator() noexcept = default;
  template <class U>
  op_allocator(const op_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (alignof(T) > alignof(std::max_align_t)) return std::allocator<T>().allocate(n);
    return static_cast<T*>(op_memory::allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (alignof(T) > alignof(std::max_align_t)) return std::allocator<T>().deallocate(p, n);
    op_memory::deallocate(p, n * sizeof(T));
  }
  friend bool operator==(op_allocator, op_allocator) noexcept { return true; }
};

}  // namespace asyncio::detail
