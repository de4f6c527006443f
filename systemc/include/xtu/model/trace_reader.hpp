// trace_reader block (docs/architecture.md): reads the trace ring [fetch position, TRACE_HEAD) in
// bursts of up to TRACE_BURST beats (never across the ring's end or a 4 KiB boundary), as far as
// its beat FIFO has room, and hands the bytes on as beats. TRACE_HEAD may grow while the unit
// runs (streaming); at TRACE_HEAD with CTRL.TRACE_LAST set, an end beat follows the last bytes.
// TRACE_BASE must be 8-byte aligned and TRACE_SIZE a multiple of 8.
#pragma once

#include <systemc>

#include <deque>

#include "xtu/model/mem_channels.hpp"
#include "xtu/model/records.hpp"
#include "xtu/model/unit_state.hpp"

namespace xtu::model {

class TraceReader : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni, start_i;
  MemReadPorts mem_rd;
  ChanOut<TraceBeat> out;
  sc_core::sc_out<uint32_t> error_o;

  TraceReader(sc_core::sc_module_name n, const UnitConfig& cfg, unsigned fifo_beats, unsigned burst);

private:
  void seq();

  const UnitConfig& cfg_;
  unsigned fifo_beats_, burst_;
  std::deque<TraceBeat> fifo_;
  // An issued burst: trace bytes [first, last) in `beats` aligned words (TRACE_SIZE is a multiple
  // of 8, so trace offsets and ring positions have the same alignment).
  struct Burst { uint64_t first, last; unsigned beats; };
  std::deque<Burst> pending_;  // issued bursts, in order
  unsigned pending_beats_ = 0, beat_in_burst_ = 0;
  uint64_t fetch_ = 0;  // trace bytes requested so far
  bool rreq_valid_ = false, out_valid_ = false, end_sent_ = false, running_ = false;
  MemRead rreq_;
  uint32_t error_ = 0;
};

}  // namespace xtu::model
