#pragma once

// What the bench drivers share: running another program (a peer, or valgrind over ourselves)
// and reading its one JSON line, and the machine, date and command stamped on every results file.

#include <boost/json.hpp>

#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace bench {

struct exit_and_output {
  int status;  // the exit code, or 128 + the signal that killed it
  std::string out;
};

/// Runs argv[0] (looked up in PATH) with its arguments, no shell; stdout is captured, stderr
/// passes through so a failing peer says why.
inline exit_and_output run_program(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (error != 0) {
    ::close(fds[0]);
    return {127, {}};
  }
  std::string out;
  char buffer[4096];
  for (ssize_t got; (got = ::read(fds[0], buffer, sizeof buffer)) > 0;) out.append(buffer, got);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), std::move(out)};
}

/// The last JSON object a program printed on its own line.
inline boost::json::object last_json_line(const std::string& out) {
  auto end = out.find_last_not_of("\n");
  if (end == std::string::npos) throw std::runtime_error("printed nothing");
  auto begin = out.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return boost::json::parse(out.substr(begin, end + 1 - begin)).as_object();
}

/// Where a results file was measured: CPU, cores, kernel.
inline boost::json::object machine() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, cpu = "unknown";
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  utsname u{};
  ::uname(&u);
  return {{"cpu", cpu},
          {"cores", std::thread::hardware_concurrency()},
          {"kernel", std::string(u.sysname) + " " + u.release}};
}

/// Machine, UTC date and the command line, for the head of a results file.
inline boost::json::object stamp(int argc, char** argv) {
  char date[32];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::string command;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) command += ' ';
    command += argv[i];
  }
  return {{"machine", machine()}, {"date", date}, {"command", command}};
}

}  // namespace bench
