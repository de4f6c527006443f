// Streaming parser for QEMU's "-d in_asm,out_asm,exec[,nochain] -D FILE" logs (QEMU 10, user
// mode, AArch64 guest on an x86-64 host). Items are delivered in file order to a visitor.
//
// Host code is taken from the hex bytes printed on each out_asm line, by address: QEMU's own
// disassembly text is ignored because it is not trustworthy (it mis-decodes EVEX-prefixed
// instructions as ".byte 0x62" and then loses instruction boundaries), so an instruction can
// span several lines and one line can hold parts of two instructions. Lines that only continue
// a long instruction's bytes ("0xADDR:  00 00 00") and data lines ("0xADDR:  .quad  0x...")
// contribute bytes the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xtu::qemu {

struct GuestInsn {
  uint64_t pc = 0;
  uint32_t word = 0;  // the instruction word as printed (AArch64: 4 bytes)
  std::string text;   // disassembly as printed, trimmed
};

// "IN: SYMBOL" block (in_asm): the guest instructions of one translation attempt.
struct InBlock {
  uint64_t line = 0;  // line number of the "IN:" line
  std::string symbol;
  std::vector<GuestInsn> insns;
};

// "  -- guest addr 0x... [+ tb prologue]" marker inside an OUT block. QEMU prints one only for
// a guest instruction whose host code is non-empty (the first one always, with "+ tb
// prologue"); an instruction that generated no host code has no marker.
struct HostMark {
  uint64_t guest_pc = 0;
  uint64_t host_addr = 0;  // address of the first host byte after the marker
  bool tb_prologue = false;
};

// "OUT: [size=N]" block (out_asm): one successful translation.
struct OutBlock {
  uint64_t line = 0;        // line number of the "OUT:" line
  uint64_t host_addr = 0;   // address of the first byte
  uint32_t size = 0;        // N from "[size=N]"
  std::vector<uint8_t> code;     // every byte printed, contiguous from host_addr (code, slow
                                 // paths, padding and the constant pool)
  std::vector<HostMark> marks;   // one per guest instruction with host code, in order
  uint64_t slow_path_addr = 0;   // address after "  -- tb slow paths + alignment", 0 if absent
  uint64_t data_addr = 0;        // address of the first byte after "  data: [size=K]", 0 if absent
};

// "PROLOGUE: [size=N]" block: the prologue/epilogue at the start of the code buffer.
struct PrologueBlock {
  uint64_t line = 0;
  uint64_t host_addr = 0;
  uint32_t size = 0;
  std::vector<uint8_t> code;
};

// "Trace CPU: HOST [CS_BASE/PC/FLAGS/CFLAGS] SYMBOL" (exec): one TB execution entered from C or
// found by helper_lookup_tb_ptr.
struct TraceLine {
  uint64_t line = 0;
  unsigned cpu = 0;
  uint64_t host = 0;
  uint64_t cs_base = 0;
  uint64_t pc = 0;
  uint32_t flags = 0;
  uint32_t cflags = 0;
  std::string symbol;  // may be empty
};

// "Linking TBs SRC index N -> DST" (exec).
struct LinkLine {
  uint64_t line = 0;
  uint64_t src_host = 0;
  unsigned slot = 0;
  uint64_t dst_host = 0;
};

// "Stopped execution of TB chain before HOST [PC] SYMBOL" (exec; QEMU 10 prints only the
// 16-digit PC in the brackets, the Trace line's "[CS_BASE/PC/FLAGS/CFLAGS]" is accepted too):
// an exit request interrupted a chain.
struct ChainStopLine {
  uint64_t line = 0;
  uint64_t host = 0;
  uint64_t pc = 0;
};

class QemuLogVisitor {
public:
  virtual ~QemuLogVisitor() = default;
  virtual void on_prologue(const PrologueBlock&) {}
  virtual void on_in(const InBlock&) {}
  virtual void on_out(const OutBlock&) {}
  virtual void on_trace(const TraceLine&) {}
  virtual void on_link(const LinkLine&) {}
  virtual void on_chain_stop(const ChainStopLine&) {}
  // Any other non-empty line (messages QEMU or the guest wrote into the log). Not an error.
  virtual void on_other(uint64_t /*line*/, const std::string& /*text*/) {}
};

// Parse the log file at `path`, streaming (logs reach hundreds of MB). Throws
// xtu::FormatError::at_line("PATH", line, message) on malformed lines inside a block: bad
// hex, a byte line whose address does not continue the previous one, an OUT/PROLOGUE block
// whose byte count differs from its "[size=N]", a block cut off by the end of the file, or a
// Trace/Linking/Stopped line that does not parse. Lines are read with a length limit (1 MiB);
// longer lines are an error, not an unbounded allocation. Blocks end at a blank line. Inside
// an IN block, a line that is not a "0xPC:" instruction line goes to on_other (QEMU's
// disassembler may complain there) unless it is one that only starts something at the top
// level (IN:/OUT:/Trace/...), which means the ending blank line is missing: an error. The
// PROLOGUE/OUT blocks accept nothing but byte lines, markers and the data header.
void parse_qemu_log(const std::string& path, QemuLogVisitor& visitor);

// Longest accepted line, in bytes, without its newline.
constexpr size_t kMaxQemuLogLine = size_t{1} << 20;

// Same, from text in memory (for tests); `name` is used in error messages.
void parse_qemu_log_text(const std::string& text, const std::string& name, QemuLogVisitor& visitor);

}  // namespace xtu::qemu
