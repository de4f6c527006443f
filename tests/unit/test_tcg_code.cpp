// xtu::hostcode (tcg_code.hpp): analysis of the x86-64 code QEMU's TCG generates, on real
// QEMU 10.0.2 output (tests/data/hostcode: two runs of shapes.c, chained and nochain, and a run
// of ldar.c; see README.md there), on tests/data/qemu/excerpt.log, and on damaged or random
// bytes. Expected values come from the logs' own disassembly (QEMU's out_asm text), counted by
// hand; addresses are those of the committed logs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "xtu/capture/qemu_log.hpp"
#include "xtu/hostcode/tcg_code.hpp"

using namespace xtu::hostcode;
using xtu::qemu::OutBlock;

namespace {

// ---------------------------------------------------------------------------------------------
// Fixtures

// chained.log and nochain.log (shapes.c, ASLR off) both have QEMU's code buffer here.
constexpr uint64_t kBuf = 0x7fffee800000;
constexpr uint64_t kLdarBuf = 0x7fffe8000000;     // ldar.log
constexpr uint64_t kExcerptBuf = 0x7fd08c000000;  // tests/data/qemu/excerpt.log
constexpr int32_t kPcDisp = 0x140;                // offsetof(CPUARMState, pc) in QEMU 10

// Helpers in qemu-aarch64's text, the same in the three runs of tests/data/hostcode.
constexpr uint64_t kLookupTbPtr = 0x7ffff7658c00;    // called by every goto_ptr
constexpr uint64_t kRaiseException = 0x7ffff74fa650; // svc: esi = 2 (EXCP_SWI)
constexpr uint64_t kMsrHelper = 0x7ffff74d2140;      // after `msr tpidr_el0`
constexpr uint64_t kCrossingHelper = 0x7ffff7597d50; // an exclusive/acquire access crossing 16 bytes
constexpr uint64_t kSveWhile = 0x7ffff75cbd10;       // whilelt
constexpr uint64_t kSveLd1 = 0x7ffff75d6420;         // ld1b
constexpr uint64_t kSveSt1 = 0x7ffff7606980;         // st1b

struct LogData : xtu::qemu::QemuLogVisitor {
  std::vector<xtu::qemu::PrologueBlock> prologues;
  std::vector<xtu::qemu::InBlock> ins;
  std::vector<OutBlock> outs;
  std::vector<xtu::qemu::TraceLine> traces;
  std::vector<xtu::qemu::LinkLine> links;

  void on_prologue(const xtu::qemu::PrologueBlock& b) override { prologues.push_back(b); }
  void on_in(const xtu::qemu::InBlock& b) override { ins.push_back(b); }
  void on_out(const OutBlock& b) override { outs.push_back(b); }
  void on_trace(const xtu::qemu::TraceLine& t) override { traces.push_back(t); }
  void on_link(const xtu::qemu::LinkLine& l) override { links.push_back(l); }

  const OutBlock* find(uint64_t host) const {
    for (const OutBlock& o : outs)
      if (o.host_addr == host) return &o;
    return nullptr;
  }
  const OutBlock& out(uint64_t host) const {
    const OutBlock* o = find(host);
    if (!o) throw std::runtime_error("no OUT block at the given host address");
    return *o;
  }
  Prologue prologue() const { return analyze_prologue(prologues.at(0).host_addr, prologues.at(0).code); }
};

const LogData& log_file(const std::string& rel) {
  static std::map<std::string, std::unique_ptr<LogData>> cache;
  std::unique_ptr<LogData>& p = cache[rel];
  if (!p) {
    p = std::make_unique<LogData>();
    xtu::qemu::parse_qemu_log(std::string(XTU_TEST_DATA_DIR) + "/" + rel, *p);
  }
  return *p;
}
const LogData& chained() { return log_file("hostcode/chained.log"); }
const LogData& nochain() { return log_file("hostcode/nochain.log"); }
const LogData& ldar() { return log_file("hostcode/ldar.log"); }
const LogData& excerpt() { return log_file("qemu/excerpt.log"); }

struct NamedLog {
  const char* name;
  const LogData& (*get)();
  bool nochain;
};
const NamedLog kAllLogs[] = {
    {"chained.log", chained, false},
    {"nochain.log", nochain, true},
    {"ldar.log", ldar, false},
    {"excerpt.log", excerpt, false},
};

TbCode make_tb(const LogData& log, uint64_t host) {
  const OutBlock& o = log.out(host);
  return TbCode(o.host_addr, o.code, kPcDisp, log.prologue());
}

// Runs `fn` on another thread. If it has not returned after `limit` (a hang), the test binary
// stops at once with a message instead of blocking ctest until its timeout.
template <class F>
void bounded(const char* what, std::chrono::seconds limit, F fn) {
  auto fut = std::async(std::launch::async, std::move(fn));
  if (fut.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "%s: still running after %lld s (a hang)\n", what, static_cast<long long>(limit.count()));
    std::fflush(stderr);
    std::_Exit(1);
  }
  fut.get();
}

// ---------------------------------------------------------------------------------------------
// Paths, written out for comparison

Step cond(uint64_t addr, bool taken) {
  Step s;
  s.kind = Step::Kind::Cond;
  s.addr = addr;
  s.taken = taken;
  return s;
}
Step call(uint64_t addr, uint64_t helper) {
  Step s;
  s.kind = Step::Kind::Call;
  s.addr = addr;
  s.target = helper;
  s.ret = addr + 5;  // every helper call in these TBs is `call rel32`
  return s;
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string render(const std::vector<Step>& steps) {
  std::string s;
  for (const Step& st : steps) {
    if (!s.empty()) s += ' ';
    if (st.kind == Step::Kind::Cond)
      s += "jcc@" + hex(st.addr) + (st.taken ? ":T" : ":N");
    else
      s += "call@" + hex(st.addr) + "->" + hex(st.target) + "/ret" + hex(st.ret);
  }
  return s;
}

std::string render(const Exit& e) {
  std::string s = std::string(exit_kind_name(e.kind)) + "@" + hex(e.addr);
  if (e.kind == Exit::Kind::GotoTb) s += " slot " + std::to_string(e.slot);
  if (e.kind == Exit::Kind::GotoPtr || e.kind == Exit::Kind::NoReturn) s += " helper " + hex(e.helper);
  if (e.kind == Exit::Kind::GotoPtr) s += " ret " + hex(e.ret);
  s += " pc " + (e.pc ? hex(*e.pc) : std::string("-"));
  return s;
}

Exit goto_tb(uint64_t addr, unsigned slot, uint64_t pc) {
  Exit e;
  e.kind = Exit::Kind::GotoTb;
  e.addr = addr;
  e.slot = slot;
  e.pc = pc;
  e.stub_insns = 3;
  return e;
}
Exit goto_ptr(uint64_t call_addr, std::optional<uint64_t> pc) {
  Exit e;
  e.kind = Exit::Kind::GotoPtr;
  e.addr = call_addr;
  e.helper = kLookupTbPtr;
  e.ret = call_addr + 5;
  e.pc = pc;
  return e;
}
Exit exit_tb(uint64_t addr, uint64_t pc) {
  Exit e;
  e.kind = Exit::Kind::ExitTb;
  e.addr = addr;
  e.pc = pc;
  return e;
}
Exit noreturn(uint64_t addr, uint64_t helper, uint64_t pc) {
  Exit e;
  e.kind = Exit::Kind::NoReturn;
  e.addr = addr;
  e.helper = helper;
  e.pc = pc;
  return e;
}

bool same_exit(const Exit& a, const Exit& b) {
  return a.kind == b.kind && a.addr == b.addr && a.slot == b.slot && a.helper == b.helper && a.ret == b.ret &&
         a.pc == b.pc && a.stub_insns == b.stub_insns;
}

// exits(), sorted by address, rendered.
std::vector<std::string> exits_of(const TbCode& tb) {
  std::vector<Exit> ex = tb.exits();
  std::sort(ex.begin(), ex.end(), [](const Exit& a, const Exit& b) { return a.addr < b.addr; });
  std::vector<std::string> out;
  for (const Exit& e : ex) out.push_back(render(e));
  return out;
}
std::vector<std::string> rendered(const std::vector<Exit>& ex) {
  std::vector<std::string> out;
  for (const Exit& e : ex) out.push_back(render(e));
  return out;
}

struct Expect {
  std::vector<Step> steps;
  Exit exit;
  uint32_t insns;
  uint32_t calls;
  uint32_t unobservable;
  bool exact;
};

void expect_path(const Path* p, const Expect& e) {
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(render(p->steps), render(e.steps));
  EXPECT_EQ(render(p->exit), render(e.exit));
  EXPECT_EQ(p->insns, e.insns);
  EXPECT_EQ(p->calls, e.calls);
  EXPECT_EQ(p->unobservable, e.unobservable);
  EXPECT_EQ(p->exact, e.exact);
}

// The structural promises of a path: made of the region's own instructions, counts consistent.
// Returns what is wrong, or "".
std::string check_path(const TbCode& tb, const Prologue& pro, const Path& p, std::optional<uint64_t> next) {
  const Region& r = tb.region();
  size_t conds = 0, calls = 0;
  for (const Step& s : p.steps) {
    if (!r.contains(s.addr)) return "step outside the region at " + hex(s.addr);
    const Insn& i = r.at(s.addr);
    if (s.kind == Step::Kind::Cond) {
      ++conds;
      if (i.term != Term::Cond) return "Cond step on a non-jcc at " + hex(s.addr);
    } else {
      ++calls;
      if (i.term != Term::Call && i.term != Term::CallIndirect) return "Call step on a non-call at " + hex(s.addr);
      if (s.target != i.target || s.ret != s.addr + i.len) return "Call step with wrong target/ret at " + hex(s.addr);
    }
  }
  const Exit& e = p.exit;
  if (!r.contains(e.addr)) return "exit outside the region at " + hex(e.addr);
  const Insn& x = r.at(e.addr);
  switch (e.kind) {
    case Exit::Kind::GotoTb: {
      if (x.term != Term::Jump || x.len != 5 || x.target != e.addr + 5)
        return "goto_tb exit is not a jmp to the next insn";
      const Insn& st = r.at(e.addr + 5);
      if (!st.stores_imm_to_env || st.env_disp != kPcDisp || e.pc != st.imm) return "goto_tb exit without its pc store";
      if (e.slot > 1) return "goto_tb slot " + std::to_string(e.slot);
      break;
    }
    case Exit::Kind::GotoPtr:
      if ((x.term != Term::Call && x.term != Term::CallIndirect) || e.ret != e.addr + x.len ||
          !r.at(e.ret).indirect_via_rax)
        return "goto_ptr exit is not call; jmp *%rax";
      break;
    case Exit::Kind::ExitTb:
      if (x.term != Term::Jump || x.target != pro.epilogue_ret0) return "exit_tb exit is not a jmp to epilogue_ret0";
      break;
    case Exit::Kind::NoReturn:
      if (x.term != Term::Call && x.term != Term::CallIndirect) return "noreturn exit is not a call";
      break;
  }
  if (p.calls != calls) return "calls " + std::to_string(p.calls) + " != " + std::to_string(calls) + " call steps";
  if (p.unobservable > conds) return "more unobservable branches than conditional steps";
  if (p.insns < p.steps.size() + 1) return "fewer instructions than steps";
  if (next && e.pc && *e.pc != *next) return "exit pc " + hex(*e.pc) + " contradicts next pc " + hex(*next);
  if (next && p.exact != (e.pc.has_value() && *e.pc == *next)) return "exact flag wrong";
  return "";
}

// The first step of every path: the exit check `jl` at entry + 5, not taken.
void expect_exit_check_first(const TbCode& tb, const Path& p) {
  ASSERT_FALSE(p.steps.empty());
  EXPECT_EQ(p.steps[0].kind, Step::Kind::Cond);
  EXPECT_EQ(p.steps[0].addr, tb.host_addr() + 5);
  EXPECT_FALSE(p.steps[0].taken);
}

}  // namespace

// =============================================================================================
// Prologue

TEST(Prologue, RealPrologues) {
  // Every run's PROLOGUE block (45 bytes): 6 pushes, movq %rdi,%rbp, addq $-0x488,%rsp,
  // jmpq *%rsi at +0x14; xorl %eax,%eax at +0x16; addq $0x488,%rsp at +0x18; vzeroupper,
  // 6 pops, retq at +0x2c.
  for (const NamedLog& l : kAllLogs) {
    SCOPED_TRACE(l.name);
    const auto& pb = l.get().prologues.at(0);
    Prologue p = analyze_prologue(pb.host_addr, pb.code);
    EXPECT_EQ(p.addr, pb.host_addr);
    EXPECT_EQ(p.size, 45u);
    EXPECT_EQ(p.dispatch, pb.host_addr + 0x14);
    EXPECT_EQ(p.entry_insns, 9u);
    EXPECT_EQ(p.epilogue_ret0, pb.host_addr + 0x16);
    EXPECT_EQ(p.epilogue, pb.host_addr + 0x18);
    EXPECT_EQ(p.ret, pb.host_addr + 0x2c);
    EXPECT_EQ(p.ret0_insns, 10u);  // xorl, addq, vzeroupper, 6 pops, ret
    EXPECT_EQ(p.epi_insns, 9u);
  }
  EXPECT_EQ(chained().prologues.at(0).host_addr, kBuf);
  EXPECT_EQ(ldar().prologues.at(0).host_addr, kLdarBuf);
  EXPECT_EQ(excerpt().prologues.at(0).host_addr, kExcerptBuf);
}

TEST(Prologue, TbCodeLeavesThroughItsEntries) {
  // Every exit-request stub and goto_tb stub of every TB jumps to `epilogue`; exit_tb jumps to
  // `epilogue_ret0`.
  size_t stubs = 0, exit_tbs = 0;
  for (const NamedLog& l : kAllLogs) {
    Prologue pro = l.get().prologue();
    for (const OutBlock& o : l.get().outs) {
      SCOPED_TRACE(std::string(l.name) + " TB " + hex(o.host_addr));
      TbCode tb(o.host_addr, o.code, kPcDisp, pro);
      const Region& r = tb.region();
      const Insn& lea = r.at(tb.exit_request_stub());
      ASSERT_TRUE(lea.lea_rip_rax);
      EXPECT_EQ(r.at(lea.addr + lea.len).target, pro.epilogue);
      ++stubs;
      for (const Exit& e : tb.exits()) {
        if (e.kind == Exit::Kind::GotoTb) {
          uint64_t jmp = e.addr + 5 + r.at(e.addr + 5).len + r.at(e.addr + 5 + r.at(e.addr + 5).len).len;
          EXPECT_EQ(r.at(jmp).target, pro.epilogue);
          ++stubs;
        } else if (e.kind == Exit::Kind::ExitTb) {
          EXPECT_EQ(r.at(e.addr).target, pro.epilogue_ret0);
          ++exit_tbs;
        }
      }
    }
  }
  EXPECT_EQ(stubs, 133u);  // the logs' 133 `leaq X(%rip), %rax` lines
  EXPECT_EQ(exit_tbs, 2u);  // msr tpidr_el0, in chained.log and nochain.log
}

TEST(Prologue, RejectsTruncatedPrologue) {
  const auto& pb = chained().prologues.at(0);
  for (size_t n = 0; n < pb.code.size(); ++n) {
    std::vector<uint8_t> cut(pb.code.begin(), pb.code.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(analyze_prologue(pb.host_addr, cut), std::runtime_error) << n << " bytes";
  }
}

TEST(Prologue, RejectsGarbage) {
  const auto& pb = chained().prologues.at(0);
  auto with = [&](size_t off, std::vector<uint8_t> bytes) {
    std::vector<uint8_t> c = pb.code;
    std::copy(bytes.begin(), bytes.end(), c.begin() + static_cast<std::ptrdiff_t>(off));
    return c;
  };
  EXPECT_THROW(analyze_prologue(kBuf, {0x06}), std::runtime_error);  // invalid in 64-bit mode
  EXPECT_THROW(analyze_prologue(kBuf, std::vector<uint8_t>(45, 0x90)), std::runtime_error);  // no dispatch
  EXPECT_THROW(analyze_prologue(kBuf, with(0x14, {0xff, 0xd6})), std::runtime_error);  // call *%rsi
  EXPECT_THROW(analyze_prologue(kBuf, with(0x00, {0xc3})), std::runtime_error);        // ret first
  EXPECT_THROW(analyze_prologue(kBuf, with(0x1f, {0xeb, 0x00, 0x90})), std::runtime_error);  // jmp in epilogue
  EXPECT_THROW(analyze_prologue(kBuf, with(0x1f, {0xe8, 0x00, 0x00})), std::runtime_error);  // cut call
  // Random bytes: rejected, or (rarely) something with the right shape and ordered fields.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> c(1 + rng() % 64);
    for (uint8_t& b : c) b = static_cast<uint8_t>(rng());
    try {
      Prologue p = analyze_prologue(kBuf, c);
      EXPECT_LT(p.dispatch, p.epilogue_ret0);
      EXPECT_LT(p.epilogue_ret0, p.epilogue);
      EXPECT_LE(p.epilogue, p.ret);
      EXPECT_LT(p.ret, kBuf + c.size());
    } catch (const std::runtime_error&) {
    }
  }
}

TEST(Prologue, RejectsEpilogueWithoutTwoEntries) {
  // `jmp *%rsi; ret`: the ret right after the dispatch jump leaves no second epilogue entry
  // (TCG's is `xorl %eax,%eax` then the goto_tb entry); must not come back with epilogue = 0.
  EXPECT_THROW(analyze_prologue(kBuf, {0xff, 0xe6, 0xc3}), std::runtime_error);
  // The smallest accepted shape: jmp *%rsi; xorl %eax,%eax; ret.
  Prologue p = analyze_prologue(kBuf, {0xff, 0xe6, 0x33, 0xc0, 0xc3});
  EXPECT_EQ(p.epilogue_ret0, kBuf + 2);
  EXPECT_EQ(p.epilogue, kBuf + 4);
  EXPECT_EQ(p.ret, kBuf + 4);
  EXPECT_EQ(p.epi_insns, 1u);
}

// =============================================================================================
// Region

TEST(Region, ClassifiesTcgInstructions) {
  // chained.log line 1139: __aarch64_ldadd4_acq_rel's ldaxr/stlxr loop at 0x400448.
  const OutBlock& o = chained().out(kBuf + 0x2500);
  Region r(o.host_addr, o.code);
  EXPECT_EQ(r.base(), kBuf + 0x2500);
  EXPECT_EQ(r.end(), kBuf + 0x2500 + 311);

  const Insn& entry = r.at(kBuf + 0x2500);  // movl -0x10(%rbp), %ebx
  EXPECT_EQ(entry.addr, kBuf + 0x2500);
  EXPECT_EQ(entry.len, 3u);
  EXPECT_EQ(entry.term, Term::None);
  EXPECT_FALSE(entry.stores_imm_to_env || entry.stores_reg_to_env || entry.lea_rip_rax);

  const Insn& jl = r.at(kBuf + 0x2505);  // jl 0x...262b
  EXPECT_EQ(jl.term, Term::Cond);
  EXPECT_EQ(jl.len, 6u);
  EXPECT_EQ(jl.target, kBuf + 0x262b);
  EXPECT_EQ(r.at(kBuf + 0x252f).term, Term::Cond);  // jbe 0x...2547
  EXPECT_EQ(r.at(kBuf + 0x252f).target, kBuf + 0x2547);

  const Insn& c = r.at(kBuf + 0x2542);  // callq helper
  EXPECT_EQ(c.term, Term::Call);
  EXPECT_EQ(c.len, 5u);
  EXPECT_EQ(c.target, kCrossingHelper);

  EXPECT_EQ(r.at(kBuf + 0x25c2).term, Term::Jump);  // jmp 0x...25d2
  EXPECT_EQ(r.at(kBuf + 0x25c2).target, kBuf + 0x25d2);
  const Insn& gt = r.at(kBuf + 0x25f3);  // goto_tb: jmp 0 (unlinked)
  EXPECT_EQ(gt.term, Term::Jump);
  EXPECT_EQ(gt.len, 5u);
  EXPECT_EQ(gt.target, kBuf + 0x25f8);
  EXPECT_EQ(r.at(kBuf + 0x260a).target, kBuf + 0x18);  // the stub's jmp to the epilogue
  EXPECT_FALSE(r.contains(r.at(kBuf + 0x260a).target));

  const Insn& pc = r.at(kBuf + 0x25f8);  // movq $0x40045c, 0x140(%rbp)
  EXPECT_EQ(pc.term, Term::None);
  EXPECT_EQ(pc.len, 11u);
  EXPECT_TRUE(pc.stores_imm_to_env);
  EXPECT_FALSE(pc.stores_reg_to_env);
  EXPECT_EQ(pc.env_disp, 0x140);
  EXPECT_EQ(pc.imm, 0x40045cu);

  const Insn& neg = r.at(kBuf + 0x25d2);  // movq $-1, 0x3090(%rbp): sign-extended
  EXPECT_TRUE(neg.stores_imm_to_env);
  EXPECT_EQ(neg.env_disp, 0x3090);
  EXPECT_EQ(neg.imm, ~uint64_t{0});

  const Insn& reg = r.at(kBuf + 0x2567);  // movq %r14, 0x40(%rbp)
  EXPECT_TRUE(reg.stores_reg_to_env);
  EXPECT_FALSE(reg.stores_imm_to_env);
  EXPECT_EQ(reg.env_disp, 0x40);

  const Insn& load = r.at(kBuf + 0x250f);  // movq 0x40(%rbp), %rbx: a load
  EXPECT_FALSE(load.stores_imm_to_env || load.stores_reg_to_env);
  const Insn& byte = r.at(kBuf + 0x25dd);  // movb $1, -0xc(%rbp): not 64-bit
  EXPECT_FALSE(byte.stores_imm_to_env || byte.stores_reg_to_env);

  // leaq X(%rip), %rax: X = the TB descriptor | slot (goto_tb) or | 3 (exit request).
  const Insn& lea0 = r.at(kBuf + 0x2603);
  EXPECT_TRUE(lea0.lea_rip_rax);
  EXPECT_EQ(lea0.len, 7u);
  EXPECT_EQ(lea0.target, kBuf + 0x260a - 0x1ca);
  EXPECT_EQ(lea0.target & 3, 0u);
  EXPECT_EQ(r.at(kBuf + 0x261f).target & 3, 1u);
  EXPECT_EQ(r.at(kBuf + 0x262b).target & 3, 3u);
  EXPECT_EQ(r.at(kBuf + 0x262b).target & ~uint64_t{3}, lea0.target);

  // goto_ptr (chained.log line 257, set_tls's ret): call helper_lookup_tb_ptr; jmp *%rax.
  const OutBlock& ret = chained().out(kBuf + 0x800);
  Region rr(ret.host_addr, ret.code);
  EXPECT_EQ(rr.at(kBuf + 0x82e).term, Term::Call);
  EXPECT_EQ(rr.at(kBuf + 0x82e).target, kLookupTbPtr);
  const Insn& jr = rr.at(kBuf + 0x833);
  EXPECT_EQ(jr.term, Term::Indirect);
  EXPECT_TRUE(jr.indirect_via_rax);
  EXPECT_EQ(jr.len, 2u);
  EXPECT_TRUE(rr.at(kBuf + 0x824).stores_reg_to_env);  // movq %r12, 0x140(%rbp)
  EXPECT_EQ(rr.at(kBuf + 0x824).env_disp, 0x140);

  // blr (line 611): movl $2, 0x22c(%rbp) is a 32-bit store (btype), not flagged.
  const OutBlock& blr = chained().out(kBuf + 0x13c0);
  Region br(blr.host_addr, blr.code);
  EXPECT_FALSE(br.at(kBuf + 0x142a).stores_imm_to_env);

  // The prologue: jmpq *%rsi is indirect but not via %rax; retq.
  const auto& pb = chained().prologues.at(0);
  Region pr(pb.host_addr, pb.code);
  EXPECT_EQ(pr.at(kBuf + 0x14).term, Term::Indirect);
  EXPECT_FALSE(pr.at(kBuf + 0x14).indirect_via_rax);
  EXPECT_EQ(pr.at(kBuf + 0x16).term, Term::None);
  EXPECT_EQ(pr.at(kBuf + 0x2c).term, Term::Ret);
}

TEST(Region, DecodesEvexThatQemuMisprints) {
  // neon_mix (chained.log line 1873): QEMU prints the AVX-512 vpternlogq at 0x...3c48 as
  // ".byte 0x62; cmc; orb ...; jg 0x...3bd8; ...". The real instructions: vpternlogq (7 bytes),
  // vmovdqa %xmm0, 0xcf0(%rbp) (8), movb $1, -0xc(%rbp) (4).
  const OutBlock& o = chained().out(kBuf + 0x3b80);
  Region r(o.host_addr, o.code);
  std::vector<uint64_t> seq;
  for (uint64_t a = kBuf + 0x3c40; a < kBuf + 0x3c5b + 1;) {
    const Insn& i = r.at(a);
    ASSERT_EQ(i.term, Term::None) << hex(a);
    seq.push_back(a);
    a += i.len;
  }
  EXPECT_EQ(seq, (std::vector<uint64_t>{kBuf + 0x3c40, kBuf + 0x3c48, kBuf + 0x3c4f, kBuf + 0x3c57, kBuf + 0x3c5b}));
  EXPECT_EQ(r.at(kBuf + 0x3c48).len, 7u);

  // The constant pool ("data: [size=8]" at 0x...3c90), read by vpbroadcastq 0xf8(%rip).
  EXPECT_EQ(o.data_addr, kBuf + 0x3c90);
  EXPECT_EQ(r.end(), kBuf + 0x3c98);
  uint64_t q = 0;
  EXPECT_TRUE(r.read_u64(kBuf + 0x3c90, q));
  EXPECT_EQ(q, 0x5a5a5a5a5a5a5a5au);
  EXPECT_FALSE(r.read_u64(kBuf + 0x3c91, q));
  EXPECT_FALSE(r.at(kBuf + 0x3b8f).lea_rip_rax);
  EXPECT_EQ(r.at(kBuf + 0x3b8f).len, 9u);
}

TEST(Region, StaysInsideItsBytes) {
  const OutBlock& o = chained().out(kBuf + 0x2500);
  Region full(o.host_addr, o.code);
  for (uint64_t a : {o.host_addr - 1, o.host_addr + o.code.size(), ~uint64_t{0}, uint64_t{0}}) {
    EXPECT_EQ(full.at(a).term, Term::Invalid) << hex(a);
    EXPECT_EQ(full.at(a).len, 0u);
    EXPECT_FALSE(full.contains(a));
  }
  // Instruction starts of the whole TB.
  std::vector<uint64_t> starts;
  for (uint64_t a = o.host_addr; full.contains(a); a += full.at(a).len) {
    ASSERT_NE(full.at(a).term, Term::Invalid);
    starts.push_back(a);
  }
  // Any prefix decodes the same, except an instruction cut by the end: Invalid.
  for (size_t n = 0; n <= o.code.size(); ++n) {
    Region cut(o.host_addr, std::vector<uint8_t>(o.code.begin(), o.code.begin() + static_cast<std::ptrdiff_t>(n)));
    EXPECT_EQ(cut.end(), o.host_addr + n);
    for (uint64_t a : starts) {
      if (a >= cut.end()) break;
      const Insn& w = full.at(a);
      const Insn& c = cut.at(a);
      if (a + w.len <= cut.end()) {
        EXPECT_EQ(std::make_tuple(c.len, c.term, c.target), std::make_tuple(w.len, w.term, w.target)) << hex(a);
      } else {
        EXPECT_EQ(c.term, Term::Invalid) << n << " bytes, insn at " << hex(a);
        EXPECT_EQ(c.len, 0u);
      }
    }
  }
  // read_u64 bounds.
  Region r16(0x1000, std::vector<uint8_t>(16, 0xab));
  uint64_t v = 0;
  EXPECT_TRUE(r16.read_u64(0x1008, v));
  EXPECT_EQ(v, 0xababababababababu);
  EXPECT_FALSE(r16.read_u64(0x1009, v));
  EXPECT_FALSE(r16.read_u64(0xfff, v));
  EXPECT_FALSE(r16.read_u64(~uint64_t{0} - 3, v));
  Region empty(0x1000, {});
  EXPECT_FALSE(empty.contains(0x1000));
  EXPECT_EQ(empty.at(0x1000).term, Term::Invalid);
  EXPECT_FALSE(empty.read_u64(0x1000, v));
}

TEST(Region, UndecodableBytesAreInvalid) {
  for (const std::vector<uint8_t>& b : std::vector<std::vector<uint8_t>>{
           {0x06}, {0x0f}, {0x48}, {0xe8, 0x00, 0x00}, {0x0f, 0x8c, 0x00}, {0x62}, {0xc4, 0xe2}}) {
    Region r(0x2000, b);
    EXPECT_EQ(r.at(0x2000).term, Term::Invalid) << int(b[0]) << " (" << b.size() << " bytes)";
    EXPECT_EQ(r.at(0x2000).len, 0u);
  }
}

TEST(Region, CallThroughRipRelativePointer) {
  // TCG's form for a helper out of rel32 range: call *disp(%rip), the pointer in the constant
  // pool. (Not in the fixtures, whose helpers are all within rel32 range.)
  std::vector<uint8_t> in_pool = {0xff, 0x15, 0x02, 0x00, 0x00, 0x00, 0x90, 0x90,
                                  0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  Region r(0x3000, in_pool);
  EXPECT_EQ(r.at(0x3000).term, Term::CallIndirect);
  EXPECT_EQ(r.at(0x3000).len, 6u);
  EXPECT_EQ(r.at(0x3000).target, 0x1122334455667788u);
  // The pointer partly or wholly outside the region: not read.
  Region part(0x3000, std::vector<uint8_t>(in_pool.begin(), in_pool.end() - 1));
  EXPECT_EQ(part.at(0x3000).term, Term::CallIndirect);
  EXPECT_EQ(part.at(0x3000).target, 0u);
  Region far(0x3000, {0xff, 0x15, 0x00, 0x10, 0x00, 0x00});
  EXPECT_EQ(far.at(0x3000).target, 0u);
  Region back(0x3000, {0xff, 0x15, 0xf0, 0xff, 0xff, 0xff});  // before the region
  EXPECT_EQ(back.at(0x3000).target, 0u);
  Region rax(0x3000, {0xff, 0xd0});  // call *%rax
  EXPECT_EQ(rax.at(0x3000).term, Term::CallIndirect);
  EXPECT_EQ(rax.at(0x3000).target, 0u);
  Region jmem(0x3000, {0xff, 0x25, 0x00, 0x00, 0x00, 0x00});  // jmp *(%rip)
  EXPECT_EQ(jmem.at(0x3000).term, Term::Indirect);
  EXPECT_FALSE(jmem.at(0x3000).indirect_via_rax);
}

// =============================================================================================
// find_pc_env_disp

TEST(FindPcEnvDisp, FromGotoTbStub) {
  const OutBlock& o = chained().out(kBuf + 0x380);  // b.ne with two goto_tb stubs
  EXPECT_EQ(find_pc_env_disp(o.host_addr, o.code), std::optional<int32_t>(0x140));
}

TEST(FindPcEnvDisp, FromStoreBeforeGotoPtr) {
  // nochain.log line 330: movq $0x40020c, 0x140(%rbp); movq %rbp,%rdi; call; jmp *%rax.
  const OutBlock& n = nochain().out(kBuf + 0xac0);
  EXPECT_EQ(find_pc_env_disp(n.host_addr, n.code), std::optional<int32_t>(0x140));
  // chained.log's ret (line 257): movq %r12, 0x140(%rbp) before the goto_ptr.
  const OutBlock& r = chained().out(kBuf + 0x800);
  EXPECT_EQ(find_pc_env_disp(r.host_addr, r.code), std::optional<int32_t>(0x140));
  // blr (line 611): the 32-bit btype store between the pc store and the call does not count.
  const OutBlock& b = chained().out(kBuf + 0x13c0);
  EXPECT_EQ(find_pc_env_disp(b.host_addr, b.code), std::optional<int32_t>(0x140));
}

TEST(FindPcEnvDisp, NothingWithoutGotoTbOrGotoPtr) {
  for (uint64_t host : {kBuf + 0x6c0, kBuf + 0x3d80, kBuf + 0x3ec0}) {  // exit_tb, svc, svc
    const OutBlock& o = chained().out(host);
    EXPECT_FALSE(find_pc_env_disp(o.host_addr, o.code).has_value()) << hex(host);
  }
  EXPECT_FALSE(find_pc_env_disp(kBuf, {}).has_value());
  EXPECT_FALSE(find_pc_env_disp(kBuf, {0x06, 0x06}).has_value());
}

TEST(FindPcEnvDisp, EveryTbAgrees) {
  std::map<std::string, size_t> found;
  for (const NamedLog& l : kAllLogs) {
    for (const OutBlock& o : l.get().outs) {
      std::optional<int32_t> d = find_pc_env_disp(o.host_addr, o.code);
      if (d) {
        EXPECT_EQ(*d, kPcDisp) << l.name << " TB " << hex(o.host_addr);
        ++found[l.name];
      }
    }
  }
  // All but the exit_tb and svc TBs; ldar.log's one TB ends with svc.
  EXPECT_EQ(found, (std::map<std::string, size_t>{{"chained.log", 37}, {"nochain.log", 37}, {"excerpt.log", 6}}));
}

// =============================================================================================
// TbCode on each shape of TB (chained.log unless said otherwise)

TEST(TbCode, BCondTwoGotoTbSlots) {
  // Line 132: 0x4002e0..0x4002f0, `b.ne #0x4002e0` at 0x4002f0. Host: jne 0x...42b at +0x87;
  // not taken: goto_tb 0 (jmp at +0x8f, stub stores 0x4002f4); taken: goto_tb 1 (jmp at +0xab,
  // stub stores 0x4002e0).
  EXPECT_NE(chained().ins.at(1).insns.back().text.find("b.ne"), std::string::npos);
  TbCode tb = make_tb(chained(), kBuf + 0x380);
  EXPECT_EQ(tb.host_addr(), kBuf + 0x380);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0x447);  // target of the jl at +0x385
  EXPECT_EQ(exits_of(tb), rendered({goto_tb(kBuf + 0x40f, 0, 0x4002f4), goto_tb(kBuf + 0x42b, 1, 0x4002e0)}));
  EXPECT_EQ(tb.goto_tb_slots(), (std::map<unsigned, uint64_t>{{0, kBuf + 0x40f}, {1, kBuf + 0x42b}}));

  // Not taken: 36 instructions, 0x...380 through the jmp at 0x...40f (nop padding included).
  expect_path(tb.path_to(0x4002f4), {{cond(kBuf + 0x385, false), cond(kBuf + 0x407, false)},
                                     goto_tb(kBuf + 0x40f, 0, 0x4002f4), 36, 0, 0, true});
  // Taken: 35, through the jne, then the jmp at 0x...42b.
  expect_path(tb.path_to(0x4002e0), {{cond(kBuf + 0x385, false), cond(kBuf + 0x407, true)},
                                     goto_tb(kBuf + 0x42b, 1, 0x4002e0), 35, 0, 0, true});
  EXPECT_EQ(tb.path_to(0x400204), nullptr);  // some other block
  EXPECT_EQ(tb.path_to(0x4002e4), nullptr);  // inside this block, not a successor
  EXPECT_EQ(tb.path_to(0x4002f8), nullptr);
  const Path* end = tb.path_to(std::nullopt);
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->exit.kind, Exit::Kind::GotoTb);
  EXPECT_FALSE(end->exact);
}

TEST(TbCode, BCondFoldedToOneSlot) {
  // Line 38: the first TB ends with the same `b.ne #0x4002e0`, but the compared value is a
  // translation-time constant (w0 = 7, not 0xa8): TCG dropped the not-taken side. One stub,
  // and it is slot 1.
  const auto& in = chained().ins.at(0);
  EXPECT_EQ(in.insns.back().pc, 0x4002f0u);
  EXPECT_NE(in.insns.back().text.find("b.ne"), std::string::npos);
  TbCode tb = make_tb(chained(), kBuf + 0x100);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0x24f);
  EXPECT_EQ(exits_of(tb), rendered({goto_tb(kBuf + 0x233, 1, 0x4002e0)}));
  EXPECT_EQ(tb.goto_tb_slots(), (std::map<unsigned, uint64_t>{{1, kBuf + 0x233}}));
  expect_path(tb.path_to(0x4002e0), {{cond(kBuf + 0x105, false)}, goto_tb(kBuf + 0x233, 1, 0x4002e0), 59, 0, 0, true});
  EXPECT_EQ(tb.path_to(0x4002f4), nullptr);  // the guest fall-through: unreachable here
}

TEST(TbCode, BlAndBOneSlot) {
  // Line 283: `bl #0x400204`. The link register store (movq $0x400318, 0x130(%rbp)) is not the pc.
  TbCode bl = make_tb(chained(), kBuf + 0x940);
  EXPECT_TRUE(bl.region().at(kBuf + 0x985).stores_imm_to_env);
  EXPECT_EQ(bl.region().at(kBuf + 0x985).env_disp, 0x130);
  EXPECT_EQ(bl.exit_request_stub(), kBuf + 0x9af);
  EXPECT_EQ(exits_of(bl), rendered({goto_tb(kBuf + 0x993, 0, 0x400204)}));
  EXPECT_EQ(bl.goto_tb_slots(), (std::map<unsigned, uint64_t>{{0, kBuf + 0x993}}));
  expect_path(bl.path_to(0x400204), {{cond(kBuf + 0x945, false)}, goto_tb(kBuf + 0x993, 0, 0x400204), 15, 0, 0, true});
  EXPECT_EQ(bl.path_to(0x400318), nullptr);  // the return address

  // Line 198: `bl #0x4002b0` (set_tls).
  TbCode bl2 = make_tb(chained(), kBuf + 0x540);
  expect_path(bl2.path_to(0x4002b0), {{cond(kBuf + 0x545, false)}, goto_tb(kBuf + 0x58f, 0, 0x4002b0), 14, 0, 0, true});

  // Line 903: tail's `b #0x4001b0`.
  TbCode b = make_tb(chained(), kBuf + 0x1cc0);
  EXPECT_EQ(b.exit_request_stub(), kBuf + 0x1cff);
  EXPECT_EQ(exits_of(b), rendered({goto_tb(kBuf + 0x1ce3, 0, 0x4001b0)}));
  expect_path(b.path_to(0x4001b0), {{cond(kBuf + 0x1cc5, false)}, goto_tb(kBuf + 0x1ce3, 0, 0x4001b0), 11, 0, 0, true});
  EXPECT_EQ(b.path_to(0x4001e8), nullptr);
}

TEST(TbCode, RetBlrBrGotoPtr) {
  // ret (line 257), blr x1 (line 611), br x16 (line 969): the pc comes from a register
  // (movq %r12, 0x140(%rbp)), then call helper_lookup_tb_ptr; jmp *%rax. Any pc fits.
  struct Case {
    uint64_t host, call;
    uint32_t insns;
    uint64_t seen_next;  // the successor in nochain.log's trace
  };
  for (const Case& c : {Case{kBuf + 0x800, kBuf + 0x82e, 13, 0x400308},
                        Case{kBuf + 0x13c0, kBuf + 0x1437, 24, 0x4001b0},
                        Case{kBuf + 0x1f40, kBuf + 0x1f9e, 23, 0x4001b0}}) {
    SCOPED_TRACE(hex(c.host));
    TbCode tb = make_tb(chained(), c.host);
    EXPECT_EQ(exits_of(tb), rendered({goto_ptr(c.call, std::nullopt)}));
    EXPECT_TRUE(tb.goto_tb_slots().empty());
    EXPECT_EQ(tb.exit_request_stub(), c.call + 7);  // right after the jmp *%rax
    for (std::optional<uint64_t> next : {std::optional<uint64_t>(c.seen_next), std::optional<uint64_t>(0x12345678),
                                         std::optional<uint64_t>(0), std::optional<uint64_t>()}) {
      expect_path(tb.path_to(next), {{cond(c.host + 5, false)}, goto_ptr(c.call, std::nullopt), c.insns, 0, 0, false});
    }
  }
  // A direct bl to another page is a goto_ptr with a constant pc (excerpt.log line 250,
  // `bl #0x423fe0`): that pc only.
  const OutBlock& o = excerpt().out(kExcerptBuf + 0x6c0);
  TbCode far(o.host_addr, o.code, kPcDisp, excerpt().prologue());
  ASSERT_EQ(far.exits().size(), 1u);
  EXPECT_EQ(far.exits()[0].kind, Exit::Kind::GotoPtr);
  EXPECT_EQ(far.exits()[0].pc, std::optional<uint64_t>(0x423fe0));
  const Path* p = far.path_to(0x423fe0);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->exact);
  EXPECT_EQ(p->insns, 9u);
  EXPECT_EQ(far.path_to(0x400924), nullptr);
}

TEST(TbCode, MsrEndsWithExitTb) {
  // Line 234: set_tls's `msr tpidr_el0, x0`: a helper call that returns, the next pc stored,
  // then jmp 0x...16 (epilogue_ret0): exit_tb(0).
  TbCode tb = make_tb(chained(), kBuf + 0x6c0);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0x6f4);
  EXPECT_EQ(exits_of(tb), rendered({exit_tb(kBuf + 0x6ef, 0x4002b4)}));
  EXPECT_TRUE(tb.goto_tb_slots().empty());
  EXPECT_EQ(tb.region().at(kBuf + 0x6ef).target, chained().prologue().epilogue_ret0);
  expect_path(tb.path_to(0x4002b4), {{cond(kBuf + 0x6c5, false), call(kBuf + 0x6df, kMsrHelper)},
                                     exit_tb(kBuf + 0x6ef, 0x4002b4), 11, 1, 0, true});
  EXPECT_EQ(tb.path_to(0x4002b8), nullptr);
}

TEST(TbCode, SvcIsNoReturn) {
  // Line 1949: `svc #0` at 0x4003c0: the pc after it stored, then the exception helper, whose
  // call is directly followed by the exit-request stub.
  TbCode w = make_tb(chained(), kBuf + 0x3d80);
  EXPECT_EQ(w.exit_request_stub(), kBuf + 0x3de4);
  EXPECT_EQ(w.exit_request_stub(), kBuf + 0x3ddf + 5);
  EXPECT_EQ(exits_of(w), rendered({noreturn(kBuf + 0x3ddf, kRaiseException, 0x4003c4)}));
  EXPECT_TRUE(w.goto_tb_slots().empty());
  Expect e{{cond(kBuf + 0x3d85, false)}, noreturn(kBuf + 0x3ddf, kRaiseException, 0x4003c4), 20, 0, 0, true};
  expect_path(w.path_to(0x4003c4), e);
  const Path* end = w.path_to(std::nullopt);
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(render(end->exit), render(e.exit));
  EXPECT_EQ(end->insns, 20u);
  EXPECT_EQ(w.path_to(0x4003c8), nullptr);
  // Line 1989: the exit syscall, the last TB of the run.
  TbCode x = make_tb(chained(), kBuf + 0x3ec0);
  EXPECT_EQ(exits_of(x), rendered({noreturn(kBuf + 0x3f58, kRaiseException, 0x4003e4)}));
  const Path* last = x.path_to(std::nullopt);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->exit.kind, Exit::Kind::NoReturn);
  EXPECT_EQ(last->insns, 33u);
}

TEST(TbCode, ExclusiveLoadStoreLoop) {
  // Line 1139: mov; ldaxr; add; stlxr; cbnz w15, #0x40044c. Host: jbe around the 16-byte
  // crossing helper (ldaxr), jne when the exclusive monitor's address differs (stlxr), jne for
  // cbnz. Only the last is visible in the guest's control flow.
  TbCode tb = make_tb(chained(), kBuf + 0x2500);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0x262b);
  EXPECT_EQ(exits_of(tb), rendered({goto_tb(kBuf + 0x25f3, 0, 0x40045c), goto_tb(kBuf + 0x260f, 1, 0x40044c)}));
  EXPECT_EQ(tb.exits().size(), 2u);  // each exit once, however many host paths lead to it
  EXPECT_EQ(tb.goto_tb_slots(), (std::map<unsigned, uint64_t>{{0, kBuf + 0x25f3}, {1, kBuf + 0x260f}}));
  // The fast path: jbe taken (no helper call), jne not taken (monitor hit): 2 unobservable.
  expect_path(tb.path_to(0x40045c), {{cond(kBuf + 0x2505, false), cond(kBuf + 0x252f, true),
                                      cond(kBuf + 0x259a, false), cond(kBuf + 0x25ed, false)},
                                     goto_tb(kBuf + 0x25f3, 0, 0x40045c), 51, 0, 2, true});
  expect_path(tb.path_to(0x40044c), {{cond(kBuf + 0x2505, false), cond(kBuf + 0x252f, true),
                                      cond(kBuf + 0x259a, false), cond(kBuf + 0x25ed, true)},
                                     goto_tb(kBuf + 0x260f, 1, 0x40044c), 51, 0, 2, true});
  EXPECT_EQ(tb.path_to(0x400448), nullptr);
}

TEST(TbCode, CompareAndSwapLoop) {
  // Line 1332: __aarch64_cas4_acq's mov; ldaxr; cmp; b.ne #0x400420.
  TbCode tb = make_tb(chained(), kBuf + 0x2b80);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0x2c7b);
  EXPECT_EQ(exits_of(tb), rendered({goto_tb(kBuf + 0x2c43, 0, 0x400418), goto_tb(kBuf + 0x2c5f, 1, 0x400420)}));
  EXPECT_EQ(tb.exits().size(), 2u);
  // The fast path: jbe taken (ldaxr within 16 bytes): 1 unobservable.
  expect_path(tb.path_to(0x400418),
              {{cond(kBuf + 0x2b85, false), cond(kBuf + 0x2baf, true), cond(kBuf + 0x2c3c, false)},
               goto_tb(kBuf + 0x2c43, 0, 0x400418), 44, 0, 1, true});
  expect_path(tb.path_to(0x400420),
              {{cond(kBuf + 0x2b85, false), cond(kBuf + 0x2baf, true), cond(kBuf + 0x2c3c, true)},
               goto_tb(kBuf + 0x2c5f, 1, 0x400420), 43, 0, 1, true});
}

TEST(TbCode, SveHelperCallsReturn) {
  // Line 1673: sve_copy's loop whilelt; ld1b; st1b; add; cmp; b.gt #0x400270: three helper
  // calls that return, then the b.gt.
  TbCode tb = make_tb(chained(), kBuf + 0x35c0);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0x3733);
  EXPECT_EQ(exits_of(tb), rendered({goto_tb(kBuf + 0x36fb, 0, 0x400288), goto_tb(kBuf + 0x3717, 1, 0x400270)}));
  std::vector<Step> calls = {cond(kBuf + 0x35c5, false), call(kBuf + 0x3607, kSveWhile), call(kBuf + 0x365a, kSveLd1),
                             call(kBuf + 0x3686, kSveSt1)};
  std::vector<Step> again = calls, done = calls;
  again.push_back(cond(kBuf + 0x36f2, true));
  done.push_back(cond(kBuf + 0x36f2, false));
  expect_path(tb.path_to(0x400270), {again, goto_tb(kBuf + 0x3717, 1, 0x400270), 77, 3, 0, true});
  expect_path(tb.path_to(0x400288), {done, goto_tb(kBuf + 0x36fb, 0, 0x400288), 78, 3, 0, true});
}

TEST(TbCode, NeonEvexAndConstantPool) {
  // Line 1873: neon_mix (movi, eor, add, bit → vpbroadcastq from the pool, vpternlogq) and
  // ret. The ".byte 0x62 ... jg" QEMU prints is no branch: the only jcc is the exit check.
  TbCode tb = make_tb(chained(), kBuf + 0x3b80);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0x3c81);
  EXPECT_EQ(exits_of(tb), rendered({goto_ptr(kBuf + 0x3c7a, std::nullopt)}));
  // 31 instructions up to the vmovdqa at 0x...3c40, the 3 QEMU misprints, 9 to the jmp *%rax.
  expect_path(tb.path_to(0x4003b8),
              {{cond(kBuf + 0x3b85, false)}, goto_ptr(kBuf + 0x3c7a, std::nullopt), 43, 0, 0, false});
}

TEST(TbCode, NochainBCondIsTwoGotoPtrs) {
  // nochain.log line 330: loop's `cmp w0, #0; b.le #0x40024c`. Without chaining each side
  // stores its pc and calls helper_lookup_tb_ptr.
  TbCode tb = make_tb(nochain(), kBuf + 0xac0);
  EXPECT_EQ(tb.exit_request_stub(), kBuf + 0xb37);
  EXPECT_EQ(exits_of(tb), rendered({goto_ptr(kBuf + 0xb1b, 0x40020c), goto_ptr(kBuf + 0xb30, 0x40024c)}));
  EXPECT_TRUE(tb.goto_tb_slots().empty());
  expect_path(tb.path_to(0x40020c),
              {{cond(kBuf + 0xac5, false), cond(kBuf + 0xb07, false)},
               goto_ptr(kBuf + 0xb1b, 0x40020c), 20, 0, 0, true});
  expect_path(tb.path_to(0x40024c),
              {{cond(kBuf + 0xac5, false), cond(kBuf + 0xb07, true)},
               goto_ptr(kBuf + 0xb30, 0x40024c), 20, 0, 0, true});
  EXPECT_EQ(tb.path_to(0x400208), nullptr);
  // The same guest block in chained.log: two goto_tb slots with the same pcs.
  TbCode c = make_tb(chained(), kBuf + 0xac0);
  std::vector<Exit> ce = c.exits();
  ASSERT_EQ(ce.size(), 2u);
  std::set<std::pair<unsigned, uint64_t>> slots;
  for (const Exit& e : ce) {
    EXPECT_EQ(e.kind, Exit::Kind::GotoTb);
    slots.insert({e.slot, e.pc.value_or(0)});
  }
  EXPECT_EQ(slots, (std::set<std::pair<unsigned, uint64_t>>{{0, 0x40020c}, {1, 0x40024c}}));
}

TEST(TbCode, SixtyFiveAtomicityChecksInOneTb) {
  // ldar.log: 66 `ldar w1, [x0]` then svc. TCG knows x0 for the first load (no check) but
  // reloads it after each check, so 65 `cmpl $0x10; jbe` around a helper call: 2^65 host
  // paths to one exit. The fast path takes every jbe: 800 instructions (QEMU's disassembly,
  // skipping 5 per check).
  bounded("ldar TB", std::chrono::seconds(60), [] {
    TbCode tb = make_tb(ldar(), kLdarBuf + 0x100);
    std::vector<Exit> ex = tb.exits();
    EXPECT_EQ(rendered(ex), rendered({noreturn(kLdarBuf + 0x111b, kRaiseException, 0x40026c)}));
    const Path* p = tb.path_to(std::nullopt);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->exit.kind, Exit::Kind::NoReturn);
    EXPECT_EQ(p->insns, 800u);
    EXPECT_EQ(p->calls, 0u);
    EXPECT_EQ(p->unobservable, 65u);
    ASSERT_EQ(p->steps.size(), 66u);
    for (size_t i = 1; i < p->steps.size(); ++i) {
      EXPECT_EQ(p->steps[i].kind, Step::Kind::Cond);
      EXPECT_TRUE(p->steps[i].taken);
    }
    const Path* q = tb.path_to(0x40026c);
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(q->exact);
    EXPECT_EQ(q->insns, 800u);
  });
}

TEST(TbCode, PathToIsStable) {
  TbCode tb = make_tb(chained(), kBuf + 0x380);
  const Path* a = tb.path_to(0x4002f4);
  EXPECT_EQ(tb.path_to(0x4002e0)->exit.slot, 1u);
  EXPECT_EQ(tb.path_to(0x4002f4), a);
  EXPECT_EQ(tb.path_to(0x400000), nullptr);
  EXPECT_EQ(tb.path_to(0x400000), nullptr);
  EXPECT_EQ(tb.path_to(0x4002f4), a);
}

// =============================================================================================
// Cross-checks over whole logs

TEST(CrossCheck, EveryTbOfEveryLog) {
  for (const NamedLog& l : kAllLogs) {
    Prologue pro = l.get().prologue();
    for (const OutBlock& o : l.get().outs) {
      SCOPED_TRACE(std::string(l.name) + " TB " + hex(o.host_addr) + " (line " + std::to_string(o.line) + ")");
      TbCode tb(o.host_addr, o.code, kPcDisp, pro);
      // TB entry: movl -0x10(%rbp),%ebx; testl; jl EXIT_REQUEST_STUB.
      const Insn& jl = tb.region().at(o.host_addr + 5);
      ASSERT_EQ(jl.term, Term::Cond);
      EXPECT_EQ(tb.exit_request_stub(), jl.target);

      std::vector<Exit> ex = tb.exits();
      ASSERT_FALSE(ex.empty());
      size_t n_goto_tb = 0;
      for (size_t i = 0; i < ex.size(); ++i) {
        const Exit& e = ex[i];
        SCOPED_TRACE(render(e));
        for (size_t j = 0; j < i; ++j) EXPECT_FALSE(same_exit(e, ex[j])) << "listed twice";
        EXPECT_TRUE(tb.region().contains(e.addr));
        if (e.kind == Exit::Kind::GotoTb) {
          ++n_goto_tb;
          EXPECT_FALSE(l.nochain) << "goto_tb in a nochain run";
          EXPECT_LT(e.slot, 2u);
          EXPECT_TRUE(e.pc.has_value());
          EXPECT_EQ(e.stub_insns, 3u);
          auto s = tb.goto_tb_slots().find(e.slot);
          ASSERT_NE(s, tb.goto_tb_slots().end());
          EXPECT_EQ(s->second, e.addr);
        }
        if (e.kind == Exit::Kind::GotoPtr) {
          EXPECT_EQ(e.helper, pro.addr == kExcerptBuf ? 0x7fd099858c00 : kLookupTbPtr);
        }
        if (e.pc) {  // the exit's own pc reaches exactly it
          const Path* p = tb.path_to(*e.pc);
          ASSERT_NE(p, nullptr);
          EXPECT_TRUE(p->exact);
          EXPECT_EQ(p->exit.pc, e.pc);
          EXPECT_EQ(check_path(tb, pro, *p, e.pc), "");
          expect_exit_check_first(tb, *p);
        }
      }
      EXPECT_EQ(tb.goto_tb_slots().size(), n_goto_tb);
      const Path* end = tb.path_to(std::nullopt);
      ASSERT_NE(end, nullptr);
      EXPECT_EQ(check_path(tb, pro, *end, std::nullopt), "");
      expect_exit_check_first(tb, *end);
      bool has_noreturn =
          std::any_of(ex.begin(), ex.end(), [](const Exit& e) { return e.kind == Exit::Kind::NoReturn; });
      if (has_noreturn) {
        EXPECT_EQ(end->exit.kind, Exit::Kind::NoReturn);
      }
    }
  }
}

TEST(CrossCheck, LinkingLinesMatchGotoTbSlots) {
  // "Linking TBs SRC index N -> DST": SRC's slot N stores DST's guest pc.
  size_t checked = 0;
  for (const LogData* l : {&chained(), &excerpt()}) {
    Prologue pro = l->prologue();
    for (const auto& link : l->links) {
      const OutBlock* src = l->find(link.src_host);
      const OutBlock* dst = l->find(link.dst_host);
      if (!src || !dst) continue;  // excerpt.log lacks some blocks
      SCOPED_TRACE("link " + hex(link.src_host) + " index " + std::to_string(link.slot) + " -> " + hex(link.dst_host));
      TbCode tb(src->host_addr, src->code, kPcDisp, pro);
      ASSERT_EQ(tb.goto_tb_slots().count(link.slot), 1u);
      uint64_t dst_pc = dst->marks.at(0).guest_pc;
      const Path* p = tb.path_to(dst_pc);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(p->exit.kind, Exit::Kind::GotoTb);
      EXPECT_EQ(p->exit.slot, link.slot);
      EXPECT_EQ(p->exit.addr, tb.goto_tb_slots().at(link.slot));
      EXPECT_TRUE(p->exact);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 28u + 5u);
}

TEST(CrossCheck, NochainTraceSuccessors) {
  // Without chaining QEMU logs every TB execution: each TB has a host path to the next one's pc.
  const LogData& n = nochain();
  Prologue pro = n.prologue();
  std::map<uint64_t, std::unique_ptr<TbCode>> tbs;
  for (const OutBlock& o : n.outs) tbs[o.host_addr] = std::make_unique<TbCode>(o.host_addr, o.code, kPcDisp, pro);
  ASSERT_EQ(n.traces.size(), 77u);
  size_t exact = 0, indirect = 0;
  std::map<Exit::Kind, size_t> kinds;
  for (size_t i = 0; i < n.traces.size(); ++i) {
    const auto& t = n.traces[i];
    std::optional<uint64_t> next;
    if (i + 1 < n.traces.size()) next = n.traces[i + 1].pc;
    SCOPED_TRACE("trace " + std::to_string(i) + " (line " + std::to_string(t.line) + ") -> " +
                 (next ? hex(*next) : "end"));
    ASSERT_EQ(tbs.count(t.host), 1u);
    const TbCode& tb = *tbs[t.host];
    EXPECT_EQ(tb.region().base(), t.host);
    const Path* p = tb.path_to(next);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(check_path(tb, pro, *p, next), "");
    expect_exit_check_first(tb, *p);
    EXPECT_NE(p->exit.kind, Exit::Kind::GotoTb);
    ++kinds[p->exit.kind];
    if (!next) {
      EXPECT_EQ(p->exit.kind, Exit::Kind::NoReturn);  // the exit syscall
      continue;
    }
    if (p->exit.pc) {
      EXPECT_TRUE(p->exact);
      ++exact;
    } else {
      EXPECT_EQ(p->exit.kind, Exit::Kind::GotoPtr);  // ret / blr / br
      ++indirect;
    }
  }
  EXPECT_EQ(exact + indirect + 1, n.traces.size());
  EXPECT_EQ(indirect, 20u);
  EXPECT_EQ(kinds[Exit::Kind::ExitTb], 1u);
  EXPECT_EQ(kinds[Exit::Kind::NoReturn], 2u);
}

TEST(CrossCheck, ChainedTbsReachNochainSuccessors) {
  // The nochain run's trace gives every guest block's successors; each chained translation of
  // that block has a path to each of them, with the exit the guest branch implies.
  std::map<uint64_t, std::set<uint64_t>> succ;
  const auto& tr = nochain().traces;
  for (size_t i = 0; i + 1 < tr.size(); ++i) succ[tr[i].pc].insert(tr[i + 1].pc);
  Prologue pro = chained().prologue();
  size_t checked = 0;
  for (const OutBlock& o : chained().outs) {
    uint64_t pc = o.marks.at(0).guest_pc;
    TbCode tb(o.host_addr, o.code, kPcDisp, pro);
    for (uint64_t next : succ[pc]) {
      SCOPED_TRACE("TB " + hex(o.host_addr) + " (pc " + hex(pc) + ") -> " + hex(next));
      const Path* p = tb.path_to(next);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(check_path(tb, pro, *p, next), "");
      if (p->exit.pc) {
        EXPECT_TRUE(p->exact);
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, chained().outs.size());
}

// =============================================================================================
// Robustness: damaged and random code

namespace {

// Everything the library offers on `code`: no crash, no read outside, sane results.
void exercise(uint64_t base, const std::vector<uint8_t>& code, const Prologue& pro, const std::vector<uint64_t>& pcs) {
  Region r(base, std::vector<uint8_t>(code));  // exactly sized: ASan sees any overread
  for (uint64_t a = base; a < base + code.size(); ++a) {
    const Insn& i = r.at(a);
    if (i.term == Term::Invalid) {
      EXPECT_EQ(i.len, 0u);
    } else {
      EXPECT_GE(i.len, 1u);
      EXPECT_LE(a + i.len, r.end());
    }
  }
  (void)find_pc_env_disp(base, code);
  TbCode tb(base, std::vector<uint8_t>(code), kPcDisp, pro);
  if (tb.exit_request_stub()) {
    EXPECT_TRUE(tb.region().contains(tb.exit_request_stub()));
  }
  std::vector<std::optional<uint64_t>> nexts = {std::nullopt};
  for (uint64_t pc : pcs) nexts.push_back(pc);
  for (const Exit& e : tb.exits()) {
    EXPECT_TRUE(tb.region().contains(e.addr));
    if (e.pc) nexts.push_back(*e.pc);
  }
  for (const auto& [slot, addr] : tb.goto_tb_slots()) {
    EXPECT_LT(slot, 2u);
    EXPECT_TRUE(tb.region().contains(addr));
  }
  for (std::optional<uint64_t> next : nexts) {
    const Path* p = tb.path_to(next);
    if (p) {
      EXPECT_EQ(check_path(tb, pro, *p, next), "") << "base " << hex(base) << ", next " << (next ? hex(*next) : "end");
    }
  }
}

}  // namespace

TEST(Robustness, RandomBytes) {
  Prologue pro = chained().prologue();
  bounded("random bytes", std::chrono::seconds(300), [&] {
    std::mt19937_64 rng(20240611);
    for (int i = 0; i < 3000; ++i) {
      std::vector<uint8_t> code(rng() % 400);
      for (uint8_t& b : code) b = static_cast<uint8_t>(rng());
      if (i % 2 && code.size() >= 11) {  // a real TB entry, its jl into the random bytes
        const uint8_t entry[] = {0x8b, 0x5d, 0xf0, 0x85, 0xdb, 0x0f, 0x8c};
        std::copy(std::begin(entry), std::end(entry), code.begin());
        int32_t rel = static_cast<int32_t>(rng() % code.size()) - 11;
        std::memcpy(&code[7], &rel, 4);
      }
      exercise(kBuf + 0x100000 + uint64_t(i) * 0x1000, code, pro, {rng() % 0x500000, 0x4002e0});
    }
  });
}

TEST(Robustness, MutatedRealTbs) {
  // Real TBs with a few bytes changed: TCG-like shapes, broken in random places.
  bounded("mutated TBs", std::chrono::seconds(300), [] {
    std::mt19937_64 rng(99);
    for (const LogData* l : {&chained(), &nochain()}) {
      Prologue pro = l->prologue();
      for (const OutBlock& o : l->outs) {
        for (int k = 0; k < 40; ++k) {
          std::vector<uint8_t> code = o.code;
          for (int m = 1 + int(rng() % 4); m > 0; --m) code[rng() % code.size()] = static_cast<uint8_t>(rng());
          exercise(o.host_addr, code, pro, {o.marks.at(0).guest_pc, rng() % 0x500000});
        }
      }
    }
  });
}

TEST(Robustness, TruncatedRealTbs) {
  // Every prefix of every TB (a block cut off by the end of a log or a damaged jitdump).
  bounded("truncated TBs", std::chrono::seconds(300), [] {
    std::map<uint64_t, std::set<uint64_t>> succ;
    const auto& tr = nochain().traces;
    for (size_t i = 0; i + 1 < tr.size(); ++i) succ[tr[i].pc].insert(tr[i + 1].pc);
    for (const LogData* l : {&chained(), &nochain(), &ldar()}) {
      Prologue pro = l->prologue();
      for (const OutBlock& o : l->outs) {
        const std::set<uint64_t>& s = succ[o.marks.at(0).guest_pc];
        std::vector<uint64_t> pcs(s.begin(), s.end());
        for (size_t n = 0; n < o.code.size(); n += (o.code.size() > 1000 ? 7 : 1)) {
          auto end = o.code.begin() + static_cast<std::ptrdiff_t>(n);
          exercise(o.host_addr, std::vector<uint8_t>(o.code.begin(), end), pro, pcs);
        }
      }
    }
  });
}
