// A weak sc_main for programs that drive SystemC from their own main() (see CMakeLists.txt).
// Only libsystemc's own main() would call it, and xtu's programs never use that main(); a
// program that defines a real sc_main overrides this one.
#include <cstdio>

extern "C" __attribute__((weak)) int sc_main(int, char**) {
  std::fputs("xtu: this program drives SystemC from its own main(); sc_main is not used\n", stderr);
  return 1;
}
