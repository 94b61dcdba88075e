#pragma once

// Tracing, which asyncio itself lacks: every task's life as a timeline you can open.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace asyncio {

/// Records every task of every loop created from now on: its creation, each step it runs
/// (the first is its start; each later one a resume; each ends in a suspend), its finish, and
/// its timer waits, as Chrome Trace Event JSON in `path`, written each time a traced loop
/// closes. Open the file in Perfetto (ui.perfetto.dev) or chrome://tracing: one track per task.
/// `ASYNCIO_TRACE=path` in the environment does the same; `trace_to("")` stops it. Off, it
/// costs one test of a flag per task step, the same test that debug mode already needs.
///
/// @code
/// asyncio::trace_to("trace.json");
/// asyncio::run(amain());   // trace.json now holds amain's tasks
/// @endcode
void trace_to(std::string path);

/// The file traces go to; empty when tracing is off.
std::string trace_path();

namespace detail::trace {

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

}  // namespace detail::trace

}  // namespace asyncio
