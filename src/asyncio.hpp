#pragma once

// asyncio-cpp: Python's asyncio on Boost.Asio. One include for all of it.

#include <asyncio/coroutine.hpp>
#include <asyncio/datagram.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/event_loop.hpp>
#include <asyncio/future.hpp>
#include <asyncio/gather.hpp>
#include <asyncio/introspection.hpp>
#include <asyncio/locks.hpp>
#include <asyncio/loop_group.hpp>
#include <asyncio/outcome.hpp>
#include <asyncio/queue.hpp>
#include <asyncio/run.hpp>
#include <asyncio/shield.hpp>
#include <asyncio/sleep.hpp>
#include <asyncio/ssl.hpp>
#include <asyncio/streams.hpp>
#include <asyncio/subprocess.hpp>
#include <asyncio/task.hpp>
#include <asyncio/task_group.hpp>
#include <asyncio/threads.hpp>
#include <asyncio/threadsafe_queue.hpp>
#include <asyncio/timeout.hpp>
#include <asyncio/trace.hpp>
#include <asyncio/wait.hpp>
