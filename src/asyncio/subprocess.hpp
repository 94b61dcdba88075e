#pragma once

// asyncio's subprocesses: create_subprocess_exec() and create_subprocess_shell() start a child
// (posix_spawn) whose pipes are stream_reader / stream_writer and whose exit is watched through
// a pidfd on the loop, as Python 3.12's PidfdChildWatcher does.
//
// Every child is reaped: by its watcher when it exits, or, if it still runs when the loop goes
// away, killed and reaped then (as Python's transport does when it is closed).

#include <asyncio/coroutine.hpp>
#include <asyncio/streams.hpp>

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asyncio {

namespace detail {
struct process_state;
}  // namespace detail

/// Where a child's standard stream goes: Python's None (inherit), PIPE, DEVNULL and STDOUT.
enum class stdio {
  inherit,    ///< the parent's
  pipe,       ///< a pipe, read or written through process::stdin/stdout/stderr()
  devnull,    ///< /dev/null
  to_stdout,  ///< stderr only: wherever stdout goes (Python's stderr=STDOUT)
};

/// create_subprocess_*'s keyword arguments. (`stdin`, `stdout`, `stderr` are also C's macros;
/// glibc defines each as itself, so the names work there.)
///
/// Not an aggregate, on purpose: g++ 12 miscopies an aggregate temporary made inside a
/// `co_await` statement (a designated initializer there frees a wild pointer). Set the fields
/// of a named object, or give the three streams in Python's order:
/// `co_await asyncio::create_subprocess_exec("cat", args, {stdio::pipe, stdio::pipe});`
struct subprocess_options {
  subprocess_options() = default;
  subprocess_options(stdio in, stdio out, stdio err = stdio::inherit)
      : stdin(in), stdout(out), stderr(err) {}

  stdio stdin = stdio::inherit;
  stdio stdout = stdio::inherit;
  stdio stderr = stdio::inherit;
  std::string cwd;  ///< the child's working directory; empty: the parent's
  /// Python's env=: the child's whole environment; none: the parent's.
  std::optional<std::map<std::string, std::string>> env;
  /// Set on top of that environment (the parent's, or `env`).
  std::map<std::string, std::string> extend_env;
  std::size_t limit = stream_limit;  ///< the buffer limit of the stdout/stderr readers
};

/// What communicate() read: all of stdout and all of stderr (empty if not piped).
struct communicate_result {
  std::string out, err;
};

/// asyncio.subprocess.Process: a running (or ended) child.
class process {
public:
  pid_t pid() const noexcept;
  /// The pipes: std::logic_error for one that was not created with stdio::pipe.
  stream_writer& stdin();
  stream_reader& stdout();
  stream_reader& stderr();
  /// wait(): until the child ends; its returncode.
  [[nodiscard]] coroutine<int> wait();
  /// The exit status once ended: the exit code, or -N if signal N killed it.
  std::optional<int> returncode() const noexcept;
  /// send_signal(sig): nothing once the child has ended (Popen's rule); std::invalid_argument
  /// for a number that is no signal.
  void send_signal(int sig);
  void terminate();  ///< send_signal(SIGTERM)
  void kill();       ///< send_signal(SIGKILL)
  /// communicate(input): writes input to stdin and closes it, reads stdout and stderr to their
  /// end, waits for the child. Safe to cancel (Python's is not, cpython#139373): what was
  /// read so far stays with the process, so a later communicate() returns all of it; the
  /// child runs on. Input is only written by the call that closes stdin: std::logic_error
  /// for input once stdin is closed.
  [[nodiscard]] coroutine<communicate_result> communicate(std::string input = {});

private:
  friend struct detail::process_state;
  explicit process(std::shared_ptr<detail::process_state> s) noexcept : s_(std::move(s)) {}
  std::shared_ptr<detail::process_state> s_;
};

/// asyncio.create_subprocess_exec(program, *args): runs program (looked up in PATH unless it
/// holds a '/') with args. A program that cannot be started throws std::system_error naming
/// it, with the errno (ENOENT: Python's FileNotFoundError; EACCES: PermissionError). A NUL
/// byte in the program, an argument, cwd or the environment, or a '=' in a variable's name:
/// std::invalid_argument (Python's ValueError), and nothing starts.
[[nodiscard]] coroutine<process> create_subprocess_exec(std::string program,
                                                        std::vector<std::string> args = {},
                                                        subprocess_options options = {});

/// asyncio.create_subprocess_shell(cmd): runs cmd with /bin/sh -c.
[[nodiscard]] coroutine<process> create_subprocess_shell(std::string command,
                                                         subprocess_options options = {});

}  // namespace asyncio
