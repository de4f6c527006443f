// Analysis of the x86-64 host code that QEMU's TCG generates (QEMU 10, user mode), decoded with
// Zydis. It knows the shapes TCG emits, and nothing else about x86:
//
//   TB entry:      movl -0x10(%rbp),%ebx; testl; jl EXIT_REQUEST_STUB    (the exit check)
//   goto_tb n:     [nop padding] jmp rel32 (rel32 4-byte aligned, initially 0 = next insn)
//                  movq $pc, PC_OFF(%rbp); leaq tb|n(%rip),%rax; jmp EPILOGUE
//   goto_ptr:      call helper_lookup_tb_ptr; jmp *%rax
//   exit_tb(0):    jmp EPILOGUE_RET0  (epilogue entry that zeroes %eax)
//   exit request:  leaq tb|3(%rip),%rax; jmp EPILOGUE
//   helper call:   call rel32 | call *disp(%rip); a helper that does not return (exceptions,
//                  svc) is followed directly by the exit-request stub
//   prologue:      pushes; movq %rdi,%rbp; addq $-N,%rsp; jmp *%rsi;  epilogue: ...; ret
//
// A Region is decoded lazily by address and never reads outside its bytes; undecodable bytes
// are reported as Term::Invalid, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace xtu::hostcode {

enum class Term : uint8_t {
  None,          // not a control transfer
  Cond,          // jcc rel: taken -> target, else next
  Jump,          // direct jmp
  Indirect,      // jmp *reg / jmp *mem
  Call,          // direct call
  CallIndirect,  // call *reg / call *mem
  Ret,
  Invalid,       // bytes Zydis cannot decode, or an instruction running past the region
};

struct Insn {
  uint64_t addr = 0;
  uint8_t len = 0;
  Term term = Term::None;
  uint64_t target = 0;          // direct target; CallIndirect through rip-relative memory: the
                                // pointer read from the region (0 if not readable)
  bool indirect_via_rax = false;  // jmp *%rax
  bool stores_imm_to_env = false; // movq $imm, disp(%rbp)
  bool stores_reg_to_env = false; // movq %reg, disp(%rbp)
  int32_t env_disp = 0;
  uint64_t imm = 0;
  bool lea_rip_rax = false;     // leaq X(%rip), %rax  (X in `target`)
};

class Region {
public:
  Region(uint64_t base, std::vector<uint8_t> bytes);
  uint64_t base() const { return base_; }
  uint64_t end() const { return base_ + bytes_.size(); }
  bool contains(uint64_t a) const { return a >= base_ && a < end(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  const Insn& at(uint64_t addr) const;  // decoded once, cached
  bool read_u64(uint64_t addr, uint64_t& out) const;

private:
  uint64_t base_;
  std::vector<uint8_t> bytes_;
  mutable std::unordered_map<uint64_t, Insn> cache_;
};

// The prologue/epilogue block at the start of the code buffer.
struct Prologue {
  uint64_t addr = 0;
  uint64_t size = 0;
  uint64_t dispatch = 0;      // address of `jmp *%rsi` (the TIP into a TB)
  uint32_t entry_insns = 0;   // instructions from addr through the dispatch jump
  uint64_t ret = 0;           // address of the epilogue's `ret`
  uint64_t epilogue_ret0 = 0; // entry used by exit_tb(0) and a goto_ptr miss (zeroes %eax)
  uint64_t epilogue = 0;      // entry used by goto_tb stubs and exit requests
  uint32_t ret0_insns = 0;    // instructions from epilogue_ret0 through ret
  uint32_t epi_insns = 0;     // instructions from epilogue through ret
};
// Throws std::runtime_error if the code does not have the shape described above.
Prologue analyze_prologue(uint64_t addr, const std::vector<uint8_t>& code);

// How a TB execution leaves the TB.
struct Exit {
  enum class Kind : uint8_t {
    GotoTb,       // jmp at `addr` (slot `slot`); unlinked it runs the stub to the epilogue
    GotoPtr,      // call helper at `addr`, then jmp *%rax at `ret`
    ExitTb,       // jmp at `addr` to the epilogue with %eax = 0
    NoReturn,     // call at `addr` to a helper that does not return
  };
  Kind kind = Kind::GotoTb;
  uint64_t addr = 0;
  unsigned slot = 0;
  uint64_t helper = 0;          // GotoPtr / NoReturn: the helper address
  uint64_t ret = 0;             // GotoPtr: address of the `jmp *%rax`
  std::optional<uint64_t> pc;   // the guest pc stored on the way (a constant), if any
  uint32_t stub_insns = 0;      // GotoTb: instructions of the stub (movq, leaq, jmp)
};
const char* exit_kind_name(Exit::Kind k);

// One packet-relevant event on a path through a TB.
struct Step {
  enum class Kind : uint8_t { Cond, Call };
  Kind kind = Kind::Cond;
  bool taken = false;     // Cond
  uint64_t addr = 0;      // the jcc / call instruction
  uint64_t target = 0;    // Call: helper address
  uint64_t ret = 0;       // Call: return address
};

struct Path {
  std::vector<Step> steps;
  Exit exit;
  uint32_t insns = 0;            // host instructions executed in the TB, exit instruction included
  uint32_t calls = 0;            // returning helper calls on the path
  uint32_t unobservable = 0;     // data-dependent branches decided by the fast-path rule
  bool exact = false;            // the exit's stored pc equals the next block's pc
};

// One translated block's code, analysed.
class TbCode {
public:
  // `code` may include slow paths and the constant pool. `pc_env_disp` is the offset of the guest
  // pc in CPUArchState (found by find_pc_env_disp), `prologue` the analysed prologue.
  TbCode(uint64_t host_addr, std::vector<uint8_t> code, int32_t pc_env_disp, const Prologue& prologue);

  uint64_t host_addr() const { return region_.base(); }
  const Region& region() const { return region_; }
  uint64_t exit_request_stub() const { return exit_request_stub_; }

  // Every exit reachable from the entry (the exit-request path excluded), each listed once.
  std::vector<Exit> exits() const;

  // The host path from the entry to an exit consistent with the next guest block `next_pc`
  // (nullopt: the trace ends after this TB). Preference: an exit whose stored pc equals
  // next_pc, else one whose pc is not a constant (indirect); then fewer helper calls (the fast
  // path of data-dependent checks); then the branch not taken. Returns nullptr if no exit fits.
  const Path* path_to(std::optional<uint64_t> next_pc) const;

  // goto_tb slot jump addresses, by slot number.
  const std::map<unsigned, uint64_t>& goto_tb_slots() const { return slots_; }

private:
  struct Search;
  Region region_;
  int32_t pc_disp_;
  Prologue pro_;
  uint64_t exit_request_stub_ = 0;
  uint64_t exit_check_ = 0;
  std::map<unsigned, uint64_t> slots_;
  mutable std::map<std::optional<uint64_t>, std::unique_ptr<Path>> memo_;
  mutable std::map<std::optional<uint64_t>, bool> memo_none_;
};

// One host control transfer, classified by TCG shape: what a walker over the code must do there.
struct Transfer {
  enum class Kind : uint8_t {
    Cond,       // jcc: taken -> target, not taken -> next
    Jump,       // direct jmp inside the region to target
    GotoTb,     // patchable goto_tb jump of slot `slot`; stored_pc from its stub
    GotoPtr,    // call helper_lookup_tb_ptr; jmp *%rax (next = the jmp, the return address)
    Call,       // call of a helper that returns to next
    NoReturn,   // call of a helper that does not return (followed by the exit-request stub)
    ExitTb,     // jmp to the epilogue entry that zeroes %eax (exit_tb(0))
    ExitJump,   // any other jmp out of the region (a stub's jump to the epilogue)
    Indirect,   // jmp *reg/mem not preceded by a call (the prologue's dispatch)
    Ret,        // ret (the epilogue)
    Invalid,    // undecodable, or running off the region
  };
  Kind kind = Kind::Invalid;
  uint64_t addr = 0;      // the transfer instruction (GotoPtr: the call)
  uint64_t target = 0;    // Cond/Jump/ExitTb/ExitJump: destination; Call/GotoPtr/NoReturn: helper
  uint64_t next = 0;      // Cond: fall-through; Call/GotoPtr: return address
  unsigned slot = 0;      // GotoTb
  std::optional<uint64_t> stored_pc;  // GotoTb: the guest pc its stub stores
};
const char* transfer_kind_name(Transfer::Kind k);

// Classify the instruction at `addr` (which must be a control transfer, else Invalid) inside
// `r`. `exit_request_stub` is the TB's exit-request stub (0 if unknown: detected by shape).
Transfer classify_transfer(const Region& r, uint64_t addr, int32_t pc_env_disp, const Prologue& prologue,
                           uint64_t exit_request_stub);

// The pc's offset in CPUArchState, learnt from a goto_tb stub (`movq $pc, D(%rbp)` right after
// the patchable jump) or, in code without goto_tb, from the store before a goto_ptr call.
std::optional<int32_t> find_pc_env_disp(uint64_t host_addr, const std::vector<uint8_t>& code);

}  // namespace xtu::hostcode
