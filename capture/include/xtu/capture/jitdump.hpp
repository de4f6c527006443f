// Reader for Linux perf's jitdump format as QEMU writes it with -jitdump (jit-<pid>.dump).
// Spec: tools/perf/Documentation/jitdump-specification.txt in the Linux tree. QEMU writes one
// JIT_CODE_DEBUG_INFO then one JIT_CODE_LOAD record per successful translation, in translation
// order; the code bytes are captured before any chaining patch and stop at the end of the last
// guest instruction's host code (no constant pool).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xtu::qemu {

struct JitCodeLoad {
  uint64_t file_offset = 0;  // offset of the record header in the file
  uint64_t timestamp = 0;
  uint32_t pid = 0, tid = 0;
  uint64_t vma = 0, code_addr = 0, code_index = 0;
  std::string name;           // "guest-0x<pc>" for a TB
  std::vector<uint8_t> code;  // code_size bytes
};

struct JitDebugEntry {
  uint64_t addr = 0;
  uint32_t line = 0, discrim = 0;
  std::string name;
};

struct JitDebugInfo {
  uint64_t file_offset = 0;
  uint64_t timestamp = 0;
  uint64_t code_addr = 0;
  std::vector<JitDebugEntry> entries;
};

struct JitDump {
  uint32_t version = 0, elf_mach = 0, pid = 0;
  uint64_t timestamp = 0, flags = 0;
  std::vector<JitCodeLoad> loads;   // in file order
  std::vector<JitDebugInfo> debug;  // in file order
  uint64_t other_records = 0;       // JIT_CODE_MOVE / CLOSE / UNWINDING_INFO / unknown ids, counted
};

// Parse a whole jitdump image. `name` is used in error messages. Throws xtu::FormatError
// ("NAME:OFFSET: message") on bad magic, byte-swapped (foreign-endian) files, unsupported
// version, truncated header or record, record sizes that are too small or larger than the rest
// of the file, code_size/nr_entry values that do not fit in their record, and unterminated
// strings. Never reads outside `bytes`. OFFSET is that of the header field at fault (magic 0,
// version 4, total_size 8) or of the record's header for anything inside a record (the field's
// own offset is then in the message). Records are not aligned (QEMU packs them; the spec
// requires no alignment); a JIT_CODE_LOAD may carry up to 7 bytes of padding after its code.
JitDump parse_jitdump(const std::vector<uint8_t>& bytes, const std::string& name);
JitDump read_jitdump(const std::string& path);

// "guest-0x4005c0" -> 0x4005c0; anything else -> nullopt.
std::optional<uint64_t> guest_pc_from_symbol(const std::string& name);

}  // namespace xtu::qemu
