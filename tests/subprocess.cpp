#include <asyncio/subprocess.hpp>

#include "test.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

BOOST_AUTO_TEST_SUITE(subprocess)

namespace {

using asyncio::stdio;

// Named, not a braced list in the co_await statement: g++ 12 rejects that (see README).
const std::vector<std::string> long_sleep{"100"};

using options = asyncio::subprocess_options;

asyncio::coroutine<asyncio::communicate_result> shell(std::string command,
                                                      asyncio::subprocess_options o) {
  auto p = co_await asyncio::create_subprocess_shell(std::move(command), std::move(o));
  co_return co_await p.communicate();
}

// This process's children, zombies included, from /proc.
std::vector<pid_t> children_of_this_process() {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after its last ')'.
    auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    char state;
    pid_t ppid;
    if (rest >> state >> ppid && ppid == ::getpid())
      out.push_back(std::stoi(entry.path().filename().string()));
  }
  return out;
}

// A FIFO a child's `cat` blocks on until the test opens and closes it: a gate, not a delay.
struct fifo {
  std::string path = "/tmp/asyncio-test-fifo-" + std::to_string(::getpid());
  int writer = -1;
  fifo() {
    ::unlink(path.c_str());
    BOOST_REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  }
  ~fifo() {
    if (writer >= 0) ::close(writer);
    ::unlink(path.c_str());
  }
  /// The child has opened it for reading (an open for writing would block until then).
  bool child_waits() {
    if (writer < 0) writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    return writer >= 0;
  }
  /// Once child_waits(): the child's `cat` sees the end of its input.
  void release() {
    ::close(writer);
    writer = -1;
  }
};

void open_and_close(std::string path) { std::ofstream(path).close(); }

// Lets the child through the gate whenever it gets there, without blocking the loop.
asyncio::coroutine<void> release_when_it_waits(std::string path) {
  co_await asyncio::to_thread(open_and_close, std::move(path));
}

}  // namespace

CO_TEST_CASE(wait_gives_the_exit_code_or_minus_the_signal_that_killed_it) {
  auto ok = co_await asyncio::create_subprocess_exec("true");
  BOOST_TEST(co_await ok.wait() == 0);
  auto three = co_await asyncio::create_subprocess_shell("exit 3");
  BOOST_TEST(co_await three.wait() == 3);
  BOOST_TEST(*three.returncode() == 3);
  auto killed = co_await asyncio::create_subprocess_shell("kill -TERM $$");
  BOOST_TEST(co_await killed.wait() == -SIGTERM);
  auto sleeper = co_await asyncio::create_subprocess_exec("sleep", long_sleep);
  BOOST_TEST(!sleeper.returncode());
  sleeper.kill();
  BOOST_TEST(co_await sleeper.wait() == -SIGKILL);
  sleeper.terminate();  // ended: nothing to signal, no error (Popen's rule)
  BOOST_CHECK_THROW(sleeper.send_signal(0), std::invalid_argument);
}

CO_TEST_CASE(every_combination_of_pipes_carries_what_it_should) {
  const std::string both = "echo out; echo err >&2";
  auto r = co_await shell(both, options(stdio::devnull, stdio::pipe, stdio::pipe));
  BOOST_TEST(r.out == "out\n");
  BOOST_TEST(r.err == "err\n");
  r = co_await shell(both, options(stdio::devnull, stdio::pipe, stdio::to_stdout));
  BOOST_TEST(r.out == "out\nerr\n");
  BOOST_TEST(r.err == "");
  r = co_await shell(both, options(stdio::devnull, stdio::devnull, stdio::pipe));
  BOOST_TEST(r.out == "");
  BOOST_TEST(r.err == "err\n");
  r = co_await shell("cat", options(stdio::devnull, stdio::pipe));  // /dev/null: at once the end
  BOOST_TEST(r.out == "");
  auto cat = co_await asyncio::create_subprocess_exec("cat", {}, {stdio::pipe, stdio::pipe});
  r = co_await cat.communicate("through cat");
  BOOST_TEST(r.out == "through cat");
  BOOST_TEST(*cat.returncode() == 0);
  // A stream that is not a pipe has no reader or writer.
  auto quiet =
      co_await asyncio::create_subprocess_exec("true", {}, options(stdio::devnull, stdio::devnull));
  BOOST_CHECK_THROW(quiet.stdin(), std::logic_error);
  BOOST_CHECK_THROW(quiet.stdout(), std::logic_error);
  BOOST_CHECK_THROW(quiet.stderr(), std::logic_error);
  BOOST_CHECK_THROW(co_await quiet.communicate("input"), std::logic_error);
  BOOST_TEST(co_await quiet.wait() == 0);
  BOOST_CHECK_THROW(
      co_await asyncio::create_subprocess_exec("true", {}, options(stdio::to_stdout, stdio::pipe)),
      std::invalid_argument);
}

CO_TEST_CASE(the_streams_read_and_write_as_the_child_goes) {
  auto p = co_await asyncio::create_subprocess_exec("cat", {}, {stdio::pipe, stdio::pipe});
  for (int i = 0; i < 3; ++i) {
    p.stdin().write("line " + std::to_string(i) + "\n");
    co_await p.stdin().drain();
    BOOST_TEST(co_await p.stdout().readline() == "line " + std::to_string(i) + "\n");
  }
  BOOST_TEST(p.stdin().can_write_eof());
  p.stdin().write_eof();  // a pipe has no halves: it closes, and cat reads the end
  BOOST_TEST(p.stdin().is_closing());
  BOOST_TEST(co_await p.stdout().read() == "");
  BOOST_TEST(co_await p.wait() == 0);
}

// As Python's pipe transport, write() hands the pipe what it takes at once: to a child that
// has exited, that fails (EPIPE, not SIGPIPE), and the next drain() says so.
CO_TEST_CASE(a_write_to_a_child_that_has_exited_fails_at_the_next_drain) {
  auto p = co_await asyncio::create_subprocess_exec("true", {}, {stdio::pipe, stdio::inherit});
  BOOST_TEST(co_await p.wait() == 0);
  p.stdin().write("nobody reads this\n");
  try {
    co_await p.stdin().drain();
    BOOST_FAIL("no error");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == boost::asio::error::broken_pipe);
  }
}

CO_TEST_CASE(cwd_and_env_reach_the_child) {
  auto o = options(stdio::devnull, stdio::pipe);
  o.cwd = "/tmp";
  auto r = co_await shell("pwd", o);
  BOOST_TEST(r.out == "/tmp\n");
  o = options(stdio::devnull, stdio::pipe);
  o.env = std::map<std::string, std::string>{{"ONLY", "this"}};
  auto env = co_await asyncio::create_subprocess_exec("/usr/bin/env", {}, o);
  BOOST_TEST((co_await env.communicate()).out == "ONLY=this\n");  // replaced: nothing else
  o = options(stdio::devnull, stdio::pipe);
  o.extend_env = {{"ADDED", "too"}};
  r = co_await shell("echo $ADDED; test -n \"$PATH\" && echo kept", o);
  BOOST_TEST(r.out == "too\nkept\n");  // extended: the parent's is there too
}

CO_TEST_CASE(a_program_that_cannot_start_fails_with_its_name_and_errno) {
  try {
    co_await asyncio::create_subprocess_exec("no-such-program-asyncio-cpp");
    BOOST_FAIL("started");
  } catch (const std::system_error& e) {
    BOOST_TEST(e.code().value() == ENOENT);
    BOOST_TEST(std::string(e.what()).find("no-such-program-asyncio-cpp") != std::string::npos);
  }
  const std::string not_executable =
      "/tmp/asyncio-test-not-executable-" + std::to_string(::getpid());
  std::ofstream(not_executable) << "#!/bin/sh\n";
  try {
    co_await asyncio::create_subprocess_exec(not_executable);
    BOOST_FAIL("started");
  } catch (const std::system_error& e) {
    BOOST_TEST(e.code().value() == EACCES);
  }
  ::unlink(not_executable.c_str());
  auto o = options(stdio::inherit, stdio::inherit);
  o.cwd = "/no/such/directory";
  try {
    co_await asyncio::create_subprocess_exec("true", {}, o);
    BOOST_FAIL("started");
  } catch (const std::system_error& e) {
    BOOST_TEST(e.code().value() == ENOENT);
    BOOST_TEST(std::string(e.what()).find("/no/such/directory") != std::string::npos);
  }
}

CO_TEST_CASE(a_nul_byte_or_a_name_with_an_equals_sign_is_invalid_argument_and_starts_nothing) {
  // Python's ValueError: the child would get the string cut short, or another variable set.
  const std::vector<std::string> nul_in_arg{std::string("a\0b", 3)};
  BOOST_CHECK_THROW(co_await asyncio::create_subprocess_exec("echo", nul_in_arg),
                    std::invalid_argument);
  BOOST_CHECK_THROW(co_await asyncio::create_subprocess_exec(std::string("ech\0o", 5)),
                    std::invalid_argument);
  BOOST_CHECK_THROW(co_await asyncio::create_subprocess_shell(std::string("true\0", 5)),
                    std::invalid_argument);
  auto o = options(stdio::inherit, stdio::inherit);
  o.cwd = std::string("/tmp\0/x", 7);
  BOOST_CHECK_THROW(co_await asyncio::create_subprocess_exec("true", {}, o), std::invalid_argument);
  o = options(stdio::inherit, stdio::inherit);
  o.extend_env = {{"A=B", "c"}};
  BOOST_CHECK_THROW(co_await asyncio::create_subprocess_exec("true", {}, o), std::invalid_argument);
  o = options(stdio::inherit, stdio::inherit);
  o.env = std::map<std::string, std::string>{{"A", std::string("x\0y", 3)}};
  BOOST_CHECK_THROW(co_await asyncio::create_subprocess_exec("true", {}, o), std::invalid_argument);
  BOOST_TEST(children_of_this_process().empty());
}

CO_TEST_CASE(ten_mib_through_cat_both_ways_does_not_deadlock) {
  std::string data(10 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i * 7 % 26);
  auto cat = co_await asyncio::create_subprocess_exec("cat", {}, {stdio::pipe, stdio::pipe});
  auto r = co_await cat.communicate(data);
  BOOST_TEST(r.out.size() == data.size());
  BOOST_TEST((r.out == data));
}

CO_TEST_CASE(a_hundred_children_at_once) {
  std::vector<asyncio::task<asyncio::communicate_result>> runs;
  for (int i = 0; i < 100; ++i)
    runs.push_back(asyncio::create_task(
        shell("echo " + std::to_string(i), options(stdio::devnull, stdio::pipe))));
  auto results = co_await asyncio::gather(runs);
  for (int i = 0; i < 100; ++i) BOOST_TEST(results[i].out == std::to_string(i) + "\n");
}

CO_TEST_CASE(a_timed_out_communicate_keeps_what_it_read_for_the_next_one) {
  fifo gate;
  // 100 KiB (more than a pipe holds, so the first call must read), then it waits on the gate.
  auto p = co_await asyncio::create_subprocess_shell(
      "cat; head -c 102400 /dev/zero | tr '\\0' x; cat " + gate.path + "; echo end",
      options(stdio::pipe, stdio::pipe, stdio::pipe));
  BOOST_CHECK_THROW(co_await asyncio::wait_for(p.communicate("input "), 200ms),
                    asyncio::timeout_error);
  BOOST_TEST(!p.returncode());  // not killed: it runs on (held by a full pipe, or the gate)
  BOOST_CHECK_THROW(co_await p.communicate("more"), std::logic_error);  // stdin was closed
  auto release = asyncio::create_task(release_when_it_waits(gate.path));
  auto r = co_await p.communicate();
  co_await *release;
  BOOST_TEST(r.out == "input " + std::string(102400, 'x') + "end\n");
  BOOST_TEST(*p.returncode() == 0);
}

CO_TEST_CASE(a_cancelled_communicate_keeps_what_it_read_for_the_next_one) {
  fifo gate;
  auto p = co_await asyncio::create_subprocess_shell(
      "echo first; echo to-stderr >&2; cat " + gate.path + "; echo second",
      options(stdio::devnull, stdio::pipe, stdio::pipe));
  auto first = asyncio::create_task(p.communicate());
  // Once the child waits at the gate, both lines are in its pipes; a few turns to read them.
  co_await test::until([&gate] { return gate.child_waits(); });
  for (int i = 0; i < 10; ++i) co_await asyncio::sleep(0s);
  first.cancel();
  BOOST_CHECK_THROW(co_await *first, asyncio::cancelled_error);
  BOOST_TEST(!p.returncode());
  gate.release();
  auto r = co_await p.communicate();
  BOOST_TEST(r.out == "first\nsecond\n");
  BOOST_TEST(r.err == "to-stderr\n");
  BOOST_TEST(*p.returncode() == 0);
}

CO_TEST_CASE(kill_during_a_read_ends_the_read_with_the_end_of_the_stream) {
  auto p = co_await asyncio::create_subprocess_exec("sleep", long_sleep,
                                                    options(stdio::devnull, stdio::pipe));
  auto read = asyncio::create_task(p.stdout().read());
  co_await asyncio::sleep(0s);  // the read waits
  p.kill();
  BOOST_TEST(co_await *read == "");
  BOOST_TEST(co_await p.wait() == -SIGKILL);
}

BOOST_AUTO_TEST_CASE(no_child_is_left_running_or_a_zombie_after_run) {
  auto amain = []() -> asyncio::coroutine<void> {
    // One that ends and is never awaited, one that would run for long, one dropped mid-read.
    co_await asyncio::create_subprocess_exec("true");
    co_await asyncio::create_subprocess_exec("sleep", long_sleep);
    auto p = co_await asyncio::create_subprocess_exec("sleep", long_sleep,
                                                      options(stdio::devnull, stdio::pipe));
    auto pending = asyncio::create_task(p.stdout().read());
    co_await asyncio::sleep(0s);
  };
  asyncio::run(amain());
  BOOST_TEST(children_of_this_process().empty());
}

BOOST_AUTO_TEST_SUITE_END()
