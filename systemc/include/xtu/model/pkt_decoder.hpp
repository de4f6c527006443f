// pkt_decoder block (docs/architecture.md): trace beats into a byte window; up to DEC_WIDTH
// packets per cycle decoded by a chain of decode_packet() (pt_packet.hpp, the block's
// combinational logic: at most 16 bytes each; decoder k looks at the bytes right after packet
// k-1), IPs reconstructed against the last IP (reset at PSB and OVF), the cycle's packets handed
// to the walker as one item.
//
// Synchronisation follows libipt's: at the start, search the first PSB (bytes skipped before it
// give a NOSYNC error record); on a decode error, search again from up to 15 bytes before the
// failing packet (a PSB it overlapped is found), or past the PSB where decoding last synchronised
// if the failure is right there. The window keeps those 15 bytes of history. request_resync()
// asks for the same resynchronisation at the next cycle (the packet view does so when it cannot
// print a packet, as ptdump does).
//
// A tap (observer) sees every packet and error with its raw bytes: `xtu packets` prints it.
#pragma once

#include <systemc>

#include <deque>
#include <functional>

#include "xtu/model/pt_packet.hpp"
#include "xtu/model/pt_time.hpp"
#include "xtu/model/records.hpp"
#include "xtu/model/unit_state.hpp"

namespace xtu::model {

// A decoded packet as the walker sees it (kind, IP reconstructed against `last_ip`, which it
// updates, and resets at PSB and OVF; TNT bits; PIP, VMCS, MODE.Exec fields); kind Other for the
// packets that do not move the flow. Time is the caller's (the decoder stamps it).
WalkPacket walk_packet(const Packet& pkt, uint64_t offset, LastIp& last_ip);

struct DecoderTap {
  enum class Kind : uint8_t { Packet, Error, OutOfSync };
  Kind kind = Kind::Packet;
  uint64_t offset = 0;
  Packet pkt;
  int error = 0;            // decode_packet's negative code
  uint8_t raw[16] = {};     // the bytes at `offset` (raw_n of them are valid)
  size_t raw_n = 0;
};

class PktDecoder : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni, start_i;
  ChanIn<TraceBeat> in;
  ChanOut<PktItem> out;
  sc_core::sc_out<uint64_t> pos_o;  // trace offset of the next packet (or where the search is)

  // `width`: packets decoded per cycle at most (DEC_WIDTH); `window`: bytes the window holds (at
  // least 16 per packet decoded in a cycle plus 24: 15 bytes of history and room for a beat).
  PktDecoder(sc_core::sc_module_name n, const UnitConfig& cfg, UnitStatus& status, UnitCounters& counters,
             unsigned width = 1, unsigned window = 64);

  void set_tap(std::function<void(const DecoderTap&)> tap) { tap_ = std::move(tap); }
  void set_errata(const DecodeErrata& e) { errata_ = e; }
  void set_no_sync(bool v) { no_sync_ = v; }  // decode from offset 0 without searching a PSB
  void request_resync() { resync_req_ = true; }

private:
  enum class Mode : uint8_t { Search, Decode, Done };
  void seq();
  void start_search(uint64_t from);
  bool decode_one(uint64_t end);  // one packet decoder's work; true: a packet was decoded
  void emit(const WalkPacket& p);
  bool window_bytes(uint64_t from, size_t n, uint8_t* out) const;

  const UnitConfig& cfg_;
  UnitStatus& status_;
  UnitCounters& cnt_;
  TimeKeeper time_;  // timing packets -> TSC estimate (TIME_CFG, CPUID15_*), stamped on packets
  unsigned width_, capacity_;
  std::function<void(const DecoderTap&)> tap_;
  DecodeErrata errata_;
  bool no_sync_ = false;
  bool resync_req_ = false;

  std::deque<uint8_t> win_;
  uint64_t win_off_ = 0;       // trace offset of win_.front()
  bool end_seen_ = false;
  Mode mode_ = Mode::Search;
  bool first_search_ = true;
  uint64_t pos_ = 0, sync_ = 0, search_from_ = 0;
  LastIp last_ip_;
  bool out_valid_ = false;
  PktItem out_reg_;
  bool running_ = false;
};

}  // namespace xtu::model
