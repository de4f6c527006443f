// Small helpers shared by the subcommands' option parsing.
#pragma once

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "commands.hpp"

namespace xtu::cli {

namespace po = boost::program_options;

// Parse `args` against `desc` (+ positionals). Returns false (after printing help) on --help.
inline bool parse(const Args& args, const std::string& usage, po::options_description& desc, po::variables_map& vm,
                  const po::positional_options_description* pos = nullptr, bool allow_unregistered = false) {
  desc.add_options()("help,h", "show this help");
  auto parser = po::command_line_parser(args).options(desc);
  if (pos) parser.positional(*pos);
  if (allow_unregistered) parser.allow_unregistered();
  po::store(parser.run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: " << usage << "\n\n" << desc << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace xtu::cli
