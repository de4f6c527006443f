// jitdump reader: a real file cut from a QEMU 10.0.2 run (tests/data/qemu/excerpt.jitdump, the
// same run as excerpt.log) and hand-built images with every kind of damage.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xtu/capture/jitdump.hpp"
#include "xtu/capture/qemu_log.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/error.hpp"

using namespace xtu::qemu;

namespace {

const std::string kDir = std::string(XTU_TEST_DATA_DIR) + "/qemu/";

// Little writer for jitdump images.
struct Writer {
  std::vector<uint8_t> b;

  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void str(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
  }
  void raw(const std::vector<uint8_t>& v) { b.insert(b.end(), v.begin(), v.end()); }

  void header(uint32_t magic = 0x4A695444, uint32_t version = 1, uint32_t size = 40) {
    u32(magic);
    u32(version);
    u32(size);
    u32(62);    // EM_X86_64
    u32(0);     // pad1
    u32(4242);  // pid
    u64(1000);  // timestamp
    u64(0);     // flags
  }
  // Starts a record; returns its offset. end() patches total_size.
  size_t begin(uint32_t id, uint64_t ts = 7) {
    size_t off = b.size();
    u32(id);
    u32(0);
    u64(ts);
    return off;
  }
  void end(size_t off) { patch32(off + 4, static_cast<uint32_t>(b.size() - off)); }
  void patch32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  void patch64(size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }

  size_t code_load(uint64_t addr, const std::string& name, const std::vector<uint8_t>& code) {
    size_t off = begin(0);
    u32(4242);
    u32(4243);
    u64(addr);
    u64(addr);
    u64(code.size());
    u64(17);
    str(name);
    raw(code);
    end(off);
    return off;
  }
  size_t debug_info(uint64_t addr, const std::vector<std::pair<uint32_t, std::string>>& entries) {
    size_t off = begin(2);
    u64(addr);
    u64(entries.size());
    for (const auto& [line, name] : entries) {
      u64(addr + line);
      u32(line);
      u32(0);
      str(name);
    }
    end(off);
    return off;
  }
};

// Offsets of fields inside a JIT_CODE_LOAD record.
constexpr size_t kLoadCodeSize = 16 + 4 + 4 + 8 + 8;  // after id,size,ts,pid,tid,vma,code_addr
constexpr size_t kDebugNrEntry = 16 + 8;

xtu::FormatError error_of(const std::vector<uint8_t>& image, const std::string& name = "x.dump") {
  try {
    parse_jitdump(image, name);
  } catch (const xtu::FormatError& e) {
    return e;
  }
  ADD_FAILURE() << "no FormatError";
  return xtu::FormatError(name, ~uint64_t{0}, "none");
}

// what() is "NAME:OFFSET: ..." and mentions `word`.
void expect_error(const std::vector<uint8_t>& image, uint64_t offset, const std::string& word) {
  auto e = error_of(image);
  EXPECT_EQ(e.offset(), offset) << e.what();
  std::string prefix = "x.dump:" + std::to_string(offset) + ": ";
  EXPECT_EQ(std::string(e.what()).compare(0, prefix.size(), prefix), 0) << e.what();
  EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
}

// A good image: header, a debug record, a load, then whatever the test appends.
Writer good_prefix(size_t* next_offset = nullptr) {
  Writer w;
  w.header();
  w.debug_info(0x7f0000000100, {{0, ""}});
  w.code_load(0x7f0000000100, "guest-0x400600", {0x8b, 0x5d, 0xf0});
  if (next_offset) *next_offset = w.b.size();
  return w;
}

struct OutCollector : QemuLogVisitor {
  std::vector<OutBlock> outs;
  void on_out(const OutBlock& o) override { outs.push_back(o); }
};

}  // namespace

TEST(Jitdump, RealExcerpt) {
  JitDump d = read_jitdump(kDir + "excerpt.jitdump");
  EXPECT_EQ(d.version, 1u);
  EXPECT_EQ(d.elf_mach, 62u);
  EXPECT_EQ(d.pid, 6967u);
  EXPECT_EQ(d.other_records, 0u);
  ASSERT_EQ(d.loads.size(), 5u);
  ASSERT_EQ(d.debug.size(), 5u);

  const JitCodeLoad& l = d.loads[0];
  EXPECT_EQ(l.file_offset, 89u);  // header 40 + DEBUG_INFO record 49
  EXPECT_EQ(l.pid, 6967u);
  EXPECT_EQ(l.code_addr, 0x7fd08c000100u);
  EXPECT_EQ(l.vma, l.code_addr);
  EXPECT_EQ(l.name, "guest-0x400680");
  EXPECT_EQ(l.code.size(), 167u);
  EXPECT_EQ(guest_pc_from_symbol(l.name), 0x400680u);
  EXPECT_EQ(d.loads[4].name, "guest-0x41bac0");
  EXPECT_EQ(d.loads[4].file_offset, 1599u - 298u);
  // Each TB: a DEBUG_INFO for the same code address with one empty entry, just before the load.
  EXPECT_EQ(d.debug[0].file_offset, 40u);
  EXPECT_EQ(d.debug[0].code_addr, l.code_addr);
  ASSERT_EQ(d.debug[0].entries.size(), 1u);
  EXPECT_EQ(d.debug[0].entries[0].name, "");
  EXPECT_LT(d.debug[0].timestamp, l.timestamp);
}

TEST(Jitdump, CodeBytesEqualTheLoggedOutBlock) {
  JitDump d = read_jitdump(kDir + "excerpt.jitdump");
  OutCollector log;
  parse_qemu_log(kDir + "excerpt.log", log);
  size_t matched = 0;
  for (const JitCodeLoad& l : d.loads) {
    for (const OutBlock& o : log.outs) {
      if (o.host_addr != l.code_addr) continue;
      ++matched;
      // The load stops where the slow paths / constant pool start.
      size_t expect = o.slow_path_addr ? o.slow_path_addr - o.host_addr : o.code.size();
      ASSERT_EQ(l.code.size(), expect) << l.name;
      EXPECT_TRUE(std::equal(l.code.begin(), l.code.end(), o.code.begin())) << l.name;
      EXPECT_EQ(guest_pc_from_symbol(l.name), o.marks.at(0).guest_pc);
    }
  }
  EXPECT_EQ(matched, 5u);
}

TEST(Jitdump, HandBuiltGoodImage) {
  Writer w;
  w.header();
  size_t dbg = w.debug_info(0x7f0000000100, {{3, "a.c"}, {9, "b.c"}});
  size_t load = w.code_load(0x7f0000000100, "guest-0x400600", {1, 2, 3, 4});
  size_t move = w.begin(1);
  for (int i = 0; i < 2; ++i) w.u32(0);
  for (int i = 0; i < 5; ++i) w.u64(0);
  w.end(move);
  w.end(w.begin(3));    // CLOSE
  w.end(w.begin(99));   // unknown id: counted, skipped
  JitDump d = parse_jitdump(w.b, "x.dump");
  EXPECT_EQ(d.other_records, 3u);
  ASSERT_EQ(d.debug.size(), 1u);
  EXPECT_EQ(d.debug[0].file_offset, dbg);
  ASSERT_EQ(d.debug[0].entries.size(), 2u);
  EXPECT_EQ(d.debug[0].entries[1].line, 9u);
  EXPECT_EQ(d.debug[0].entries[1].name, "b.c");
  ASSERT_EQ(d.loads.size(), 1u);
  EXPECT_EQ(d.loads[0].file_offset, load);
  EXPECT_EQ(d.loads[0].tid, 4243u);
  EXPECT_EQ(d.loads[0].code_index, 17u);
  EXPECT_EQ(d.loads[0].code, (std::vector<uint8_t>{1, 2, 3, 4}));
  // A header-only file is a valid, empty dump.
  Writer h;
  h.header();
  EXPECT_TRUE(parse_jitdump(h.b, "h.dump").loads.empty());
}

TEST(JitdumpErrors, BadMagic) {
  Writer w;
  w.header(0x464c457f);  // an ELF file
  expect_error(w.b, 0, "not a jitdump");
}

TEST(JitdumpErrors, ByteSwappedMagic) {
  Writer w;
  w.header(0x4454694A);
  expect_error(w.b, 0, "byte-swapped");
}

TEST(JitdumpErrors, BadVersion) {
  Writer w;
  w.header(0x4A695444, 2);
  expect_error(w.b, 4, "version 2");
}

TEST(JitdumpErrors, HeaderSize) {
  Writer w;
  w.header(0x4A695444, 1, 24);
  expect_error(w.b, 8, "total_size 24");
  Writer v;
  v.header(0x4A695444, 1, 64);  // says 64, file has 40
  expect_error(v.b, 8, "truncated");
}

TEST(JitdumpErrors, TruncatedHeader) {
  Writer w;
  w.header();
  w.b.resize(20);
  expect_error(w.b, 0, "truncated");
  w.b.resize(2);
  expect_error(w.b, 0, "truncated");
  expect_error({}, 0, "truncated");
}

TEST(JitdumpErrors, TruncatedRecordHeader) {
  size_t off;
  Writer w = good_prefix(&off);
  w.begin(0);
  w.b.resize(off + 10);  // killed after 10 bytes of the next record header
  expect_error(w.b, off, "truncated");
}

TEST(JitdumpErrors, RecordSmallerThanItsHeader) {
  size_t off;
  Writer w = good_prefix(&off);
  w.begin(3);
  w.patch32(off + 4, 12);
  w.u32(0);
  expect_error(w.b, off, "total_size 12");
  w.patch32(off + 4, 0);  // would loop forever if accepted
  expect_error(w.b, off, "total_size 0");
}

TEST(JitdumpErrors, RecordPastEndOfFile) {
  size_t off;
  Writer w = good_prefix(&off);
  size_t rec = w.code_load(0x7f0000000200, "guest-0x400700", std::vector<uint8_t>(100, 0x90));
  ASSERT_EQ(rec, off);
  w.b.resize(w.b.size() - 1);  // last byte missing
  expect_error(w.b, off, "truncated");
  w.patch32(off + 4, 0xffffffffu);
  expect_error(w.b, off, "truncated");
}

TEST(JitdumpErrors, CodeSizePastRecord) {
  size_t off;
  Writer w = good_prefix(&off);
  w.code_load(0x7f0000000200, "guest-0x400700", std::vector<uint8_t>(12, 0xcc));
  w.code_load(0x7f0000000300, "guest-0x400800", {});  // a later record follows
  w.patch64(off + kLoadCodeSize, 13);
  expect_error(w.b, off, "code_size 13");
  w.patch64(off + kLoadCodeSize, ~uint64_t{0});
  expect_error(w.b, off, "code_size");
  // Up to 7 bytes of padding after the code are accepted, more are not.
  w.patch64(off + kLoadCodeSize, 5);
  JitDump d = parse_jitdump(w.b, "x.dump");
  ASSERT_EQ(d.loads.size(), 3u);
  EXPECT_EQ(d.loads[1].code.size(), 5u);
  w.patch64(off + kLoadCodeSize, 4);
  expect_error(w.b, off, "unexplained");
}

TEST(JitdumpErrors, AbsurdNrEntry) {
  size_t off;
  Writer w = good_prefix(&off);
  w.debug_info(0x7f0000000200, {{1, "x"}});
  w.patch64(off + kDebugNrEntry, uint64_t{1} << 60);
  expect_error(w.b, off, "nr_entry");
  w.patch64(off + kDebugNrEntry, 2);  // one more than present: runs out of bytes
  expect_error(w.b, off, "nr_entry");
}

TEST(JitdumpErrors, UnterminatedName) {
  size_t off;
  Writer w = good_prefix(&off);
  size_t rec = w.begin(0);
  w.u32(1);
  w.u32(1);
  w.u64(0x7f0000000200);
  w.u64(0x7f0000000200);
  w.u64(0);
  w.u64(0);
  for (char c : std::string("guest-0x400700")) w.b.push_back(static_cast<uint8_t>(c));
  w.end(rec);
  w.code_load(0x7f0000000300, "guest-0x400800", {0});  // a NUL follows, outside the record
  expect_error(w.b, off, "unterminated");
  // Same for a debug entry name.
  Writer v = good_prefix(&off);
  rec = v.begin(2);
  v.u64(0x7f0000000200);
  v.u64(1);
  v.u64(0);
  v.u32(0);
  v.u32(0);
  v.b.push_back('a');
  v.end(rec);
  expect_error(v.b, off, "unterminated");
}

TEST(JitdumpErrors, TruncatedRealFile) {
  auto bytes = xtu::read_file_bytes(kDir + "excerpt.jitdump");
  ASSERT_EQ(bytes.size(), 1599u);
  const uint64_t last = 1599 - 298;  // the last record, a 298-byte JIT_CODE_LOAD
  auto cut = bytes;
  cut.resize(last + 7);
  expect_error(cut, last, "truncated");
  cut = bytes;
  cut.resize(1500);
  expect_error(cut, last, "truncated");
  // The message names the file it was read as.
  try {
    parse_jitdump(cut, "jit-6967.dump");
    ADD_FAILURE();
  } catch (const xtu::FormatError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("jit-6967.dump:1301: ", 0), 0u) << e.what();
  }
}

TEST(Jitdump, GuestPcFromSymbol) {
  EXPECT_EQ(guest_pc_from_symbol("guest-0x4005c0"), 0x4005c0u);
  EXPECT_EQ(guest_pc_from_symbol("guest-0xffffffffffffffff"), ~uint64_t{0});
  EXPECT_EQ(guest_pc_from_symbol("guest-0x1ffffffffffffffff"), std::nullopt);
  EXPECT_EQ(guest_pc_from_symbol("tcg-prologue-buffer"), std::nullopt);
  EXPECT_EQ(guest_pc_from_symbol("guest-0x"), std::nullopt);
  EXPECT_EQ(guest_pc_from_symbol("guest-0x40g"), std::nullopt);
  EXPECT_EQ(guest_pc_from_symbol("guest-0x400 "), std::nullopt);
  EXPECT_EQ(guest_pc_from_symbol("xguest-0x400"), std::nullopt);
}
