// UnitTlm: the cycle-accurate unit (unit.hpp) behind TLM-2.0 sockets, for virtual platforms
// (loosely timed, blocking transport). The inner model is the same Unit; only its interfaces
// change (tlm_bridge.hpp has the bridges and their exact timing; docs/tlm.md the whole story):
//
//   regs  target socket, 32-bit bus: the register space (docs/registers.md), offsets from 0
//         (a router strips the platform's base address). 4-byte aligned 4-byte reads and
//         writes, byte enables on writes; every access is one AXI4-Lite access on the unit's
//         pins. b_transport waits (the access takes 2-3 cycles of the unit's clock): call it
//         from a thread.
//   mem   initiator socket, 64-bit bus: the unit's DMA. Each AXI4 burst the unit issues
//         becomes one b_transport (read, or write with byte enables from WSTRB); the target's
//         annotated delay becomes the AXI latency the unit sees; a response other than OK
//         becomes SLVERR (the unit stops with STATUS.ERR_AXI).
//   irq   the interrupt line (level, active high): bind it to an sc_signal<bool>.
//
// The unit runs on its own clock (an sc_clock with the given period, first rising edge at time
// 0) and comes out of its own reset after `reset_cycles` edges; it always runs, in simulation
// time, whatever the initiators' local time offsets: the quantum an initiator runs ahead is
// only caught up when it synchronises (or, with sync_register_access, at its register
// accesses). SystemC elaborates once per process: build it before the first sc_start().
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>

#include "xtu/model/axi.hpp"
#include "xtu/model/tlm_bridge.hpp"
#include "xtu/model/unit.hpp"

namespace xtu::model {

struct UnitTlmParams {
  UnitParams unit;                                         // the Unit's own parameters
  sc_core::sc_time clock_period{1, sc_core::SC_NS};        // the unit's clock (1 GHz)
  unsigned reset_cycles = 4;                               // rising edges held in reset
  // Register accesses wait for the initiator's annotated delay before they reach the pins
  // (true), or start at once and leave the delay as it is (false). See tlm_bridge.hpp.
  bool sync_register_access = true;
  unsigned max_outstanding = 8;                            // memory bursts per direction
};

class UnitTlm : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<UnitTlm, 32> regs;
  tlm_utils::simple_initiator_socket<UnitTlm, 64> mem;
  sc_core::sc_out<bool> irq;

  SC_HAS_PROCESS(UnitTlm);
  explicit UnitTlm(const sc_core::sc_module_name& name, const UnitTlmParams& params = {});

  const UnitTlmParams& params() const { return params_; }
  const sc_core::sc_time& clock_period() const { return params_.clock_period; }
  uint64_t cycle() const { return edges_; }        // rising edges of the unit's clock so far
  bool in_reset() const { return !rst_n_.read(); }
  // Simulation time of rising edge n (n = cycle(): the next edge not yet simulated).
  sc_core::sc_time edge_time(uint64_t n) const { return params_.clock_period * static_cast<double>(n); }

  // The inner model and the bridges, for statistics and tracing.
  const Unit& unit() const { return unit_; }
  Unit& unit() { return unit_; }
  const TlmToAxiLiteStats& reg_stats() const { return reg_bridge_.stats(); }
  const AxiToTlmStats& mem_stats() const { return mem_bridge_.stats(); }
  const sc_core::sc_clock& clock() const { return clk_; }
  // The inner pins (AXI4-Lite, AXI4, clock, reset) and the unit's state, into a VCD.
  void trace(sc_core::sc_trace_file* tf) const;

private:
  void regs_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void on_edge();

  UnitTlmParams params_;
  sc_core::sc_clock clk_;
  sc_core::sc_signal<bool> rst_n_;
  AxiLiteSignals axil_;
  AxiSignals axi_;
  Unit unit_;
  TlmToAxiLite reg_bridge_;
  AxiToTlm mem_bridge_;
  uint64_t edges_ = 0;
};

}  // namespace xtu::model
