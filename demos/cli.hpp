#pragma once

// The command line of every demo: --help, --trace, and bad usage as a message plus exit
// status 2.

#include <asyncio/trace.hpp>

#include <boost/program_options.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

namespace demo {

namespace po = boost::program_options;

/// --trace FILE: asyncio::trace_to(FILE), once it is known that FILE can be written.
inline void trace_to(const std::string& path) {
  if (!std::ofstream(path)) throw po::error("cannot write the trace file '" + path + "'");
  asyncio::trace_to(path);
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
/// and the options and exits 0; anything wrong prints why and exits 2.
inline po::variables_map parse(int argc, char** argv, const std::string& about,
                               po::options_description options) {
  // clang-format off
  options.add_options()
      ("trace", po::value<std::string>()->notifier(&trace_to),
       "record every task's life to this Chrome Trace JSON file (open it in Perfetto)")
      ("help,h", "show this help and exit");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << about << "\n\n" << options << "\n";
      std::exit(0);
    }
    po::notify(vm);
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
