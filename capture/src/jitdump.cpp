// jitdump reader. Every length in the file is checked against the bytes that are actually there
// before anything is read or allocated, and every error names the file and the offset of the
// header field or record at fault.
#include "xtu/capture/jitdump.hpp"

#include <cstring>

#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/error.hpp"

namespace xtu::qemu {
namespace {

constexpr uint32_t kMagic = 0x4A695444;         // "JiTD" read as a little-endian u32
constexpr uint32_t kMagicSwapped = 0x4454694A;  // same, written by a big-endian producer
constexpr uint32_t kVersion = 1;
constexpr uint32_t kHeaderSize = 40;
constexpr uint32_t kRecordHeaderSize = 16;  // u32 id, u32 total_size, u64 timestamp

enum RecordId : uint32_t {
  kCodeLoad = 0,
  kCodeMove = 1,
  kCodeDebugInfo = 2,
  kCodeClose = 3,
  kCodeUnwindingInfo = 4,
};

std::string hex(uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  char buf[19];
  int i = 18;
  buf[i] = 0;
  do {
    buf[--i] = digits[v & 15];
    v >>= 4;
  } while (v);
  buf[--i] = 'x';
  buf[--i] = '0';
  return std::string(buf + i);
}

// Smallest possible debug entry: u64 addr, u32 line, u32 discrim, empty NUL-terminated name.
constexpr uint64_t kMinDebugEntrySize = 8 + 4 + 4 + 1;

JitCodeLoad parse_code_load(ByteReader& body, uint64_t offset, uint64_t timestamp) {
  JitCodeLoad load;
  load.file_offset = offset;
  load.timestamp = timestamp;
  load.pid = body.u32("pid");
  load.tid = body.u32("tid");
  load.vma = body.u64("vma");
  load.code_addr = body.u64("code_addr");
  uint64_t code_size = body.u64("code_size");
  load.code_index = body.u64("code_index");
  load.name = body.cstring(body.remaining(), "name");
  if (code_size > body.remaining())
    body.fail("code_size " + std::to_string(code_size) + " overruns the record: only " +
              std::to_string(body.remaining()) + " bytes are left after the name");
  // QEMU fills the record exactly; allow the few bytes of padding an aligning producer adds.
  if (body.remaining() - code_size >= 8)
    body.fail("code_size " + std::to_string(code_size) + " leaves " +
              std::to_string(body.remaining() - code_size) + " unexplained bytes in the record");
  load.code = body.bytes(static_cast<size_t>(code_size), "code");
  return load;
}

JitDebugInfo parse_debug_info(ByteReader& body, uint64_t offset, uint64_t timestamp) {
  JitDebugInfo info;
  info.file_offset = offset;
  info.timestamp = timestamp;
  info.code_addr = body.u64("code_addr");
  uint64_t nr_entry = body.u64("nr_entry");
  if (nr_entry > body.remaining() / kMinDebugEntrySize)
    body.fail("nr_entry " + std::to_string(nr_entry) + " cannot fit in the " +
              std::to_string(body.remaining()) + " bytes left in the record");
  info.entries.reserve(static_cast<size_t>(nr_entry));
  for (uint64_t i = 0; i < nr_entry; ++i) {
    JitDebugEntry e;
    e.addr = body.u64("debug entry addr");
    e.line = body.u32("debug entry line");
    e.discrim = body.u32("debug entry discrim");
    e.name = body.cstring(body.remaining(), "debug entry name");
    info.entries.push_back(std::move(e));
  }
  // Trailing bytes after the entries are tolerated (the spec allows padding).
  return info;
}

const char* record_kind(uint32_t id) {
  switch (id) {
    case kCodeLoad: return "JIT_CODE_LOAD";
    case kCodeMove: return "JIT_CODE_MOVE";
    case kCodeDebugInfo: return "JIT_CODE_DEBUG_INFO";
    case kCodeClose: return "JIT_CODE_CLOSE";
    case kCodeUnwindingInfo: return "JIT_CODE_UNWINDING_INFO";
    default: return "unknown";
  }
}

}  // namespace

JitDump parse_jitdump(const std::vector<uint8_t>& bytes, const std::string& name) {
  const uint64_t file_size = bytes.size();
  JitDump dump;

  // File header.
  if (file_size < 4)
    throw FormatError(name, 0, "truncated jitdump file header: " + std::to_string(file_size) +
                                   " bytes, need " + std::to_string(kHeaderSize));
  ByteReader r(bytes, name);
  uint32_t magic = r.u32("magic");
  if (magic == kMagicSwapped)
    throw FormatError(name, 0,
                      "jitdump magic is byte-swapped (" + hex(magic) +
                          "): the file was written on a host of the other endianness; "
                          "foreign-endian jitdump files are not supported");
  if (magic != kMagic)
    throw FormatError(name, 0, "not a jitdump file: magic " + hex(magic) + ", expected " +
                                   hex(kMagic) + " (\"JiTD\")");
  if (file_size < kHeaderSize)
    throw FormatError(name, 0, "truncated jitdump file header: " + std::to_string(file_size) +
                                   " bytes, need " + std::to_string(kHeaderSize));
  dump.version = r.u32("version");
  if (dump.version != kVersion)
    throw FormatError(name, 4, "unsupported jitdump version " + std::to_string(dump.version) +
                                   " (only version 1 is supported)");
  uint32_t header_size = r.u32("total_size");
  if (header_size < kHeaderSize)
    throw FormatError(name, 8, "jitdump header total_size " + std::to_string(header_size) +
                                   " is smaller than the " + std::to_string(kHeaderSize) +
                                   "-byte version 1 header");
  if (header_size > file_size)
    throw FormatError(name, 8, "truncated jitdump file header: total_size " +
                                   std::to_string(header_size) + " but the file has " +
                                   std::to_string(file_size) + " bytes");
  dump.elf_mach = r.u32("elf_mach");
  r.u32("pad1");
  dump.pid = r.u32("pid");
  dump.timestamp = r.u64("timestamp");
  dump.flags = r.u64("flags");
  r.seek(header_size);  // a longer header (newer producer) carries fields we do not use

  // Records.
  while (!r.at_end()) {
    const uint64_t offset = r.file_offset();
    const uint64_t left = r.remaining();
    if (left < kRecordHeaderSize)
      throw FormatError(name, offset,
                        "truncated record header: " + std::to_string(left) +
                            " bytes left in the file, a record header needs " +
                            std::to_string(kRecordHeaderSize) +
                            " (was the writer killed while writing?)");
    uint32_t id = r.u32("record id");
    uint32_t total_size = r.u32("record total_size");
    uint64_t timestamp = r.u64("record timestamp");
    const char* kind = record_kind(id);
    if (total_size < kRecordHeaderSize)
      throw FormatError(name, offset,
                        std::string(kind) + " record (id " + std::to_string(id) +
                            ") has total_size " + std::to_string(total_size) +
                            ", smaller than its own 16-byte header");
    if (total_size > left)
      throw FormatError(name, offset,
                        std::string("truncated ") + kind + " record (id " + std::to_string(id) +
                            "): total_size " + std::to_string(total_size) + " but only " +
                            std::to_string(left) + " bytes are left in the file");
    ByteReader body = r.sub(total_size - kRecordHeaderSize, "record body");
    try {
      switch (id) {
        case kCodeLoad:
          dump.loads.push_back(parse_code_load(body, offset, timestamp));
          break;
        case kCodeDebugInfo:
          dump.debug.push_back(parse_debug_info(body, offset, timestamp));
          break;
        default:
          ++dump.other_records;
          break;
      }
    } catch (const FormatError& e) {
      // Re-anchor on the record so the message names the record's offset; keep the field's.
      throw FormatError(name, offset,
                        std::string(kind) + " record: " + e.message() + " (field at offset " +
                            std::to_string(e.offset()) + ")");
    }
  }
  return dump;
}

JitDump read_jitdump(const std::string& path) { return parse_jitdump(read_file_bytes(path), path); }

std::optional<uint64_t> guest_pc_from_symbol(const std::string& name) {
  static const char prefix[] = "guest-0x";
  const size_t plen = sizeof(prefix) - 1;
  if (name.size() <= plen || name.size() > plen + 16 || name.compare(0, plen, prefix) != 0)
    return std::nullopt;
  uint64_t v = 0;
  for (size_t i = plen; i < name.size(); ++i) {
    char c = name[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
    v = (v << 4) | d;
  }
  return v;
}

}  // namespace xtu::qemu
