#pragma once

// Measurements in a fresh process: each starts from the same heap, and its peak RSS and CPU
// time are its own, not those of whatever ran before it.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>
#include <stdexcept>
#include <vector>

namespace demo {

/// Runs fn in a forked child and returns the numbers it gave back; std::runtime_error if the
/// child failed (its error is printed by the child).
inline std::vector<double> isolated(const std::function<std::vector<double>()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    int status = 0;
    try {
      auto values = fn();
      auto n = static_cast<double>(values.size());
      values.insert(values.begin(), n);
      auto* p = reinterpret_cast<const char*>(values.data());
      for (std::size_t left = values.size() * sizeof(double); left > 0;) {
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
  std::vector<char> bytes;
  char buffer[65536];
  for (ssize_t got; (got = ::read(fds[0], buffer, sizeof buffer)) > 0;)
    bytes.insert(bytes.end(), buffer, buffer + got);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || bytes.size() < sizeof(double) ||
      bytes.size() % sizeof(double) != 0)
    throw std::runtime_error("a measurement failed");
  std::vector<double> values(bytes.size() / sizeof(double));
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(values.data()));
  values.erase(values.begin());
  return values;
}

/// This process's CPU time (user + system) in seconds and peak RSS in bytes, so far.
struct usage {
  double cpu_s, peak_rss;
};

inline usage self_usage() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return {seconds(ru.ru_utime) + seconds(ru.ru_stime), ru.ru_maxrss * 1024.0};
}

}  // namespace demo
