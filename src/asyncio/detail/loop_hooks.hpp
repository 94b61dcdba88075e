#pragma once

// What the loop offers the library's headers that event_loop.hpp itself includes (through
// task.hpp: task_executor.hpp), which cannot see the loop's definition: plain functions of a
// declared loop. Defined in event_loop.cpp.

namespace asyncio {

class event_loop;

namespace detail {

struct ready_node;
class task_state_base;

/// The loop running on this thread, or null.
event_loop* running_loop() noexcept;
/// loop.schedule(n): at the back of the loop's ready queue.
void schedule(event_loop& loop, ready_node& n);
/// Debug mode or tracing is on: each step goes through run_instrumented_step().
bool instrumented(const event_loop& loop) noexcept;
/// Debug mode or tracing: runs one step of `task` (null: a plain callback), warns if it was
/// slow (debug) and records it (tracing).
void run_instrumented_step(event_loop& loop, const task_state_base* task, void (*step)(void*),
                           void* arg);

}  // namespace detail

}  // namespace asyncio
