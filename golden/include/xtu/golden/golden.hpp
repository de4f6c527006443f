// The golden model: the reference guest trace of a bundle, decoded with libipt.
//
// libipt's instruction decoder walks the host code through an image whose read callback
// serves, for the address space the decoder is in (CR3/VMCS from PIP/VMCS packets), the code
// that is valid at the decoder's current trace position: before every instruction, all DBT
// events whose trace offset is at or below the decoder's offset are applied (TB loaded, link
// patches, unlinks, invalidations, flushes). A host instruction at a TB's entry is one executed
// guest block of that TB; with `insn`, every guest instruction whose host code is entered is one
// line. Only the traced DBT process's blocks are written; other contexts are decoded but not
// written. OVF, decode errors and lost synchronisation give a `gap` and a resync at the next PSB.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "xtu/formats/guest_trace.hpp"

namespace xtu::golden {

struct Options {
  bool insn = false;        // one line per guest instruction instead of per block
  bool contexts = false;    // write a comment line at each context switch
  uint64_t stall_limit = 1000000;  // instructions without consuming trace: treated as a decode error
  // Called for every guest block written (block mode), with libipt's time for the TB's first
  // instruction (pt_insn_time; `valid` false when libipt has no time yet).
  std::function<void(uint64_t pc, uint64_t tsc, bool valid)> on_block;
};

struct Stats {
  uint64_t pt_bytes = 0;
  uint64_t host_insns = 0;
  uint64_t records = 0;       // blocks or guest instructions written
  uint64_t gaps = 0;
  uint64_t overflows = 0;
  uint64_t decode_errors = 0;
  uint64_t events_applied = 0;
  uint64_t other_context_insns = 0;
  double seconds = 0;
};

// Decode the bundle in `dir` and write its guest trace. Throws on unreadable or malformed
// bundle files (FormatError naming file and offset); never on bad trace bytes.
Stats run(const std::string& dir, GuestTraceWriter& out, const Options& options);


}  // namespace xtu::golden
