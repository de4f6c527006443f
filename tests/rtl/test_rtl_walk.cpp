// The RTL of the walker's flow core against the C++ model it implements.
//
// rtl/walker/xtu_walk_core.sv (Verilated: the state registers and a chain of WALK_WIDTH
// xtu_walk_step instances) against model::WalkerCore driven by RefCore below, a copy of the step
// loop of the SystemC walker block (systemc/src/walker.cpp, Walker::seq(): answer or event
// effect first, the output register, then up to WALK_WIDTH steps, each offered the next packet
// whose events are applied, ending at a lookup, a blocked output, a wait for a packet or an idle
// step). Both get the same inputs every cycle, in lockstep; every cycle compares
//   - registered: the output register (valid and every field of the record), the mode, whether
//     the walker has a line and the line's entry point and links;
//   - the cycle's results: packets consumed, the lookup request and the lookup address, the
//     last step's need_packet, the stall flags of the first step, whether the core still
//     holds an output, and the increments of the five counters (nodes, decode errors, walk
//     errors, overflows, context switches), whose sums are the model's counters.
// The first difference stops a run and is reported with the cycle and the packets around it.
//
// Stimulus:
//   - real runs: the packets the unit's decoder produces from a captured bundle's trace.pt (a
//     software copy of the pkt_decoder's sequence: PSB search, decode_packet(), last IP, time,
//     errors and resynchronisation), the bundle's events as the driver translates them (LOAD /
//     LINK / UNLINK / INVALIDATE / FLUSH, applied in trace order as the walker block sequences
//     them, with their effect on the current line), lookups answered from the table those events
//     build, with random CAM-hit / refill latencies, random packet arrival and random output
//     back-pressure. The records that leave the output register must equal model::FlowReference
//     on the same packets and events, and their guest trace QEMU's own (guest.txt);
//   - random: random lines (every node kind, INVALID and undefined kinds, random succ / alt /
//     slot / ret, indices past the line), packets biased towards what the walker's mode
//     accepts (and any packet otherwise), random lookup answers (found, not found, another
//     line), random events (link updates, dropped lines), random configuration (context filter,
//     CONTEXT records), back-pressure, clears and resets; for WALK_WIDTH 3 / MAX_NODES 32 (the
//     defaults) and WALK_WIDTH 2 / MAX_NODES 13.
// The gate netlist Yosys synthesizes from xtu_walk_core (Vxtu_walk_core_gates, rtl/CMakeLists.txt)
// runs a random run and a small bundle the same way: what Yosys makes of the SystemVerilog is
// what Verilator makes of it.
#include <gtest/gtest.h>

#include <verilated.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "Vxtu_walk_core.h"
#include "Vxtu_walk_core_gates.h"
#include "Vxtu_walk_core_w2.h"
#include "xtu/driver/bundle_run.hpp"
#include "xtu/formats/bundle.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/event_stream.hpp"
#include "xtu/formats/guest_trace.hpp"
#include "xtu/model/flow_reference.hpp"
#include "xtu/model/pkt_decoder.hpp"
#include "xtu/model/pt_packet.hpp"
#include "xtu/model/pt_time.hpp"
#include "xtu/model/walker_core.hpp"

namespace {

using namespace xtu;
using model::WalkerConfig;
using model::WalkerCore;
using model::WalkLine;
using model::WalkNode;
using model::WalkOut;
using model::WalkPacket;
using K = WalkPacket::Kind;
using Rng = std::mt19937_64;

// node_kind values.
constexpr uint8_t kCond = 1, kGotoTb = 2, kGotoPtr = 3, kCall = 4, kNoReturn = 5, kExit = 6, kDispatch = 7,
                  kRet = 8, kInvalid = 15;

// ------------------------------------------------------------------------------------------
// The RTL's packed structs (rtl/walker/xtu_walk_pkg.sv), field by field from the MSB.

constexpr unsigned kPktW = 4 + 64 + 64 + 1 + 47 + 6 + 52 + 1 + 52 + 2 + 64 + 1;  // walk_pkt_t
constexpr unsigned kNodeW = 4 + 5 + 5 + 1 + 16;                                    // walk_node_t
constexpr unsigned kLineW = 1 + 64 + 64 + 16 + 6 + 64 + 64;                        // walk_line_t
constexpr unsigned kOutW = 2 + 64 + 16 + 8 + 64 + 1;                               // walk_out_t
constexpr unsigned kCfgW = 1 + 64 + 64 + 1;                                        // walk_cfg_t
constexpr uint64_t kMask47 = (uint64_t{1} << 47) - 1, kMask52 = (uint64_t{1} << 52) - 1;

// A little-endian bit vector (Verilator's wide port layout: 32-bit words, bit 0 first).
class Bits {
public:
  explicit Bits(unsigned width) : w_((width + 31) / 32, 0) {}
  void set(unsigned lsb, unsigned n, uint64_t v) {
    if (n < 64) v &= (uint64_t{1} << n) - 1;
    while (n) {
      const unsigned wi = lsb / 32, off = lsb % 32, take = std::min(n, 32 - off);
      const uint32_t mask = (take == 32 ? ~0u : ((1u << take) - 1)) << off;
      w_[wi] = (w_[wi] & ~mask) | ((uint32_t(v) << off) & mask);
      v = take == 64 ? 0 : v >> take;
      lsb += take;
      n -= take;
    }
  }
  uint64_t get(unsigned lsb, unsigned n) const {
    uint64_t v = 0;
    for (unsigned got = 0; got < n;) {
      const unsigned b = lsb + got, wi = b / 32, off = b % 32, take = std::min(n - got, 32 - off);
      const uint64_t part = (w_[wi] >> off) & (take == 32 ? ~0u : ((1u << take) - 1));
      v |= part << got;
      got += take;
    }
    return v;
  }
  size_t words() const { return w_.size(); }
  uint32_t& operator[](size_t i) { return w_[i]; }
  uint32_t operator[](size_t i) const { return w_[i]; }

private:
  std::vector<uint32_t> w_;
};

// Writes fields from bit `top` down (a packed struct's first field is its MSB side).
class Packer {
public:
  Packer(Bits& b, unsigned top) : b_(b), pos_(top) {}
  Packer& put(uint64_t v, unsigned n) {
    pos_ -= n;
    b_.set(pos_, n, v);
    return *this;
  }

private:
  Bits& b_;
  unsigned pos_;
};
class Unpacker {
public:
  Unpacker(const Bits& b, unsigned top) : b_(b), pos_(top) {}
  uint64_t get(unsigned n) {
    pos_ -= n;
    return b_.get(pos_, n);
  }

private:
  const Bits& b_;
  unsigned pos_;
};

void pack_pkt(Bits& b, unsigned top, const WalkPacket& p) {
  Packer(b, top)
      .put(uint8_t(p.kind), 4)
      .put(p.offset, 64)
      .put(p.ip, 64)
      .put(p.ip_valid, 1)
      .put(p.tnt_bits, 47)
      .put(p.tnt_count, 6)
      .put(p.cr3, 52)
      .put(p.nr, 1)
      .put(p.vmcs, 52)
      .put(p.reason, 2)
      .put(p.time, 64)
      .put(p.time_valid, 1);
}
void pack_node(Bits& b, unsigned top, const WalkNode& n) {
  Packer(b, top).put(n.kind, 4).put(n.succ, 5).put(n.alt, 5).put(n.slot & 1, 1).put(n.ret, 16);
}
void pack_line(Bits& b, const WalkLine& l) {
  Packer(b, kLineW)
      .put(l.tb, 1)
      .put(l.host, 64)
      .put(l.pc, 64)
      .put(l.icount, 16)
      .put(l.nodes.size(), 6)
      .put(l.link[0], 64)
      .put(l.link[1], 64);
}
void pack_cfg(Bits& b, const WalkerConfig& c) {
  Packer(b, kCfgW).put(c.ctx_filter, 1).put(c.target_cr3, 64).put(c.target_vmcs, 64).put(c.ctx_records, 1);
}
WalkOut unpack_out(const Bits& b) {
  Unpacker u(b, kOutW);
  WalkOut o;
  o.kind = WalkOut::Kind(u.get(2));
  o.value = u.get(64);
  o.icount = uint16_t(u.get(16));
  o.flags = uint8_t(u.get(8));
  o.time = u.get(64);
  o.time_valid = u.get(1);
  return o;
}
struct LineView {
  bool tb;
  uint64_t host, pc;
  uint16_t icount;
  unsigned n;
  uint64_t link[2];
};
LineView unpack_line(const Bits& b) {
  Unpacker u(b, kLineW);
  LineView l{};
  l.tb = u.get(1);
  l.host = u.get(64);
  l.pc = u.get(64);
  l.icount = uint16_t(u.get(16));
  l.n = unsigned(u.get(6));
  l.link[0] = u.get(64);
  l.link[1] = u.get(64);
  return l;
}

template <class Port>
void to_port(Port& port, const Bits& b) {
  for (size_t i = 0; i < b.words(); ++i) port[i] = b[i];
}
template <class Port>
Bits from_port(const Port& port, unsigned width) {
  Bits b(width);
  for (size_t i = 0; i < b.words(); ++i) b[i] = port[i];
  return b;
}

bool same_out(const WalkOut& a, const WalkOut& b) {
  return a.kind == b.kind && a.value == b.value && a.icount == b.icount && a.flags == b.flags && a.time == b.time &&
         a.time_valid == b.time_valid;
}
std::string out_str(const WalkOut& o) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "{kind %u value 0x%" PRIx64 " icount %u flags %u time 0x%" PRIx64 "%s}",
                unsigned(o.kind), o.value, o.icount, o.flags, o.time, o.time_valid ? "" : " (invalid)");
  return buf;
}
std::string pkt_str(const WalkPacket& p) {
  static const char* const names[] = {"tnt", "tip",  "tip.pge", "tip.pgd", "fup",   "psb",   "psbend",
                                      "ovf", "pip",  "vmcs",    "mode",    "other", "error", "end"};
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s@%" PRIu64 "(ip 0x%" PRIx64 "%s tnt %u/0x%" PRIx64 " cr3 0x%" PRIx64 ")",
                names[unsigned(p.kind) % 14], p.offset, p.ip, p.ip_valid ? "" : " suppressed", p.tnt_count,
                p.tnt_bits, p.cr3);
  return buf;
}

// ------------------------------------------------------------------------------------------
// One cycle's inputs and results.

template <unsigned W>
struct CoreIn {
  bool rst = false;    // rst_ni low at this edge
  bool clear = false;  // clear_i: WalkerCore::reset()
  bool ans_valid = false, ans_found = false;
  const WalkLine* ans_line = nullptr;
  bool upd_valid = false;
  uint64_t upd_host = 0;
  uint8_t upd_we = 0;
  uint64_t upd_link[2] = {0, 0};
  bool drop_valid = false, drop_all = false;
  uint64_t drop_host = 0;
  bool out_ready = false;
  bool step_en = false;
  unsigned npkt = 0;  // candidates offered (pkt_valid beyond them is 0)
  std::array<const WalkPacket*, W> pkt{};
  std::array<bool, W> pkt_valid{};
};

enum Ctr { kNodes, kDecErr, kWalkErr, kOvf, kCtxSw, kNumCtr };
const char* const kCtrName[kNumCtr] = {"nodes", "decode_errors", "walk_errors", "overflows", "context_switches"};

struct CoreOut {
  unsigned used = 0;
  bool lookup_req = false;
  uint64_t lookup_addr = 0;
  bool need_packet = false, stall_out = false, stall_pkt = false, has_output = false;
  std::array<uint64_t, kNumCtr> inc{};
  bool fired = false;  // a record left the output register at this edge
  WalkOut fired_out;
  unsigned steps = 0;  // WalkerCore::step() calls
  std::array<uint8_t, 4> step_mode{};  // the mode each step started in
};

// The model: WalkerCore in the step loop of Walker::seq() (systemc/src/walker.cpp).
template <unsigned W>
class RefCore {
public:
  void configure(const WalkerConfig& c) { core_.configure(c); }
  const WalkerCore& core() const { return core_; }
  bool out_valid() const { return out_valid_; }
  const WalkOut& out_reg() const { return out_reg_; }

  CoreOut cycle(const CoreIn<W>& in) {
    CoreOut o;
    if (in.rst || in.clear) {
      core_.reset();
      out_valid_ = false;
      out_reg_ = WalkOut{};
      return o;
    }
    const auto c0 = counters();
    if (out_valid_ && in.out_ready) {  // the record leaves at this edge
      o.fired = true;
      o.fired_out = out_reg_;
      out_valid_ = false;
    }
    if (in.ans_valid) core_.answer_lookup(in.ans_found ? in.ans_line : nullptr);
    if (in.upd_valid && core_.has_line() && core_.line().host == in.upd_host) {
      uint64_t link[2] = {core_.line().link[0], core_.line().link[1]};
      if (in.upd_we & 1) link[0] = in.upd_link[0];
      if (in.upd_we & 2) link[1] = in.upd_link[1];
      core_.update_links(in.upd_host, link);
    }
    if (in.drop_valid && (in.drop_all || (core_.has_line() && core_.line().host == in.drop_host))) core_.drop_line();
    take();
    if (in.step_en) {
      unsigned used = 0;
      WalkerCore::Step s;
      for (unsigned w = 0; w < W; ++w) {
        const WalkPacket* p = used < in.npkt && in.pkt_valid[used] ? in.pkt[used] : nullptr;
        o.step_mode[std::min(w, 3u)] = uint8_t(core_.mode());
        s = core_.step(p);
        ++o.steps;
        if (s.consumed) ++used;
        take();
        if (w == 0) {
          o.stall_out = s.blocked;
          o.stall_pkt = s.need_packet && !s.advanced && !s.consumed;
        }
        if (s.need_lookup || s.blocked || s.need_packet || s.idle()) break;
      }
      o.used = used;
      o.lookup_req = s.need_lookup;
      o.need_packet = s.need_packet;
    }
    o.lookup_addr = core_.lookup_addr();
    o.has_output = core_.has_output();
    const auto c1 = counters();
    for (unsigned i = 0; i < kNumCtr; ++i) o.inc[i] = c1[i] - c0[i];
    return o;
  }

  std::array<uint64_t, kNumCtr> counters() const {
    return {core_.nodes(), core_.decode_errors(), core_.walk_errors(), core_.overflows(), core_.context_switches()};
  }

private:
  void take() {
    if (core_.has_output() && !out_valid_) {
      out_reg_ = core_.take_output();
      out_valid_ = true;
    }
  }
  WalkerCore core_;
  bool out_valid_ = false;
  WalkOut out_reg_;
};

// ------------------------------------------------------------------------------------------
// The Verilated core and the model side by side.

template <class Dut, unsigned W, unsigned N>
class Bench {
public:
  static constexpr unsigned kW = W, kN = N;

  Bench() : ctx_(std::make_unique<VerilatedContext>()), dut_(std::make_unique<Dut>(ctx_.get())),
            pkts_(W * kPktW), nodes_(N * kNodeW), line_(kLineW), cfg_(kCfgW) {
    static_assert(sizeof(dut_->pkt_i) == ((W * kPktW + 31) / 32) * 4, "walk_pkt_t layout");
    static_assert(sizeof(dut_->ans_nodes_i) == ((N * kNodeW + 31) / 32) * 4, "walk_node_t layout");
    static_assert(sizeof(dut_->ans_line_i) == ((kLineW + 31) / 32) * 4, "walk_line_t layout");
    static_assert(sizeof(dut_->out_o) == ((kOutW + 31) / 32) * 4, "walk_out_t layout");
    static_assert(sizeof(dut_->cfg_i) == ((kCfgW + 31) / 32) * 4, "walk_cfg_t layout");
    dut_->clk_i = 0;
    dut_->rst_ni = 0;
    dut_->eval();
    edge();
    dut_->rst_ni = 1;
    configure(WalkerConfig{});
    if (const char* t = std::getenv("XTU_RTL_WALK_TRACE"))
      std::sscanf(t, "%" SCNu64 ":%" SCNu64, &trace_from_, &trace_to_);
  }
  ~Bench() { dut_->final(); }

  void configure(const WalkerConfig& c) {
    ref_.configure(c);
    pack_cfg(cfg_, c);
    to_port(dut_->cfg_i, cfg_);
  }
  const RefCore<W>& ref() const { return ref_; }
  RefCore<W>& ref() { return ref_; }
  bool failed() const { return failed_; }
  const std::string& report() const { return report_; }
  uint64_t cycles() const { return cycles_; }
  uint64_t steps() const { return steps_; }
  // Counters the RTL's increments add up to (since the last reset / clear).
  const std::array<uint64_t, kNumCtr>& rtl_counters() const { return sum_; }

  // One clock cycle in both. Returns the model's results; stops at the first difference
  // (failed()).
  CoreOut cycle(const CoreIn<W>& in, const std::string& where = "") {
    ++cycles_;
    // Registered outputs: the state after the previous cycle.
    compare_registered(where);

    // A lookup is answered while the core holds no output event (a failed lookup's GAP would
    // replace it: WalkerCore starts no lookup in a step that emitted).
    if (in.ans_valid && !in.rst && !in.clear && ref_.core().mode() == WalkerCore::Mode::LookupPending &&
        ref_.core().has_output())
      fail("a lookup is answered while the model holds an output event", where);
    const CoreOut o = ref_.cycle(in);
    steps_ += o.steps;
    if (cycles_ >= trace_from_ && cycles_ <= trace_to_) trace(in, o);

    dut_->rst_ni = !in.rst;
    dut_->clear_i = in.clear;
    dut_->ans_valid_i = in.ans_valid;
    dut_->ans_found_i = in.ans_found;
    if (in.ans_valid && in.ans_line) {
      pack_line(line_, *in.ans_line);
      to_port(dut_->ans_line_i, line_);
      for (unsigned k = 0; k < N; ++k) {
        // Entries past the line's nodes hold whatever the RAM holds: garbage.
        WalkNode n = k < in.ans_line->nodes.size() ? in.ans_line->nodes[k] : garbage_node();
        pack_node(nodes_, (k + 1) * kNodeW, n);
      }
      to_port(dut_->ans_nodes_i, nodes_);
    }
    dut_->upd_valid_i = in.upd_valid;
    dut_->upd_host_i = in.upd_host;
    dut_->upd_we_i = in.upd_we;
    dut_->upd_link0_i = in.upd_link[0];
    dut_->upd_link1_i = in.upd_link[1];
    dut_->drop_valid_i = in.drop_valid;
    dut_->drop_all_i = in.drop_all;
    dut_->drop_host_i = in.drop_host;
    dut_->out_ready_i = in.out_ready;
    dut_->step_en_i = in.step_en;
    uint32_t valid = 0;
    for (unsigned k = 0; k < W; ++k) {
      const bool v = k < in.npkt && in.pkt_valid[k];
      valid |= uint32_t(v) << k;
      if (k < in.npkt) pack_pkt(pkts_, (k + 1) * kPktW, *in.pkt[k]);
    }
    dut_->pkt_valid_i = valid;
    to_port(dut_->pkt_i, pkts_);
    dut_->eval();

    if (!in.rst && !in.clear) {
      cmp("pkt_used_o", o.used, dut_->pkt_used_o, where);
      cmp("lookup_req_o", o.lookup_req, dut_->lookup_req_o, where);
      cmp("lookup_addr_o", o.lookup_addr, dut_->lookup_addr_o, where);
      cmp("need_packet_o", o.need_packet, dut_->need_packet_o, where);
      cmp("stall_out_o", o.stall_out, dut_->stall_out_o, where);
      cmp("stall_pkt_o", o.stall_pkt, dut_->stall_pkt_o, where);
      cmp("has_output_o", o.has_output, dut_->has_output_o, where);
      const uint64_t rtl_inc[kNumCtr] = {dut_->inc_nodes_o, dut_->inc_dec_err_o, dut_->inc_walk_err_o,
                                         dut_->inc_ovf_o, dut_->inc_ctx_sw_o};
      for (unsigned i = 0; i < kNumCtr; ++i) {
        cmp((std::string("inc_") + kCtrName[i]).c_str(), o.inc[i], rtl_inc[i], where);
        sum_[i] += rtl_inc[i];
      }
      const auto mc = ref_.counters();
      for (unsigned i = 0; i < kNumCtr; ++i) cmp(kCtrName[i], mc[i], sum_[i], where);
    } else {
      sum_ = {};
    }
    edge();
    return o;
  }

private:
  // XTU_RTL_WALK_TRACE=FROM:TO prints those cycles' inputs and the model's results (debugging).
  void trace(const CoreIn<W>& in, const CoreOut& o) const {
    std::string t = "cycle " + std::to_string(cycles_) + ":";
    if (in.rst || in.clear) t += in.rst ? " reset" : " clear";
    if (in.ans_valid) t += in.ans_found ? " answer(found)" : " answer(not found)";
    if (in.upd_valid) t += " update_links";
    if (in.drop_valid) t += in.drop_all ? " drop(all)" : " drop";
    t += in.out_ready ? " ready" : "";
    if (in.step_en) {
      t += " steps:";
      for (unsigned k = 0; k < in.npkt; ++k) t += " " + pkt_str(*in.pkt[k]) + (in.pkt_valid[k] ? "" : "(not valid)");
    }
    t += " -> used " + std::to_string(o.used) + " steps " + std::to_string(o.steps) + " nodes +" +
         std::to_string(o.inc[kNodes]) + " mode " + WalkerCore::mode_name(ref_.core().mode()) +
         (o.lookup_req ? " lookup" : "") + (o.fired ? " out " + out_str(o.fired_out) : "");
    if (ref_.core().has_line()) {
      const WalkLine& l = ref_.core().line();
      char buf[64];
      std::snprintf(buf, sizeof buf, "\n  line 0x%" PRIx64 "%s:", l.host, l.tb ? " (tb)" : "");
      t += buf;
      for (const WalkNode& n : l.nodes) {
        std::snprintf(buf, sizeof buf, " [%u %u/%u s%u r%#x]", n.kind, n.succ, n.alt, n.slot, n.ret);
        t += buf;
      }
    }
    std::printf("%s\n", t.c_str());
  }

  void edge() {
    dut_->clk_i = 1;
    dut_->eval();
    dut_->clk_i = 0;
    dut_->eval();
  }

  WalkNode garbage_node() {
    const uint64_t r = rng_();
    return WalkNode{uint8_t(r & 15), uint8_t((r >> 4) & 31), uint8_t((r >> 9) & 31), uint8_t((r >> 14) & 1),
                    uint16_t(r >> 16)};
  }

  void compare_registered(const std::string& where) {
    const WalkerCore& c = ref_.core();
    cmp("mode_o", unsigned(c.mode()), dut_->mode_o, where);
    cmp("have_line_o", c.has_line(), dut_->have_line_o, where);
    if (c.has_line()) {
      const LineView l = unpack_line(from_port(dut_->line_o, kLineW));
      cmp("line_o.host", c.line().host, l.host, where);
      cmp("line_o.link0", c.line().link[0], l.link[0], where);
      cmp("line_o.link1", c.line().link[1], l.link[1], where);
      cmp("line_o.pc", c.line().pc, l.pc, where);
      cmp("line_o.n", c.line().nodes.size(), l.n, where);
    }
    cmp("out_valid_o", ref_.out_valid(), dut_->out_valid_o, where);
    if (ref_.out_valid()) {
      const WalkOut r = unpack_out(from_port(dut_->out_o, kOutW));
      if (!same_out(ref_.out_reg(), r)) fail("out_o " + out_str(ref_.out_reg()) + " rtl " + out_str(r), where);
    }
  }

  template <class A, class B>
  void cmp(const char* what, A model, B rtl, const std::string& where) {
    if (uint64_t(model) == uint64_t(rtl)) return;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s model=0x%" PRIx64 " rtl=0x%" PRIx64, what, uint64_t(model), uint64_t(rtl));
    fail(buf, where);
  }
  void fail(const std::string& what, const std::string& where) {
    if (!failed_) {
      report_ = "cycle " + std::to_string(cycles_) + ": " + what + (where.empty() ? "" : "\n  " + where) +
                "\n  model mode " + WalkerCore::mode_name(ref_.core().mode()) +
                ", last error: " + ref_.core().last_error();
    } else if (report_.size() < 2000) {
      report_ += "\n  and " + what;
    }
    failed_ = true;
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Dut> dut_;
  RefCore<W> ref_;
  Bits pkts_, nodes_, line_, cfg_;
  std::array<uint64_t, kNumCtr> sum_{};
  Rng rng_{99};
  bool failed_ = false;
  std::string report_;
  uint64_t cycles_ = 0, steps_ = 0;
  uint64_t trace_from_ = 1, trace_to_ = 0;
};

using Bench3 = Bench<Vxtu_walk_core, 3, 32>;     // the defaults: WALK_WIDTH 3, MAX_NODES 32
using Bench2 = Bench<Vxtu_walk_core_w2, 2, 13>;  // WALK_WIDTH 2, MAX_NODES 13
using BenchGates = Bench<Vxtu_walk_core_gates, 3, 32>;  // Yosys's netlist of the defaults

// Coverage of a run.
struct Coverage {
  std::array<uint64_t, 13> mode{};  // steps by the mode they start in
  std::array<uint64_t, 4> out{};    // records by kind
  uint64_t lookups = 0, found = 0, not_found = 0, events = 0, blocked = 0, full_cycles = 0;
  std::array<uint64_t, kNumCtr> ctr{};
  std::array<uint64_t, 4> used{};  // cycles by packets consumed
  std::string str() const {
    std::string s = "modes:";
    for (unsigned m = 0; m < mode.size(); ++m)
      s += std::string(" ") + WalkerCore::mode_name(WalkerCore::Mode(m)) + " " + std::to_string(mode[m]);
    s += "; records: block " + std::to_string(out[1]) + " gap " + std::to_string(out[2]) + " context " +
         std::to_string(out[3]);
    s += "; lookups " + std::to_string(lookups) + " (found " + std::to_string(found) + ", not found " +
         std::to_string(not_found) + "), events " + std::to_string(events) + ", output stalls " +
         std::to_string(blocked) + ", cycles using every step " + std::to_string(full_cycles) + ";";
    for (unsigned i = 0; i < kNumCtr; ++i) s += std::string(" ") + kCtrName[i] + " " + std::to_string(ctr[i]);
    s += "; cycles by packets consumed:";
    for (unsigned i = 0; i < used.size(); ++i) s += " " + std::to_string(used[i]);
    return s;
  }
};

template <class B>
void note(Coverage& cov, const B& bench, const CoreOut& o) {
  for (unsigned w = 0; w < o.steps; ++w) cov.mode[o.step_mode[w]]++;
  if (o.fired) cov.out[unsigned(o.fired_out.kind) & 3]++;
  cov.blocked += o.stall_out;
  cov.full_cycles += o.steps == B::kW;
  cov.used[std::min(o.used, 3u)]++;
  (void)bench;
  for (unsigned i = 0; i < kNumCtr; ++i) cov.ctr[i] += o.inc[i];
}

// ------------------------------------------------------------------------------------------
// Real runs: a bundle's packets (as the unit's decoder produces them) and events.

// The packets the pkt_decoder block hands to the walker for a whole trace (pkt_decoder.cpp,
// decode_one(), with every byte available): the first PSB search (bytes before it: an Error
// with reason 3 at offset 0), packets with the IP reconstructed (last IP reset at PSB and
// OVF) and the time once each packet is decoded, timing and other packets that do not move
// the flow kept back, an Error (reason 2) at an undecodable packet and a search again from up
// to 15 bytes before it (past the PSB where decoding last synchronised if it failed right
// there), End at the end.
std::vector<WalkPacket> decoder_packets(const std::vector<uint8_t>& pt, const model::TimeConfig& tc) {
  using model::PktType;
  std::vector<WalkPacket> out;
  model::TimeKeeperOptions to;
  to.config = tc;
  model::TimeKeeper time(to);
  model::LastIp last_ip;
  const size_t size = pt.size();
  auto end_at = [&](uint64_t off) {
    WalkPacket p;
    p.kind = K::End;
    p.offset = off;
    out.push_back(p);
    return out;
  };
  int64_t s = model::psb_search_forward(pt.data(), size, 0);
  if (size > 0 && s != 0) {
    WalkPacket p;
    p.kind = K::Error;
    p.reason = 3;
    out.push_back(p);
  }
  if (s < 0) return end_at(size);
  size_t pos = size_t(s), sync = pos;
  for (;;) {
    if (pos > size) return end_at(size);
    const size_t avail = size - pos;
    model::Packet pkt;
    const int n = avail == 0 ? 0 : model::decode_packet(pt.data() + pos, std::min(avail, model::kMaxPacketWindow), pkt);
    if (n == 0) return end_at(pos);
    if (n < 0) {
      WalkPacket p;
      p.kind = K::Error;
      p.offset = pos;
      p.reason = 2;
      out.push_back(p);
      size_t start = pos == sync ? pos + model::kPsbSize : pos;
      start -= std::min<size_t>(start, model::kPsbSize - 1);
      s = model::psb_search_forward(pt.data(), size, start);
      if (s < 0) return end_at(size);
      pos = sync = size_t(s);
      last_ip.reset();
      continue;
    }
    WalkPacket p = model::walk_packet(pkt, pos, last_ip);
    time.apply(pkt);
    p.time_valid = time.tsc(&p.time) == model::TimeStatus::kOk;
    if (p.kind != K::Other) out.push_back(p);
    pos += size_t(n);
  }
}

WalkLine walk_line(const driver::Descriptor& d) {
  WalkLine l;
  l.tb = d.kind == driver::DescKind::Tb;
  l.host = d.host;
  l.pc = d.pc;
  l.icount = d.icount;
  l.n = uint8_t(d.nodes.size());
  for (const driver::Node& n : d.nodes) l.nodes.push_back(WalkNode{uint8_t(n.kind), n.succ, n.alt, n.slot, n.ret});
  return l;
}

std::string e2e_dir() {
  const char* env = std::getenv("XTU_E2E_DIR");
  return env && *env ? env : XTU_E2E_DIR;
}

struct BundleResult {
  uint64_t packets = 0, timed_packets = 0, events = 0, cycles = 0, steps = 0;
  std::vector<WalkOut> outputs;
};

// The walker block's sequencing around the core, on a bundle: events applied in trace order
// before the packets at or after their offset (each takes 1-3 cycles in the tb_cache; its
// effect on the current line reaches the core at the start of the cycle it completes),
// lookups answered from the table the events build (a CAM hit: the next cycle; a miss: 3-20
// cycles later), packets arriving 0-4 per cycle into a 6-entry buffer, the output register
// drained with probability `ready`.
template <class B>
void run_bundle(B& bench, const std::string& name, uint64_t seed, double ready, BundleResult& res, Coverage& cov) {
  constexpr unsigned W = B::kW;
  const std::string dir = e2e_dir() + "/" + name + "/bundle";
  ASSERT_TRUE(std::filesystem::exists(dir + "/trace.pt")) << dir << " (set XTU_E2E_DIR to a build's tests/e2e)";
  const std::vector<uint8_t> pt = read_file_bytes(dir + "/trace.pt");
  const driver::UnitProgram prog = driver::translate_events(ev::read(dir + "/events.xtev"));
  // The time configuration, as run_bundle() takes it from the manifest.
  const BundleInfo info = read_bundle_info(dir);
  model::TimeConfig tc;
  tc.mtc_freq = uint8_t(info.pt.mtc ? info.pt.mtc_freq : 0);
  tc.nom_freq = uint8_t(info.pt.nom_freq);
  tc.cpuid_15_eax = info.pt.cpuid_15_eax;
  tc.cpuid_15_ebx = info.pt.cpuid_15_ebx;
  const std::vector<WalkPacket> pkts = decoder_packets(pt, tc);
  for (const WalkPacket& p : pkts) res.timed_packets += p.time_valid;
  std::vector<WalkLine> lines;
  for (const driver::Descriptor& d : prog.descriptors) lines.push_back(walk_line(d));
  for (const WalkLine& l : lines) ASSERT_LE(l.nodes.size(), B::kN);

  WalkerConfig cfg;
  cfg.ctx_filter = true;
  cfg.target_cr3 = prog.cr3;
  cfg.target_vmcs = prog.vmcs;
  cfg.ctx_records = true;
  bench.configure(cfg);
  CoreIn<W> clr;
  clr.clear = true;
  bench.cycle(clr);

  Rng rng(seed);
  std::unordered_map<uint64_t, WalkLine> table;  // entry point -> line with its links
  size_t next_pkt = 0, next_ev = 0;
  std::deque<const WalkPacket*> pbuf;
  bool lookup_pending = false, event_pending = false;
  uint64_t lookup_addr = 0, due = 0, now = 0;
  WalkLine answer;
  const uint64_t max_cycles = 40 * pkts.size() + 100000;
  bool last_need_packet = false;

  for (; now < max_cycles && !bench.failed(); ++now) {
    CoreIn<W> in;
    in.out_ready = std::uniform_real_distribution<double>(0, 1)(rng) < ready;
    // An event or an answer completing at this cycle.
    if (event_pending && now >= due) {
      const driver::UnitEvent& e = prog.events[next_ev++];
      event_pending = false;
      ++res.events;
      ++cov.events;
      switch (e.kind) {
        case 1: {
          const WalkLine& l = lines.at(e.b);
          if (l.host == e.a) table[e.a] = l;
          break;
        }
        case 2:
        case 3: {
          auto it = table.find(e.a);
          if (it != table.end()) it->second.link[e.slot & 1] = e.kind == 2 ? e.b : 0;
          in.upd_valid = true;
          in.upd_host = e.a;
          in.upd_we = uint8_t(1u << (e.slot & 1));
          in.upd_link[e.slot & 1] = e.kind == 2 ? e.b : 0;
          break;
        }
        case 4:
          table.erase(e.a);
          in.drop_valid = true;
          in.drop_host = e.a;
          break;
        case 5:
          table.clear();
          in.drop_valid = true;
          in.drop_all = true;
          break;
        default: break;
      }
    } else if (lookup_pending && now >= due) {
      lookup_pending = false;
      auto it = table.find(lookup_addr);
      in.ans_valid = true;
      in.ans_found = it != table.end();
      if (in.ans_found) answer = it->second;
      in.ans_line = in.ans_found ? &answer : nullptr;
      ++(in.ans_found ? cov.found : cov.not_found);
    }
    // Packets arriving.
    const unsigned arrive = unsigned(rng() % 5);
    for (unsigned k = 0; k < arrive && pbuf.size() < 6 && next_pkt < pkts.size(); ++k)
      pbuf.push_back(&pkts[next_pkt++]);
    // The next event is due when the next packet is at or past its offset (or no packet comes).
    const bool all_arrived = next_pkt == pkts.size();
    const bool more_events = next_ev < prog.events.size();
    if (!lookup_pending && !event_pending && more_events &&
        (!pbuf.empty() ? prog.events[next_ev].offset <= pbuf.front()->offset : all_arrived)) {
      event_pending = true;  // sent to the tb_cache: no steps this cycle
      due = now + 1 + rng() % 3;
    }
    in.step_en = !lookup_pending && !event_pending;
    in.npkt = unsigned(std::min<size_t>(W, pbuf.size()));
    for (unsigned k = 0; k < in.npkt; ++k) {
      in.pkt[k] = pbuf[k];
      in.pkt_valid[k] = !more_events || prog.events[next_ev].offset > pbuf[k]->offset;
    }
    const CoreOut o = bench.cycle(in, name + " packet " + std::to_string(next_pkt - pbuf.size()) +
                                          (pbuf.empty() ? "" : " " + pkt_str(*pbuf.front())));
    note(cov, bench, o);
    if (o.fired) res.outputs.push_back(o.fired_out);
    for (unsigned k = 0; k < o.used; ++k) pbuf.pop_front();
    if (o.lookup_req) {
      ++cov.lookups;
      lookup_pending = true;
      lookup_addr = o.lookup_addr;
      due = now + (rng() % 4 ? 1 : 3 + rng() % 18);
    }
    if (in.step_en) last_need_packet = o.need_packet;
    // Done: every packet used, every event applied, nothing pending, every record out.
    if (all_arrived && pbuf.empty() && !more_events && !lookup_pending && !event_pending && last_need_packet &&
        !o.has_output && !bench.ref().out_valid())
      break;
  }
  ASSERT_FALSE(bench.failed()) << name << ": " << bench.report();
  ASSERT_LT(now, max_cycles) << name << ": the run did not finish";
  res.packets += pkts.size();
  res.cycles += now;
  res.steps = bench.steps();

  // The records equal the functional reference's on the same packets and events.
  std::vector<model::UnitEvent> evs;
  for (const driver::UnitEvent& e : prog.events)
    evs.push_back(model::UnitEvent{e.offset, e.kind, e.slot, e.nodes, e.a, e.b});
  model::FlowReference ref(cfg, evs, [&lines](uint64_t i) -> const WalkLine* {
    return i < lines.size() ? &lines[i] : nullptr;  // LOAD's b: the descriptor's index
  });
  for (const WalkPacket& p : pkts) ref.packet(p);
  ref.finish();
  const std::vector<WalkOut>& want = ref.output();
  size_t i = 0;
  while (i < want.size() && i < res.outputs.size() && same_out(want[i], res.outputs[i])) ++i;
  EXPECT_TRUE(i == want.size() && i == res.outputs.size())
      << name << ": record " << i << " of " << res.outputs.size() << " differs from FlowReference's ("
      << want.size() << "): " << (i < res.outputs.size() ? out_str(res.outputs[i]) : "none") << " vs "
      << (i < want.size() ? out_str(want[i]) : "none");

  // Their guest trace is QEMU's.
  std::vector<GuestRecord> got;
  for (const WalkOut& o : res.outputs) {
    if (o.kind == WalkOut::Kind::Block) got.push_back(GuestRecord::block(o.value));
    else if (o.kind == WalkOut::Kind::Gap && (got.empty() || got.back().kind != GuestRecord::Kind::Gap))
      got.push_back(GuestRecord::gap());
  }
  const TraceDiff d = compare_guest_traces(read_guest_trace(dir + "/guest.txt"), got);
  EXPECT_TRUE(d.equal) << name << ": " << d.message;
}

template <class B>
void bundle_test(const std::string& name, double ready) {
  B bench;
  BundleResult res;
  Coverage cov;
  run_bundle(bench, name, 17, ready, res, cov);
  uint64_t timed_blocks = 0;
  for (const WalkOut& o : res.outputs) timed_blocks += o.kind == WalkOut::Kind::Block && o.time_valid;
  std::printf("%s (WALK_WIDTH %u): %" PRIu64 " packets (%" PRIu64 " with a time), %" PRIu64 " events, %" PRIu64
              " cycles, %" PRIu64 " steps, %zu records (%" PRIu64 " timed blocks), all equal; %s\n",
              name.c_str(), B::kW, res.packets, res.timed_packets, res.events, res.cycles, res.steps,
              res.outputs.size(), timed_blocks, cov.str().c_str());
  EXPECT_GT(res.outputs.size(), 1000u);
}

TEST(RtlWalkBundle, hashsort_chained) { bundle_test<Bench3>("hashsort_chained", 0.9); }
TEST(RtlWalkBundle, dispatch_chained) { bundle_test<Bench3>("dispatch_chained", 0.6); }
TEST(RtlWalkBundle, bigcode_chained) { bundle_test<Bench3>("bigcode_chained", 0.8); }
TEST(RtlWalkBundle, timing_packing) { bundle_test<Bench3>("timing_packing", 0.95); }
TEST(RtlWalkBundle, overflow) { bundle_test<Bench3>("overflow", 0.7); }
TEST(RtlWalkBundle, two_processes_vm) { bundle_test<Bench3>("two_processes_vm", 0.8); }
TEST(RtlWalkBundle, hashsort_chained_width2) { bundle_test<Bench2>("hashsort_chained", 0.5); }
TEST(RtlWalkBundle, exit_code_yosys_netlist) { bundle_test<BenchGates>("exit_code", 0.8); }

// ------------------------------------------------------------------------------------------
// Random runs.

class RandomEnv {
public:
  explicit RandomEnv(uint64_t seed) : rng_(seed) {}

  // A fresh world: entry points, lines, contexts, configuration, timing mix.
  void new_world(unsigned max_nodes) {
    max_nodes_ = max_nodes;
    hosts_.clear();
    const unsigned nh = 4 + unsigned(rng_() % 12);
    const uint64_t base = 0x7f0000000000ull + (rng_() % 64) * 0x10000;
    for (unsigned i = 0; i < nh; ++i) hosts_.push_back(base + 0x40 * (rng_() % 4096));
    lines_.clear();
    for (uint64_t h : hosts_) lines_[h] = random_line(h);
    cr3s_ = {(rng_() & kMask52) & ~uint64_t{31}, (rng_() & kMask52) & ~uint64_t{31}, 0x1000};
    vmcss_ = {0, (rng_() & kMask52) & ~uint64_t{0xfff}, 0x2000};
    cfg_.ctx_filter = rng_() % 2;
    cfg_.target_cr3 = cr3s_[rng_() % 3];
    cfg_.target_vmcs = rng_() % 2 ? 0 : vmcss_[rng_() % 3];
    cfg_.ctx_records = rng_() % 2;
    p_ready_ = pick({0.05, 0.3, 0.7, 0.95, 1.0});
    p_step_ = pick({0.6, 0.95, 1.0});
    p_event_ = pick({0.0, 0.02, 0.1});
    p_any_ = pick({0.01, 0.05, 0.2});  // packets not biased towards the mode
    p_hit_ = pick({0.3, 0.8});
  }
  const WalkerConfig& cfg() const { return cfg_; }

  WalkLine random_line(uint64_t host) {
    WalkLine l;
    l.tb = rng_() % 5 != 0;
    l.host = host;
    l.pc = 0x400000 + (rng_() % 0x100000) * 4;
    l.icount = uint16_t(rng_() % 4 ? rng_() % 64 : rng_());
    const unsigned n = rng_() % 4 ? 1 + unsigned(rng_() % std::min(8u, max_nodes_)) : 1 + unsigned(rng_() % max_nodes_);
    for (unsigned k = 0; k < n; ++k) {
      WalkNode nd;
      const unsigned r = unsigned(rng_() % 100);
      nd.kind = r < 40   ? kCond
                : r < 56 ? kGotoTb
                : r < 64 ? kGotoPtr
                : r < 72 ? kCall
                : r < 76 ? kNoReturn
                : r < 84 ? kExit
                : r < 90 ? kDispatch
                : r < 96 ? kRet
                : r < 99 ? kInvalid
                         : uint8_t(std::array<uint8_t, 7>{0, 9, 10, 11, 12, 13, 14}[rng_() % 7]);
      // Mostly forward within the line (n: walking off it); sometimes anywhere a 5-bit index
      // (the node layout's) reaches.
      nd.succ = uint8_t(rng_() % 20 ? (k + 1 + rng_() % 3) % std::min(n + 1, 32u) : rng_() % 32);
      nd.alt = uint8_t(rng_() % 20 ? (k + 1 + rng_() % 3) % std::min(n + 1, 32u) : rng_() % 32);
      nd.slot = uint8_t(rng_() % 2);
      nd.ret = uint16_t(std::array<uint16_t, 4>{0x10, 0x30, 0x58, uint16_t(rng_())}[rng_() % 4]);
      l.nodes.push_back(nd);
    }
    l.n = uint8_t(n);
    l.link[0] = rng_() % 2 ? hosts_[rng_() % hosts_.size()] : 0;
    l.link[1] = rng_() % 2 ? hosts_[rng_() % hosts_.size()] : 0;
    return l;
  }

  // The next packet, shaped by what the model's mode accepts.
  WalkPacket next_packet(const WalkerCore& c) {
    WalkPacket p;
    offset_ += 1 + rng_() % 12;
    p.offset = offset_;
    time_ += rng_() % 1000;
    p.time = time_;
    p.time_valid = rng_() % 8 != 0;
    using M = WalkerCore::Mode;
    const unsigned r = unsigned(rng_() % 100);
    K k;
    if (chance(p_any_)) {
      k = K(rng_() % 14);
    } else {
      switch (c.mode()) {
        case M::Unsynced: k = r < 70 ? K::Psb : r < 75 ? K::Fup : r < 80 ? K::Tnt : K(rng_() % 14); break;
        case M::PsbPlus:
          k = r < 40 ? K::Fup : r < 80 ? K::Psbend : r < 86 ? K::Pip : r < 90 ? K::Vmcs : r < 93 ? K::ModeExec
              : r < 95 ? K::Psb : K(rng_() % 14);
          break;
        case M::Out:
          k = r < 75 ? K::TipPge : r < 82 ? K::TipPgd : r < 90 ? K::Pip : r < 93 ? K::Psb : K(rng_() % 14);
          break;
        case M::Node:
          k = r < 80 ? K::Tnt : r < 83 ? K::TipPgd : r < 85 ? K::Ovf : r < 88 ? K::Psb : r < 89 ? K::Error
              : r < 92 ? K::Pip : r < 94 ? K::Tip : K(rng_() % 14);
          break;
        case M::CallPgd:
        case M::PtrPgd:
        case M::WaitPgd: k = r < 85 ? K::TipPgd : r < 90 ? K::Pip : r < 92 ? K::Tnt : K(rng_() % 14); break;
        case M::CallPge:
        case M::PtrPge: k = r < 80 ? K::TipPge : r < 88 ? K::Pip : r < 92 ? K::Vmcs : K(rng_() % 14); break;
        case M::PtrTip:
        case M::DispatchTip: k = r < 80 ? K::Tip : r < 88 ? K::TipPgd : K(rng_() % 14); break;
        case M::OvfWait: k = r < 45 ? K::Fup : r < 85 ? K::TipPge : r < 90 ? K::Ovf : K(rng_() % 14); break;
        default: k = K(rng_() % 14); break;
      }
    }
    p.kind = k;
    p.ip_valid = rng_() % 10 != 0;
    p.ip = target_ip(c);
    if (k == K::Tnt) {
      p.tnt_count = uint8_t(rng_() % 20 == 0 ? rng_() % 48 : 1 + rng_() % 6);
      p.tnt_bits = rng_() & kMask47;
      if (rng_() % 2) p.tnt_bits &= (uint64_t{1} << p.tnt_count) - 1;
    } else if (rng_() % 4 == 0) {
      p.tnt_count = uint8_t(rng_() % 48);  // fields a packet of another kind does not use
      p.tnt_bits = rng_() & kMask47;
    }
    if (k == K::Pip || rng_() % 4 == 0) {
      p.cr3 = rng_() % 10 ? cr3s_[rng_() % 3] : (rng_() & kMask52);
      p.nr = rng_() % 2;
    }
    if (k == K::Vmcs || rng_() % 4 == 0) p.vmcs = rng_() % 10 ? vmcss_[rng_() % 3] : (rng_() & kMask52);
    p.reason = uint8_t(rng_() % 4);
    p.mode64 = rng_() % 2;
    return p;
  }

  // Runs a copy of the model on the packet `p` (answering its lookups from the world), so the
  // next packet can be made for the mode it will then be in.
  void run_ahead(WalkerCore& c, const WalkPacket& p) {
    for (int i = 0; i < 8; ++i) {
      if (c.has_output()) c.take_output();
      if (c.mode() == WalkerCore::Mode::LookupPending) {
        auto it = lines_.find(c.lookup_addr());
        c.answer_lookup(it == lines_.end() ? nullptr : &it->second);
        continue;
      }
      const WalkerCore::Step s = c.step(&p);
      if (s.consumed || s.need_packet || s.idle()) break;
    }
  }

  // An IP a TIP / TIP.PGE / FUP might carry: a return address of the current line, an entry
  // point, or somewhere else.
  uint64_t target_ip(const WalkerCore& c) {
    const unsigned r = unsigned(rng_() % 100);
    using M = WalkerCore::Mode;
    if ((c.mode() == M::CallPge || c.mode() == M::PtrPge) && c.has_line() && r < 70) {
      // The return address of a CALL / GOTO_PTR node of the line (likely the one awaited).
      const uint8_t kind = c.mode() == M::CallPge ? kCall : kGotoPtr;
      std::vector<uint16_t> rets;
      for (const WalkNode& n : c.line().nodes)
        if (n.kind == kind) rets.push_back(n.ret);
      if (!rets.empty()) return c.line().host + rets[rng_() % rets.size()];
    }
    if (r < 35 && c.has_line() && !c.line().nodes.empty()) {
      const WalkNode& n = c.line().nodes[rng_() % c.line().nodes.size()];
      return c.line().host + n.ret;
    }
    if (r < 90) return hosts_[rng_() % hosts_.size()];
    return rng_();
  }

  // The answer to a lookup of `addr`: its line (mostly), another line, or not found.
  const WalkLine* answer(uint64_t addr) {
    auto it = lines_.find(addr);
    const unsigned r = unsigned(rng_() % 100);
    if (it != lines_.end() && r < 85) {
      if (rng_() % 8 == 0) it->second = random_line(addr);  // the descriptor was replaced
      return &it->second;
    }
    if (r < 92) {
      scratch_ = random_line(addr);
      return &scratch_;
    }
    return nullptr;
  }

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  uint64_t rnd() { return rng_(); }
  uint64_t host() { return hosts_[rng_() % hosts_.size()]; }
  double p_ready_ = 1, p_step_ = 1, p_event_ = 0, p_any_ = 0.1, p_hit_ = 0.5;

private:
  double pick(std::initializer_list<double> v) { return *(v.begin() + rng_() % v.size()); }
  Rng rng_;
  unsigned max_nodes_ = 32;
  std::vector<uint64_t> hosts_;
  std::map<uint64_t, WalkLine> lines_;
  WalkLine scratch_;
  std::array<uint64_t, 3> cr3s_{}, vmcss_{};
  WalkerConfig cfg_;
  uint64_t offset_ = 0, time_ = 1000000;
};

// `worlds` worlds of `cycles_per_world` cycles each; coverage: every mode, record kind and
// counter at least `min` times.
template <class B>
void random_test(uint64_t seed, unsigned worlds, unsigned cycles_per_world, uint64_t min = 1000) {
  constexpr unsigned W = B::kW;
  B bench;
  RandomEnv env(seed);
  Coverage cov;
  std::deque<WalkPacket> pbuf;
  bool lookup_pending = false;
  uint64_t lookup_addr = 0, due = 0, now = 0, resets = 0, clears = 0;
  WalkLine answer;
  for (unsigned world = 0; world < worlds && !bench.failed(); ++world) {
    env.new_world(B::kN);
    bench.configure(env.cfg());
    for (unsigned c = 0; c < cycles_per_world && !bench.failed(); ++c, ++now) {
      CoreIn<W> in;
      in.rst = env.rnd() % 40000 == 0;
      in.clear = !in.rst && env.rnd() % 20000 == 0;
      if (in.rst || in.clear) {
        resets += in.rst;
        clears += in.clear;
        lookup_pending = false;
        pbuf.clear();
        bench.cycle(in);
        continue;
      }
      in.out_ready = env.chance(env.p_ready_);
      if (lookup_pending && now >= due) {
        lookup_pending = false;
        const WalkLine* l = env.answer(lookup_addr);
        in.ans_valid = true;
        in.ans_found = l != nullptr;
        if (l) answer = *l;
        in.ans_line = l ? &answer : nullptr;
        ++(l ? cov.found : cov.not_found);
      } else if (env.rnd() % 3000 == 0) {
        // An answer nobody asked for (the walker never gives one): ignored outside a lookup.
        answer = env.random_line(env.host());
        in.ans_valid = true;
        in.ans_found = env.rnd() % 2;
        in.ans_line = &answer;
      }
      // Events: the walker applies them while no lookup is pending; rarely also otherwise.
      if (env.chance(env.p_event_) && (!lookup_pending || env.rnd() % 20 == 0)) {
        const WalkerCore& core = bench.ref().core();
        const uint64_t h = core.has_line() && env.rnd() % 4 ? core.line().host : env.host();
        ++cov.events;
        if (env.rnd() % 3) {
          in.upd_valid = true;
          in.upd_host = h;
          in.upd_we = uint8_t(env.rnd() % 4);
          for (auto& l : in.upd_link) l = env.rnd() % 3 ? env.host() : 0;
        } else {
          in.drop_valid = true;
          in.drop_all = env.rnd() % 3 == 0;
          in.drop_host = h;
        }
      }
      // Packets: up to W + 1 candidates, made for the modes the model will be in when it
      // reaches them (a copy of the model runs ahead on them); mostly fresh every cycle.
      if (env.rnd() % 4) pbuf.clear();
      const unsigned want = unsigned(env.rnd() % (W + 2));
      if (pbuf.size() < want) {
        WalkerCore ahead = bench.ref().core();
        for (const WalkPacket& p : pbuf) env.run_ahead(ahead, p);
        while (pbuf.size() < want) {
          pbuf.push_back(env.next_packet(ahead));
          env.run_ahead(ahead, pbuf.back());
        }
      }
      in.step_en = !lookup_pending && env.chance(env.p_step_);
      in.npkt = unsigned(std::min<size_t>(W, pbuf.size()));
      // Candidates whose events are not applied yet: a suffix of them is not valid.
      const unsigned cut = env.rnd() % 8 == 0 ? unsigned(env.rnd() % (W + 1)) : W;
      for (unsigned k = 0; k < in.npkt; ++k) {
        in.pkt[k] = &pbuf[k];
        in.pkt_valid[k] = k < cut;
      }
      const CoreOut o = bench.cycle(in, "world " + std::to_string(world) +
                                            (pbuf.empty() ? "" : ", next packet " + pkt_str(pbuf.front())));
      note(cov, bench, o);
      for (unsigned k = 0; k < o.used; ++k) pbuf.pop_front();
      if (o.lookup_req) {
        ++cov.lookups;
        lookup_pending = true;
        lookup_addr = o.lookup_addr;
        due = now + (env.chance(env.p_hit_) ? 1 : 2 + env.rnd() % 12);
      }
    }
  }
  std::printf("random (WALK_WIDTH %u, MAX_NODES %u): %" PRIu64 " cycles, %" PRIu64 " steps, %" PRIu64
              " resets, %" PRIu64 " clears; %s\n",
              W, B::kN, bench.cycles(), bench.steps(), resets, clears, cov.str().c_str());
  ASSERT_FALSE(bench.failed()) << bench.report();
  // Every mode, every record kind, every counter, found and not-found lookups, full cycles.
  // (No step starts while a lookup is pending: the walker does not step then.)
  for (unsigned m = 0; m + 1 < cov.mode.size(); ++m)
    EXPECT_GT(cov.mode[m], min) << WalkerCore::mode_name(WalkerCore::Mode(m));
  for (unsigned k = 1; k < 4; ++k) EXPECT_GT(cov.out[k], min) << "record kind " << k;
  for (unsigned i = 0; i < kNumCtr; ++i) EXPECT_GT(cov.ctr[i], min) << kCtrName[i];
  EXPECT_GT(cov.found, min);
  EXPECT_GT(cov.not_found, min);
  EXPECT_GT(cov.full_cycles, min);
  EXPECT_GT(cov.blocked, min);
  EXPECT_GT(resets, 5u);
  EXPECT_GT(clears, 5u);
}

TEST(RtlWalkRandom, Width3MaxNodes32) { random_test<Bench3>(1, 300, 6000); }
TEST(RtlWalkRandom, Width3MaxNodes32Seed2) { random_test<Bench3>(2, 300, 6000); }
TEST(RtlWalkRandom, Width2MaxNodes13) { random_test<Bench2>(3, 200, 6000); }
// Yosys's gate netlist of xtu_walk_core (slower to simulate: fewer cycles).
TEST(RtlWalkRandom, YosysNetlist) { random_test<BenchGates>(4, 60, 5000, 200); }

}  // namespace
