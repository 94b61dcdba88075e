#pragma once

#include <asyncio/event_loop.hpp>

#include <string>

namespace asyncio {

/// "Where is everything stuck?" (Python 3.14's `asyncio ps`): one line per live task of the
/// loop, with its name, state, and what it is awaiting, e.g.
///   Task-1          pending  awaiting task 'fetch'
///   fetch           pending  awaiting sleep
std::string format_tasks(event_loop& loop);

/// format_tasks() of the running loop, written to standard output.
void print_tasks();

}  // namespace asyncio
