// Shared by the SystemC test benches: SystemC without its banner (the variable must be set
// before the simulation context exists, i.e. before the first module is built).
#pragma once

#include <cstdlib>

namespace xtu::test {

inline const bool kSystemcQuiet = [] {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return true;
}();

}  // namespace xtu::test
