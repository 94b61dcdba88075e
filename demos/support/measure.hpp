#pragma once

// What the demos and benchmarks measure, each read one way: elapsed time, this process's
// memory and CPU, and the kernel stacks that threads cost outside any process.

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

namespace demo {

using clock_type = std::chrono::steady_clock;

inline double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

/// This process's resident and virtual memory now, in bytes (/proc/self/statm).
struct memory {
  double rss, virt;
};

inline memory memory_now() {
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  statm >> size >> resident;
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  return {resident * page, size * page};
}

/// The kernel's stacks, one per thread of the machine (about 16 KiB each here): memory a
/// thread costs that its process's RSS does not show. Machine-wide, so read close together.
inline double kernel_stacks() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (meminfo >> key >> kib)
    if (key == "KernelStack:")
      return kib * 1024;
    else
      meminfo.ignore(256, '\n');
  return 0;
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
