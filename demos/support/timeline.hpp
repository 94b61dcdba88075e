#pragma once

// What happened when, by whom: a log of spans, printed as lines and as a terminal chart with
// one row per actor and time across, so that overlap (concurrency) is seen at a glance.

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace demo {

class timeline {
public:
  using clock = std::chrono::steady_clock;

  /// A span of `actor` doing `what`; `busy` draws it solid (working), else light (waiting).
  struct span {
    std::string actor, what;
    double start_ms, end_ms;
    bool busy;
  };

  timeline() : origin_(clock::now()) {}

  double now_ms() const {
    return std::chrono::duration<double, std::milli>(clock::now() - origin_).count();
  }
  /// A span from start_ms to now.
  void add(std::string actor, std::string what, double start_ms, bool busy) {
    add(std::move(actor), std::move(what), start_ms, now_ms(), busy);
  }
  void add(std::string actor, std::string what, double start_ms, double end_ms, bool busy) {
    spans_.push_back({std::move(actor), std::move(what), start_ms, end_ms, busy});
  }
  const std::vector<span>& spans() const { return spans_; }
  double total_ms() const {
    double end = 0;
    for (const auto& s : spans_) end = std::max(end, s.end_ms);
    return end;
  }

  /// One line per span, in start order: "  200 ms  reader   reads page 1 (150 ms)".
  void print_log() const {
    auto sorted = spans_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const span& a, const span& b) { return a.start_ms < b.start_ms; });
    for (const auto& s : sorted)
      fmt::print("  {:>6.0f} ms  {:<8} {} ({:.0f} ms)\n", s.start_ms, s.actor, s.what,
                 s.end_ms - s.start_ms);
  }

  /// Rows of `width` columns; solid = busy, light = not, blank = idle; the legend names them
  /// (not_busy "": no such spans, no legend for them).
  /// `axis_ms` > 0 sets the time the width stands for, so that several charts compare.
  void print_chart(int width, bool ascii, const char* busy = "working",
                   const char* not_busy = "waiting", double axis_ms = 0) const {
    const double total = std::max(axis_ms > 0 ? axis_ms : total_ms(), 1.0);
    const double per_column = total / width;
    std::vector<std::string> actors;
    for (const auto& s : spans_)
      if (std::find(actors.begin(), actors.end(), s.actor) == actors.end())
        actors.push_back(s.actor);
    const char* solid = ascii ? "#" : "\u2588";
    const char* light = ascii ? "." : "\u2591";
    fmt::print("  {:<8} 0 ms{:>{}} ms\n", "", fmt::format("{:.0f}", total), width - 4);
    for (const auto& actor : actors) {
      std::vector<int> cell(width, 0);  // 0 idle, 1 waiting, 2 busy
      for (const auto& s : spans_) {
        if (s.actor != actor) continue;
        int from = std::clamp(static_cast<int>(s.start_ms / per_column), 0, width - 1);
        int to = std::clamp(static_cast<int>(s.end_ms / per_column), from + 1, width);
        for (int c = from; c < to; ++c) cell[c] = std::max(cell[c], s.busy ? 2 : 1);
      }
      std::string row;
      for (int c : cell) row += c == 2 ? solid : c == 1 ? light : " ";
      fmt::print("  {:<8}|{}|\n", actor, row);
    }
    auto waiting = *not_busy ? fmt::format("{} {}   ", light, not_busy) : std::string();
    fmt::print("  {:<8} {} {}   {}(1 column = {:.2g} ms)\n", "", solid, busy, waiting, per_column);
  }

private:
  clock::time_point origin_;
  std::vector<span> spans_;
};

}  // namespace demo
