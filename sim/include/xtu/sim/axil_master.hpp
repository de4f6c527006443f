// AxiLiteMaster: an AXI4-Lite bus-functional master for the unit's register port.
//
// Requests go into a queue; a clocked thread (SC_CTHREAD on clk_i, synchronous reset on rst_ni)
// takes them one at a time, in order, and drives the pins:
//   write: AWADDR/WDATA/WSTRB with AWVALID and WVALID (together, or one channel after the other's
//          handshake: WriteOrder), each VALID held until its handshake; BREADY high until B.
//   read:  ARADDR with ARVALID held until the handshake; RREADY high until R.
// Every output is registered. Against a slave with READY high and registered responses, a
// request taken at edge e has its handshakes at e+1 and its response (B or R) at e+2, where it
// is done; the next queued request is taken at that same edge e+2, so back-to-back accesses
// take 2 cycles each. A request posted while the queue is empty is taken at the next edge, so
// run_until_done() returns 3 for a single access.
//
// Two ways to use it:
//   - From outside the simulation (the driver, a test's body), between sc_start() calls:
//     post_write()/post_read() return a Ticket; run_until_done() advances the simulation one
//     clock period at a time until the ticket is done; done()/result()/response() read it.
//   - From inside a SystemC thread (SC_THREAD or SC_CTHREAD): write32()/read32() block.
// A request interrupted by reset is issued again after reset.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <vector>

#include "xtu/model/axi.hpp"

namespace xtu::sim {

enum class WriteOrder {
  Together,     // AWVALID and WVALID raised at the same edge
  AddressFirst, // WVALID raised after the AW handshake
  DataFirst,    // AWVALID raised after the W handshake
};

class AxiLiteMaster : public sc_core::sc_module {
public:
  using Ticket = uint64_t;

  sc_core::sc_in<bool> clk_i;
  sc_core::sc_in<bool> rst_ni;  // synchronous, active low
  model::AxiLiteMasterPorts axil;

  SC_HAS_PROCESS(AxiLiteMaster);
  explicit AxiLiteMaster(const sc_core::sc_module_name& name);

  // Non-blocking (callable from anywhere, also outside the simulation).
  Ticket post_write(uint32_t addr, uint32_t value, uint32_t strb = 0xF);
  Ticket post_read(uint32_t addr);
  bool done(Ticket t) const;          // throws std::out_of_range for an unknown ticket
  uint32_t result(Ticket t) const;    // the read data (0 for writes); valid once done
  uint32_t response(Ticket t) const;  // BRESP / RRESP; valid once done
  size_t pending() const { return queue_.size(); }  // requests not yet done

  // From outside the simulation: sc_start() one clock period at a time until `t` is done.
  // Returns the clock periods simulated (0 if already done); throws std::runtime_error after
  // max_cycles periods, std::logic_error when called from inside the simulation.
  uint64_t run_until_done(Ticket t, uint64_t max_cycles = 100000);
  // post + run_until_done: the read value / the BRESP.
  uint32_t run_read(uint32_t addr, uint32_t* resp = nullptr, uint64_t max_cycles = 100000);
  uint32_t run_write(uint32_t addr, uint32_t value, uint64_t max_cycles = 100000);

  // Blocking, from inside an SC_THREAD or SC_CTHREAD (not an SC_METHOD).
  uint32_t write32(uint32_t addr, uint32_t value, uint32_t strb = 0xF);  // returns BRESP
  uint32_t read32(uint32_t addr, uint32_t* resp = nullptr);

  void set_write_order(WriteOrder o) { order_ = o; }
  // The clock period run_until_done() steps by: by default that of the sc_clock clk_i is bound
  // to (found at end of elaboration), else 1 ns.
  void set_clock_period(const sc_core::sc_time& p) {
    period_ = p;
    period_set_ = true;
  }
  const sc_core::sc_time& clock_period() const { return period_; }

private:
  struct Request {
    Ticket ticket;
    bool write;
    uint32_t addr, data, strb;
  };
  struct Result {
    bool done = false;
    uint32_t data = 0, resp = 0;
  };

  void end_of_elaboration() override;
  void thread();
  void do_write(const Request& r);
  void do_read(const Request& r);
  void finish(const Request& r, uint32_t data, uint32_t resp);
  void drive_idle();
  void wait_done(Ticket t);  // blocking wait inside a thread process
  const Result& get(Ticket t) const;

  std::deque<Request> queue_;
  std::vector<Result> results_;  // indexed by ticket
  sc_core::sc_event done_event_;
  WriteOrder order_ = WriteOrder::Together;
  sc_core::sc_time period_{1, sc_core::SC_NS};
  bool period_set_ = false;
};

}  // namespace xtu::sim
