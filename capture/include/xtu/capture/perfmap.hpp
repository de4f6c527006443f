// Reader for perf map files as QEMU writes them with -perfmap (/tmp/perf-<pid>.map): one text
// line "START SIZE NAME" per symbol, START and SIZE in hex without 0x. QEMU writes one line for
// the prologue ("tcg-prologue-buffer") and one per guest instruction of each translation
// ("guest-0x<pc>"); a guest instruction whose host code is empty has SIZE 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xtu::qemu {

struct PerfMapEntry {
  uint64_t line = 0;  // 1-based line number in the file
  uint64_t start = 0;
  uint64_t size = 0;
  std::string name;
};

// Throws xtu::FormatError::at_line on malformed lines (missing fields, bad hex, start+size
// overflow). Blank lines are skipped.
std::vector<PerfMapEntry> parse_perfmap(const std::string& text, const std::string& name);
std::vector<PerfMapEntry> read_perfmap(const std::string& path);

}  // namespace xtu::qemu
