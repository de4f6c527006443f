// Guest trace text v1: what tools compare.
//
//   # xtu guest trace v1          first line, exactly
//   0x4005c0                      one executed guest block (or instruction, with --insn): lower-case hex
//   gap                           trace data was lost here (OVF, decode error, resync)
//   # anything                    comment
//
// Consecutive gaps are one gap: writers never emit two in a row.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace xtu {

inline constexpr const char* kGuestTraceHeader = "# xtu guest trace v1";

struct GuestRecord {
  enum class Kind : uint8_t { Block, Gap };
  Kind kind = Kind::Block;
  uint64_t pc = 0;  // Block only
  bool operator==(const GuestRecord& o) const { return kind == o.kind && (kind == Kind::Gap || pc == o.pc); }
  bool operator!=(const GuestRecord& o) const { return !(*this == o); }
  static GuestRecord block(uint64_t pc) { return {Kind::Block, pc}; }
  static GuestRecord gap() { return {Kind::Gap, 0}; }
};

std::string to_text(const GuestRecord& r);  // "0x4005c0" or "gap"

// Buffered writer to a FILE* (stdout or a file it does not own).
class GuestTraceWriter {
public:
  explicit GuestTraceWriter(std::FILE* out);
  void block(uint64_t pc);
  void gap();  // merged with a preceding gap
  void record(const GuestRecord& r) { r.kind == GuestRecord::Kind::Gap ? gap() : block(r.pc); }
  void comment(const std::string& text);
  void flush();
  uint64_t blocks() const { return blocks_; }
  uint64_t gaps() const { return gaps_; }

private:
  std::FILE* out_;
  bool last_gap_ = false;
  uint64_t blocks_ = 0, gaps_ = 0;
};

// Parse v1 text. Throws FormatError::at_line on a missing/wrong header or a malformed line.
std::vector<GuestRecord> parse_guest_trace(const std::string& text, const std::string& name);
std::vector<GuestRecord> read_guest_trace(const std::string& path);

struct TraceDiff {
  bool equal = true;
  size_t index = 0;  // first differing record
  std::string message;
};
// Compare two traces record by record; the message names the first difference with context.
TraceDiff compare_guest_traces(const std::vector<GuestRecord>& expected, const std::vector<GuestRecord>& actual);

}  // namespace xtu
