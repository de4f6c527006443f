// regs block (docs/registers.md, generated from rtl/regs/xtu_regs.yaml): the AXI4-Lite slave and
// the register file. Configuration registers drive UnitConfig (wires into the blocks); CTRL.START
// and CTRL.SOFT_RESET are one-cycle pulses; STATUS, the *_TAIL/*_HEAD status registers and the
// counters are read from the blocks. irq_o = |(IRQ_STATUS & IRQ_ENABLE).
//
// AXI4-Lite: AW and W are accepted independently (one of each buffered); a write is performed
// once both are held, its B response is registered; one read at a time, R registered. A 64-bit
// register is two words; writes and reads of its halves are independent. WSTRB selects the bytes
// written (W1C/W1S bits in bytes not written are left alone).
//
// The RTL of this block, rtl/regs/xtu_reg_top.sv, is generated from the register map by
// tools/regtool.py; tests/rtl/test_rtl_reg_top.cpp checks it against this model cycle for cycle.
#pragma once

#include <systemc>

#include "xtu/model/axi.hpp"
#include "xtu/model/unit_state.hpp"

namespace xtu::model {

struct UnitParams {
  unsigned cam_entries = 64, max_nodes = 32, axi_bytes = 8;
  unsigned trace_fifo_beats = 32, trace_burst = 16, event_fifo = 4, out_fifo = 32, ht_max_probe = 32;
  unsigned walk_width = 3, dec_width = 2;
};

class RegBlock : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni;
  AxiLiteSlavePorts s_axil;
  sc_core::sc_out<bool> start_o, soft_reset_o, irq_o;
  sc_core::sc_in<bool> done_i, watermark_i;
  sc_core::sc_in<uint32_t> error_i;  // ErrorBits of every block, ORed

  RegBlock(sc_core::sc_module_name n, UnitConfig& cfg, const UnitStatus& status, UnitCounters& counters,
           const UnitParams& params);

  bool busy() const { return busy_; }

private:
  void seq();
  uint32_t read_reg(uint32_t offset) const;
  void write_reg(uint32_t offset, uint32_t value, uint32_t strb);

  UnitConfig& cfg_;
  const UnitStatus& status_;
  UnitCounters& cnt_;
  UnitParams params_;
  // register state not in UnitConfig
  uint32_t ctrl_ = 0, irq_enable_ = 0, irq_status_ = 0;
  bool busy_ = false, done_ = false, prev_done_ = false, prev_wm_ = false;
  uint32_t errors_ = 0;
  bool start_pulse_ = false, reset_pulse_ = false;
  // AXI-Lite state
  bool aw_held_ = false, w_held_ = false, b_valid_ = false, r_valid_ = false;
  uint32_t aw_addr_ = 0, w_data_ = 0, w_strb_ = 0, r_data_ = 0, r_resp_ = 0, b_resp_ = 0;
};

}  // namespace xtu::model
