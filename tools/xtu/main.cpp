// xtu: the command-line front end. `xtu <subcommand> --help` describes each job.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "commands.hpp"
#include "xtu/formats/error.hpp"

namespace {

struct Command {
  const char* name;
  int (*fn)(const xtu::cli::Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"demo", xtu::cli::cmd_demo, "capture a bundled workload and check it end to end"},
    {"capture", xtu::cli::cmd_capture, "run a guest program under QEMU and write a trace bundle"},
    {"golden", xtu::cli::cmd_golden, "decode a bundle with libipt: the reference guest trace"},
    {"run", xtu::cli::cmd_run, "run the unit (cycle-accurate model) on a bundle: its guest trace"},
    {"packets", xtu::cli::cmd_packets, "list the packets the unit's decoder sees (ptdump format)"},
    {"events", xtu::cli::cmd_events, "print a DBT event stream"},
    {"compare", xtu::cli::cmd_compare, "compare two guest traces (text v1)"},
};

void usage(FILE* f) {
  std::fputs("usage: xtu <subcommand> [options]   (xtu <subcommand> --help for its options)\n\nsubcommands:\n", f);
  for (const Command& c : kCommands) std::fprintf(f, "  %-9s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) { usage(stderr); return 2; }
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.fn(xtu::cli::Args(argv + 2, argv + argc));
    } catch (const xtu::FormatError& e) {
      std::fprintf(stderr, "xtu %s: %s\n", c.name, e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "xtu %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "xtu: unknown subcommand '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
