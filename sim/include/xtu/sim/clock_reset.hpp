// ClockReset: the test bench's clock and synchronous active-low reset.
//
// clk: an sc_clock, first rising edge at time 0, 50 % duty cycle (default period 1 ns: the
// model's 1 GHz). rst_n: low at the first `reset_cycles` rising edges (edges 0 .. N-1 sample it
// low) and high from edge N on; reset_cycles = 0 starts out of reset.
//
// run(n) from outside the simulation simulates exactly n rising edges (sc_start(n * period)).
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>

namespace xtu::sim {

class ClockReset : public sc_core::sc_module {
public:
  sc_core::sc_clock clk;
  sc_core::sc_signal<bool> rst_n;

  SC_HAS_PROCESS(ClockReset);
  explicit ClockReset(const sc_core::sc_module_name& name,
                      const sc_core::sc_time& period = sc_core::sc_time(1, sc_core::SC_NS),
                      unsigned reset_cycles = 4);

  const sc_core::sc_time& period() const { return period_; }
  unsigned reset_cycles() const { return reset_cycles_; }
  uint64_t cycle() const { return edges_; }  // rising edges simulated so far

  // From outside the simulation: simulate n rising edges.
  void run(uint64_t n);
  // Simulate one edge at a time until done() (checked before each edge) is true; returns the
  // edges simulated, throws std::runtime_error after max_cycles.
  uint64_t run_until(const std::function<bool()>& done, uint64_t max_cycles);

private:
  void on_edge();

  sc_core::sc_time period_;
  unsigned reset_cycles_;
  uint64_t edges_ = 0;
};

}  // namespace xtu::sim
