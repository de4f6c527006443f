// ClockReset: see clock_reset.hpp.
#include "xtu/sim/clock_reset.hpp"

#include <stdexcept>
#include <string>

namespace xtu::sim {

ClockReset::ClockReset(const sc_core::sc_module_name& name, const sc_core::sc_time& period, unsigned reset_cycles)
    : sc_module(name),
      clk("clk", period, 0.5, sc_core::SC_ZERO_TIME, true),
      rst_n("rst_n", reset_cycles == 0),
      period_(period),
      reset_cycles_(reset_cycles) {
  SC_METHOD(on_edge);
  sensitive << clk.posedge_event();
  dont_initialize();
}

// Registered like everything else: the value written at edge k is seen from edge k+1.
void ClockReset::on_edge() {
  ++edges_;
  rst_n.write(edges_ >= reset_cycles_);
}

void ClockReset::run(uint64_t n) {
  if (n > 0) sc_core::sc_start(period_ * static_cast<double>(n));
}

uint64_t ClockReset::run_until(const std::function<bool()>& done, uint64_t max_cycles) {
  uint64_t n = 0;
  while (!done()) {
    if (n >= max_cycles)
      throw std::runtime_error("ClockReset::run_until: condition not met after " + std::to_string(max_cycles) +
                               " cycles");
    sc_core::sc_start(period_);
    ++n;
  }
  return n;
}

}  // namespace xtu::sim
