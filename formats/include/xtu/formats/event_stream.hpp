// The DBT event stream ("xtev"): everything the unit must know about the translated code that
// QEMU's own files cannot say, each event stamped with the PT trace offset from which it
// applies. Layout, field by field, in docs/formats.md; this header and event_stream.cpp are its
// only implementation.
//
// Ordering rule: events are sorted by trace_offset (ties keep file order). An event with offset
// X applies to every packet that starts at byte X or later: a decoder applies all pending
// events with trace_offset <= X before it processes the packet at X.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

namespace xtu::ev {

inline constexpr char kMagic[8] = {'X', 'T', 'U', 'E', 'V', 'T', '\r', '\n'};
inline constexpr uint16_t kVersionMajor = 1;
inline constexpr uint16_t kVersionMinor = 0;
inline constexpr uint32_t kFileHeaderSize = 32;
inline constexpr uint32_t kRecordHeaderSize = 24;
// Upper bound on one record (a TB's code is a few KiB; QEMU caps a TB at 512 guest insns).
inline constexpr uint32_t kMaxRecordSize = 16u << 20;

enum class Type : uint16_t {
  Process = 1,     // the traced DBT process: CR3/VMCS context and the code buffer (IP filter)
  Code = 2,        // non-TB code in the buffer (the prologue/epilogue)
  TbLoad = 3,      // a translation block was generated
  Link = 4,        // a goto_tb jump was patched to go straight to another TB
  Unlink = 5,      // a goto_tb jump was reset to its original target
  Invalidate = 6,  // a TB is no longer valid (its mapping must not be used)
  Flush = 7,       // tb_flush: every TB is gone; host addresses will be reused
};

struct Process {
  uint64_t cr3 = 0;
  uint64_t vmcs = 0;       // VMCS pointer when the host runs in a VM (non_root), else 0
  uint64_t code_base = 0;  // the code buffer: the IP filter range [code_base, code_base+code_size)
  uint64_t code_size = 0;
  uint32_t pid = 0;
  bool non_root = false;
  std::string name;
};

enum class CodeKind : uint32_t { Prologue = 1, Other = 2 };

struct Code {
  uint64_t host_addr = 0;
  CodeKind kind = CodeKind::Prologue;
  std::vector<uint8_t> bytes;
};

// Host code range of one guest instruction inside a TB (host_size may be 0).
struct InsnMap {
  uint64_t guest_pc = 0;
  uint32_t host_offset = 0;  // from the TB's host_addr
  uint32_t host_size = 0;
};

struct TbLoad {
  uint64_t host_addr = 0;  // first byte of the TB's host code (its entry point)
  uint64_t guest_pc = 0;
  uint64_t cs_base = 0;    // with flags: QEMU's TB identity (pc, cs_base, flags)
  uint32_t flags = 0;
  uint32_t cflags = 0;
  std::vector<InsnMap> insns;  // in guest order; insns[0].guest_pc == guest_pc
  std::vector<uint8_t> code;   // host code as generated (before any link patch)
};

struct Link {
  uint64_t src_tb = 0;    // host address of the TB that holds the jump
  uint64_t jmp_addr = 0;  // address of the 5-byte `jmp rel32` (e9) that is patched
  uint64_t target = 0;    // new jump target: the destination TB's host address
  uint32_t slot = 0;      // goto_tb slot number n
};

struct Unlink {
  uint64_t src_tb = 0;
  uint64_t jmp_addr = 0;
  uint64_t target = 0;    // the restored target (the slot's exit stub)
  uint32_t slot = 0;
};

struct Invalidate {
  uint64_t host_addr = 0;
};

struct Flush {};

using Body = std::variant<Process, Code, TbLoad, Link, Unlink, Invalidate, Flush>;

struct Event {
  uint64_t trace_offset = 0;  // PT byte offset from which the event applies
  uint64_t time = 0;          // TSC at the event
  Body body;
};

Type type_of(const Body& body);
const char* type_name(Type type);

// Streaming writer. Throws std::runtime_error on I/O failure or when offsets go backwards.
class Writer {
public:
  explicit Writer(const std::string& path);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  void write(const Event& event);
  void close();  // patches the record count into the header; called by the destructor too
  uint64_t count() const { return count_; }

private:
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t count_ = 0;
  uint64_t last_offset_ = 0;
};

// Serialize one event record (header + payload + padding), as Writer does.
std::vector<uint8_t> encode(const Event& event);

// Read and validate a whole stream. Throws xtu::FormatError naming the file and the offset of
// the faulty field: bad magic, unsupported major version, truncated header or record, record
// size not a multiple of 8 / below the header / above kMaxRecordSize / past the end, payload
// fields that overrun their record, trace offsets going backwards, or a record count in the
// header that disagrees with the records present. Records of unknown type are skipped (and
// counted in `skipped`, when given).
std::vector<Event> parse(const std::vector<uint8_t>& bytes, const std::string& name,
                         uint64_t* skipped = nullptr);
std::vector<Event> read(const std::string& path, uint64_t* skipped = nullptr);

// One human-readable line per event (used by `xtu events`).
std::string describe(const Event& event);

}  // namespace xtu::ev
