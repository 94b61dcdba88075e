#pragma once

// A test's child process, for what a test process cannot do to itself (die of a signal).
// Apart from test.hpp: <sys/wait.h> declares wait(), the name of a suite.

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace test {

/// How a child process ended, and what it wrote.
struct ending {
  std::string written;
  int status;  // as waitpid gives it
};

/// Runs body(out) in a forked child where `sig` has its default action, unblocked, as a shell
/// starts a program (whatever this runner inherited: a background job ignores SIGINT). The
/// child writes to the file descriptor `out`; it exits 0 if body returns.
template <class Body>
ending in_child(int sig, Body body) {
  int pipe_fds[2];
  BOOST_REQUIRE(::pipe(pipe_fds) == 0);
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::signal(sig, SIG_DFL);
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    body(pipe_fds[1]);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string written;
  char c;
  while (::read(pipe_fds[0], &c, 1) == 1) written += c;
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return {written, status};
}

}  // namespace test
