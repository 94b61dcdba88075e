#pragma once

// What the library records for trace_to() (trace.hpp): its calls from the loop, tasks and
// sleeps. Defined in trace.cpp.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace asyncio::detail::trace {

extern std::atomic<bool> on;

/// True while tracing: the one check that hot paths make.
inline bool enabled() noexcept { return on.load(std::memory_order_relaxed); }

using clock = std::chrono::steady_clock;

/// A loop was created: its number in the trace (never 0).
std::uint32_t loop_opened();
/// A traced loop closed: the trace file is (re)written with everything recorded so far.
void loop_closed();
/// A task of loop `loop_id` was created (by the task running now, if any).
void task_created(std::uint32_t loop_id, std::uint64_t task_id, const std::string& name);
/// One step of a task (task_id 0: a plain callback) ran from `start` to `end`.
void step(std::uint32_t loop_id, std::uint64_t task_id, const std::string& name,
          clock::time_point start, clock::time_point end);
void task_finished(std::uint32_t loop_id, std::uint64_t task_id, const char* how);
/// A timer wait of the running task, named `what`, began or ended; `id` tells waits apart.
void wait_began(const void* id, const char* what, clock::duration delay);
void wait_ended(const void* id, const char* what);

}  // namespace asyncio::detail::trace
