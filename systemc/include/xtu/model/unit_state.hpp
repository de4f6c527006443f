// Configuration and counters shared by the unit's blocks. Configuration registers are static
// while the unit runs (the driver writes them before CTRL.START): blocks read them as wires.
// Counters are registers inside each block, read through the register block's read mux: the
// model keeps them in one struct that each block updates in its clocked process.
#pragma once

#include <array>
#include <cstdint>

#include "xtu/regs.hpp"

namespace xtu::model {

struct UnitConfig {
  uint64_t trace_base = 0, trace_size = 0, trace_head = 0;
  bool trace_last = false;
  uint64_t evq_base = 0, evq_head = 0;
  uint32_t evq_entries = 0;
  uint64_t desc_base = 0, desc_size = 0;
  uint64_t ht_base = 0;
  uint32_t ht_entries = 0;
  uint64_t out_base = 0, out_size = 0, out_tail = 0;
  uint32_t out_watermark = 1;
  uint64_t target_cr3 = 0, target_vmcs = 0;
  uint64_t code_base = 0, code_size = 0;
  bool time_en = false, ctx_records = false, ctx_filter = false;
  uint8_t mtc_freq = 0, nom_freq = 0;
  uint32_t cpuid15_eax = 0, cpuid15_ebx = 0;
};

// Status registers the blocks drive (read through the register block).
struct UnitStatus {
  uint64_t trace_tail = 0;  // bytes consumed (pkt_decoder)
  uint64_t evq_tail = 0;    // events applied (walker)
  uint64_t out_head = 0;    // output bytes written and acknowledged (out_writer)
};

// Error causes (STATUS bits): the unit stops at the first.
enum ErrorBits : uint32_t { kErrBounds = 1u << 8, kErrTableFull = 1u << 9, kErrAxi = 1u << 10, kErrEvent = 1u << 11 };

// Counter indices, from the register map (counter i is at COUNTERS_BASE + 8 i).
constexpr unsigned ctr(uint32_t offset) { return (offset - regs::counters::kBase) / 8; }
enum CounterIndex : unsigned {
  kCtrCycles = ctr(regs::counters::kCyclesOffset),
  kCtrBusyCycles = ctr(regs::counters::kBusyCyclesOffset),
  kCtrTraceBytes = ctr(regs::counters::kTraceBytesOffset),
  kCtrPackets = ctr(regs::counters::kPacketsOffset),
  kCtrBlocks = ctr(regs::counters::kBlocksOffset),
  kCtrGaps = ctr(regs::counters::kGapsOffset),
  kCtrOverflows = ctr(regs::counters::kOverflowsOffset),
  kCtrDecodeErrors = ctr(regs::counters::kDecodeErrorsOffset),
  kCtrEvents = ctr(regs::counters::kEventsOffset),
  kCtrNodes = ctr(regs::counters::kNodesOffset),
  kCtrCamLookups = ctr(regs::counters::kCamLookupsOffset),
  kCtrCamHits = ctr(regs::counters::kCamHitsOffset),
  kCtrCamRefills = ctr(regs::counters::kCamRefillsOffset),
  kCtrHtProbes = ctr(regs::counters::kHtProbesOffset),
  kCtrRecords = ctr(regs::counters::kRecordsOffset),
  kCtrStallTrace = ctr(regs::counters::kStallTraceOffset),
  kCtrStallRefill = ctr(regs::counters::kStallRefillOffset),
  kCtrStallEvent = ctr(regs::counters::kStallEventOffset),
  kCtrStallOutput = ctr(regs::counters::kStallOutputOffset),
  kCtrContextSwitches = ctr(regs::counters::kContextSwitchesOffset),
  kCtrPktFirst = regs::counters::kPktFirst,
};

struct UnitCounters {
  std::array<uint64_t, regs::counters::kCount> v{};
  uint64_t& operator[](unsigned i) { return v[i]; }
  uint64_t operator[](unsigned i) const { return v[i]; }
  void clear() { v.fill(0); }
};

}  // namespace xtu::model
