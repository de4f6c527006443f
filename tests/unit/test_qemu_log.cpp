// QEMU -d in_asm,out_asm,exec log parser: a real excerpt (tests/data/qemu/excerpt.log, cut from
// a QEMU 10.0.2 run of tests/data/qemu/fixture.c, see README.md there) and malformed input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include "xtu/capture/qemu_log.hpp"
#include "xtu/formats/error.hpp"

using namespace xtu::qemu;

namespace {

const std::string kExcerpt = std::string(XTU_TEST_DATA_DIR) + "/qemu/excerpt.log";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Recorder : QemuLogVisitor {
  std::vector<PrologueBlock> prologues;
  std::vector<InBlock> ins;
  std::vector<OutBlock> outs;
  std::vector<TraceLine> traces;
  std::vector<LinkLine> links;
  std::vector<ChainStopLine> stops;
  std::vector<std::pair<uint64_t, std::string>> others;
  std::string order;  // one letter per item, in delivery order

  void on_prologue(const PrologueBlock& b) override { prologues.push_back(b); order += 'P'; }
  void on_in(const InBlock& b) override { ins.push_back(b); order += 'I'; }
  void on_out(const OutBlock& b) override { outs.push_back(b); order += 'O'; }
  void on_trace(const TraceLine& t) override { traces.push_back(t); order += 'T'; }
  void on_link(const LinkLine& l) override { links.push_back(l); order += 'L'; }
  void on_chain_stop(const ChainStopLine& s) override { stops.push_back(s); order += 'S'; }
  void on_other(uint64_t line, const std::string& text) override {
    others.emplace_back(line, text);
    order += 'X';
  }

  const OutBlock& out_at(uint64_t host) const {
    for (const auto& o : outs)
      if (o.host_addr == host) return o;
    throw std::runtime_error("no OUT block at the given host address");
  }
};

// Bytes of an OUT block at [addr, addr + n).
std::vector<uint8_t> bytes_at(const OutBlock& o, uint64_t addr, size_t n) {
  EXPECT_GE(addr, o.host_addr);
  EXPECT_LE(addr - o.host_addr + n, o.code.size());
  auto first = o.code.begin() + static_cast<std::ptrdiff_t>(addr - o.host_addr);
  return std::vector<uint8_t>(first, first + static_cast<std::ptrdiff_t>(n));
}

// Parse `text` and return the FormatError it must raise.
xtu::FormatError error_of(const std::string& text, const std::string& name = "t.log") {
  Recorder r;
  try {
    parse_qemu_log_text(text, name, r);
  } catch (const xtu::FormatError& e) {
    return e;
  }
  ADD_FAILURE() << "no FormatError for:\n" << text;
  return xtu::FormatError(name, 0, "none");
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

class TempFile {
public:
  explicit TempFile(const std::string& content) {
    path_ = ::testing::TempDir() + "xtu_qemu_log_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter_++) + ".log";
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

private:
  static inline int counter_ = 0;
  std::string path_;
};

// A well-formed OUT block for the error tests.
const char* const kGoodOut =
    "OUT: [size=9]\n"
    "  -- guest addr 0x0000000000400600 + tb prologue\n"
    "0x7f0000000100:  8b 5d f0                 movl     -0x10(%rbp), %ebx\n"
    "0x7f0000000103:  85 db                    testl    %ebx, %ebx\n"
    "  -- guest addr 0x0000000000400604\n"
    "0x7f0000000105:  48 c7 85 28              movq     garbage\n"
    "\n";

}  // namespace

TEST(QemuLog, RealExcerptStructure) {
  Recorder r;
  parse_qemu_log(kExcerpt, r);
  // 1 prologue, 7 IN/OUT pairs, exec lines and strace lines in file order.
  EXPECT_EQ(r.order, "PIOTIOLTIOLTLTIOLTLTXIOTXTIOTIOLTLTLTSX");
  ASSERT_EQ(r.prologues.size(), 1u);
  ASSERT_EQ(r.ins.size(), 7u);
  ASSERT_EQ(r.outs.size(), 7u);
  EXPECT_EQ(r.traces.size(), 12u);
  EXPECT_EQ(r.links.size(), 8u);
  EXPECT_EQ(r.stops.size(), 1u);
  EXPECT_EQ(r.others.size(), 3u);
  // Every OUT/PROLOGUE block holds exactly its [size=N] bytes.
  for (const auto& o : r.outs) EXPECT_EQ(o.code.size(), o.size) << "OUT at line " << o.line;
}

TEST(QemuLog, Prologue) {
  Recorder r;
  parse_qemu_log(kExcerpt, r);
  const PrologueBlock& p = r.prologues.at(0);
  EXPECT_EQ(p.line, 1u);
  EXPECT_EQ(p.host_addr, 0x7fd08c000000u);
  EXPECT_EQ(p.size, 45u);
  ASSERT_EQ(p.code.size(), 45u);
  EXPECT_EQ(p.code[0], 0x55);  // pushq %rbp
  // 0x7fd08c00000d: 48 81 c4 78 fb ff ff  addq $-0x488, %rsp
  EXPECT_EQ(std::vector<uint8_t>(p.code.begin() + 0xd, p.code.begin() + 0x14),
            (std::vector<uint8_t>{0x48, 0x81, 0xc4, 0x78, 0xfb, 0xff, 0xff}));
  EXPECT_EQ(p.code[44], 0xc3);  // retq
}

TEST(QemuLog, InBlock) {
  Recorder r;
  parse_qemu_log(kExcerpt, r);
  const InBlock& in = r.ins.at(0);
  EXPECT_EQ(in.line, 23u);
  EXPECT_EQ(in.symbol, "_start");
  ASSERT_EQ(in.insns.size(), 12u);
  EXPECT_EQ(in.insns[0].pc, 0x400680u);
  EXPECT_EQ(in.insns[0].word, 0xd503201fu);
  EXPECT_EQ(in.insns[0].text, "nop");
  EXPECT_EQ(in.insns[4].pc, 0x400690u);
  EXPECT_EQ(in.insns[4].word, 0xf94003e1u);
  EXPECT_EQ(in.insns[4].text, "ldr      x1, [sp]");
  EXPECT_EQ(in.insns[11].pc, 0x4006acu);
  EXPECT_EQ(in.insns[11].text, "bl       #0x4008e4");
  EXPECT_EQ(r.ins.at(5).symbol, "rindex");
  EXPECT_EQ(r.ins.at(6).insns.size(), 14u);
}

TEST(QemuLog, OutBlockBytesAndMarks) {
  Recorder r;
  parse_qemu_log(kExcerpt, r);
  const OutBlock& o = r.outs.at(0);
  EXPECT_EQ(o.line, 37u);
  EXPECT_EQ(o.host_addr, 0x7fd08c000100u);
  EXPECT_EQ(o.size, 167u);
  EXPECT_EQ(o.slow_path_addr, 0u);
  EXPECT_EQ(o.data_addr, 0u);
  // An 11-byte movq printed as 8 bytes + a bytes-only continuation line.
  EXPECT_EQ(bytes_at(o, 0x7fd08c00010f, 11),
            (std::vector<uint8_t>{0x48, 0xc7, 0x85, 0x28, 0x01, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(bytes_at(o, 0x7fd08c0001a2, 5), (std::vector<uint8_t>{0xe9, 0x71, 0xfe, 0xff, 0xff}));
  // 12 guest instructions, 11 markers: adrp at 0x40069c produced no host code.
  ASSERT_EQ(o.marks.size(), 11u);
  EXPECT_EQ(o.marks[0].guest_pc, 0x400680u);
  EXPECT_TRUE(o.marks[0].tb_prologue);
  EXPECT_EQ(o.marks[0].host_addr, 0x7fd08c000100u);
  EXPECT_EQ(o.marks[1].guest_pc, 0x400684u);
  EXPECT_FALSE(o.marks[1].tb_prologue);
  EXPECT_EQ(o.marks[1].host_addr, 0x7fd08c00010fu);
  EXPECT_EQ(o.marks[7].guest_pc, 0x4006a0u);
  EXPECT_EQ(o.marks[7].host_addr, 0x7fd08c000156u);
  EXPECT_EQ(o.marks[10].guest_pc, 0x4006acu);
  EXPECT_EQ(o.marks[10].host_addr, 0x7fd08c000172u);
}

TEST(QemuLog, SlowPathsAndConstantPool) {
  Recorder r;
  parse_qemu_log(kExcerpt, r);
  const OutBlock& o = r.out_at(0x7fd08c03e7c0);
  EXPECT_EQ(o.line, 313u);
  EXPECT_EQ(o.size, 240u);
  ASSERT_EQ(o.code.size(), 240u);
  EXPECT_EQ(o.slow_path_addr, 0x7fd08c03e8a3u);
  EXPECT_EQ(o.data_addr, 0x7fd08c03e8a8u);
  EXPECT_EQ(bytes_at(o, 0x7fd08c03e8a3, 5), (std::vector<uint8_t>(5, 0x90)));
  // ".quad  0x3003300330033003" is stored little-endian.
  EXPECT_EQ(bytes_at(o, 0x7fd08c03e8a8, 8),
            (std::vector<uint8_t>{0x03, 0x30, 0x03, 0x30, 0x03, 0x30, 0x03, 0x30}));
  // vpbroadcastq 0x97(%rip) at ...e808 (9 bytes) reads the pool: e808 + 9 + 0x97 = e8a8.
  EXPECT_EQ(bytes_at(o, 0x7fd08c03e808, 9),
            (std::vector<uint8_t>{0xc4, 0xe2, 0x79, 0x59, 0x0d, 0x97, 0, 0, 0}));

  const OutBlock& o2 = r.out_at(0x7fd08c03e9c0);
  EXPECT_EQ(o2.slow_path_addr, 0x7fd08c03eb7fu);
  EXPECT_EQ(o2.data_addr, 0x7fd08c03eb80u);
  EXPECT_EQ(bytes_at(o2, 0x7fd08c03eb80, 8),
            (std::vector<uint8_t>{0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0}));
}

TEST(QemuLog, EvexMisdecodedInstructionKeepsBytes) {
  Recorder r;
  parse_qemu_log(kExcerpt, r);
  const OutBlock& o = r.out_at(0x7fd08c03e9c0);
  EXPECT_EQ(o.size, 456u);
  ASSERT_EQ(o.code.size(), 456u);
  // QEMU prints ".byte 0x62", "cmc", "orb ...", "jg", ".byte", ".byte", "addb" for what really
  // is vpternlogq (62 f3 f5 08 25 c2 ca) followed by vmovdqa %xmm0, 0xef0(%rbp)
  // (c5 f9 7f 85 f0 0e 00 00); the bytes are all there, in order.
  EXPECT_EQ(bytes_at(o, 0x7fd08c03ea8c, 15),
            (std::vector<uint8_t>{0x62, 0xf3, 0xf5, 0x08, 0x25, 0xc2, 0xca, 0xc5, 0xf9, 0x7f, 0x85,
                                  0xf0, 0x0e, 0x00, 0x00}));
  // 14 guest instructions, 13 markers (movz at 0x41bae8 folded into a constant).
  ASSERT_EQ(o.marks.size(), 13u);
  EXPECT_EQ(o.marks[4].guest_pc, 0x41baf0u);
  EXPECT_EQ(o.marks[4].host_addr, 0x7fd08c03ea84u);
  EXPECT_EQ(o.marks[5].guest_pc, 0x41baf4u);
  EXPECT_EQ(o.marks[5].host_addr, 0x7fd08c03ea9bu);
  EXPECT_EQ(o.marks[12].guest_pc, 0x41bb10u);
  EXPECT_EQ(o.marks[12].host_addr, 0x7fd08c03eb31u);
}

TEST(QemuLog, ExecLines) {
  Recorder r;
  parse_qemu_log(kExcerpt, r);
  const TraceLine& t = r.traces.at(0);
  EXPECT_EQ(t.line, 84u);
  EXPECT_EQ(t.cpu, 0u);
  EXPECT_EQ(t.host, 0x7fd08c000100u);
  EXPECT_EQ(t.cs_base, 0x81009331u);
  EXPECT_EQ(t.pc, 0x400680u);
  EXPECT_EQ(t.flags, 1u);
  EXPECT_EQ(t.cflags, 0u);
  EXPECT_EQ(t.symbol, "_start");
  EXPECT_EQ(r.traces.at(1).symbol, "__libc_start_main");
  EXPECT_EQ(r.traces.at(1).pc, 0x4008e4u);

  const LinkLine& l = r.links.at(0);
  EXPECT_EQ(l.line, 202u);
  EXPECT_EQ(l.src_host, 0x7fd08c000100u);
  EXPECT_EQ(l.slot, 0u);
  EXPECT_EQ(l.dst_host, 0x7fd08c0002c0u);
  EXPECT_EQ(r.links.at(1).slot, 1u);

  const ChainStopLine& s = r.stops.at(0);
  EXPECT_EQ(s.line, 506u);
  EXPECT_EQ(s.host, 0x7fd08c049100u);
  EXPECT_EQ(s.pc, 0x4005d0u);

  ASSERT_EQ(r.others.size(), 3u);
  EXPECT_EQ(r.others[0].first, 270u);
  EXPECT_EQ(r.others[0].second, "6967 brk(NULL) = 0x0000000000499000");
  EXPECT_EQ(r.others[2].first, 507u);
  EXPECT_TRUE(starts_with(r.others[2].second, "--- SIGALRM {"));
}

TEST(QemuLog, ExecLineVariants) {
  Recorder r;
  parse_qemu_log_text(
      "Trace 1: 0x7f0000000100 [00000000/0000000000400600/00000001/00000200] \n"
      "Trace 12: 0x7f0000000100 [00000000/0000000000400600/00000001/00000200]\n"
      "Stopped execution of TB chain before 0x7f0000000200 [81009331/0000000000400700/00000001/"
      "00000000] main\n"
      "Stopped execution of TB chain before 0x7f0000000300 [0000000000400800] \n"
      "Tracer says hi\n",
      "v.log", r);
  ASSERT_EQ(r.traces.size(), 2u);
  EXPECT_EQ(r.traces[0].cpu, 1u);
  EXPECT_EQ(r.traces[0].cflags, 0x200u);
  EXPECT_EQ(r.traces[0].symbol, "");
  EXPECT_EQ(r.traces[1].cpu, 12u);
  EXPECT_EQ(r.traces[1].symbol, "");
  ASSERT_EQ(r.stops.size(), 2u);
  EXPECT_EQ(r.stops[0].pc, 0x400700u);
  EXPECT_EQ(r.stops[0].host, 0x7f0000000200u);
  EXPECT_EQ(r.stops[1].pc, 0x400800u);
  ASSERT_EQ(r.others.size(), 1u);
  EXPECT_EQ(r.others[0].first, 5u);
}

TEST(QemuLog, FileReaderAcrossChunkBoundaries) {
  // ~10 MB (several read chunks): copies of the excerpt separated by runs of Trace lines whose
  // every byte matters, so any line damaged at a chunk boundary changes what is parsed.
  const std::string one = slurp(kExcerpt);
  const int kCopies = 40, kTraces = 3000;
  std::string big;
  uint64_t k = 0;
  for (int c = 0; c < kCopies; ++c) {
    big += one;
    for (int i = 0; i < kTraces; ++i, ++k) {
      char line[128];
      std::snprintf(line, sizeof line,
                    "Trace 0: 0x7f%010llx [81009331/%016llx/00000001/00000000] f%llu\n",
                    static_cast<unsigned long long>(k * 64), static_cast<unsigned long long>(k * 4),
                    static_cast<unsigned long long>(k));
      big += line;
    }
  }
  ASSERT_GT(big.size(), 2 * (size_t{4} << 20));
  TempFile f(big);
  Recorder a, b;
  parse_qemu_log(f.path(), a);
  parse_qemu_log_text(big, f.path(), b);
  EXPECT_EQ(a.order, b.order);
  ASSERT_EQ(a.outs.size(), 7u * kCopies);
  ASSERT_EQ(a.traces.size(), (12u + kTraces) * kCopies);
  uint64_t line = 0, n = 0;
  for (int c = 0; c < kCopies; ++c) {
    for (int i = 0; i < 7; ++i)
      ASSERT_EQ(a.outs[c * 7 + i].code, a.outs[i].code) << "copy " << c << " block " << i;
    line += 507;
    for (int i = 0; i < kTraces; ++i, ++n) {
      const TraceLine& t = a.traces[(c + 1) * 12 + c * kTraces + i];
      ASSERT_EQ(t.line, ++line);
      ASSERT_EQ(t.host, 0x7f0000000000u + n * 64);
      ASSERT_EQ(t.cs_base, 0x81009331u);
      ASSERT_EQ(t.pc, n * 4);
      ASSERT_EQ(t.flags, 1u);
      ASSERT_EQ(t.cflags, 0u);
      ASSERT_EQ(t.symbol, "f" + std::to_string(n));
    }
  }
  EXPECT_EQ(a.others.back().first, (kCopies - 1) * (507u + kTraces) + 507);
}

TEST(QemuLog, LastLineWithoutNewline) {
  TempFile f("Trace 0: 0x7f0000000100 [00000000/0000000000400600/00000001/00000000] x");
  Recorder r;
  parse_qemu_log(f.path(), r);
  ASSERT_EQ(r.traces.size(), 1u);
  EXPECT_EQ(r.traces[0].symbol, "x");
}

TEST(QemuLog, OtherLineInsideInBlock) {
  Recorder r;
  parse_qemu_log_text(
      "IN: f\n"
      "0x00400600:  d503201f  nop      \n"
      "Disassembler disagrees with translator over instruction decoding\n"
      "0x00400604:  d65f03c0  ret      \n"
      "\n",
      "d.log", r);
  ASSERT_EQ(r.ins.size(), 1u);
  EXPECT_EQ(r.ins[0].insns.size(), 2u);
  ASSERT_EQ(r.others.size(), 1u);
  EXPECT_EQ(r.others[0].first, 3u);
}

TEST(QemuLog, GoodSyntheticBlock) {
  Recorder r;
  parse_qemu_log_text(kGoodOut, "g.log", r);
  ASSERT_EQ(r.outs.size(), 1u);
  EXPECT_EQ(r.outs[0].code,
            (std::vector<uint8_t>{0x8b, 0x5d, 0xf0, 0x85, 0xdb, 0x48, 0xc7, 0x85, 0x28}));
  ASSERT_EQ(r.outs[0].marks.size(), 2u);
  EXPECT_EQ(r.outs[0].marks[1].host_addr, 0x7f0000000105u);
}

// ---- errors: each names the file and the line -----------------------------------------------

TEST(QemuLogErrors, NonContiguousByteLine) {
  auto e = error_of(
      "\nOUT: [size=9]\n"
      "0x7f0000000100:  8b 5d f0                 movl     -0x10(%rbp), %ebx\n"
      "0x7f0000000104:  85 db                    testl    %ebx, %ebx\n"
      "\n");
  EXPECT_EQ(e.offset(), 4u);
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 4: ")) << e.what();
  EXPECT_NE(std::string(e.what()).find("does not continue"), std::string::npos) << e.what();
}

TEST(QemuLogErrors, SizeMismatch) {
  std::string text = kGoodOut;
  text.replace(text.find("size=9"), 6, "size=10");
  auto e = error_of("Trace 0: 0x7f0000000100 [0/400600/1/0]\n" + text);
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();  // the OUT header
  EXPECT_NE(std::string(e.what()).find("9 bytes"), std::string::npos) << e.what();
  // More bytes than announced is caught at the line that overflows.
  text = kGoodOut;
  text.replace(text.find("size=9"), 6, "size=4");
  e = error_of(text);
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 4: ")) << e.what();
}

TEST(QemuLogErrors, DataSectionSizeMismatch) {
  auto e = error_of(
      "PROLOGUE: [size=10]\n"
      "0x7f0000000000:  55 c3                    pushq    %rbp\n"
      "  data: [size=16]\n"
      "0x7f0000000002:  .quad  0x3003300330033003\n"
      "\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 3: ")) << e.what();
}

TEST(QemuLogErrors, BadBytes) {
  auto e = error_of(
      "OUT: [size=3]\n"
      "0x7f0000000100:  8b 5g f0                 movl     -0x10(%rbp), %ebx\n"
      "\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();
  e = error_of(
      "OUT: [size=3]\n"
      "0x7f0000000100:  8b5df0\n"
      "\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();
  e = error_of(
      "OUT: [size=3]\n"
      "0x7f0000000100: 8b 5d f0\n"  // one space only after the colon
      "\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();
  e = error_of(
      "OUT: [size=8]\n"
      "0x7f0000000100:  .quad  0x30033003300330031\n"  // 17 digits
      "\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();
}

TEST(QemuLogErrors, UnexpectedLineInOutBlock) {
  std::string text = kGoodOut;
  text.insert(text.find("  -- guest addr 0x0000000000400604"), "hello from the guest\n");
  auto e = error_of(text);
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 5: ")) << e.what();
}

TEST(QemuLogErrors, InBlockWithoutBlankLine) {
  auto e = error_of(
      "IN: f\n"
      "0x00400600:  d503201f  nop      \n"
      "OUT: [size=1]\n"
      "0x7f0000000100:  c3  ret\n"
      "\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 3: ")) << e.what();
  e = error_of(
      "IN: f\n"
      "0x00400600:  d503201fx  nop      \n"
      "\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();
}

TEST(QemuLogErrors, BlockCutOffAtEndOfFile) {
  // QEMU killed mid-block: the error names the block's first line.
  std::string text = kGoodOut;
  text.pop_back();  // drop the blank line
  text = "Trace 0: 0x7f0000000100 [0/400600/1/0]\n" + text;
  auto e = error_of(text);
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();
  EXPECT_NE(std::string(e.what()).find("cut off"), std::string::npos) << e.what();
  // Same through the file reader.
  TempFile f(text);
  Recorder r;
  try {
    parse_qemu_log(f.path(), r);
    ADD_FAILURE() << "no error";
  } catch (const xtu::FormatError& fe) {
    EXPECT_TRUE(starts_with(fe.what(), f.path() + ":line 2: ")) << fe.what();
  }
  e = error_of("IN: f\n0x00400600:  d503201f  nop      \n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 1: ")) << e.what();
}

TEST(QemuLogErrors, BadTraceLine) {
  auto e = error_of(
      "hello\n"
      "Trace 0: 0x7f0000000100 [81009331/00000000004zz5c0/00000001/00000000] _start\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 2: ")) << e.what();
  e = error_of("Trace 0: 0x7f0000000100 [81009331/00000000004005c0/00000001]\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 1: ")) << e.what();
  e = error_of("Trace 0: 0x7f0000000100 [81009331/00000000004005c0/00000001/000000000] x\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 1: ")) << e.what();  // cflags > 32 bits
  e = error_of("\n\nLinking TBs 0x7f0000000100 index 0 -> \n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 3: ")) << e.what();
  e = error_of("Stopped execution of TB chain before 0x7f0000000100 [] main\n");
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 1: ")) << e.what();
}

TEST(QemuLogErrors, OverlongLine) {
  std::string ok_line(kMaxQemuLogLine, 'x');
  std::string text = "a\n" + ok_line + "\n" + std::string(kMaxQemuLogLine + 1, 'y') + "\nb\n";
  auto e = error_of(text);
  EXPECT_TRUE(starts_with(e.what(), "t.log:line 3: ")) << std::string(e.what()).substr(0, 200);
  TempFile f(text);
  Recorder r;
  try {
    parse_qemu_log(f.path(), r);
    ADD_FAILURE() << "no error";
  } catch (const xtu::FormatError& fe) {
    EXPECT_TRUE(starts_with(fe.what(), f.path() + ":line 3: ")) << fe.what();
  }
  // The line of exactly the limit was delivered before the error.
  ASSERT_EQ(r.others.size(), 2u);
  EXPECT_EQ(r.others[1].second.size(), kMaxQemuLogLine);
  // An overlong last line without a newline is caught too.
  TempFile g("a\n" + std::string(3 * kMaxQemuLogLine, 'z'));
  try {
    Recorder r2;
    parse_qemu_log(g.path(), r2);
    ADD_FAILURE() << "no error";
  } catch (const xtu::FormatError& fe) {
    EXPECT_TRUE(starts_with(fe.what(), g.path() + ":line 2: ")) << fe.what();
  }
}

TEST(QemuLogErrors, MissingFile) {
  Recorder r;
  EXPECT_THROW(parse_qemu_log("/nonexistent/qemu.log", r), std::runtime_error);
}
