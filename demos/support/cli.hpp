#pragma once

// The command line of every demo: --help, --trace, output files, and bad usage as a message
// plus exit status 2, always before any work.

#include <asyncio/trace.hpp>

#include <fmt/core.h>

#include <boost/program_options.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace demo {

namespace po = boost::program_options;

/// Checks an output file named on the command line (--json, --csv, --plot, --trace) before
/// any work, without touching the file; gives the path to write it to. "-" is standard output:
/// the demo's report then goes to standard error, so that `demo --json - | jq` works.
inline std::string output_path(const std::string& path) {
  static int claimed_stdout = -1;
  if (path.empty()) throw po::error("an output file name cannot be empty");
  if (path == "-") {
    if (claimed_stdout >= 0) throw po::error("only one output can be '-'");
    std::cout.flush();
    std::fflush(stdout);
    claimed_stdout = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (claimed_stdout < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
      throw po::error("cannot redirect the report to standard error");
    return "/dev/fd/" + std::to_string(claimed_stdout);
  }
  std::error_code ignored;
  const bool existed = std::filesystem::exists(path, ignored);
  if (!std::ofstream(path, std::ios::app)) throw po::error("cannot write '" + path + "'");
  if (!existed) std::filesystem::remove(path, ignored);
  return path;
}

/// An option naming an output file (see output_path); `*path` gets the path to write to.
inline po::typed_value<std::string>* output(std::string* path) {
  return po::value(path)->notifier([path](const std::string& v) { *path = output_path(v); });
}

/// A number option that must lie within [low, high]: out of range, or not wholly a number, it
/// is bad usage ("the option '--jobs' must be 1-10000, not '0'").
template <class T>
class bounded_value : public po::typed_value<T> {
public:
  bounded_value(T* store, T low, T high) : po::typed_value<T>(store), low_(low), high_(high) {}

  void xparse(boost::any& value, const std::vector<std::string>& tokens) const override {
    po::typed_value<T>::xparse(value, tokens);
    const T v = boost::any_cast<T>(value);
    if (!(v >= low_ && v <= high_))  // a NaN fails too
      throw po::error_with_option_name(fmt::format(
          "the option '%canonical_option%' must be {}-{}, not '{}'", low_, high_, tokens.at(0)));
  }

private:
  T low_, high_;
};

template <class T>
bounded_value<T>* number(T* store, T low, T high) {
  return new bounded_value<T>(store, low, high);
}

/// Writes `text` to `path` (--json, --csv, --plot); false, and why on stderr, if it cannot.
inline bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (out) return true;
  std::cerr << "cannot write " << path << "\n";
  return false;
}

/// Parses argv against `options` (which gets --help and --trace added). --help prints `about`
/// and the options and exits 0; anything wrong (a stray argument too) prints why and exits 2.
/// The trace file is only written when a loop closes, so a rejected command line leaves it alone.
inline po::variables_map parse(int argc, char** argv, const std::string& about,
                               po::options_description options) {
  std::string trace_path;
  // clang-format off
  options.add_options()
      ("trace", output(&trace_path),
       "record every task's life to this Chrome Trace JSON file (open it in Perfetto; - for stdout)")
      ("help,h", "show this help and exit");
  // clang-format on
  po::variables_map vm;
  try {
    const po::positional_options_description none;  // no demo takes positional arguments
    po::store(po::command_line_parser(argc, argv).options(options).positional(none).run(), vm);
    if (vm.count("help")) {
      std::cout << about << "\n\n" << options << "\n";
      std::exit(0);
    }
    po::notify(vm);
    if (!trace_path.empty()) asyncio::trace_to(trace_path);
  } catch (const po::error& e) {
    std::cerr << argv[0] << ": " << e.what() << "\nTry '" << argv[0] << " --help'.\n";
    std::exit(2);
  }
  return vm;
}

/// Bad usage found after parsing (a value out of range): message, exit 2.
[[noreturn]] inline void usage_error(const char* argv0, const std::string& message) {
  std::cerr << argv0 << ": " << message << "\nTry '" << argv0 << " --help'.\n";
  std::exit(2);
}

}  // namespace demo
