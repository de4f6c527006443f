// Configuration and counters shared by the unit's blocks. Configuration registers are static
// while the unit runs (the driver writes them before CTRL.START): blocks read them as wires.
// Counters are registers inside each block, read through the register block's read mux: the
// model keeps them in one struct that each block updates in its clocked process.
#pragma once

#include <cstdint>

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
};

// Error causes (STATUS bits): the unit stops at the first.
enum ErrorBits : uint32_t { kErrBounds = 1u << 8, kErrTableFull = 1u << 9, kErrAxi = 1u << 10, kErrEvent = 1u << 11 };

struct UnitCounters {
  uint64_t cycles = 0, busy_cycles = 0, trace_bytes = 0, packets = 0, blocks = 0, gaps = 0, overflows = 0,
           decode_errors = 0, events = 0, nodes = 0, cam_lookups = 0, cam_hits = 0, cam_refills = 0,
           ht_probes = 0, records = 0, stall_trace = 0, stall_refill = 0, stall_event = 0, stall_output = 0,
           context_switches = 0;
  uint64_t packet_types[26] = {};  // by type, in the register map's packet_types order
};

}  // namespace xtu::model
