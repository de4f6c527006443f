#include "xtu/hostcode/tcg_code.hpp"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>

namespace xtu::hostcode {
namespace {

const ZydisDecoder& decoder() {
  static ZydisDecoder d = [] {
    ZydisDecoder dec;
    if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
      throw std::runtime_error("ZydisDecoderInit failed");
    return dec;
  }();
  return d;
}

bool is_mem_rbp(const ZydisDecodedOperand& op) {
  return op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_RBP &&
         op.mem.index == ZYDIS_REGISTER_NONE;
}

// The exit-request stub at `a`: leaq X(%rip),%rax with X&3 == 3, then a jmp out of the region.
bool is_exit_request_stub(const Region& r, uint64_t a) {
  if (!r.contains(a)) return false;
  const Insn& lea = r.at(a);
  if (!lea.lea_rip_rax || (lea.target & 3) != 3) return false;
  const Insn& j = r.at(a + lea.len);
  return j.term == Term::Jump && !r.contains(j.target);
}

}  // namespace

Region::Region(uint64_t base, std::vector<uint8_t> bytes) : base_(base), bytes_(std::move(bytes)) {}

bool Region::read_u64(uint64_t addr, uint64_t& out) const {
  if (addr < base_ || addr + 8 > end() || addr + 8 < addr) return false;
  std::memcpy(&out, bytes_.data() + (addr - base_), 8);
  return true;
}

const Insn& Region::at(uint64_t addr) const {
  auto it = cache_.find(addr);
  if (it != cache_.end()) return it->second;
  Insn in;
  in.addr = addr;
  in.term = Term::Invalid;
  if (contains(addr)) {
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    size_t off = addr - base_;
    if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder(), bytes_.data() + off, bytes_.size() - off, &zi, ops))) {
      in.len = zi.length;
      in.term = Term::None;
      const ZydisDecodedOperand& op0 = ops[0];
      auto abs_target = [&](const ZydisDecodedOperand& op) {
        ZyanU64 t = 0;
        if (ZYAN_FAILED(ZydisCalcAbsoluteAddress(&zi, &op, addr, &t))) return uint64_t(0);
        return uint64_t(t);
      };
      switch (zi.meta.category) {
        case ZYDIS_CATEGORY_COND_BR:
          in.term = Term::Cond;
          in.target = abs_target(op0);
          break;
        case ZYDIS_CATEGORY_UNCOND_BR:
          if (op0.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            in.term = Term::Jump;
            in.target = abs_target(op0);
          } else {
            in.term = Term::Indirect;
            in.indirect_via_rax = op0.type == ZYDIS_OPERAND_TYPE_REGISTER && op0.reg.value == ZYDIS_REGISTER_RAX;
          }
          break;
        case ZYDIS_CATEGORY_CALL:
          if (op0.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            in.term = Term::Call;
            in.target = abs_target(op0);
          } else {
            in.term = Term::CallIndirect;
            if (op0.type == ZYDIS_OPERAND_TYPE_MEMORY && op0.mem.base == ZYDIS_REGISTER_RIP) {
              uint64_t slot = abs_target(op0), ptr = 0;
              if (read_u64(slot, ptr)) in.target = ptr;
            }
          }
          break;
        case ZYDIS_CATEGORY_RET:
          in.term = Term::Ret;
          break;
        default:
          if (zi.mnemonic == ZYDIS_MNEMONIC_MOV && zi.operand_width == 64 && is_mem_rbp(op0)) {
            in.env_disp = static_cast<int32_t>(op0.mem.disp.value);
            if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
              in.stores_imm_to_env = true;
              in.imm = ops[1].imm.is_signed ? uint64_t(ops[1].imm.value.s) : ops[1].imm.value.u;
            } else if (ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
              in.stores_reg_to_env = true;
            }
          } else if (zi.mnemonic == ZYDIS_MNEMONIC_LEA && op0.type == ZYDIS_OPERAND_TYPE_REGISTER &&
                     op0.reg.value == ZYDIS_REGISTER_RAX && ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY &&
                     ops[1].mem.base == ZYDIS_REGISTER_RIP) {
            in.lea_rip_rax = true;
            in.target = abs_target(ops[1]);
          }
          break;
      }
    }
  }
  return cache_.emplace(addr, in).first->second;
}

Prologue analyze_prologue(uint64_t addr, const std::vector<uint8_t>& code) {
  Region r(addr, code);
  Prologue p;
  p.addr = addr;
  p.size = code.size();
  auto fail = [&](const std::string& m) -> Prologue { throw std::runtime_error("prologue at 0x" + std::to_string(addr) + ": " + m); };
  uint64_t a = addr;
  uint32_t n = 0;
  while (true) {
    const Insn& i = r.at(a);
    ++n;
    if (i.term == Term::Indirect) { p.dispatch = a; p.entry_insns = n; a += i.len; break; }
    if (i.term != Term::None) return fail("unexpected control transfer before the dispatch jump");
    a += i.len;
  }
  p.epilogue_ret0 = a;
  n = 0;
  while (true) {
    const Insn& i = r.at(a);
    ++n;
    if (n == 2) p.epilogue = a;
    if (i.term == Term::Ret) {
      if (n < 2) return fail("no epilogue entry after the one that zeroes %eax");
      p.ret = a; p.ret0_insns = n; p.epi_insns = n - 1; break;
    }
    if (i.term != Term::None) return fail("unexpected control transfer in the epilogue");
    a += i.len;
  }
  return p;
}

const char* exit_kind_name(Exit::Kind k) {
  switch (k) {
    case Exit::Kind::GotoTb: return "goto_tb";
    case Exit::Kind::GotoPtr: return "goto_ptr";
    case Exit::Kind::ExitTb: return "exit_tb";
    case Exit::Kind::NoReturn: return "noreturn";
  }
  return "?";
}

std::optional<int32_t> find_pc_env_disp(uint64_t host_addr, const std::vector<uint8_t>& code) {
  Region r(host_addr, code);
  std::optional<int32_t> before_ptr;
  // Linear sweep is enough here: TCG code has no data before the constant pool, and a wrong
  // guess only makes this return nothing.
  uint64_t a = host_addr, prev_store = 0;
  int32_t prev_disp = 0;
  while (r.contains(a)) {
    const Insn& i = r.at(a);
    if (i.term == Term::Invalid || i.len == 0) break;
    if (i.term == Term::Jump && i.len == 5 && i.target == a + 5 && ((a + 1) & 3) == 0) {
      const Insn& st = r.at(a + 5);
      if (st.stores_imm_to_env) return st.env_disp;
    }
    if (i.stores_imm_to_env || i.stores_reg_to_env) { prev_store = a; prev_disp = i.env_disp; }
    if (i.term == Term::Call && r.at(a + i.len).indirect_via_rax && prev_store && !before_ptr) before_ptr = prev_disp;
    a += i.len;
  }
  return before_ptr;
}

// ---------------------------------------------------------------------------------------------
// TbCode

TbCode::TbCode(uint64_t host_addr, std::vector<uint8_t> code, int32_t pc_env_disp, const Prologue& prologue)
    : region_(host_addr, std::move(code)), pc_disp_(pc_env_disp), pro_(prologue) {
  // The exit check: the first conditional branch near the entry, into the exit-request stub.
  uint64_t a = host_addr;
  for (int k = 0; k < 6 && region_.contains(a); ++k) {
    const Insn& i = region_.at(a);
    if (i.term == Term::Cond) {
      if (is_exit_request_stub(region_, i.target)) { exit_check_ = a; exit_request_stub_ = i.target; }
      break;
    }
    if (i.term != Term::None) break;
    a += i.len;
  }
  for (const Exit& e : exits())
    if (e.kind == Exit::Kind::GotoTb) slots_[e.slot] = e.addr;
}

namespace {

// The pc state along a path: no store seen, a constant, or a register value.
struct PcState {
  enum : uint8_t { None, Const, Reg } kind = None;
  uint64_t value = 0;
  bool operator<(const PcState& o) const { return kind != o.kind ? kind < o.kind : value < o.value; }
};

}  // namespace

struct TbCode::Search {
  const TbCode& tb;
  std::optional<uint64_t> next;  // unused when enumerating exits
  bool enumerate = false;
  std::vector<Exit>* all = nullptr;
  std::map<std::pair<uint64_t, PcState>, std::optional<Path>> memo;
  std::set<std::pair<uint64_t, PcState>> seen;  // enumerating: states already walked
  unsigned depth = 0;

  // Does exit `e` fit the next block? 2 = exactly, 1 = not contradicted, 0 = contradicted.
  int fit(const Exit& e) const {
    if (!next) return e.kind == Exit::Kind::NoReturn ? 2 : 1;
    if (!e.pc) return 1;
    return *e.pc == *next ? 2 : 0;
  }

  static bool better(const Path& a, const Path& b) {  // is a strictly better than b?
    if (a.exact != b.exact) return a.exact;
    return a.calls < b.calls;
  }

  std::optional<Path> finish(Exit e, uint32_t n) {
    if (enumerate) {
      bool listed = std::any_of(all->begin(), all->end(), [&](const Exit& x) {
        return x.kind == e.kind && x.addr == e.addr && x.slot == e.slot && x.pc == e.pc;
      });
      if (!listed) all->push_back(e);
      return std::nullopt;
    }
    int f = fit(e);
    if (f == 0) return std::nullopt;
    Path p;
    p.exit = e;
    p.insns = n;
    p.exact = f == 2;
    return p;
  }

  std::optional<Path> walk(uint64_t a, PcState pc) {
    auto key = std::make_pair(a, pc);
    if (!enumerate) {
      auto it = memo.find(key);
      if (it != memo.end()) return it->second;  // done, or in progress (a loop): no path
      memo.emplace(key, std::nullopt);
    }
    std::optional<Path> r = walk_uncached(a, pc);
    if (!enumerate) memo[key] = r;
    return r;
  }

  std::optional<Path> walk_uncached(uint64_t a, PcState pc) {
    // Each conditional branch nests one level, and data-dependent checks follow one another
    // (a TB of 100 ldar has 99 of them in a row); the bound only protects the stack.
    if (++depth > 1024) { --depth; return std::nullopt; }
    std::vector<Step> steps;
    uint32_t n = 0, calls = 0;
    auto with_prefix = [&](std::optional<Path> tail) -> std::optional<Path> {
      if (!tail) return tail;
      tail->steps.insert(tail->steps.begin(), steps.begin(), steps.end());
      tail->insns += n;
      tail->calls += calls;
      return tail;
    };
    std::optional<Path> result;
    for (uint32_t guard = 0; guard < 100000; ++guard) {
      const Region& r = tb.region_;
      if (!r.contains(a)) break;
      // Enumerating, a state walked before has had its exits listed: rejoining paths (checks
      // around a helper call) are walked once, not once per path.
      if (enumerate && !seen.emplace(a, pc).second) break;
      const Insn& i = r.at(a);
      if (i.term == Term::Invalid) break;
      ++n;
      if (i.stores_imm_to_env && i.env_disp == tb.pc_disp_) pc = {PcState::Const, i.imm};
      else if (i.stores_reg_to_env && i.env_disp == tb.pc_disp_) pc = {PcState::Reg, 0};
      if (i.term == Term::None) { a += i.len; continue; }
      Transfer t = classify_transfer(r, a, tb.pc_disp_, tb.pro_, tb.exit_request_stub_);
      if (t.kind == Transfer::Kind::Cond) {
        if (a == tb.exit_check_) {  // the exit request is never pending in the modelled runs
          steps.push_back({Step::Kind::Cond, false, a, 0, 0});
          a = t.next;
          continue;
        }
        std::optional<Path> nt = walk(t.next, pc);
        std::optional<Path> tk = walk(t.target, pc);
        if (enumerate) break;
        Step s{Step::Kind::Cond, false, a, 0, 0};
        if (nt && tk) {
          bool take = better(*tk, *nt);
          Path chosen = take ? *tk : *nt;
          // Both directions fit: a data-dependent branch the logs cannot see (alignment or
          // atomicity check, b.cond to the next pc), unless the exits differ in exactness.
          if (tk->exact == nt->exact) ++chosen.unobservable;
          s.taken = take;
          chosen.steps.insert(chosen.steps.begin(), s);
          result = with_prefix(chosen);
        } else if (nt || tk) {
          s.taken = bool(tk);
          Path chosen = tk ? *tk : *nt;
          chosen.steps.insert(chosen.steps.begin(), s);
          result = with_prefix(chosen);
        }
        break;
      }
      if (t.kind == Transfer::Kind::Jump) { a = t.target; continue; }
      if (t.kind == Transfer::Kind::Call) {
        steps.push_back({Step::Kind::Call, false, a, t.target, t.next});
        ++calls;
        a = t.next;
        continue;
      }
      Exit e;
      e.addr = a;
      std::optional<uint64_t> stored = pc.kind == PcState::Const ? std::optional<uint64_t>(pc.value) : std::nullopt;
      switch (t.kind) {
        case Transfer::Kind::GotoTb:
          e.kind = Exit::Kind::GotoTb;
          e.slot = t.slot;
          e.pc = t.stored_pc;
          e.stub_insns = 3;
          break;
        case Transfer::Kind::ExitTb:
          e.kind = Exit::Kind::ExitTb;
          e.pc = stored;
          break;
        case Transfer::Kind::GotoPtr:
          e.kind = Exit::Kind::GotoPtr;
          e.helper = t.target;
          e.ret = t.next;
          e.pc = stored;
          ++n;  // the jmp *%rax
          break;
        case Transfer::Kind::NoReturn:
          e.kind = Exit::Kind::NoReturn;
          e.helper = t.target;
          e.pc = stored;
          break;
        default:
          // Any other jump out (exit request, stub reached sideways), an indirect jump without a
          // helper call, a ret: not a TB exit; no path.
          --depth;
          return result;
      }
      result = with_prefix(finish(e, 0));
      break;
    }
    --depth;
    return result;
  }
};

std::vector<Exit> TbCode::exits() const {
  std::vector<Exit> all;
  Search s{*this, std::nullopt, true, &all, {}, {}, 0};
  s.walk(region_.base(), PcState{});
  return all;
}

const Path* TbCode::path_to(std::optional<uint64_t> next_pc) const {
  auto it = memo_.find(next_pc);
  if (it != memo_.end()) return it->second.get();
  if (memo_none_.count(next_pc)) return nullptr;
  Search s{*this, next_pc, false, nullptr, {}, {}, 0};
  std::optional<Path> p = s.walk(region_.base(), PcState{});
  if (!p) {
    memo_none_[next_pc] = true;
    return nullptr;
  }
  return (memo_[next_pc] = std::make_unique<Path>(std::move(*p))).get();
}

// ---------------------------------------------------------------------------------------------
// Transfer classification

const char* transfer_kind_name(Transfer::Kind k) {
  switch (k) {
    case Transfer::Kind::Cond: return "cond";
    case Transfer::Kind::Jump: return "jump";
    case Transfer::Kind::GotoTb: return "goto_tb";
    case Transfer::Kind::GotoPtr: return "goto_ptr";
    case Transfer::Kind::Call: return "call";
    case Transfer::Kind::NoReturn: return "noreturn";
    case Transfer::Kind::ExitTb: return "exit_tb";
    case Transfer::Kind::ExitJump: return "exit_jump";
    case Transfer::Kind::Indirect: return "indirect";
    case Transfer::Kind::Ret: return "ret";
    case Transfer::Kind::Invalid: return "invalid";
  }
  return "?";
}

Transfer classify_transfer(const Region& r, uint64_t addr, int32_t pc_disp, const Prologue& pro,
                           uint64_t exit_request_stub) {
  Transfer t;
  t.addr = addr;
  const Insn& i = r.at(addr);
  uint64_t next = addr + i.len;
  switch (i.term) {
    case Term::Cond:
      t.kind = Transfer::Kind::Cond;
      t.target = i.target;
      t.next = next;
      return t;
    case Term::Jump: {
      t.target = i.target;
      if (i.len == 5 && i.target == next && ((addr + 1) & 3) == 0) {
        const Insn& st = r.at(next);
        if (st.stores_imm_to_env && st.env_disp == pc_disp) {
          const Insn& lea = r.at(next + st.len);
          const Insn& jmp = r.at(next + st.len + lea.len);
          if (lea.lea_rip_rax && (lea.target & 3) < 2 && jmp.term == Term::Jump && !r.contains(jmp.target)) {
            t.kind = Transfer::Kind::GotoTb;
            t.slot = unsigned(lea.target & 3);
            t.stored_pc = st.imm;
            return t;
          }
        }
      }
      if (r.contains(i.target)) t.kind = Transfer::Kind::Jump;
      else if (i.target == pro.epilogue_ret0) t.kind = Transfer::Kind::ExitTb;
      else t.kind = Transfer::Kind::ExitJump;
      return t;
    }
    case Term::Call:
    case Term::CallIndirect: {
      t.target = i.target;
      t.next = next;
      const Insn& after = r.at(next);
      if (after.term == Term::Indirect && after.indirect_via_rax) t.kind = Transfer::Kind::GotoPtr;
      else if (next == exit_request_stub || is_exit_request_stub(r, next)) t.kind = Transfer::Kind::NoReturn;
      else t.kind = Transfer::Kind::Call;
      return t;
    }
    case Term::Indirect:
      t.kind = Transfer::Kind::Indirect;
      return t;
    case Term::Ret:
      t.kind = Transfer::Kind::Ret;
      return t;
    default:
      return t;
  }
}

}  // namespace xtu::hostcode
