#pragma once

// Tracing, which asyncio itself lacks: every task's life as a timeline you can open.

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

}  // namespace asyncio
