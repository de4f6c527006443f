// formatter + out_writer block (docs/architecture.md): walker events become 16-byte records
// (docs/layouts.md, "record") written to the output ring in bursts (up to 8 records, never across
// the ring's end or a 4 KiB boundary), up to 4 bursts in flight. A burst starts when 8 records
// are waiting or no record arrived in the last cycle. OUT_HEAD advances as bursts are
// acknowledged (in order); while the ring is full (written - OUT_TAIL = OUT_SIZE) nothing is
// written and the input stalls, which stalls the walker. done_o rises once END is written.
#pragma once

#include <systemc>

#include <deque>

#include "xtu/model/mem_channels.hpp"
#include "xtu/model/records.hpp"
#include "xtu/model/unit_state.hpp"

namespace xtu::model {

class OutWriter : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni, start_i;
  ChanIn<OutItem> in;
  MemWritePorts mem_wr;
  sc_core::sc_out<bool> done_o;
  sc_core::sc_out<bool> watermark_o;  // at least OUT_WATERMARK records wait in the ring
  sc_core::sc_out<uint32_t> error_o;

  OutWriter(sc_core::sc_module_name n, const UnitConfig& cfg, UnitStatus& status, UnitCounters& counters,
            unsigned depth);

private:
  void seq();

  const UnitConfig& cfg_;
  UnitStatus& status_;
  UnitCounters& cnt_;
  unsigned depth_;
  struct Rec {
    uint8_t bytes[16];
    bool end;
  };
  std::deque<Rec> fifo_;
  uint64_t head_ = 0;          // bytes acknowledged
  uint64_t written_ = 0;       // bytes issued (head_ + bursts in flight)
  struct Inflight { unsigned records; bool end; };
  std::deque<Inflight> inflight_;
  bool arrived_ = false;       // a record arrived at the last edge
  std::deque<MemWBeat> beats_;
  bool wreq_valid_ = false, wbeat_valid_ = false;
  MemWrite wreq_;
  MemWBeat wbeat_;
  bool done_ = false, running_ = false;
  bool have_time_hi_ = false;
  uint32_t time_hi_ = 0;  // TSC bits 63:32 of the last TIME record
  uint32_t error_ = 0;
};

}  // namespace xtu::model
