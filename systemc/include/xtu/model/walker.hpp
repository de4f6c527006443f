// walker block (docs/architecture.md): applies DBT events in trace order and follows host
// control flow over TB descriptors, up to WALK_WIDTH WalkerCore steps per cycle.
//
// Per cycle: packets (up to DEC_WIDTH per decoder item), events and cache answers that arrived at
// this edge enter small input buffers; then either one DBT event is sent to the tb_cache (when
// the oldest pending event's offset is <= the next packet's), or the core steps up to WALK_WIDTH
// times, each step using at most one packet and following at most one node; the cycle's steps
// end at a lookup, a wait for a packet, or a second output (the output register holds one
// record per cycle). A packet is visible to the core only once
// every event up to its offset is applied (the next event is later, or the event queue is
// drained). A lookup reads the CAM directly (its result, like a synchronous node RAM read, is
// used at the next cycle); a miss goes to the tb_cache's refill engine through `creq`.
#pragma once

#include <systemc>

#include <deque>

#include "xtu/model/records.hpp"
#include "xtu/model/unit_state.hpp"

namespace xtu::model {

class TbCache;

class Walker : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni, start_i;
  ChanIn<PktItem> pkt;
  ChanIn<EventItem> ev;
  sc_core::sc_in<bool> evq_drained_i;
  // The decoder's position and whether a packet is on its way (decoder output or FIFO): an
  // event whose offset the position has passed is due even while no packet comes (a PSB search
  // over bad bytes), as long as nothing earlier is still on its way.
  sc_core::sc_in<uint64_t> dec_pos_i;
  sc_core::sc_in<bool> dec_out_valid_i;
  ChanOut<CacheReq> creq;
  ChanIn<CacheResp> cresp;
  ChanOut<OutItem> out;
  sc_core::sc_out<bool> idle_o;  // END sent and nothing pending

  // `width`: steps per cycle at most (WALK_WIDTH); `dec_width`: packets per item from the decoder
  // (DEC_WIDTH), which sizes the packet input buffer.
  Walker(sc_core::sc_module_name n, const UnitConfig& cfg, UnitCounters& counters, TbCache& cache, unsigned width,
         unsigned dec_width);

  const WalkerCore& core() const { return core_; }

private:
  void seq();
  void reset_state();
  void apply_event_effect(const UnitEvent& e);

  const UnitConfig& cfg_;
  UnitCounters& cnt_;
  TbCache& cache_;
  unsigned width_, dec_width_;
  size_t pkt_buf_;  // packet input buffer entries
  WalkerCore core_;
  std::deque<WalkPacket> pbuf_;
  std::deque<EventItem> ebuf_;
  enum class Pending : uint8_t { None, Hit, Miss, Event } pending_ = Pending::None;
  uint16_t hit_line_ = 0;
  bool out_valid_ = false, creq_valid_ = false;
  OutItem out_reg_;
  CacheReq creq_reg_;
  bool ended_ = false, end_sent_ = false;
  uint64_t walk_errors_seen_ = 0;  // core_.walk_errors() already added to DECODE_ERRORS
  bool running_ = false;
};

}  // namespace xtu::model
