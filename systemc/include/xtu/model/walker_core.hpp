// The walker's state machine (docs/architecture.md, "walker"), as a pure function of its state
// and inputs: the SystemC walker block calls step() once per clock cycle; the functional
// reference (flow_reference.hpp) calls it in a loop. One call does one of: consume a packet,
// follow one node, or report what it waits for (a lookup, a packet, output space).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xtu::model {

// What the walker sees of a packet (the pkt_decoder + ctx_filter output record).
struct WalkPacket {
  enum class Kind : uint8_t {
    Tnt, Tip, TipPge, TipPgd, Fup, Psb, Psbend, Ovf, Pip, Vmcs, ModeExec, Other, Error, End
  };
  Kind kind = Kind::Other;
  uint64_t offset = 0;    // trace offset of the packet
  uint64_t ip = 0;        // reconstructed IP (TIP*, FUP)
  bool ip_valid = false;  // false: IP suppressed
  uint64_t tnt_bits = 0;  // TNT: bits, first branch in bit tnt_count-1
  uint8_t tnt_count = 0;
  uint64_t cr3 = 0;       // PIP
  bool nr = false;        // PIP
  uint64_t vmcs = 0;      // VMCS
  bool mode64 = true;     // MODE.Exec: CS.L
  uint8_t reason = 0;     // Error: gap reason (2 decode error, 3 no sync at the start)
  uint64_t time = 0;      // the TSC estimate once this packet is decoded, timing packets before it included
  bool time_valid = false;
};

// A node as the walker uses it (decoded from the descriptor's 8-byte node).
struct WalkNode {
  uint8_t kind = 0;  // node_kind values: 1 COND .. 8 RET, 15 INVALID
  uint8_t succ = 0, alt = 0, slot = 0;
  uint16_t ret = 0;
};

// A TB cache line as the walker uses it.
struct WalkLine {
  bool tb = false;       // entering node 0 is a guest block
  uint64_t host = 0;
  uint64_t pc = 0;
  uint16_t icount = 0;
  uint8_t n = 0;
  uint64_t link[2] = {0, 0};  // link target host addresses, 0 = not linked
  std::vector<WalkNode> nodes;
};

// Guest-trace events the walker emits (the formatter makes records of them).
struct WalkOut {
  enum class Kind : uint8_t { Block = 1, Gap = 2, Context = 3 };
  Kind kind = Kind::Block;
  uint64_t value = 0;     // pc, trace offset, cr3
  uint16_t icount = 0;
  uint8_t flags = 0;      // GAP: reason (1 OVF, 2 decode error, 3 no sync); CONTEXT: bit0 traced, bit1 NR
  uint64_t time = 0;      // BLOCK: the time libipt gives the TB's first instruction
  bool time_valid = false;
};

struct WalkerConfig {
  bool ctx_filter = false;
  uint64_t target_cr3 = 0;
  uint64_t target_vmcs = 0;  // 0: any
  bool ctx_records = false;
};

class WalkerCore {
public:
  enum class Mode : uint8_t {
    Unsynced,   // before the first PSB, or after a decode error: drop packets until a PSB
    PsbPlus,    // between PSB and PSBEND
    Out,        // tracing off (or no position): wait for TIP.PGE
    Node,       // at node `node_` of the current line
    CallPgd, CallPge,           // helper call: TIP.PGD, then TIP.PGE at the return address
    PtrPgd, PtrPge, PtrTip,     // goto_ptr: TIP.PGD, TIP.PGE, TIP(target)
    DispatchTip,                // jmp *reg: TIP(target)
    WaitPgd,                    // leaving the code buffer: TIP.PGD
    OvfWait,                    // after OVF: FUP (tracing on) or TIP.PGE
    LookupPending,              // a lookup was requested; waiting for its answer
  };

  // What one step did or needs. A step is one clock cycle of the walker: it consumes at most one
  // packet, follows at most one node, emits at most one event and requests at most one lookup.
  struct Step {
    bool consumed = false;     // the packet given was used: drop it from the input
    bool advanced = false;     // followed a node
    bool emitted = false;      // an output event is ready: take_output()
    bool need_lookup = false;  // look up lookup_addr(), then answer_lookup()
    bool need_packet = false;  // stopped: the next packet must be given (or is not available)
    bool blocked = false;      // an earlier output event was not taken yet
    bool idle() const { return !consumed && !advanced && !emitted; }
  };

  explicit WalkerCore(const WalkerConfig& cfg = {}) : cfg_(cfg) {}
  void reset();  // back to Unsynced, all state cleared
  void configure(const WalkerConfig& cfg) { cfg_ = cfg; }

  // One step. `pkt` is the next packet (nullptr if none is available yet). A packet must only be
  // given once every DBT event with offset <= its offset has been applied.
  Step step(const WalkPacket* pkt);

  uint64_t lookup_addr() const { return lookup_addr_; }
  // Answer the pending lookup: the line found, or nullptr if the address is not an entry point.
  // The walker keeps a copy of the line.
  void answer_lookup(const WalkLine* line);

  bool has_output() const { return has_out_; }
  WalkOut take_output() { has_out_ = false; return out_; }

  // The line the walker is in (after a LINK/UNLINK/FLUSH the unit refreshes or drops it).
  bool has_line() const { return have_line_; }
  const WalkLine& line() const { return line_; }
  void update_links(uint64_t host, const uint64_t link[2]);  // if the current line is `host`
  void drop_line();                                           // flush/invalidate: the line is gone
  // The unit calls update_links/drop_line only between lookups (it applies an event only when no
  // lookup is pending): a drop while LookupPending would send the walker Out and its answer would
  // be ignored.

  Mode mode() const { return mode_; }
  static const char* mode_name(Mode m);
  // Statistics.
  uint64_t nodes() const { return nodes_; }
  uint64_t decode_errors() const { return errors_; }          // decoder errors seen + walk errors
  uint64_t walk_errors() const { return walk_errors_; }       // errors found by the walker itself
  uint64_t overflows() const { return overflows_; }
  uint64_t context_switches() const { return ctx_switches_; }
  std::string last_error() const { return last_error_; }

private:
  void error(Step& s, const std::string& why, uint64_t offset);
  void emit(Step& s, WalkOut::Kind k, uint64_t value, uint16_t icount, uint8_t flags);
  void request_lookup(Step& s, uint64_t addr);
  bool in_context() const;
  void follow_node(Step& s, const WalkPacket* pkt);   // at most one node
  void take_packet(Step& s, const WalkPacket& p);      // the packet's effect in the current mode

  WalkerConfig cfg_;
  Mode mode_ = Mode::Unsynced;
  bool have_line_ = false;
  WalkLine line_;
  uint8_t node_ = 0;
  bool entry_pending_ = false;  // at node 0 of a TB whose block is not reported yet
  uint64_t tnt_bits_ = 0;
  uint8_t tnt_count_ = 0;
  uint64_t expect_ip_ = 0;       // return address awaited (CallPge, PtrPge)
  uint8_t cont_node_ = 0;        // CALL: node after the return
  uint64_t lookup_addr_ = 0;
  bool psb_fup_ = false;         // a FUP was seen in this PSB+
  uint64_t psb_fup_ip_ = 0;
  Mode mode_before_psb_ = Mode::Out;
  uint64_t flow_time_ = 0;       // time at the last consumed packet (libipt's last_time)
  bool flow_time_valid_ = false;
  uint64_t cr3_ = 0, vmcs_ = 0;
  bool nr_ = false, have_cr3_ = false;
  bool has_out_ = false;
  WalkOut out_;
  uint64_t last_offset_ = 0;     // trace offset of the last packet used: a walk error's GAP value
  uint64_t nodes_ = 0, errors_ = 0, walk_errors_ = 0, overflows_ = 0, ctx_switches_ = 0;
  std::string last_error_;
};

}  // namespace xtu::model
