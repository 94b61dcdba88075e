// `make compare`: the workloads of wrappers_vs_asio (W1-W5, same sizes, same meaning) run by
// five peers: asyncio-cpp, raw Asio, Python asyncio, uvloop and node. Each run is a fresh
// process that checks its own result and prints one JSON line; a run that fails is reported as
// failed, never as a time. Rounds are interleaved (every peer once per round, the order rotated)
// and the median of each peer's runs is kept. A peer that cannot run here is skipped, saying why.

#include "process.hpp"
#include "support/chart.hpp"
#include "support/cli.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

namespace {

struct workload {
  std::string id, file, title, unit;
  bool higher_is_better;
  int n;
};

struct peer {
  std::string name, label;
  std::vector<std::string> probe;  // a command that succeeds only if the peer can run
  std::function<std::vector<std::string>(const workload&, int)> command;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string directory_of_this_program() {
  char path[4096];
  auto len = ::readlink("/proc/self/exe", path, sizeof path - 1);
  std::string self(path, len > 0 ? len : 0);
  return self.substr(0, self.rfind('/'));
}

/// One run of one peer: its figure, or an exception saying why there is none.
double run_once(const peer& p, const workload& w) {
  auto command = p.command(w, w.n);
  auto result = bench::run_program(command);
  if (result.status != 0)
    throw std::runtime_error(fmt::format("{} {} exited with {}", p.name, w.id, result.status));
  auto line = bench::last_json_line(result.out);
  if (line.at("workload").as_string() != w.id || line.at("n").to_number<int>() != w.n)
    throw std::runtime_error(fmt::format("{} {} answered for another workload", p.name, w.id));
  return line.at("value").to_number<double>();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  double scale = 1;
  std::string json_path, plot_path, python, node, only, peers_dir = ASYNCIO_PEERS_DIR;
  bool markdown = false;
  demo::po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("rounds", demo::number(&rounds, 1, 25)->default_value(3), "rounds; each peer's median is kept (1-25)")
      ("scale", demo::po::value(&scale)->default_value(1), "multiply every workload's size (0 < s <= 1)")
      ("peers", demo::po::value(&only), "only these peers, comma-separated (default: all five)")
      ("python", demo::po::value(&python)->default_value("/usr/bin/python3"), "Debian's python3, with python3-uvloop")
      ("node", demo::po::value(&node)->default_value("node"), "node")
      ("peers-dir", demo::po::value(&peers_dir), "where bench/peers is")
      ("json", demo::output(&json_path), "write the results (machine, date, command, every run) to this JSON file")
      ("plot", demo::output(&plot_path), "draw each peer's cost relative to asyncio-cpp as an SVG bar chart")
      ("markdown", demo::po::bool_switch(&markdown), "also print the table as Markdown (for the README)");
  // clang-format on
  demo::parse(argc, argv,
              "compare: W1-W5 in asyncio-cpp, raw Asio, Python asyncio, uvloop and node, "
              "interleaved rounds, medians.",
              options);
  if (!(scale > 0 && scale <= 1)) demo::usage_error(argv[0], "--scale must be in (0, 1]");
  for (const auto& path : {json_path, plot_path})
    if (!path.empty() && !demo::write_file(path, ""))
      demo::usage_error(argv[0], "cannot write " + path);

  auto sized = [scale](int n) { return std::max(1, int(std::lround(n * scale))); };
  const std::vector<workload> workloads = {
      {"W1", "w1_gather", "spawn+yield+gather", "tasks/s", true, sized(200'000)},
      {"W2", "w2_sleep", "100 ms sleeps", "ms over 100 ms", false, sized(100'000)},
      {"W3", "w3_memory", "waiting task", "bytes/task", false, sized(100'000)},
      {"W4", "w4_queue", "queue handoff", "ns/handoff", false, sized(500'000)},
      {"W5", "w5_echo", "echo over loopback", "us/round trip", false, sized(1'000)},
  };

  const std::string cpp = directory_of_this_program() + "/wrappers_vs_asio";
  auto cpp_peer = [cpp](std::string side) {
    return [cpp, side](const workload& w, int n) {
      return std::vector<std::string>{cpp,   "--workload",     w.id, "--side", side,
                                      "--n", std::to_string(n)};
    };
  };
  auto python_peer = [&](std::string loop) {
    return [&, loop](const workload& w, int n) {
      return std::vector<std::string>{python, peers_dir + "/python/" + w.file + ".py",
                                      std::to_string(n), "--loop", loop};
    };
  };
  std::vector<peer> all = {
      {"asyncio-cpp", "asyncio-cpp", {cpp, "--help"}, cpp_peer("asyncio-cpp")},
      {"raw-asio", "raw Asio", {cpp, "--help"}, cpp_peer("raw-asio")},
      {"node",
       "node",
       {node, "-e", ""},
       [&](const workload& w, int n) {
         return std::vector<std::string>{node, peers_dir + "/node/" + w.file + ".js",
                                         std::to_string(n)};
       }},
      {"uvloop", "uvloop", {python, "-c", "import uvloop"}, python_peer("uvloop")},
      {"python-asyncio",
       "Python asyncio",
       {python, "-c", "import asyncio"},
       python_peer("asyncio")},
  };

  std::vector<peer> peers;
  boost::json::object skipped;
  for (const auto& p : all) {
    if (!only.empty() && ("," + only + ",").find("," + p.name + ",") == std::string::npos) continue;
    if (bench::run_program(p.probe).status != 0) {
      auto why = fmt::format("'{}' did not run", fmt::join(p.probe, " "));
      fmt::print("skipped: {} ({})\n", p.label, why);
      skipped[p.name] = why;
      continue;
    }
    peers.push_back(p);
  }
  if (peers.empty()) demo::usage_error(argv[0], "no peer to run (see --peers)");

  // runs[workload][peer]: every figure, in round order.
  std::map<std::string, std::map<std::string, std::vector<double>>> runs;
  std::vector<std::string> failures;
  for (int r = 0; r < rounds; ++r) {
    std::cerr << "round " << r + 1 << " of " << rounds << "\n";
    for (const auto& w : workloads)
      for (std::size_t k = 0; k < peers.size(); ++k) {
        const auto& p = peers[(k + r) % peers.size()];  // rotated: no peer always goes first
        try {
          runs[w.id][p.name].push_back(run_once(p, w));
        } catch (const std::exception& e) {
          failures.push_back(e.what());
          std::cerr << "FAILED: " << e.what() << "\n";
        }
      }
  }

  // Cost relative to asyncio-cpp: > 1 means the peer is slower or bigger.
  auto ratio = [&](const workload& w, double base, double v) {
    return w.higher_is_better ? base / v : v / base;
  };
  boost::json::array results;
  std::map<std::string, std::map<std::string, std::pair<double, double>>> table;  // median, ratio
  for (const auto& w : workloads) {
    boost::json::object by_peer;
    auto& ours = runs[w.id]["asyncio-cpp"];
    double base = ours.empty() ? NAN : median(ours);
    for (const auto& p : peers) {
      auto& v = runs[w.id][p.name];
      if (v.empty()) continue;
      double m = median(v), x = ratio(w, base, m);
      table[w.id][p.name] = {m, x};
      by_peer[p.name] = {{"median", m}, {"runs", boost::json::value_from(v)}};
      if (std::isfinite(x)) by_peer[p.name].as_object()["cost_ratio"] = x;
    }
    results.push_back({{"workload", w.id},
                       {"title", w.title},
                       {"unit", w.unit},
                       {"n", w.n},
                       {"higher_is_better", w.higher_is_better},
                       {"peers", by_peer}});
  }

  auto cell = [&](const workload& w, const peer& p, bool with_ratio) -> std::string {
    auto it = table[w.id].find(p.name);
    if (it == table[w.id].end()) return "failed";
    auto [m, x] = it->second;
    auto figure = m >= 1e5 ? fmt::format("{:.3g}", m) : fmt::format("{:.4g}", m);
    if (!with_ratio || p.name == "asyncio-cpp" || !std::isfinite(x)) return figure;
    return fmt::format("{} ({:.2f}x)", figure, x);
  };
  fmt::print("\n{:<15}", "peer");
  for (const auto& w : workloads) fmt::print(" {:>16}", w.id + " " + w.unit);
  fmt::print("\n");
  for (const auto& p : peers) {
    fmt::print("{:<15}", p.label);
    for (const auto& w : workloads) fmt::print(" {:>16}", cell(w, p, true));
    fmt::print("\n");
  }
  fmt::print(
      "sizes: W1 {} tasks, W2 {} sleepers, W3 {} waiting tasks, W4 {} round trips,\n"
      "W5 50 clients x {} trips; medians of {} rounds; (x) = that peer's cost over "
      "asyncio-cpp's\n(> 1: slower or bigger)\n",
      workloads[0].n, workloads[1].n, workloads[2].n, workloads[3].n, workloads[4].n, rounds);

  if (markdown) {
    fmt::print("\n| workload |");
    for (const auto& p : peers) fmt::print(" {} |", p.label);
    fmt::print("\n|---|");
    for (std::size_t i = 0; i < peers.size(); ++i) fmt::print("---|");
    fmt::print("\n");
    for (const auto& w : workloads) {
      fmt::print("| {} {} ({}) |", w.id, w.title, w.unit);
      for (const auto& p : peers) fmt::print(" {} |", cell(w, p, true));
      fmt::print("\n");
    }
  }

  if (!json_path.empty()) {
    auto json = bench::stamp(argc, argv);
    json["rounds"] = rounds;
    json["scale"] = scale;
    json["workloads"] = results;
    json["skipped"] = skipped;
    json["failures"] = boost::json::value_from(failures);
    if (!demo::write_file(json_path, boost::json::serialize(json) + "\n")) return 1;
  }
  if (!plot_path.empty()) {
    std::vector<demo::series> bars;
    std::vector<std::string> groups;
    for (const auto& w : workloads) groups.push_back(w.id + " " + w.title);
    for (const auto& p : peers) {
      demo::series s{p.label, {}};
      for (std::size_t g = 0; g < workloads.size(); ++g)
        if (auto it = table[workloads[g].id].find(p.name);
            it != table[workloads[g].id].end() && std::isfinite(it->second.second))
          s.points.emplace_back(g, it->second.second);
      bars.push_back(s);
    }
    auto svg = demo::chart_svg("Cost relative to asyncio-cpp (lower is better)", "workload",
                               "x asyncio-cpp's time or memory (log)", bars, groups);
    if (!demo::write_file(plot_path, svg)) return 1;
  }
  if (!failures.empty()) {
    fmt::print(stderr, "{} run(s) failed\n", failures.size());
    return 1;
  }
}
