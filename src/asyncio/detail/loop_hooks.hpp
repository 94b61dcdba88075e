#pragma once

// The loop's machinery for the library itself, out of its public interface: plain functions
// of a declared loop, so that the headers event_loop.hpp itself includes (task_executor.hpp,
// through task.hpp) can use them too. Defined in event_loop.cpp.

#include <cstdint>
#include <thread>

namespace asyncio {

class event_loop;

namespace detail {

struct ready_node;
struct timer_entry;
class task_state_base;

/// The loop running on this thread, or null.
event_loop* running_loop() noexcept;
/// loop.schedule(n): at the back of the loop's ready queue.
void schedule(event_loop& loop, ready_node& n);
/// From any thread: `n` fires on the loop's thread soon, then what it wakes runs in the same
/// pass. Entries queued so from other threads meanwhile share one post to the io_context, and
/// queueing allocates nothing beyond that post: `n` belongs to whoever queued it.
void schedule_threadsafe(event_loop& loop, ready_node& n);
/// schedule_threadsafe() in two halves, for a caller under a lock that what `n` wakes will
/// take at once: true if a post to the loop is due, which the caller makes with post_inbox()
/// once it has released the lock (else the woken side finds it held, and both threads sleep
/// and wake on it). The loop waits for the post before it goes away.
bool schedule_threadsafe_later(event_loop& loop, ready_node& n);
void post_inbox(event_loop& loop);
/// From the loop's thread: takes `n` back if it has not fired yet (true), so that its owner
/// may go away before the wake-up it no longer waits for.
bool unschedule_threadsafe(event_loop& loop, ready_node& n) noexcept;
/// From a handler another thread posted to the loop's io_context: runs fn(arg), which wakes
/// something on the loop, then at once the ready queue, so that what fn schedules runs in this
/// pass and not after one more pass through the reactor (an epoll_wait, once I/O exists).
void run_then_ready(event_loop& loop, void (*fn)(void*), void* arg);
/// Arms `e` in the loop's timer heap (CPython's loop._scheduled): when due, its expire() runs
/// from the loop, timers in deadline order, ties in arming order.
void add_timer(event_loop& loop, timer_entry& e);
/// Disarms `e`, at once and without a trace; nothing happens if it is not armed.
void cancel_timer(event_loop& loop, timer_entry& e) noexcept;
/// Each task, as it is created: all_tasks() lists it until it finishes.
void register_task(event_loop& loop, task_state_base& t) noexcept;
/// The loop's number in the trace file (see trace_to()), or 0 if it is not traced.
std::uint32_t trace_id(const event_loop& loop) noexcept;
/// Debug mode or tracing is on: each step goes through run_instrumented_step().
bool instrumented(const event_loop& loop) noexcept;
/// loop.add_signal_handler(sig, ...) holds a handler: run()'s Ctrl-C handling stands aside.
bool has_signal_handler(const event_loop& loop, int sig) noexcept;
/// In debug mode, the running loop's thread, to which a primitive awaited now is bound (see
/// waiter_queue); else no thread, and primitives are not checked.
std::thread::id debug_owner() noexcept;
/// A primitive of one loop (`what`: "lock", "queue.get", ...) touched from another thread:
/// std::runtime_error, naming it and the way out.
[[noreturn]] void throw_wrong_thread(const char* what);
/// Debug mode or tracing: runs one step of `task` (null: a plain callback), warns if it was
/// slow (debug) and records it (tracing).
void run_instrumented_step(event_loop& loop, const task_state_base* task, void (*step)(void*),
                           void* arg);

}  // namespace detail

}  // namespace asyncio
