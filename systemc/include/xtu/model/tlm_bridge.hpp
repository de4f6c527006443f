// Bridges between the unit's pin-level buses and TLM-2.0 (loosely timed, blocking transport).
// UnitTlm (unit_tlm.hpp) puts one of each around the cycle-accurate Unit; both also work on
// their own around any module with the same pins. docs/tlm.md has the timing in full.
//
// TlmToAxiLite: a TLM-2.0 target (b_transport) that performs each transaction as one AXI4-Lite
// access on master pins (the register port). Only 4-byte accesses, 4-byte aligned, inside
// [0, map_size): the data in host (little-endian) byte order, byte enables on writes become
// WSTRB (on reads they select the bytes returned). Anything else is refused before it reaches
// the pins, without consuming time:
//     address not 4-byte aligned, or >= map_size    TLM_ADDRESS_ERROR_RESPONSE
//     data length != 4, streaming width < 4          TLM_BURST_ERROR_RESPONSE
//     byte enable pointer with byte_enable_length 0  TLM_BYTE_ENABLE_ERROR_RESPONSE
//     TLM_IGNORE_COMMAND                             TLM_OK_RESPONSE, nothing done
// BRESP/RRESP SLVERR becomes TLM_GENERIC_ERROR_RESPONSE, DECERR TLM_ADDRESS_ERROR_RESPONSE.
// Concurrent callers are served one at a time, in call order. No DMI, no debug transport.
//
// Timing. The pins live on the clock clk_i in simulation time, so an access has to let that
// time pass: b_transport waits (call it from an SC_THREAD). With `sync` (the default) it first
// waits for the caller's annotated delay (the access happens at the initiator's local time),
// then for the access, and returns delay = 0. Without `sync` the access starts at once (up to
// `delay` earlier than the initiator's local time) and the delay is returned unchanged. Either
// way, on return sc_time_stamp() + delay = (call time + delay in) + the access time: the access
// time is added to the initiator's local time. The pin driver (an SC_CTHREAD on clk_i) takes
// the access at the first rising edge e it evaluates after the call, the AW/W or AR handshake
// is at e+1 (the unit's register slave is always ready), the response at e+2, where
// b_transport returns: between 2 and 3 clock periods after the call (exactly 3 for back-to-back
// accesses, which are issued right after the edge that answered the previous one).
//
// AxiToTlm: a pin-level AXI4 slave (64-bit data) that turns every burst into one b_transport
// call of an initiator (the `transport` function: UnitTlm forwards it to its `mem` socket).
// Reads: at the AR handshake the burst is queued; a worker thread issues the TLM read of the
// bytes the burst covers (INCR, AxSIZE 0..3, unaligned starts as AXI defines: beat 0 covers
// [addr, align(addr, 2^size) + 2^size), later beats whole 2^size units; byte A on lane A % 8),
// and the data is returned as R beats, one per cycle, in the order the bursts were accepted
// (whatever their IDs: legal, and the unit's arbiter routes by RID). Writes: AW bursts are
// accepted up to max_outstanding, W beats fill the oldest one (WREADY only once its AW is
// accepted); after the last beat the worker issues one TLM write whose byte enables are the
// WSTRB bits of the bytes the beats cover (no byte enable array when every byte is enabled);
// B in AW order. A TLM response other than OK gives SLVERR (on every R beat of the burst, or
// BRESP). FIXED/WRAP bursts and AxSIZE > 3 are not issued: answered SLVERR and counted.
//
// Bridge timing (T: clock period, t: the AR handshake edge or the last W beat's edge, d: the
// delay the target annotated, plus any time it waited inside b_transport): the worker calls the
// target in the same time step as edge t; the data counts as available at t + d; the first R
// beat (or B) is driven at the first edge at or after that, but never before t+1, and moves at
// the following edge:   first R beat / B at edge  t + 1 + max(1, ceil(d / T)),
// later R beats one per cycle. Up to max_outstanding bursts per direction are accepted (ARREADY
// and AWREADY registered), and the target is called for burst n+1 while burst n's beats are
// still going out: latencies overlap, as in a pipelined memory. One TLM call at a time per
// direction; reads and writes are independent (two worker threads).
#pragma once

#include <systemc>
#include <tlm>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "xtu/model/axi.hpp"

namespace xtu::model {

struct TlmToAxiLiteStats {
  uint64_t reads = 0, writes = 0;  // accesses performed on the pins
  uint64_t refused = 0;            // refused before the pins (address, size, byte enables)
  uint64_t errors = 0;             // BRESP/RRESP other than OKAY
};

class TlmToAxiLite : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni;  // rst_ni: synchronous, active low
  AxiLiteMasterPorts m_axil;

  SC_HAS_PROCESS(TlmToAxiLite);
  TlmToAxiLite(const sc_core::sc_module_name& name, uint32_t map_size, bool sync = true);

  // The target's b_transport (from an SC_THREAD: it waits).
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  bool sync() const { return sync_; }
  const TlmToAxiLiteStats& stats() const { return stats_; }

private:
  struct Request {
    bool write = false;
    uint32_t addr = 0, data = 0, strb = 0xF;
    bool done = false;
    uint32_t rdata = 0, resp = 0;
  };
  void thread();
  void drive_idle();

  uint32_t map_size_;
  bool sync_;
  std::deque<Request*> queue_;  // owned by the waiting b_transport calls
  sc_core::sc_event done_event_;
  TlmToAxiLiteStats stats_;
};

struct AxiToTlmStats {
  uint64_t reads = 0, writes = 0;            // TLM transactions issued
  uint64_t read_bytes = 0, write_bytes = 0;  // their data lengths
  uint64_t read_errors = 0, write_errors = 0;  // TLM responses other than OK
  uint64_t unsupported = 0;                  // bursts answered SLVERR without a transaction
  uint64_t protocol = 0;                     // WLAST disagreeing with AWLEN (AWLEN counts)
  uint32_t max_outstanding_reads = 0, max_outstanding_writes = 0;  // highest seen
};

class AxiToTlm : public sc_core::sc_module {
public:
  using Transport = std::function<void(tlm::tlm_generic_payload&, sc_core::sc_time&)>;

  sc_core::sc_in<bool> clk_i, rst_ni;  // rst_ni: synchronous, active low; drops bursts in flight
  AxiSlavePorts s_axi;

  SC_HAS_PROCESS(AxiToTlm);
  AxiToTlm(const sc_core::sc_module_name& name, Transport transport, unsigned max_outstanding = 8);

  const AxiToTlmStats& stats() const { return stats_; }
  bool idle() const { return reads_.empty() && writes_.empty(); }

private:
  struct Burst {
    bool write = false;
    uint32_t id = 0;
    uint64_t addr = 0, start = 0;  // AxADDR; first byte covered (= addr)
    uint32_t beats = 1, size = 3;
    bool rejected = false;         // unsupported: SLVERR, no transaction
    std::vector<uint8_t> data, be; // the bytes covered, [start, start + data.size())
    bool partial = false;          // some byte not enabled
    uint32_t moved = 0;            // R beats handed over / W beats taken
    bool data_done = false;        // writes: every W beat taken
    bool transported = false;      // the TLM call has returned (or rejected)
    sc_core::sc_time t0;           // the AR handshake / the last W beat
    sc_core::sc_time ready;        // when the response may go out (>= t0 + d)
    uint32_t resp = kAxiRespOkay;
  };
  using BurstPtr = std::shared_ptr<Burst>;

  void seq();
  void read_worker();
  void write_worker();
  void transport(Burst& b);
  BurstPtr make_burst(bool write, uint32_t id, uint64_t addr, uint32_t len, uint32_t size, uint32_t burst);
  // Bytes of beat k: [lo, hi).
  void beat_range(const Burst& b, uint32_t k, uint64_t& lo, uint64_t& hi) const;
  void reset_state();

  Transport transport_;
  unsigned max_outstanding_;
  std::deque<BurstPtr> reads_, writes_;          // accepted, response not yet complete (order)
  std::deque<BurstPtr> read_work_, write_work_;  // waiting for their TLM call
  sc_core::sc_event read_work_event_, write_work_event_;
  bool r_valid_ = false, b_valid_ = false;
  AxiToTlmStats stats_;
};

}  // namespace xtu::model
