// Directed tests of the walker's flow core (systemc/include/xtu/model/walker_core.hpp) and of the
// functional reference around it (flow_reference.hpp), on hand-built TB lines and packet
// sequences: every node kind, TNT bit groups spanning several COND nodes, BLOCK emission and the
// "look before moving" rule, PSB+ positioning, OVF gaps, decode errors and resynchronisation at
// the next PSB, failed lookups, the context filter (PIP, VMCS, NR, CONTEXT outputs), link updates
// and dropped lines. Every expected sequence is written out by hand from docs/architecture.md
// ("Nodes", "walker"); where the code departs from that page the test says so.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "xtu/model/flow_reference.hpp"
#include "xtu/model/walker_core.hpp"

namespace {

using namespace xtu::model;
using K = WalkPacket::Kind;
using OK = WalkOut::Kind;

// node_kind values (docs/layouts.md).
constexpr uint8_t kCond = 1, kGotoTb = 2, kGotoPtr = 3, kCall = 4, kNoReturn = 5, kExit = 6, kDispatch = 7,
                  kRet = 8, kInvalid = 15;
// GAP reasons.
constexpr uint8_t kOvf = 1, kDecode = 2, kNoSync = 3;

WalkNode cond(uint8_t taken, uint8_t not_taken) { return WalkNode{kCond, taken, not_taken, 0, 0}; }
WalkNode goto_tb(uint8_t slot) { return WalkNode{kGotoTb, 0, 0, slot, 0}; }
WalkNode goto_ptr(uint16_t ret) { return WalkNode{kGotoPtr, 0, 0, 0, ret}; }
WalkNode call(uint16_t ret, uint8_t succ) { return WalkNode{kCall, succ, 0, 0, ret}; }
WalkNode leaf(uint8_t kind) { return WalkNode{kind, 0, 0, 0, 0}; }

WalkLine tb_line(uint64_t host, uint64_t pc, uint16_t icount, std::vector<WalkNode> nodes) {
  WalkLine l;
  l.tb = true;
  l.host = host;
  l.pc = pc;
  l.icount = icount;
  l.n = uint8_t(nodes.size());
  l.nodes = std::move(nodes);
  return l;
}
WalkLine code_line(uint64_t host, std::vector<WalkNode> nodes) {
  WalkLine l = tb_line(host, 0, 0, std::move(nodes));
  l.tb = false;
  return l;
}

// The code buffer of these tests.
constexpr uint64_t kPro = 0x10000;  // prologue: jmp *%rsi (DISPATCH)
constexpr uint64_t kEpi = 0x10100;  // epilogue: ret (RET)
constexpr uint64_t kA = 0x11000, kB = 0x12000, kC = 0x13000, kD = 0x14000, kE = 0x15000, kF = 0x16000;
constexpr uint64_t kPcA = 0x400000, kPcB = 0x400100, kPcC = 0x400200, kPcD = 0x400300, kPcE = 0x400400,
                   kPcF = 0x400500;

// A: exit check (taken -> EXIT), then a branch: taken -> goto_tb slot 0, not taken -> slot 1.
WalkLine line_a() { return tb_line(kA, kPcA, 3, {cond(4, 1), cond(2, 3), goto_tb(0), goto_tb(1), leaf(kExit)}); }
// B, C: exit check, then goto_tb slot 0.
WalkLine line_b() { return tb_line(kB, kPcB, 2, {cond(2, 1), goto_tb(0), leaf(kExit)}); }
WalkLine line_c() { return tb_line(kC, kPcC, 5, {cond(2, 1), goto_tb(0), leaf(kExit)}); }
// D: exit check, then goto_ptr (return address D + 0x40).
WalkLine line_d() { return tb_line(kD, kPcD, 1, {cond(2, 1), goto_ptr(0x40), leaf(kExit)}); }
// E: exit check, helper call (returns to E + 0x30, continues at node 2), then a branch: taken ->
// goto_tb slot 0, not taken -> a helper that does not return.
WalkLine line_e() {
  return tb_line(kE, kPcE, 4, {cond(4, 1), call(0x30, 2), cond(3, 5), goto_tb(0), leaf(kExit), leaf(kNoReturn)});
}
// F: exit check, then code the builder could not describe.
WalkLine line_f() { return tb_line(kF, kPcF, 2, {cond(2, 1), leaf(kInvalid), leaf(kExit)}); }
WalkLine line_pro() { return code_line(kPro, {leaf(kDispatch)}); }
WalkLine line_epi() { return code_line(kEpi, {leaf(kRet)}); }

std::vector<WalkLine> all_lines() {
  return {line_pro(), line_epi(), line_a(), line_b(), line_c(), line_d(), line_e(), line_f()};
}

// Packet sequences with increasing trace offsets (the sizes of the real packets).
struct Pk {
  std::vector<WalkPacket> v;
  uint64_t off = 0;

  uint64_t next() const { return off; }
  WalkPacket& add(K k, uint64_t size) {
    WalkPacket p;
    p.kind = k;
    p.offset = off;
    off += size;
    v.push_back(p);
    return v.back();
  }
  Pk& ip(K k, uint64_t ip) {
    WalkPacket& p = add(k, 9);
    p.ip = ip;
    p.ip_valid = true;
    return *this;
  }
  Pk& psb() { add(K::Psb, 16); return *this; }
  Pk& psbend() { add(K::Psbend, 2); return *this; }
  Pk& fup(uint64_t a) { return ip(K::Fup, a); }
  Pk& tip(uint64_t a) { return ip(K::Tip, a); }
  Pk& pge(uint64_t a) { return ip(K::TipPge, a); }
  Pk& pgd() { add(K::TipPgd, 1); return *this; }  // IP suppressed
  Pk& sync(uint64_t a) { return psb().fup(a).psbend(); }
  // '!' taken, '.' not taken, first branch first.
  Pk& tnt(const std::string& bits) {
    WalkPacket& p = add(K::Tnt, bits.size() <= 6 ? 1 : 8);
    p.tnt_count = uint8_t(bits.size());
    for (char c : bits) p.tnt_bits = (p.tnt_bits << 1) | (c == '!' ? 1 : 0);
    return *this;
  }
  Pk& ovf() { add(K::Ovf, 2); return *this; }
  Pk& pip(uint64_t cr3, bool nr = false) {
    WalkPacket& p = add(K::Pip, 8);
    p.cr3 = cr3;
    p.nr = nr;
    return *this;
  }
  Pk& vmcs(uint64_t base) { add(K::Vmcs, 7).vmcs = base; return *this; }
  Pk& mode() { add(K::ModeExec, 2); return *this; }
  Pk& error(uint8_t reason) { add(K::Error, 1).reason = reason; return *this; }
  Pk& end() { add(K::End, 0); return *this; }
};

// An expected output.
struct O {
  OK kind;
  uint64_t value;
  uint16_t icount;
  uint8_t flags;
  bool operator==(const O& o) const {
    return kind == o.kind && value == o.value && icount == o.icount && flags == o.flags;
  }
};
void PrintTo(const O& o, std::ostream* os) {
  const char* k = o.kind == OK::Block ? "BLOCK" : o.kind == OK::Gap ? "GAP" : "CONTEXT";
  *os << k << "(0x" << std::hex << o.value << std::dec << ", icount " << o.icount << ", flags " << int(o.flags) << ")";
}
O blk(uint64_t pc, uint16_t icount) { return O{OK::Block, pc, icount, 0}; }
O gap(uint64_t offset, uint8_t reason) { return O{OK::Gap, offset, 0, reason}; }
O ctx(uint64_t cr3, bool traced, bool nr = false) { return O{OK::Context, cr3, 0, uint8_t((traced ? 1 : 0) | (nr ? 2 : 0))}; }

std::vector<O> outs(const std::vector<WalkOut>& w) {
  std::vector<O> v;
  for (const WalkOut& o : w) v.push_back(O{o.kind, o.value, o.icount, o.flags});
  return v;
}

// The functional reference over `lines` (each LOADed at offset 0; descriptor address = index
// + 1, times 0x100), `events` after those, then the packets.
struct Ref {
  std::vector<WalkLine> lines;
  std::vector<UnitEvent> events;
  WalkerConfig cfg;
  std::map<uint64_t, WalkLine> extra;  // descriptors only LOADed by `events`, by address

  static uint64_t desc_addr(size_t i) { return 0x100 * (i + 1); }
  uint64_t desc_of(uint64_t host) const {
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].host == host) return desc_addr(i);
    ADD_FAILURE() << "no line " << host;
    return 0;
  }
  // Links set at offset 0 (after the LOADs).
  void link(uint64_t from, unsigned slot, uint64_t to, uint64_t offset = 0) {
    events.push_back(UnitEvent{offset, 2, uint8_t(slot), 0, from, to});
  }
  std::vector<WalkOut> run(const Pk& p, FlowStats* stats = nullptr) const {
    std::vector<UnitEvent> ev;
    for (size_t i = 0; i < lines.size(); ++i)
      ev.push_back(UnitEvent{0, 1, 0, lines[i].n, lines[i].host, desc_addr(i)});
    ev.insert(ev.end(), events.begin(), events.end());
    std::map<uint64_t, WalkLine> by_addr;
    for (size_t i = 0; i < lines.size(); ++i) by_addr[desc_addr(i)] = lines[i];
    for (const auto& [addr, line] : extra) by_addr[addr] = line;
    FlowReference ref(cfg, ev, [by_addr](uint64_t a) -> const WalkLine* {
      auto it = by_addr.find(a);
      return it == by_addr.end() ? nullptr : &it->second;
    });
    for (const WalkPacket& w : p.v) ref.packet(w);
    ref.finish();
    if (stats) *stats = ref.stats();
    return ref.output();
  }
};

Ref linked_ref() {
  Ref r{all_lines(), {}, {}, {}};
  r.link(kA, 0, kB);
  r.link(kA, 1, kC);
  r.link(kB, 0, kA);
  r.link(kC, 0, kA);
  return r;
}

// ------------------------------------------------------------------------------------------------
// The step function itself.

TEST(WalkerCore, StepLookBeforeMovingOneNodePerStep) {
  WalkerCore w;
  WalkLine a = line_a();
  a.link[0] = kB;
  Pk p;
  // A: exit check '.', branch '.' -> goto_tb slot 1 (not linked), one bit '!' left over.
  p.psb().fup(kA).psbend().tnt("..!").pgd();
  EXPECT_EQ(w.mode(), WalkerCore::Mode::Unsynced);
  WalkerCore::Step s = w.step(&p.v[0]);  // PSB
  EXPECT_TRUE(s.consumed);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::PsbPlus);
  s = w.step(&p.v[1]);  // FUP: remembered, nothing else
  EXPECT_TRUE(s.consumed);
  EXPECT_FALSE(s.need_lookup);
  s = w.step(&p.v[2]);  // PSBEND: look the FUP's IP up
  EXPECT_TRUE(s.consumed);
  EXPECT_TRUE(s.need_lookup);
  EXPECT_EQ(w.lookup_addr(), kA);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::LookupPending);
  s = w.step(&p.v[3]);  // still waiting for the answer: nothing moves
  EXPECT_TRUE(s.need_lookup);
  EXPECT_TRUE(s.idle());
  w.answer_lookup(&a);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::Node);
  EXPECT_TRUE(w.has_line());
  EXPECT_EQ(w.line().host, kA);
  // At A's entry with no next packet known: the BLOCK waits.
  s = w.step(nullptr);
  EXPECT_TRUE(s.need_packet);
  EXPECT_FALSE(s.emitted);
  EXPECT_FALSE(w.has_output());
  // The TNT is known: BLOCK A, the TNT absorbed and its first bit used, one node, one step.
  s = w.step(&p.v[3]);
  EXPECT_TRUE(s.emitted);
  EXPECT_TRUE(s.consumed);
  EXPECT_TRUE(s.advanced);
  ASSERT_TRUE(w.has_output());
  // An output not taken blocks the next step.
  s = w.step(nullptr);
  EXPECT_TRUE(s.blocked);
  EXPECT_FALSE(s.advanced);
  WalkOut o = w.take_output();
  EXPECT_EQ(o.kind, OK::Block);
  EXPECT_EQ(o.value, kPcA);
  EXPECT_EQ(o.icount, 3);
  EXPECT_EQ(w.nodes(), 1u);
  // Second bit '.': node 1 -> node 3 (goto_tb slot 1, not linked).
  s = w.step(nullptr);
  EXPECT_TRUE(s.advanced);
  EXPECT_FALSE(s.consumed);
  EXPECT_EQ(w.nodes(), 2u);
  // A goto_tb, linked or not, is decided only once the next packet is known (every event up to
  // it is then applied): without one the walker waits.
  s = w.step(nullptr);
  EXPECT_TRUE(s.need_packet);
  EXPECT_FALSE(s.advanced);
  EXPECT_EQ(w.nodes(), 2u);
  // Not linked: "expect TIP.PGD", with one TNT bit left; the packet is not used in that step.
  s = w.step(&p.v[4]);
  EXPECT_TRUE(s.advanced);
  EXPECT_FALSE(s.consumed);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::WaitPgd);
  EXPECT_EQ(w.nodes(), 3u);
  // The TNT bit left over is not what a TIP.PGD wait accepts: a decode error at the next packet.
  s = w.step(&p.v[4]);
  EXPECT_TRUE(s.consumed);
  ASSERT_TRUE(w.has_output());
  EXPECT_EQ(outs({w.take_output()}), std::vector<O>{gap(p.v[4].offset, kDecode)});
  EXPECT_EQ(w.mode(), WalkerCore::Mode::Unsynced);
  EXPECT_EQ(w.decode_errors(), 1u);
}

TEST(WalkerCore, StepLinkedGotoTbWaitsForTheNextPacket) {
  WalkerCore w;
  WalkLine a = line_a(), b = line_b();
  a.link[0] = kB;
  Pk p;
  p.psb().fup(kA).psbend().tnt(".!").tnt("!").pgd();
  for (int i = 0; i < 3; ++i) w.step(&p.v[size_t(i)]);
  w.answer_lookup(&a);
  WalkerCore::Step s = w.step(&p.v[3]);  // BLOCK A + bit '.' (exit check not taken)
  ASSERT_TRUE(s.emitted);
  w.take_output();
  s = w.step(nullptr);  // bit '!': node 1 -> node 2 (goto_tb slot 0, linked to B)
  EXPECT_TRUE(s.advanced);
  // The link is followed only once the next packet is known.
  s = w.step(nullptr);
  EXPECT_TRUE(s.need_packet);
  EXPECT_FALSE(s.advanced);
  EXPECT_FALSE(s.need_lookup);
  s = w.step(&p.v[4]);
  EXPECT_TRUE(s.advanced);
  EXPECT_FALSE(s.consumed);
  EXPECT_TRUE(s.need_lookup);
  EXPECT_EQ(w.lookup_addr(), kB);
  w.answer_lookup(&b);
  // B's BLOCK comes with the step that uses the TNT for B's exit check ('!': taken -> EXIT).
  s = w.step(&p.v[4]);
  EXPECT_TRUE(s.emitted);
  EXPECT_TRUE(s.consumed);
  EXPECT_EQ(outs({w.take_output()}), std::vector<O>{blk(kPcB, 2)});
  s = w.step(nullptr);  // node 2: EXIT
  EXPECT_TRUE(s.advanced);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::WaitPgd);
  s = w.step(&p.v[5]);
  EXPECT_TRUE(s.consumed);
  EXPECT_FALSE(s.emitted);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::Out);
  EXPECT_EQ(w.nodes(), 5u);  // A: 2 conds + goto_tb; B: cond + exit
}

// A TB whose node 0 is a goto_tb (no exit check), linked to an address that is no entry point:
// its BLOCK is reported, then the failed lookup's GAP, even when the BLOCK is not taken before
// the lookup is answered (the walker block's output register is busy). The goto_tb is followed
// in the step after the BLOCK's, so no lookup starts while an output is held.
TEST(WalkerCore, BlockBeforeAFailedLinkLookupIsKept) {
  WalkLine g = tb_line(kA, kPcA, 3, {goto_tb(0)});
  g.link[0] = kA + 4;  // not an entry point
  Pk p;
  p.sync(kA).tnt("!");
  WalkerCore w;
  for (int i = 0; i < 3; ++i) w.step(&p.v[size_t(i)]);
  w.answer_lookup(&g);
  WalkerCore::Step s = w.step(&p.v[3]);  // BLOCK A; the goto_tb waits for the next step
  EXPECT_TRUE(s.emitted);
  EXPECT_FALSE(s.advanced);
  EXPECT_FALSE(s.need_lookup);
  s = w.step(&p.v[3]);  // the BLOCK is not taken yet
  EXPECT_TRUE(s.blocked);
  EXPECT_EQ(outs({w.take_output()}), std::vector<O>{blk(kPcA, 3)});
  s = w.step(&p.v[3]);  // linked: look the target up
  EXPECT_TRUE(s.advanced);
  EXPECT_TRUE(s.need_lookup);
  EXPECT_FALSE(w.has_output());
  w.answer_lookup(nullptr);
  ASSERT_TRUE(w.has_output());
  EXPECT_EQ(outs({w.take_output()}), std::vector<O>{gap(p.v[2].offset, kDecode)});
  // The functional reference (outputs taken at once) reports the same.
  Ref r{{g}, {}, {}, {}};
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), gap(p.v[2].offset, kDecode)}));
}

TEST(WalkerCore, ResetReturnsToUnsyncedAndKeepsTheConfiguration) {
  WalkerConfig cfg;
  cfg.ctx_filter = true;
  cfg.target_cr3 = 0x1000;
  WalkerCore w(cfg);
  Pk p;
  p.psb().pip(0x2000).psbend().pge(kA);
  for (const WalkPacket& x : p.v) w.step(&x);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::Out);  // the TIP.PGE of CR3 0x2000 was dropped
  // Before the first PIP the context counts as traced: the PIP to 0x2000 is a switch out.
  EXPECT_EQ(w.context_switches(), 1u);
  w.reset();
  EXPECT_EQ(w.mode(), WalkerCore::Mode::Unsynced);
  EXPECT_EQ(w.context_switches(), 0u);
  // The filter still applies after the reset: PIP 0x2000 is out of context.
  for (const WalkPacket& x : p.v) w.step(&x);
  EXPECT_EQ(w.mode(), WalkerCore::Mode::Out);
  EXPECT_EQ(w.context_switches(), 1u);
  EXPECT_FALSE(w.has_output());
  // Without the filter the same TIP.PGE is looked up.
  WalkerCore nf;
  for (const WalkPacket& x : p.v) nf.step(&x);
  EXPECT_EQ(nf.mode(), WalkerCore::Mode::LookupPending);
  EXPECT_EQ(nf.lookup_addr(), kA);
}

// ------------------------------------------------------------------------------------------------
// Node kinds, through the functional reference.

TEST(WalkerCore, CondTakenAndNotTaken) {
  Ref r = linked_ref();
  Pk p;
  // A: '.' exit check, '!' -> slot 0 -> B; B: '.' -> A; A: '.', '.' -> slot 1 -> C; C: '!' -> EXIT.
  p.sync(kA).tnt(".!..").tnt(".!").pgd().end();
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)),
            (std::vector<O>{blk(kPcA, 3), blk(kPcB, 2), blk(kPcA, 3), blk(kPcC, 5)}));
  // Nodes: A cond cond goto_tb, B cond goto_tb, A cond cond goto_tb, C cond exit.
  EXPECT_EQ(st.nodes, 10u);
  EXPECT_EQ(st.lookups, 4u);  // the FUP, and three links followed
  EXPECT_EQ(st.lookup_misses, 0u);
  EXPECT_EQ(st.gaps, 0u);
}

TEST(WalkerCore, TntGroupsOfTnt8AndTnt64SizeSpanSeveralCondNodes) {
  Ref r = linked_ref();
  // 6 bits (a full TNT-8), then 47 (a full TNT-64), then 1: 54 bits over A/B/C.
  // Each round A '.' '!' B '.' uses 3 bits; A '.' '.' C '.' uses 3 bits.
  std::string bits;
  std::vector<O> want;
  for (int round = 0; round < 17; ++round) {
    bool via_b = round % 3 != 2;
    bits += via_b ? ".!." : "...";
    want.push_back(blk(kPcA, 3));
    want.push_back(via_b ? blk(kPcB, 2) : blk(kPcC, 5));
  }
  // 51 bits so far; A '.' '!' then B '!' (exit) = 54.
  bits += ".!!";
  want.push_back(blk(kPcA, 3));
  want.push_back(blk(kPcB, 2));
  ASSERT_EQ(bits.size(), 54u);
  Pk p;
  p.sync(kA).tnt(bits.substr(0, 6)).tnt(bits.substr(6, 47)).tnt(bits.substr(53)).pgd().end();
  ASSERT_EQ(p.v[3].tnt_count, 6);
  ASSERT_EQ(p.v[4].tnt_count, 47);
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)), want);
  EXPECT_EQ(st.gaps, 0u);
  // Every bit is one COND node; each TB but the last ends in a followed goto_tb; the last in EXIT.
  EXPECT_EQ(st.nodes, 54u + 35u + 1u);
}

TEST(WalkerCore, TntBitsMustBeUsedUpBeforeATipClassPacket) {
  Ref r = linked_ref();
  Pk p;
  // A '!' -> EXIT, with two bits left over when the TIP.PGD comes.
  p.sync(kA).tnt("!..");
  uint64_t bad = p.next();
  p.pgd().end();
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), gap(bad, kDecode)}));
}

TEST(WalkerCore, GotoTbUnlinkedExpectsTipPgd) {
  Ref r{all_lines(), {}, {}, {}};  // nothing linked
  Pk p;
  // A '.' '!' -> goto_tb slot 0 (unlinked): the stub leaves through the epilogue: TIP.PGD; QEMU's
  // loop re-enters at B through the prologue (TIP.PGE at the prologue, TIP to B).
  p.sync(kA).tnt(".!").pgd().pge(kPro).tip(kB).tnt("!").pgd().end();
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcA, 3), blk(kPcB, 2)}));  // the prologue is no block
  EXPECT_EQ(st.gaps, 0u);
  // A TNT where the TIP.PGD is expected: decode error.
  Pk q;
  q.sync(kA).tnt(".!");
  uint64_t bad = q.next();
  q.tnt(".").pgd().end();
  EXPECT_EQ(outs(r.run(q)), (std::vector<O>{blk(kPcA, 3), gap(bad, kDecode)}));
}

TEST(WalkerCore, GotoPtrPgdPgeAtReturnThenTipTarget) {
  Ref r = linked_ref();
  {
    Pk p;
    // D '.' -> goto_ptr: helper_lookup_tb_ptr is called (TIP.PGD), returns (TIP.PGE at D+0x40),
    // jmp *%rax to C (TIP).
    p.sync(kD).tnt(".").pgd().pge(kD + 0x40).tip(kC).tnt("!").pgd().end();
    FlowStats st;
    EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcD, 1), blk(kPcC, 5)}));
    EXPECT_EQ(st.lookups, 2u);
    EXPECT_EQ(st.gaps, 0u);
  }
  {
    // TIP.PGE somewhere else than the return address: looked up, the walk goes on there.
    Pk p;
    p.sync(kD).tnt(".").pgd().pge(kB).tnt("!").pgd().end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcD, 1), blk(kPcB, 2)}));
  }
  {
    // A TIP.PGD where the TIP is expected: the indirect jump left the traced range; out, then a
    // TIP.PGE anywhere.
    Pk p;
    p.sync(kD).tnt(".").pgd().pge(kD + 0x40).pgd().pge(kA).tnt("!").pgd().end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcD, 1), blk(kPcA, 3)}));
  }
  {
    // The goto_ptr miss: jmp *%rax to the epilogue's ret (a RET node: TIP.PGD).
    Pk p;
    p.sync(kD).tnt(".").pgd().pge(kD + 0x40).tip(kEpi).pgd().pge(kB).tnt("!").pgd().end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcD, 1), blk(kPcB, 2)}));
  }
  {
    // A TIP where the TIP.PGD is expected.
    Pk p;
    p.sync(kD).tnt(".");
    uint64_t bad = p.next();
    p.tip(kC).end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcD, 1), gap(bad, kDecode)}));
  }
  {
    // After the TIP.PGE at the return address, a TIP.PGE instead of the TIP.
    Pk p;
    p.sync(kD).tnt(".").pgd().pge(kD + 0x40);
    uint64_t bad = p.next();
    p.pge(kC).end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcD, 1), gap(bad, kDecode)}));
  }
}

TEST(WalkerCore, CallPgdThenPgeAtReturnContinuesAtSucc) {
  Ref r = linked_ref();
  r.link(kE, 0, kB);
  {
    // E '.' -> CALL: TIP.PGD, TIP.PGE at E+0x30 -> node 2; '!' -> goto_tb 0 -> B; B '!' -> EXIT.
    Pk p;
    p.sync(kE).tnt(".").pgd().pge(kE + 0x30).tnt("!!").pgd().end();
    FlowStats st;
    EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcE, 4), blk(kPcB, 2)}));
    // E: cond, call, cond, goto_tb; B: cond, exit. No BLOCK for the return into E.
    EXPECT_EQ(st.nodes, 6u);
    EXPECT_EQ(st.lookups, 2u);  // the FUP and the link: the return needs none
  }
  {
    // TIP.PGE elsewhere (the helper longjmp'd back to the loop, which entered C): looked up.
    Pk p;
    p.sync(kE).tnt(".").pgd().pge(kC).tnt("!").pgd().end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcE, 4), blk(kPcC, 5)}));
  }
  {
    // TIP.PGE with the IP suppressed, or a TNT, where the return is expected: decode errors.
    Pk p;
    p.sync(kE).tnt(".").pgd();
    uint64_t bad = p.next();
    p.tnt("!").end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcE, 4), gap(bad, kDecode)}));
    Pk q;
    q.sync(kE).tnt(".").pgd();
    uint64_t bad2 = q.next();
    q.add(K::TipPge, 1);  // ip_valid = false
    q.end();
    EXPECT_EQ(outs(r.run(q)), (std::vector<O>{blk(kPcE, 4), gap(bad2, kDecode)}));
  }
}

TEST(WalkerCore, NoReturnExitAndRetExpectTipPgd) {
  Ref r = linked_ref();
  {
    // E: '.' call, return, '.' -> NORETURN: TIP.PGD; then tracing resumes in the epilogue (a
    // CODE line: no block), whose RET ends with a TIP.PGD; then A '!' -> EXIT -> TIP.PGD.
    Pk p;
    p.sync(kE).tnt(".").pgd().pge(kE + 0x30).tnt(".").pgd().pge(kEpi).pgd().pge(kA).tnt("!").pgd().end();
    FlowStats st;
    EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcE, 4), blk(kPcA, 3)}));
    EXPECT_EQ(st.gaps, 0u);
    // E: cond call cond noreturn; epilogue: ret; A: cond exit.
    EXPECT_EQ(st.nodes, 7u);
  }
  for (const char* what : {"noreturn", "exit", "ret"}) {
    SCOPED_TRACE(what);
    // Anything but a TIP.PGD there is a decode error.
    Pk p;
    if (std::string(what) == "noreturn") p.sync(kE).tnt(".").pgd().pge(kE + 0x30).tnt(".");
    if (std::string(what) == "exit") p.sync(kA).tnt("!");
    if (std::string(what) == "ret") p.sync(kEpi);
    uint64_t bad = p.next();
    p.tip(kA).end();
    std::vector<O> got = outs(r.run(p));
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), gap(bad, kDecode));
    EXPECT_EQ(got.size(), std::string(what) == "ret" ? 1u : 2u);
  }
}

TEST(WalkerCore, DispatchLooksUpTheTipTarget) {
  Ref r = linked_ref();
  Pk p;
  // QEMU's loop: prologue (CODE line, no block), jmp *%rsi to A.
  p.sync(kPro).tip(kA).tnt("!").pgd().pge(kPro).tip(kC).tnt("!").pgd().end();
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcA, 3), blk(kPcC, 5)}));
  EXPECT_EQ(st.nodes, 6u);  // dispatch, cond, exit (twice)
  // A TIP.PGD there: the jump left the buffer; a TIP.PGE follows.
  Pk q;
  q.sync(kPro).pgd().pge(kB).tnt("!").pgd().end();
  EXPECT_EQ(outs(r.run(q)), (std::vector<O>{blk(kPcB, 2)}));
}

TEST(WalkerCore, FailedLookupIsADecodeGap) {
  Ref r = linked_ref();
  Pk p;
  p.sync(kPro);
  uint64_t tip_at = p.next();
  p.tip(kA + 4);  // not an entry point
  p.pge(kA).tnt("!").pgd();  // ignored until the next PSB
  p.sync(kB).tnt("!").pgd().end();
  FlowStats st;
  std::vector<O> got = outs(r.run(p, &st));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, OK::Gap);
  EXPECT_EQ(got[0].flags, kDecode);
  // docs/layouts.md: a GAP's value is a trace offset: that of the TIP whose target is unknown.
  EXPECT_EQ(got[0].value, tip_at);
  EXPECT_EQ(got[1], blk(kPcB, 2));
  EXPECT_EQ(st.lookup_misses, 1u);
  EXPECT_EQ(st.decode_errors, 1u);
}

TEST(WalkerCore, InvalidNodeIsADecodeGap) {
  Ref r = linked_ref();
  Pk p;
  // F '.' -> node 1: INVALID.
  p.sync(kF);
  uint64_t tnt = p.next();
  p.tnt(".");
  uint64_t next = p.next();
  p.pgd().sync(kA).tnt("!").pgd().end();
  FlowStats st;
  std::vector<O> got = outs(r.run(p, &st));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], blk(kPcF, 2));
  EXPECT_EQ(got[1].kind, OK::Gap);
  EXPECT_EQ(got[1].flags, kDecode);
  // The INVALID node is reached in a step after the one that used the TNT: the GAP's value is
  // the offset of the last packet used (the TNT), not of the packet that happens to be at hand
  // (which depends on the decoder's timing in the unit; see test_unit_directed).
  EXPECT_EQ(got[1].value, tnt);
  EXPECT_NE(got[1].value, next);
  EXPECT_EQ(got[2], blk(kPcA, 3));
  EXPECT_EQ(st.decode_errors, 1u);
  // An INVALID node 0 of a TB: the BLOCK first (the entry is reached), then the gap at the packet.
  Ref r2{{line_pro(), tb_line(kF, kPcF, 2, {leaf(kInvalid)})}, {}, {}, {}};
  Pk q;
  q.sync(kF);
  uint64_t at = q.next();
  q.tnt("!").end();
  // The last packet used is the PSB+'s PSBEND (2 bytes, right before the TNT): its lookup of F.
  EXPECT_EQ(outs(r2.run(q)), (std::vector<O>{blk(kPcF, 2), gap(at - 2, kDecode)}));
  // A line shorter than its successor indices: "walked off the descriptor".
  Ref r3{{tb_line(kF, kPcF, 2, {cond(7, 7)})}, {}, {}, {}};
  Pk s;
  s.sync(kF);
  uint64_t tnt3 = s.next();
  s.tnt("!");
  uint64_t at3 = s.next();
  s.pgd().end();
  std::vector<O> got3 = outs(r3.run(s));
  ASSERT_EQ(got3.size(), 2u);
  EXPECT_EQ(got3[1].kind, OK::Gap);
  EXPECT_EQ(got3[1].flags, kDecode);
  EXPECT_EQ(got3[1].value, tnt3) << "as for INVALID: the last packet used";
  EXPECT_NE(got3[1].value, at3);
}

// ------------------------------------------------------------------------------------------------
// Synchronisation, overflows, errors.

TEST(WalkerCore, PsbPlusFupPositionsAndPeriodicPsbKeepsThePosition) {
  Ref r = linked_ref();
  Pk p;
  // Before the first PSB everything is dropped (Unsynced).
  p.pge(kC).tnt("!").pgd();
  // PSB+ with MODE.Exec and a FUP at A: A.
  p.psb().mode().fup(kA).psbend();
  // A '.' '!' -> goto_tb linked to B; a periodic PSB+ comes before the link is followed (its FUP
  // names the current instruction, not an entry point): the position is kept, B follows.
  p.tnt(".!").psb().fup(kB + 0x10).mode().psbend().tnt("!").pgd();
  // A PSB+ while tracing is off has no FUP; tracing resumes at C.
  p.psb().psbend().pge(kC).tnt("!").pgd().end();
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcA, 3), blk(kPcB, 2), blk(kPcC, 5)}));
  EXPECT_EQ(st.gaps, 0u);
  EXPECT_EQ(st.lookups, 3u);  // A (FUP), B (link), C (TIP.PGE)
}

TEST(WalkerCore, PsbWithTntBitsLeftIsAnError) {
  Ref r = linked_ref();
  Pk p;
  // A '!' -> EXIT with a bit left, then a PSB: an error at the PSB, which is used up by it; the
  // walk resumes at the PSB after it.
  p.sync(kA).tnt("!.");
  uint64_t at = p.next();
  p.sync(kC).tnt("!").pgd();
  p.sync(kB).tnt("!").pgd().end();
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), gap(at, kDecode), blk(kPcB, 2)}));
}

TEST(WalkerCore, ControlFlowPacketInsidePsbPlusIsAnError) {
  Ref r = linked_ref();
  Pk p;
  p.psb();
  uint64_t at = p.next();
  p.tnt("!").fup(kA).psbend().sync(kB).tnt("!").pgd().end();
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{gap(at, kDecode), blk(kPcB, 2)}));
}

TEST(WalkerCore, OvfGapThenResumeAtFupOrTipPge) {
  Ref r = linked_ref();
  {
    // A '.' '!' -> link to B; an OVF before B's exit check: B is not reported (as in libipt);
    // tracing stayed on: a FUP at C.
    Pk p;
    p.sync(kA).tnt(".!");
    uint64_t o = p.next();
    p.ovf().fup(kC).tnt("!").pgd().end();
    FlowStats st;
    EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcA, 3), gap(o, kOvf), blk(kPcC, 5)}));
    EXPECT_EQ(st.overflows, 1u);
    EXPECT_EQ(st.decode_errors, 0u);
  }
  {
    // OVF while tracing is off; tracing resumes with a TIP.PGE.
    Pk p;
    p.sync(kA).tnt("!").pgd();
    uint64_t o = p.next();
    p.ovf().pge(kB).tnt("!").pgd().end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), gap(o, kOvf), blk(kPcB, 2)}));
  }
  {
    // OVF, then a PSB+ whose FUP gives the position.
    Pk p;
    p.sync(kA).tnt("!");
    uint64_t o = p.next();
    p.ovf().sync(kC).tnt("!").pgd().end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), gap(o, kOvf), blk(kPcC, 5)}));
  }
  {
    // After an OVF, anything but FUP/TIP.PGE (with an IP) is a decode error.
    Pk p;
    p.sync(kA).tnt("!");
    uint64_t o = p.next();
    p.ovf();
    uint64_t bad = p.next();
    p.tnt("!").end();
    EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), gap(o, kOvf), gap(bad, kDecode)}));
  }
}

TEST(WalkerCore, UnexpectedPacketThenResyncOnlyAtTheNextPsb) {
  Ref r = linked_ref();
  Pk p;
  // At A's exit check without TNT bits only a TIP.PGD fits (tracing stopped there): fine.
  p.sync(kA).pgd().pge(kB);
  uint64_t bad = p.next();
  p.tip(kC);  // B's exit check expects a TNT: decode error
  // Until the next PSB nothing counts, however well-formed.
  p.pge(kA).tnt("!").pgd().fup(kC).psbend();
  p.sync(kC).tnt("!").pgd().end();
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{blk(kPcA, 3), blk(kPcB, 2), gap(bad, kDecode), blk(kPcC, 5)}));
  EXPECT_EQ(st.decode_errors, 1u);
  EXPECT_EQ(st.lookups, 3u);  // A, B, C: nothing between the error and the PSB
}

TEST(WalkerCore, OvfWhileUnsyncedIsSkippedUntilThePsb) {
  // docs/architecture.md: after a decode error the walk resumes at the next PSB (libipt's
  // pt_insn_sync_forward, which the golden model calls, skips everything up to it, an OVF
  // included): an OVF while unsynced gives no second GAP and no resumption at its FUP.
  Ref r = linked_ref();
  Pk p;
  p.sync(kA);
  uint64_t bad = p.next();
  p.tip(kB);  // decode error
  uint64_t o = p.next();
  p.ovf().fup(kC).tnt("!").pgd();
  p.sync(kB).tnt("!").pgd().end();
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), gap(bad, kDecode), blk(kPcB, 2)}));
  EXPECT_GT(o, bad);
}

TEST(WalkerCore, DecoderErrorPacketsAreGaps) {
  Ref r = linked_ref();
  Pk p;
  p.error(kNoSync);  // bytes before the first PSB (the decoder reports offset 0)
  p.v.back().offset = 0;
  p.sync(kA).tnt(".!");
  uint64_t e = p.next();
  p.error(0);  // reason 0 is a decode error
  p.sync(kC).tnt("!").pgd().end();
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{gap(0, kNoSync), blk(kPcA, 3), gap(e, kDecode), blk(kPcC, 5)}));
  // B (reached through the link just before the error) is not reported.
  EXPECT_EQ(st.decode_errors, 2u);
  EXPECT_EQ(st.gaps, 2u);
}

// ------------------------------------------------------------------------------------------------
// Context filter.



TEST(WalkerCore, ContextFilterDropsOtherCr3AndKeepsState) {
  Ref r = linked_ref();
  r.link(kE, 0, kB);
  r.cfg.ctx_filter = true;
  r.cfg.target_cr3 = 0x1000;
  r.cfg.ctx_records = true;
  Pk p;
  p.psb().pip(0x1000).fup(kE).psbend();
  // E '.' -> helper call: TIP.PGD; in the helper the OS switches to CR3 0x2000, whose control
  // flow (same code buffer addresses, other code) must be ignored.
  p.tnt(".").pgd().pip(0x2000).pge(kA).tnt("!!.");
  uint64_t other_tip = p.next();
  p.tip(kC).pgd().pge(kB).tnt("!").pgd();
  // Back to 0x1000: the return into E continues at node 2: '!' -> goto_tb 0 -> B '!' -> EXIT.
  p.pip(0x1000).pge(kE + 0x30).tnt("!!").pgd().end();
  FlowStats st;
  EXPECT_EQ(outs(r.run(p, &st)), (std::vector<O>{ctx(0x1000, true), blk(kPcE, 4), ctx(0x2000, false),
                                                 ctx(0x1000, true), blk(kPcB, 2)}));
  EXPECT_EQ(st.gaps, 0u);
  EXPECT_EQ(st.lookups, 2u);  // E (FUP) and B (link): nothing of CR3 0x2000
  // Without the filter the other process's TIP.PGE at A is taken for a resumption in A (a
  // block the traced process never ran), and its packets then break the walk.
  Ref nf = r;
  nf.cfg.ctx_filter = false;
  nf.cfg.ctx_records = false;
  EXPECT_EQ(outs(nf.run(p)), (std::vector<O>{blk(kPcE, 4), blk(kPcA, 3), gap(other_tip, kDecode)}));
}

TEST(WalkerCore, ContextRecordsCarryTracedAndNrFlags) {
  WalkerConfig cfg;
  cfg.ctx_filter = true;
  cfg.target_cr3 = 0x1000;
  cfg.ctx_records = true;
  Ref r = linked_ref();
  r.cfg = cfg;
  Pk p;
  // Same PIP twice: one record. NR changes: a record. Another CR3: a record, not traced.
  p.psb().pip(0x1000).pip(0x1000).fup(kA).psbend().tnt("!").pgd();
  p.pip(0x1000, true).pip(0x3000, true).pge(kB).pip(0x1000, false).pge(kC).tnt("!").pgd().end();
  EXPECT_EQ(outs(r.run(p)),
            (std::vector<O>{ctx(0x1000, true), blk(kPcA, 3), ctx(0x1000, true, true), ctx(0x3000, false, true),
                            ctx(0x1000, true), blk(kPcC, 5)}));
  // Without CTX_RECORDS: the same filtering, no CONTEXT outputs.
  r.cfg.ctx_records = false;
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), blk(kPcC, 5)}));
  // Context switches (into or out of the traced context): 0x1000 -> 0x3000 -> 0x1000 -> 0x1000 NR.
  WalkerCore w(cfg);
  Pk q;
  q.psb().pip(0x1000).pip(0x3000).pip(0x3000, true).pip(0x1000).pip(0x1000, true);
  std::vector<O> got;
  for (const WalkPacket& x : q.v) {
    WalkerCore::Step s = w.step(&x);
    EXPECT_TRUE(s.consumed);
    if (w.has_output()) got.push_back(outs({w.take_output()})[0]);
  }
  EXPECT_EQ(got, (std::vector<O>{ctx(0x1000, true), ctx(0x3000, false), ctx(0x3000, false, true), ctx(0x1000, true),
                                 ctx(0x1000, true, true)}));
  EXPECT_EQ(w.context_switches(), 2u);
}

TEST(WalkerCore, ContextFilterOnVmcs) {
  Ref r = linked_ref();
  r.cfg.ctx_filter = true;
  r.cfg.target_cr3 = 0x1000;
  r.cfg.target_vmcs = 0x5000;
  Pk p;
  // Right CR3 and VMCS: traced. Same CR3 in another VM (VMCS 0x6000): not traced.
  p.psb().pip(0x1000, true).vmcs(0x5000).fup(kA).psbend().tnt("!").pgd();
  p.vmcs(0x6000).pge(kB).tnt("!").pgd();
  p.vmcs(0x5000).pge(kC).tnt("!").pgd().end();
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), blk(kPcC, 5)}));
  // TARGET_VMCS 0: any VMCS.
  r.cfg.target_vmcs = 0;
  EXPECT_EQ(outs(r.run(p)), (std::vector<O>{blk(kPcA, 3), blk(kPcB, 2), blk(kPcC, 5)}));
  // CONTEXT records at every change of CR3, NR or VMCS: the PIP's record says "not traced" (the
  // VMCS that follows it in the PSB+ is not known yet), the VMCS's record "traced"; then each
  // VMCS change flips it.
  r.cfg.target_vmcs = 0x5000;
  r.cfg.ctx_records = true;
  EXPECT_EQ(outs(r.run(p)),
            (std::vector<O>{ctx(0x1000, false, true), ctx(0x1000, true, true), blk(kPcA, 3), ctx(0x1000, false, true),
                            ctx(0x1000, true, true), blk(kPcC, 5)}));
}

// ------------------------------------------------------------------------------------------------
// Events: link updates and dropped lines.

TEST(WalkerCore, LinkAndUnlinkApplyFromTheirOffsetIncludingTheCurrentLine) {
  // A '.' '!' (TNT X at offset x) leads to goto_tb slot 0; Y follows at y. Events with offset <= p
  // are applied before the packet at p: a LINK at x is applied while the walker is already in A
  // (update_links) and the link is followed. A goto_tb, linked or not, is decided only once the
  // next packet is known, so a LINK or an UNLINK at y still counts for it; y + 1 is too late.
  Pk p;
  p.sync(kA);
  uint64_t x = p.next();
  p.tnt(".!");
  uint64_t y = p.next();
  p.tnt("!").pgd().end();
  ASSERT_EQ(y, x + 1);
  auto run_with = [&](uint8_t type, uint64_t at, bool linked_before) {
    Ref r{all_lines(), {}, {}, {}};
    if (linked_before) r.link(kA, 0, kB);
    r.events.push_back(UnitEvent{at, type, 0, 0, kA, type == 2 ? kB : 0});
    return outs(r.run(p));
  };
  const std::vector<O> followed{blk(kPcA, 3), blk(kPcB, 2)};
  const std::vector<O> not_followed{blk(kPcA, 3), gap(y, kDecode)};  // a TNT where TIP.PGD is due
  EXPECT_EQ(run_with(2, x, false), followed);
  EXPECT_EQ(run_with(2, y, false), followed);
  EXPECT_EQ(run_with(2, y + 1, false), not_followed);
  EXPECT_EQ(run_with(3, y, true), not_followed);
  EXPECT_EQ(run_with(3, y + 1, true), followed);
  // A LINK of another slot or another TB changes nothing.
  Ref r{all_lines(), {}, {}, {}};
  r.events.push_back(UnitEvent{0, 2, 1, 0, kA, kC});
  r.events.push_back(UnitEvent{0, 2, 0, 0, kB, kA});
  EXPECT_EQ(outs(r.run(p)), not_followed);
}

TEST(WalkerCore, UpdateLinksOnlyForTheCurrentLine) {
  WalkerCore w;
  WalkLine a = line_a();
  Pk p;
  p.sync(kA);
  for (const WalkPacket& x : p.v) w.step(&x);
  w.answer_lookup(&a);
  ASSERT_TRUE(w.has_line());
  uint64_t other[2] = {kC, kC};
  w.update_links(kB, other);
  EXPECT_EQ(w.line().link[0], 0u);
  EXPECT_EQ(w.line().link[1], 0u);
  uint64_t mine[2] = {kB, 0};
  w.update_links(kA, mine);
  EXPECT_EQ(w.line().link[0], kB);
  EXPECT_EQ(w.line().link[1], 0u);
}

TEST(WalkerCore, DropLineLosesThePositionInsideALine) {
  WalkLine a = line_a(), e = line_e();
  {
    // In a line (node mode): dropped -> out; a TNT is then unexpected, a TIP.PGE is fine.
    WalkerCore w;
    Pk p;
    p.sync(kA).tnt("!");
    for (size_t i = 0; i < 3; ++i) w.step(&p.v[i]);
    w.answer_lookup(&a);
    w.drop_line();
    EXPECT_FALSE(w.has_line());
    EXPECT_EQ(w.mode(), WalkerCore::Mode::Out);
    w.step(&p.v[3]);
    ASSERT_TRUE(w.has_output());
    EXPECT_EQ(outs({w.take_output()}), std::vector<O>{gap(p.v[3].offset, kDecode)});
  }
  {
    // Inside a helper call (between TIP.PGD and TIP.PGE): the state stays, the line goes; the
    // return address is then looked up like any other IP (not an entry point: a gap).
    WalkerCore w;
    Pk p;
    p.sync(kE).tnt(".").pgd().pge(kE + 0x30);
    for (size_t i = 0; i < 3; ++i) w.step(&p.v[i]);
    w.answer_lookup(&e);
    w.step(&p.v[3]);  // BLOCK E + '.'
    w.take_output();
    w.step(nullptr);  // CALL
    EXPECT_EQ(w.mode(), WalkerCore::Mode::CallPgd);
    w.step(&p.v[4]);
    EXPECT_EQ(w.mode(), WalkerCore::Mode::CallPge);
    w.drop_line();
    EXPECT_EQ(w.mode(), WalkerCore::Mode::CallPge);
    WalkerCore::Step s = w.step(&p.v[5]);
    EXPECT_TRUE(s.need_lookup);
    EXPECT_EQ(w.lookup_addr(), kE + 0x30);
  }
}

TEST(WalkerCore, FlowReferenceFlushAndInvalidate) {
  // Host address kA holds guest pc 0x7000 until a FLUSH at offset f, followed at f by a LOAD of
  // the same host address with another descriptor (guest pc kPcA) and a reload of B; B is
  // invalidated at offset i.
  Ref r{{line_pro(), tb_line(kA, 0x7000, 9, {leaf(kExit)}), line_b()}, {}, {}, {}};
  r.extra[0x900] = line_a();
  Pk p;
  p.sync(kA).pgd().pge(kA).pgd().pge(kB).tnt("!").pgd();
  uint64_t f = p.next();
  p.pge(kA).tnt("!").pgd().pge(kB).tnt("!").pgd();
  uint64_t i = p.next();
  p.pge(kB).end();
  r.events.push_back(UnitEvent{f, 5, 0, 0, 0, 0});
  r.events.push_back(UnitEvent{f, 1, 0, 5, kA, 0x900});
  r.events.push_back(UnitEvent{f, 1, 0, 3, kB, Ref::desc_addr(2)});
  r.events.push_back(UnitEvent{i, 4, 0, 0, kB, 0});
  FlowStats st;
  std::vector<O> got = outs(r.run(p, &st));
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0], blk(0x7000, 9));
  EXPECT_EQ(got[1], blk(0x7000, 9));
  EXPECT_EQ(got[2], blk(kPcB, 2));
  EXPECT_EQ(got[3], blk(kPcA, 3));  // after the flush: the new descriptor at the same host address
  EXPECT_EQ(got[4], blk(kPcB, 2));  // reloaded after the flush
  EXPECT_EQ(got[5].kind, OK::Gap);  // invalidated
  EXPECT_EQ(got[5].flags, kDecode);
  EXPECT_EQ(st.events, 3u + 4u);
  EXPECT_EQ(st.lookup_misses, 1u);
  // Without the reload of B, the flush alone removes it.
  r.events.erase(r.events.begin() + 2);
  got = outs(r.run(p));
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[3], blk(kPcA, 3));
  EXPECT_EQ(got[4].kind, OK::Gap);
}

TEST(WalkerCore, BlockTimeIsTheTimeOfTheLastPacketConsumed) {
  Ref r = linked_ref();
  Pk p;
  p.sync(kA).tnt(".!").tnt("!").pgd().pge(kC).tnt("!").pgd().end();
  // Times: PSBEND 100 (A's time: the end of the PSB+), TNT 200 (B's: the TNT whose bit led
  // there), TNT 300, TIP.PGD 400, TIP.PGE 500 (C's).
  uint64_t t[] = {10, 20, 100, 200, 300, 400, 500, 600, 700, 800};
  for (size_t k = 0; k < p.v.size(); ++k) {
    p.v[k].time = t[k];
    p.v[k].time_valid = k != 6;  // the TIP.PGE's time is unknown
  }
  std::vector<WalkOut> got = r.run(p);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].value, kPcA);
  EXPECT_EQ(got[0].time, 100u);
  EXPECT_TRUE(got[0].time_valid);
  EXPECT_EQ(got[1].value, kPcB);
  EXPECT_EQ(got[1].time, 200u);
  EXPECT_TRUE(got[1].time_valid);
  EXPECT_EQ(got[2].value, kPcC);
  EXPECT_FALSE(got[2].time_valid);
}

}  // namespace
