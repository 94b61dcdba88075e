#pragma once

// The command line of every demo: --help, and bad usage as a message plus exit status 2.

#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace demo {

namespace po = boost::program_options;

/// Parses argv against `options` (which gets --help added). --help prints `about` and the
/// options and exits 0; anything wrong prints why and exits 2.
inline po::variables_map parse(int argc, char** argv, const std::string& about,
                               po::options_description options) {
  options.add_options()("help,h", "show this help and exit");
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
