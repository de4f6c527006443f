// event_queue block (docs/architecture.md): prefetches event ring entries
// [EVQ_TAIL, EVQ_HEAD) in bursts of up to 4 entries (never across the ring's end), checks them,
// and hands them to the walker in ring order. drained_o says that every entry the driver has
// published so far has been handed over: with the driver's rule (all events up to trace offset X
// are published before trace bytes at X), the walker may then process any packet it holds.
#pragma once

#include <systemc>

#include <deque>
#include <vector>

#include "xtu/model/mem_channels.hpp"
#include "xtu/model/records.hpp"
#include "xtu/model/unit_state.hpp"

namespace xtu::model {

class EventQueue : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni, start_i;
  MemReadPorts mem_rd;
  ChanOut<EventItem> out;
  sc_core::sc_out<bool> drained_o;
  sc_core::sc_out<uint32_t> error_o;

  EventQueue(sc_core::sc_module_name n, const UnitConfig& cfg, UnitStatus& status, unsigned depth);

private:
  void seq();

  const UnitConfig& cfg_;
  UnitStatus& status_;
  unsigned depth_;
  std::deque<EventItem> fifo_;
  uint64_t fetched_ = 0;       // entries requested so far (running count)
  unsigned in_flight_ = 0;     // entries requested, not yet received
  std::vector<uint8_t> buf_;   // bytes of entries being received
  bool rreq_valid_ = false, out_valid_ = false;
  MemRead rreq_;
  uint32_t error_ = 0;
  bool running_ = false;
};

}  // namespace xtu::model
