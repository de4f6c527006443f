// PtWriter: the packet-generation side of an Intel PT unit, driven by an execution model.
//
// The caller reports what the traced logical processor does (conditional branches, indirect
// branches, entering and leaving the IP filter range, context switches, time passing) and the
// writer emits the packets Intel PT would, encoded with libipt's pt_encoder:
//   - TNT bits packed into TNT-8 (up to 6 bits) or TNT-64 (up to 47), flushed before any
//     TIP-class packet, FUP, PSB or OVF;
//   - TIP / TIP.PGE / TIP.PGD / FUP with the shortest IP compression valid against the last IP
//     (the first IP after a PSB is sent in full, sign-extended 48-bit);
//   - MODE.Exec before a TIP.PGE when none was sent since the last PSB (SDM: "if no MODE.Exec
//     since last PSB");
//   - PSB+ (PSB, TSC, TMA, CBR, PIP, VMCS, MODE.Exec + FUP when PacketEn, PSBEND) when
//     psb_period bytes have been written since the last one, at the next instruction boundary;
//   - MTC when the crystal clock crosses a 2^mtc_freq boundary, CYC before CYC-eligible packets;
//   - OVF: a loss window drops every packet; at its end OVF, then FUP(ip) if PacketEn; the first
//     IP after an OVF is sent uncompressed (libipt resets its last IP there).
// The writer also counts packets by type.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "xtu/formats/bundle.hpp"

struct pt_encoder;

namespace xtu::capture {

struct PtContext {
  uint64_t cr3 = 0;
  uint64_t vmcs = 0;
  bool non_root = false;
};

// Packet kinds counted in statistics (libipt's names).
enum class Pkt : unsigned {
  pad, psb, psbend, fup, tip, tip_pge, tip_pgd, tnt_8, tnt_64, mode_exec, pip, vmcs, cbr, tsc, tma,
  mtc, cyc, ovf, count
};
const char* pkt_name(Pkt p);

struct PtStats {
  std::array<uint64_t, static_cast<size_t>(Pkt::count)> packets{};
  std::array<uint64_t, static_cast<size_t>(Pkt::count)> bytes{};
  uint64_t tnt_bits = 0;
  uint64_t dropped_packets = 0;  // inside OVF loss windows
  uint64_t overflows = 0;
};

class PtWriter {
public:
  PtWriter(const PtConfig& config, const PtContext& context, uint64_t pad_seed = 0, unsigned pad_every = 0);
  ~PtWriter();
  PtWriter(const PtWriter&) = delete;
  PtWriter& operator=(const PtWriter&) = delete;

  // Tracing starts (TraceEn=1) outside the filter range: PSB+ without FUP.
  void start();
  // Flush pending TNT bits (end of trace).
  void finish();

  // --- control flow while PacketEn=1 ---
  void cond(bool taken);
  void indirect(uint64_t target);  // TIP
  // An instruction boundary at `ip` (PacketEn=1): the point where a due PSB+ is inserted.
  void boundary(uint64_t ip);

  // --- filter range transitions ---
  void enable(uint64_t target);   // [MODE.Exec] TIP.PGE(target)
  void disable(uint64_t target);  // TNT flush, TIP.PGD(target)
  // An instruction boundary outside the filter (PacketEn=0): a due PSB+ is inserted here.
  void idle_boundary();

  // --- context (only while PacketEn=0) ---
  void switch_context(const PtContext& context);  // PIP, and VMCS when the VMCS pointer changes

  // --- overflow ---
  void begin_loss();                 // internal buffer full: packets from here on are lost
  void end_loss(bool enabled, uint64_t ip);  // OVF, then FUP(ip) if enabled

  // --- time ---
  void advance(uint64_t core_cycles);
  uint64_t tsc() const;
  uint64_t cycles() const { return cycles_; }

  bool enabled() const { return enabled_; }
  bool losing() const { return losing_; }
  // Offset of the next byte to be written (pending TNT bits are not yet bytes).
  uint64_t offset() const { return out_.size(); }
  const std::vector<uint8_t>& bytes() const { return out_; }
  std::vector<uint8_t> take_bytes() { return std::move(out_); }
  const PtStats& stats() const { return stats_; }

private:
  struct Packet;
  void emit(Packet& p, Pkt kind);
  void emit_ip(Pkt kind, uint64_t ip, bool force_full);
  void flush_tnt();
  void psb_plus(bool with_ip, uint64_t ip);
  void maybe_psb(bool with_ip, uint64_t ip);
  void maybe_cyc();
  void maybe_pad();

  PtConfig cfg_;
  PtContext ctx_;
  pt_encoder* enc_ = nullptr;
  uint8_t scratch_[64];
  std::vector<uint8_t> out_;
  PtStats stats_;

  bool enabled_ = false;
  bool losing_ = false;
  bool mode_since_psb_ = false;
  bool have_last_ip_ = false;
  uint64_t last_ip_ = 0;
  uint64_t last_psb_ = 0;
  uint64_t tnt_bits_ = 0;
  unsigned tnt_count_ = 0;
  uint64_t cycles_ = 0;         // core clock cycles since start
  uint64_t last_cyc_cycles_ = 0;
  uint64_t last_mtc_ = 0;       // last crystal period index sent as MTC
  uint64_t pad_state_;
  unsigned pad_every_;
  unsigned since_pad_ = 0;
};

}  // namespace xtu::capture
