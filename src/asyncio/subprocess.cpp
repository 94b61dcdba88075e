#include <asyncio/subprocess.hpp>

#include <asyncio/event_loop.hpp>
#include <asyncio/gather.hpp>
#include <asyncio/locks.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace asyncio {

namespace asio = boost::asio;

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Python's returncode: the exit code, or -N for death by signal N.
int returncode_of(int status) {
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// A descriptor that closes itself unless released.
class fd {
public:
  fd() = default;
  explicit fd(int f) noexcept : f_(f) {}
  fd(fd&& o) noexcept : f_(std::exchange(o.f_, -1)) {}
  fd& operator=(fd&& o) noexcept {
    std::swap(f_, o.f_);
    return *this;
  }
  ~fd() {
    if (f_ >= 0) ::close(f_);
  }
  int get() const noexcept { return f_; }
  int release() noexcept { return std::exchange(f_, -1); }

private:
  int f_ = -1;
};

// One standard stream of the child: the end the child gets, and ours if it is a pipe.
struct child_stream {
  fd child, ours;
};

child_stream make_pipe(bool child_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe");
  fd read_end(fds[0]), write_end(fds[1]);
  if (child_reads) return {std::move(read_end), std::move(write_end)};
  return {std::move(write_end), std::move(read_end)};
}

// Python's ValueError for a string the child would get cut short: std::invalid_argument.
void check_no_nul(std::string_view s, const char* what) {
  if (s.find('\0') != std::string_view::npos)
    throw std::invalid_argument(std::string(what) + ": embedded null byte");
}

// The child's environment as "NAME=value" strings. A name with a '=' would set another
// variable: std::invalid_argument, as Python's ValueError.
std::vector<std::string> environment_of(const subprocess_options& o) {
  std::map<std::string, std::string> env;
  if (o.env) {
    env = *o.env;
  } else {
    for (char** e = environ; *e; ++e) {
      std::string_view entry(*e);
      auto eq = entry.find('=');
      if (eq != std::string_view::npos)
        env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
  }
  for (const auto& [name, value] : o.extend_env) env[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : env) {
    if (name.find('=') != std::string::npos)
      throw std::invalid_argument("illegal environment variable name: " + name);
    out.push_back(name + "=" + value);
    check_no_nul(out.back(), "environment variable");
  }
  return out;
}

// The program to run, found as Python finds it (execvp's rules): a name with a '/' as it is
// (from the child's directory), else in each directory of the child's PATH in turn. Checked
// here, not left to the exec, so that the error is the same however the child is started
// (valgrind's posix_spawn cannot report it): ENOENT, or EACCES if one was found but cannot run.
std::string find_program(const std::string& program, const std::vector<std::string>& env,
                         const std::string& cwd) {
  auto runnable = [](const std::string& path) {
    struct stat st {};
    return ::access(path.c_str(), X_OK) == 0 && ::stat(path.c_str(), &st) == 0 &&
           S_ISREG(st.st_mode);
  };
  if (program.find('/') != std::string::npos) {
    auto path = program[0] == '/' || cwd.empty() ? program : cwd + "/" + program;
    errno = 0;
    if (!runnable(path)) throw_errno(errno ? errno : EACCES, program);
    return path;
  }
  std::string search = "/bin:/usr/bin";  // Python's os.defpath, when PATH is not set
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) search = e.substr(5);
  int error = ENOENT;
  for (std::size_t start = 0; start <= search.size();) {
    auto end = std::min(search.find(':', start), search.size());
    auto dir = search.substr(start, end - start);
    auto path = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (runnable(path)) return path;
    if (::access(path.c_str(), F_OK) == 0) error = EACCES;  // there, but it cannot run
    start = end + 1;
  }
  throw_errno(error, program);
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn's file actions and attributes, destroyed with this.
struct spawn_setup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  spawn_setup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~spawn_setup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
};

// A write to a pipe whose reader is gone raises SIGPIPE, whose default action ends the
// program. Python ignores SIGPIPE from the start; we do once a child gets a pipe to write to,
// so that the write fails with EPIPE instead. A handler the program set stays.
void ignore_sigpipe() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

namespace detail {

/// One child: its pid, a descriptor that becomes readable when it ends, its pipes, its status.
struct process_state : std::enable_shared_from_this<process_state> {
  explicit process_state(pid_t pid) : pid(pid), ended(get_running_loop().context()) {
    pidfd = pidfd_open(pid);
    if (pidfd >= 0) {
      ended.assign(pidfd);
      return;
    }
    // No pidfd here (Linux before 5.3, valgrind): a thread waits for the end without reaping
    // the child (so its pid stays ours), then closes its end of a pipe, which makes our end
    // readable as a pidfd would be.
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe");
    ended.assign(fds[0]);
    waiter = std::thread([pid, notice = fds[1]] {
      siginfo_t info;
      while (::waitid(P_PID, pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
      }
      ::close(notice);
    });
  }

  // A child nobody waits for any more when the loop goes away (its watcher is destroyed with
  // the loop's io_context): killed and reaped, so that none is left a zombie.
  ~process_state() {
    if (!returncode) {
      signal(SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (waiter.joinable()) waiter.join();
  }

  /// Through the pidfd if there is one: never a stranger given the pid of a child reaped
  /// meanwhile. (Without, the pid is ours until reap() below, which runs on this thread.)
  int signal(int sig) noexcept {
    return pidfd >= 0 ? pidfd_send_signal(pidfd, sig) : ::kill(pid, sig);
  }

  /// Readable once the child has ended: then reap it.
  void watch() {
    ended.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](boost::system::error_code error) {
                       if (!error) self->reap();
                     });
  }

  void reap() {
    int status = 0;
    pid_t got;
    while ((got = ::waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (got != pid) return watch();  // not ended after all (a child that stopped, say)
    returncode = returncode_of(status);
    if (waiter.joinable()) waiter.join();  // it has closed its end: it is ending
    boost::system::error_code ignored;
    ended.close(ignored);
    pidfd = -1;
    exited.set();
  }

  process handle() { return process(shared_from_this()); }

  pid_t pid;
  int pidfd = -1;                        // ended's descriptor, if it is a pidfd
  asio::posix::stream_descriptor ended;  // a pidfd, or a pipe the waiter thread closes
  std::thread waiter;
  std::optional<int> returncode;
  event exited;
  std::optional<stream_writer> in;
  std::optional<stream_reader> out, err;
};

}  // namespace detail

namespace {

template <class Stream>
Stream& piped(std::optional<Stream>& s, const char* name) {
  if (!s) throw std::logic_error(std::string(name) + " is not a pipe (stdio::pipe)");
  return *s;
}

// Python's Popen: spawn, then hand the parent's pipe ends to the loop.
process spawn(std::vector<std::string> argv, const subprocess_options& o) {
  if (o.stdin == stdio::to_stdout || o.stdout == stdio::to_stdout)
    throw std::invalid_argument("stdio::to_stdout is for stderr only");
  for (const auto& arg : argv) check_no_nul(arg, "argument");
  check_no_nul(o.cwd, "cwd");
  auto& loop = get_running_loop();
  spawn_setup setup;
  child_stream streams[3];
  const stdio wanted[3] = {o.stdin, o.stdout, o.stderr};
  for (int target = 0; target < 3; ++target) {
    switch (wanted[target]) {
      case stdio::inherit:
        break;
      case stdio::pipe:
        streams[target] = make_pipe(target == 0);
        posix_spawn_file_actions_adddup2(&setup.actions, streams[target].child.get(), target);
        break;
      case stdio::devnull:
        posix_spawn_file_actions_addopen(&setup.actions, target, "/dev/null",
                                         target == 0 ? O_RDONLY : O_WRONLY, 0);
        break;
      case stdio::to_stdout:
        posix_spawn_file_actions_adddup2(&setup.actions, 1, 2);
        break;
    }
  }
  // Python's close_fds=True: the child gets its three streams and nothing else of ours.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, o.cwd.c_str());
  // Python's restore_signals=True, and no signal blocked, whatever this thread blocks.
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  if (!o.cwd.empty()) {  // Python names the directory when it is what is missing
    struct stat st {};
    if (::stat(o.cwd.c_str(), &st) != 0) throw_errno(errno, o.cwd);
    if (!S_ISDIR(st.st_mode)) throw_errno(ENOTDIR, o.cwd);
  }
  auto env = environment_of(o);
  auto program = find_program(argv[0], env, o.cwd);
  auto envp = pointers_to(env);
  auto args = pointers_to(argv);
  pid_t pid = 0;
  int error = posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attributes, args.data(),
                          envp.data());
  if (error) throw_errno(error, argv[0]);
  std::shared_ptr<detail::process_state> state;
  try {
    state = std::make_shared<detail::process_state>(pid);
  } catch (...) {  // out of descriptors or threads: this child is not left behind either
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw;
  }
  auto pipe_of = [&loop](child_stream& s, std::size_t limit) {
    return detail::open_pipe(asio::posix::stream_descriptor(loop.context(), s.ours.release()),
                             limit);
  };
  if (o.stdin == stdio::pipe) {
    ignore_sigpipe();
    state->in = pipe_of(streams[0], o.limit).second;
  }
  if (o.stdout == stdio::pipe) state->out = pipe_of(streams[1], o.limit).first;
  if (o.stderr == stdio::pipe) state->err = pipe_of(streams[2], o.limit).first;
  state->watch();
  return state->handle();
}

}  // namespace

pid_t process::pid() const noexcept { return s_->pid; }

stream_writer& process::stdin() { return piped(s_->in, "stdin"); }

stream_reader& process::stdout() { return piped(s_->out, "stdout"); }

stream_reader& process::stderr() { return piped(s_->err, "stderr"); }

coroutine<int> process::wait() {
  auto keep = s_;
  while (!keep->returncode) co_await keep->exited.wait();
  co_return *keep->returncode;
}

std::optional<int> process::returncode() const noexcept { return s_->returncode; }

void process::send_signal(int sig) {
  if (sig < 1 || sig >= NSIG)
    throw std::invalid_argument("send_signal: no signal " + std::to_string(sig));
  if (s_->returncode) return;
  if (s_->signal(sig) != 0) throw_errno(errno, "send_signal");
}

void process::terminate() { send_signal(SIGTERM); }

void process::kill() { send_signal(SIGKILL); }

coroutine<communicate_result> process::communicate(std::string input) {
  auto keep = s_;
  auto& s = *keep;
  if (s.in && !s.in->is_closing()) {
    if (!input.empty()) s.in->write(input);
    s.in->close();  // after what was written is sent; a child that stopped reading: dropped
  } else if (!input.empty()) {
    throw std::logic_error(s.in ? "communicate(): stdin is already closed"
                                : "communicate(): stdin is not a pipe (stdio::pipe)");
  }
  // Both at once (a child can fill one pipe while we wait on the other); every byte stays
  // buffered in its reader until both ended, so a cancel here loses nothing.
  std::vector<task<>> readers;
  for (auto* r : {&s.out, &s.err})
    if (*r) readers.push_back(create_task(detail::read_to_eof(**r)));
  if (!readers.empty()) co_await gather(readers);
  co_await wait();
  communicate_result result;
  if (s.out) result.out = co_await s.out->read();  // at the end: no wait
  if (s.err) result.err = co_await s.err->read();
  co_return result;
}

namespace {

// As Python's: nothing starts before the await. (Not create_subprocess_exec itself as a
// coroutine: g++ 12 copies a coroutine's defaulted class arguments wrongly.)
coroutine<process> spawn_when_awaited(std::vector<std::string> argv, subprocess_options options) {
  co_return spawn(std::move(argv), options);
}

}  // namespace

coroutine<process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                          subprocess_options options) {
  args.insert(args.begin(), std::move(program));
  return spawn_when_awaited(std::move(args), std::move(options));
}

coroutine<process> create_subprocess_shell(std::string command, subprocess_options options) {
  std::vector<std::string> argv{"/bin/sh", "-c", std::move(command)};
  return spawn_when_awaited(std::move(argv), std::move(options));
}

}  // namespace asyncio
