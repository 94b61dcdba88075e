#pragma once

// Measurements in a fresh process: each starts from the same heap, and its peak RSS and CPU
// time are its own, not those of whatever ran before it.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <type_traits>

namespace demo {

/// Runs fn in a forked child and returns the Result (a struct of numbers) it gave back;
/// std::runtime_error if the child failed (its error is printed by the child).
template <class Fn, class Result = std::invoke_result_t<Fn&>>
Result isolated(Fn fn) {
  static_assert(std::is_trivially_copyable_v<Result>, "a result crosses a pipe as bytes");
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    int status = 0;
    try {
      const Result result = fn();
      auto* p = reinterpret_cast<const char*>(&result);
      for (std::size_t left = sizeof result; left > 0;) {
        auto wrote = ::write(fds[1], p, left);
        if (wrote <= 0) throw std::runtime_error("cannot report to the parent");
        p += wrote;
        left -= static_cast<std::size_t>(wrote);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "measurement failed: %s\n", e.what());
      status = 1;
    }
    std::fflush(nullptr);
    ::_exit(status);
  }
  ::close(fds[1]);
  Result result{};
  auto* p = reinterpret_cast<char*>(&result);
  std::size_t got = 0;
  for (ssize_t n; got < sizeof result && (n = ::read(fds[0], p + got, sizeof result - got)) > 0;)
    got += static_cast<std::size_t>(n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof result)
    throw std::runtime_error("a measurement failed");
  return result;
}

}  // namespace demo
