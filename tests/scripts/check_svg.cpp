// check_svg FILE NAME...: passes if FILE is well-formed XML (an <svg> document) holding a
// <g data-series="NAME"> for each NAME. For the demos' --plot smoke tests.

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <iostream>
#include <set>
#include <string>

namespace pt = boost::property_tree;

void collect(const pt::ptree& node, std::set<std::string>& names) {
  for (const auto& [tag, child] : node) {
    if (tag == "g")
      if (auto name = child.get_optional<std::string>("<xmlattr>.data-series")) names.insert(*name);
    collect(child, names);
  }
}

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::cerr << "usage: check_svg FILE [SERIES-NAME...]\n";
    return argc < 2 ? 2 : 0;
  }
  pt::ptree doc;
  try {
    pt::read_xml(argv[1], doc);
  } catch (const pt::xml_parser_error& e) {
    std::cerr << "not well-formed XML: " << e.what() << "\n";
    return 1;
  }
  if (!doc.get_child_optional("svg")) {
    std::cerr << "no <svg> root\n";
    return 1;
  }
  std::set<std::string> names;
  collect(doc, names);
  int missing = 0;
  for (int i = 2; i < argc; ++i)
    if (!names.count(argv[i])) {
      std::cerr << "no series '" << argv[i] << "'\n";
      ++missing;
    }
  std::cout << names.size() << " series found\n";
  return missing ? 1 : 0;
}
