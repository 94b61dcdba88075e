#pragma once

// Small SVG charts with no dependency: grouped bars for one run, lines for a sweep. Times
// span decades (async is ~100x faster than sequential), so the value axis is logarithmic.
// Each series is a <g data-series="name">, so tools and tests can find it.

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace demo {

struct series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y); for bars, x is the group's index
  int color = -1;                                 // a palette index; -1: the series' own
  bool dashed = false;                            // lines only
};

namespace detail {

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A log10 axis over whole decades covering [lo, hi], mapped onto [from, to] pixels.
struct log_axis {
  double lo, hi, from, to;
  log_axis(double min, double max, double from_px, double to_px)
      : lo(std::floor(std::log10(std::max(min, 1e-9)))),
        hi(std::max(std::ceil(std::log10(std::max(max, 1e-9))), lo + 1)),
        from(from_px),
        to(to_px) {}
  double at(double v) const {
    return from + (std::log10(std::max(v, 1e-9)) - lo) / (hi - lo) * (to - from);
  }
};

inline const char* color(std::size_t i) {
  static const char* palette[] = {"#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b"};
  return palette[i % 6];
}

}  // namespace detail

/// A chart as an SVG document. `groups` empty: a line chart over a log x axis (a sweep);
/// else grouped bars, one group per name, one bar per series.
inline std::string chart_svg(const std::string& title, const std::string& x_label,
                             const std::string& y_label, const std::vector<series>& all,
                             const std::vector<std::string>& groups = {}) {
  using detail::xml_escape;
  const double w = 880, h = 440, left = 80, right = 560, top = 50, bottom = 380;
  double y_min = 1e300, y_max = 0, x_min = 1e300, x_max = 0;
  for (const auto& s : all)
    for (auto [x, y] : s.points) {
      y_min = std::min(y_min, y), y_max = std::max(y_max, y);
      x_min = std::min(x_min, x), x_max = std::max(x_max, x);
    }
  if (y_max <= 0) y_min = y_max = 1;
  detail::log_axis ya(y_min, y_max, bottom, top);
  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"25\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
      w, h, left, xml_escape(title));
  for (double d = ya.lo; d <= ya.hi; ++d) {  // value axis: a line per decade
    double y = ya.at(std::pow(10, d));
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n",
        left, y, right, y, left - 6, y + 4, std::pow(10, d));
  }
  svg += fmt::format(
      "<text x=\"20\" y=\"{}\" transform=\"rotate(-90 20 {})\" text-anchor=\"middle\">{}</text>\n"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
      (top + bottom) / 2, (top + bottom) / 2, xml_escape(y_label), (left + right) / 2, bottom + 40,
      xml_escape(x_label));

  const bool bars = !groups.empty();
  detail::log_axis xa(std::max(x_min, 1.0), std::max(x_max, 1.0), left + 20, right - 20);
  const double group_w = bars ? (right - left) / groups.size() : 0;
  const double bar_w = bars ? group_w * 0.8 / std::max<std::size_t>(all.size(), 1) : 0;
  if (bars)
    for (std::size_t g = 0; g < groups.size(); ++g)
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                         left + (g + 0.5) * group_w, bottom + 18, xml_escape(groups[g]));
  else
    for (double d = xa.lo; d <= xa.hi; ++d)
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n",
                         xa.at(std::pow(10, d)), bottom + 18, std::pow(10, d));

  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& s = all[i];
    const char* color = detail::color(s.color >= 0 ? s.color : i);
    svg += fmt::format("<g data-series=\"{}\" fill=\"{}\" stroke=\"{}\">\n", xml_escape(s.name),
                       color, color);
    std::string line;
    for (auto [x, y] : s.points) {
      if (bars) {
        double x0 = left + x * group_w + group_w * 0.1 + i * bar_w, y0 = ya.at(y);
        svg += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\">"
            "<title>{}: {:.4g}</title></rect>\n",
            x0, y0, bar_w * 0.9, bottom - y0, xml_escape(s.name), y);
      } else {
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\"/>\n", xa.at(x), ya.at(y));
        line += fmt::format("{:.1f},{:.1f} ", xa.at(x), ya.at(y));
      }
    }
    const char* dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
    if (!bars) svg += fmt::format("<polyline points=\"{}\" fill=\"none\"{}/>\n", line, dash);
    svg += fmt::format(
        "</g>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>"
        "<text x=\"{}\" y=\"{}\">{}</text>\n",
        right + 20, top + 20 * i + 6, right + 40, top + 20 * i + 6, color, bars ? 10 : 2, dash,
        right + 46, top + 20 * i + 10, xml_escape(s.name));
  }
  return svg + "</svg>\n";
}

}  // namespace demo
