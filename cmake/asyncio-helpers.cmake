# Warnings, sanitizers and the shared precompiled header, applied per target (never globally,
# so nothing leaks into a consumer's build).
include_guard(GLOBAL)

function(asyncio_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(ASYNCIO_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${ASYNCIO_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${ASYNCIO_SANITIZE})
    if(ASYNCIO_SANITIZE MATCHES thread)
      # Asio's fenced blocks use atomic_thread_fence, which TSan does not model; GCC says so
      # at every include. The suite runs clean under TSan regardless.
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
endfunction()

# One precompiled header for the heavy Boost headers, reused by every test, demo and bench
# target: Asio's coroutine code compiles slowly, and each target would otherwise rebuild it.
function(asyncio_add_pch)
  file(WRITE ${PROJECT_BINARY_DIR}/asyncio_pch.cpp "// precompiled header holder\n")
  find_package(Boost 1.81 REQUIRED COMPONENTS program_options)
  add_library(asyncio_pch OBJECT ${PROJECT_BINARY_DIR}/asyncio_pch.cpp)
  target_link_libraries(asyncio_pch PUBLIC asyncio::asyncio Boost::program_options)
  target_precompile_headers(asyncio_pch PRIVATE
    <boost/asio.hpp> <boost/asio/experimental/awaitable_operators.hpp>
    <boost/program_options.hpp> <spdlog/spdlog.h> <asyncio.hpp>)
  asyncio_target_options(asyncio_pch)
endfunction()

# An executable of ours (test, demo or bench), sharing the precompiled header. Each links what
# the header was built with: a macro defined on one side only would make GCC ignore it.
function(asyncio_add_executable target)
  add_executable(${target} ${ARGN})
  target_link_libraries(${target} PRIVATE asyncio::asyncio Boost::program_options)
  target_precompile_headers(${target} REUSE_FROM asyncio_pch)
  asyncio_target_options(${target})
endfunction()
