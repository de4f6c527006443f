// perf map reader: a real excerpt (tests/data/qemu/excerpt.map, the same QEMU run as
// excerpt.log) and malformed lines.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "xtu/capture/perfmap.hpp"
#include "xtu/capture/qemu_log.hpp"
#include "xtu/formats/error.hpp"

using namespace xtu::qemu;

namespace {

const std::string kDir = std::string(XTU_TEST_DATA_DIR) + "/qemu/";

xtu::FormatError error_of(const std::string& text) {
  try {
    parse_perfmap(text, "m.map");
  } catch (const xtu::FormatError& e) {
    return e;
  }
  ADD_FAILURE() << "no FormatError for:\n" << text;
  return xtu::FormatError("m.map", 0, "none");
}

void expect_line_error(const std::string& text, uint64_t line, const std::string& word) {
  auto e = error_of(text);
  EXPECT_EQ(e.offset(), line) << e.what();
  std::string prefix = "m.map:line " + std::to_string(line) + ": ";
  EXPECT_EQ(std::string(e.what()).compare(0, prefix.size(), prefix), 0) << e.what();
  EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
}

struct OutCollector : QemuLogVisitor {
  std::vector<OutBlock> outs;
  void on_out(const OutBlock& o) override { outs.push_back(o); }
};

}  // namespace

TEST(PerfMap, RealExcerpt) {
  auto m = read_perfmap(kDir + "excerpt.map");
  ASSERT_EQ(m.size(), 31u);
  EXPECT_EQ(m[0].line, 1u);
  EXPECT_EQ(m[0].start, 0x7fd08c000000u);
  EXPECT_EQ(m[0].size, 0x2du);  // the 45-byte prologue
  EXPECT_EQ(m[0].name, "tcg-prologue-buffer");
  EXPECT_EQ(m[1].start, 0x7fd08c000100u);
  EXPECT_EQ(m[1].size, 0xfu);
  EXPECT_EQ(m[1].name, "guest-0x400680");
  // The adrp with no host code has size 0 and shares its start with the next instruction.
  EXPECT_EQ(m[8].line, 9u);
  EXPECT_EQ(m[8].name, "guest-0x40069c");
  EXPECT_EQ(m[8].size, 0u);
  EXPECT_EQ(m[8].start, m[9].start);
  EXPECT_EQ(m[30].line, 31u);
  EXPECT_EQ(m[30].start, 0x7fd08c0006c0u);
  EXPECT_EQ(m[30].size, 0x3bu);
}

TEST(PerfMap, AgreesWithTheLogsMarkers) {
  // Every guest instruction with host code has a marker in the log at the start its perf map
  // entry gives; the ones without host code have size 0. (A guest pc can be in several TBs:
  // 0x400918 is translated twice in this excerpt.)
  auto m = read_perfmap(kDir + "excerpt.map");
  OutCollector log;
  parse_qemu_log(kDir + "excerpt.log", log);
  std::set<std::pair<uint64_t, uint64_t>> marks;  // (guest pc, host addr), first 4 TBs
  for (size_t i = 0; i < 4; ++i)
    for (const HostMark& k : log.outs.at(i).marks) marks.emplace(k.guest_pc, k.host_addr);
  size_t with_code = 0, without = 0;
  for (size_t i = 1; i < m.size(); ++i) {
    ASSERT_EQ(m[i].name.rfind("guest-0x", 0), 0u) << m[i].name;
    uint64_t pc = std::stoull(m[i].name.substr(8), nullptr, 16);
    bool marked = marks.count({pc, m[i].start}) != 0;
    if (m[i].size == 0) {
      EXPECT_FALSE(marked) << m[i].name;
      ++without;
    } else {
      EXPECT_TRUE(marked) << m[i].name;
      ++with_code;
    }
  }
  EXPECT_EQ(with_code, marks.size());
  EXPECT_EQ(without, 1u);  // guest-0x40069c
}

TEST(PerfMap, NamesAndBlankLines) {
  auto m = parse_perfmap("\n7f00 10 name with spaces\r\n  \n\t7F10\t0  x\n", "m.map");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].line, 2u);
  EXPECT_EQ(m[0].start, 0x7f00u);
  EXPECT_EQ(m[0].size, 0x10u);
  EXPECT_EQ(m[0].name, "name with spaces");
  EXPECT_EQ(m[1].line, 4u);
  EXPECT_EQ(m[1].start, 0x7f10u);
  EXPECT_EQ(m[1].size, 0u);
  EXPECT_EQ(m[1].name, "x");
  EXPECT_TRUE(parse_perfmap("", "m.map").empty());
}

TEST(PerfMapErrors, MalformedLines) {
  const std::string good = "7f00 10 a\n\n";  // lines 1-2; the bad line is line 3
  expect_line_error(good + "7f4aec000100\n", 3, "missing size");
  expect_line_error(good + "7f4aec000100 guest-0x4005c0\n", 3, "size");
  expect_line_error(good + "7f4aec000100 f\n", 3, "missing symbol name");
  expect_line_error(good + "7f4aez000100 f guest-0x4005c0\n", 3, "not a hex number");
  expect_line_error(good + "0x7f4aec000100 f guest-0x4005c0\n", 3, "not a hex number");
  expect_line_error(good + "7f4aec000100 -f guest-0x4005c0\n", 3, "not a hex number");
  expect_line_error(good + "17f4aec0001000000 f guest-0x4005c0\n", 3, "64 bits");
  expect_line_error(good + "7f4aec000100 10000000000000000 x\n", 3, "64 bits");
  expect_line_error(good + "fffffffffffffff0 10 x\n", 3, "overflow");
  // The last line without a newline still counts.
  expect_line_error(good + "zz 1 x", 3, "not a hex number");
}

TEST(PerfMapErrors, MissingFile) {
  EXPECT_THROW(read_perfmap("/nonexistent/perf-1.map"), std::runtime_error);
}
