// xtu: the command-line front end. `xtu <subcommand> --help` describes each job.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::puts("usage: xtu <subcommand> [options]\n");
    return argc < 2 ? 2 : 0;
  }
  std::fprintf(stderr, "xtu: unknown subcommand '%s' (try xtu --help)\n", argv[1]);
  return 2;
}
