// Replay of QEMU's TB execution rules (user mode, QEMU 10) over the guest block sequence of a
// run: which transitions go straight from TB to TB (linked goto_tb), which go through
// helper_lookup_tb_ptr, which return to C, when C translates, links and flushes.
//
// Inputs: the executed sequence (every TB execution in order: the Trace lines of a nochain
// run), the translations of the traced run in the order QEMU made them (OUT blocks of its
// log, each bound to its TB identity), the prologue, and whether the traced run chains.
// Output: calls on a ReplaySink, in execution order, and the exec-log lines (Trace, Linking)
// that QEMU must have written for the traced run, for validation against its real log.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "xtu/capture/qemu_log.hpp"
#include "xtu/hostcode/tcg_code.hpp"

namespace xtu::capture {

// QEMU's TB identity. cflags are not part of it: a nochain run adds CF_NO_GOTO_TB to every TB.
struct TbId {
  uint64_t pc = 0;
  uint64_t cs_base = 0;
  uint32_t flags = 0;
  bool operator==(const TbId& o) const { return pc == o.pc && cs_base == o.cs_base && flags == o.flags; }
};
struct TbIdHash {
  size_t operator()(const TbId& t) const { return std::hash<uint64_t>()(t.pc * 31 + t.cs_base * 7 + t.flags); }
};

struct Translation {
  TbId id;
  uint32_t cflags = 0;
  uint64_t host_addr = 0;
  std::vector<uint8_t> code;           // every byte QEMU printed (code, slow paths, constant pool)
  std::vector<qemu::HostMark> marks;   // guest instruction boundaries
  uint64_t code_end = 0;               // end of the guest instructions' code: the slow paths or the
                                       // constant pool start there (QEMU's jitdump/perf map stop there too)
  std::vector<qemu::GuestInsn> guest;  // from the matching IN block
  std::string symbol;
  uint64_t log_line = 0;
  std::shared_ptr<hostcode::TbCode> code_model;
};

// What happens at the end of a TB execution.
enum class Transition : uint8_t {
  Linked,      // goto_tb already patched: the jump goes straight into the next TB (no packet)
  ToC,         // goto_tb stub or exit_tb: epilogue, ret to C (TIP.PGD)
  LookupHit,   // goto_ptr: helper call and return, jmp *%rax into the next TB
  LookupMiss,  // goto_ptr: helper returns the epilogue: jmp *%rax into it, ret to C
  NoReturn,    // the helper call does not return (exception, syscall): TIP.PGD
  End,         // the trace ends in this TB (process exit)
};
const char* transition_name(Transition t);

class ReplaySink {
public:
  virtual ~ReplaySink() = default;
  virtual void flush() = 0;                                    // in C
  virtual void translate(const Translation& tb) = 0;           // in C
  virtual void link(const Translation& src, unsigned slot, uint64_t jmp_addr, const Translation& dst) = 0;  // in C
  virtual void enter_from_c(const Translation& tb) = 0;        // prologue, jmp *%rsi into tb
  // One TB execution along `path`, ending with `how`; `next` is the TB run next (nullptr at End).
  virtual void run_tb(const Translation& tb, const hostcode::Path& path, Transition how,
                      const Translation* next) = 0;
};

// An exec-log line QEMU writes: Trace (tb executed, entered from C or found by the lookup
// helper) or Linking.
struct ExecLine {
  enum class Kind : uint8_t { Trace, Link } kind = Kind::Trace;
  uint64_t host = 0;   // Trace: TB host address; Link: source TB
  uint64_t pc = 0;     // Trace
  unsigned slot = 0;   // Link
  uint64_t dst = 0;    // Link
  bool operator==(const ExecLine& o) const {
    return kind == o.kind && host == o.host && (kind == Kind::Trace ? pc == o.pc : (slot == o.slot && dst == o.dst));
  }
};
std::string to_string(const ExecLine& l);

struct ReplayStats {
  uint64_t executions = 0, translations = 0, flushes = 0, links = 0;
  uint64_t linked = 0, to_c = 0, lookup_hit = 0, lookup_miss = 0, noreturn = 0;
  uint64_t unobservable_branches = 0;  // data-dependent host branches decided by the fast-path rule
  std::map<uint64_t, uint64_t> unobservable_by_pc;  // guest pc of the TB -> such branches taken
  uint64_t host_insns = 0;             // host instructions executed inside TBs
};

// One TB execution of the ground-truth sequence (a Trace line of a nochain run).
struct Executed {
  uint64_t pc = 0;
  uint64_t cs_base = 0;
  uint32_t flags = 0;
};

class Replay {
public:
  Replay(const hostcode::Prologue& prologue, std::vector<Translation> translations, bool chained);

  // Throws std::runtime_error with a precise message when the sequence cannot be replayed (a
  // translation missing or out of order, no host path from a TB to the next block).
  void run(const std::vector<Executed>& executed, ReplaySink& sink);

  const std::vector<ExecLine>& predicted_log() const { return predicted_; }
  const ReplayStats& stats() const { return stats_; }
  const std::vector<Translation>& translations() const { return translations_; }

private:
  Translation& find_or_translate(const TbId& id, ReplaySink& sink, bool& flushed, size_t index);

  hostcode::Prologue prologue_;
  std::vector<Translation> translations_;
  bool chained_;
  size_t next_translation_ = 0;
  uint64_t last_host_ = 0;
  std::unordered_map<TbId, size_t, TbIdHash> table_;  // live TBs -> index in translations_
  std::unordered_map<uint64_t, size_t> links_;        // (translation index << 2 | slot) -> dst index
  std::vector<ExecLine> predicted_;
  ReplayStats stats_;
};

// Compare predicted exec-log lines with the real ones: "" if equal, else a message naming the
// first difference (index and both lines).
std::string compare_exec_logs(const std::vector<ExecLine>& predicted, const std::vector<ExecLine>& real);

}  // namespace xtu::capture
