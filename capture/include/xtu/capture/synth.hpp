// PT synthesis: from a replayed QEMU run to the bytes Intel PT would have written.
//
// Stage 1, OpRecorder (a ReplaySink): turns each replayed TB execution and each C-side action
// into a compact list of host operations of one process: conditional branch outcomes, TIPs,
// filter exits and entries (TIP.PGD/TIP.PGE), instruction boundaries, time, block starts, and
// DBT events (TB loaded, linked, flush). The host path inside a TB comes from the replay; the
// C side (prologue, epilogue, helper bodies) is modelled: see docs/capture.md.
//
// Stage 2, compose(): plays one or two op lists into a single PtWriter, switching processes
// through PIP at PacketEn=0 points, dropping packets in OVF loss windows, stamping every DBT
// event with the PT offset and TSC at which it happens, and writing the ground truth (the
// executed guest blocks of the main process, with `gap` where a loss window hid them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xtu/capture/pt_writer.hpp"
#include "xtu/capture/replay.hpp"
#include "xtu/formats/event_stream.hpp"
#include "xtu/formats/guest_trace.hpp"

namespace xtu::capture {

// Modelled costs in core clock cycles (docs/capture.md).
struct CostModel {
  uint32_t per_insn = 1;          // host instruction in the code cache
  uint32_t helper_call = 30;      // a helper that returns
  uint32_t lookup_helper = 25;    // helper_lookup_tb_ptr
  uint32_t c_round_trip = 150;    // epilogue ret .. cpu_exec loop .. prologue call
  uint32_t translate_base = 2000; // tb_gen_code
  uint32_t translate_per_byte = 20;
  uint32_t link = 100;
  uint32_t flush = 50000;
};

struct Op {
  enum class Kind : uint8_t {
    Cond,          // flag = taken
    Tip,           // arg = target
    Enable,        // TIP.PGE(arg)
    Disable,       // TIP.PGD(arg)
    Boundary,      // instruction boundary at arg (PacketEn=1)
    IdleBoundary,  // instruction boundary outside the filter
    Advance,       // arg = cycles
    Block,         // a TB execution starts: arg = host entry, small = index into pcs
    Event,         // small = index into events
  };
  Kind kind;
  uint8_t flag = 0;
  uint32_t small = 0;
  uint64_t arg = 0;
};

// The host operations of one traced process.
struct OpList {
  PtContext context;
  std::vector<Op> ops;
  std::vector<uint64_t> block_pcs;       // guest pc per Block op
  std::vector<ev::Event> events;         // bodies of Event ops (offset/time filled by compose)
  uint64_t blocks() const { return block_pcs.size(); }
};

class OpRecorder : public ReplaySink {
public:
  // `c_return_ip`: where the epilogue's ret lands in QEMU's C code (not in any log: modelled).
  OpRecorder(OpList& out, const hostcode::Prologue& prologue, uint64_t c_return_ip, const CostModel& costs);

  void flush() override;
  void translate(const Translation& tb) override;
  void link(const Translation& src, unsigned slot, uint64_t jmp_addr, const Translation& dst) override;
  void enter_from_c(const Translation& tb) override;
  void run_tb(const Translation& tb, const hostcode::Path& path, Transition how, const Translation* next) override;

  // Events that precede everything (process description, prologue code).
  void add_initial_event(ev::Body body);

private:
  void op(Op::Kind k, uint64_t arg = 0, uint8_t flag = 0, uint32_t small = 0) { out_.ops.push_back({k, flag, small, arg}); }
  void advance(uint64_t cycles) { if (cycles) op(Op::Kind::Advance, cycles); }
  void event(ev::Body body);
  void to_c();

  OpList& out_;
  hostcode::Prologue pro_;
  uint64_t c_ret_;
  CostModel cost_;
};

// An OVF loss window over the main process's block executions [first, first + count).
struct LossWindow {
  uint64_t first = 0;
  uint64_t count = 0;
};

struct ComposeOptions {
  PtConfig pt;
  uint64_t pad_seed = 0;
  unsigned pad_every = 0;             // PAD bytes after every N packets (0: none)
  std::vector<LossWindow> losses;     // sorted, disjoint
  uint64_t switch_every = 0;          // with an `other` process: switch after about N blocks
};

struct ComposeResult {
  std::vector<uint8_t> pt;
  std::vector<ev::Event> main_events;
  std::vector<ev::Event> other_events;
  std::vector<GuestRecord> truth;     // main process, with gaps
  PtStats stats;
  uint64_t context_switches = 0;
  uint64_t lost_blocks = 0;
  uint64_t cycles = 0;
};

ComposeResult compose(const OpList& main, const OpList* other, const ComposeOptions& options);

}  // namespace xtu::capture
