// Guest trace text v1: the writer's exact output, gap merging, the parser's acceptance rules
// and line-numbered errors, and compare_guest_traces().
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "xtu/formats/error.hpp"
#include "xtu/formats/guest_trace.hpp"

using xtu::GuestRecord;
using xtu::GuestTraceWriter;

namespace {

const std::string kHeader = std::string(xtu::kGuestTraceHeader) + "\n";

// Runs `fill` on a writer over an in-memory FILE and returns what it wrote.
std::string written(const std::function<void(GuestTraceWriter&)>& fill, uint64_t* blocks = nullptr,
                    uint64_t* gaps = nullptr) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  if (!f) return "<open_memstream failed>";
  {
    GuestTraceWriter w(f);
    fill(w);
    w.flush();
    if (blocks) *blocks = w.blocks();
    if (gaps) *gaps = w.gaps();
  }
  std::fclose(f);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

std::vector<GuestRecord> parse(const std::string& text) { return xtu::parse_guest_trace(text, "guest.txt"); }

// The FormatError parse() must raise.
xtu::FormatError parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const xtu::FormatError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << text;
  return xtu::FormatError("", ~0ull, "");
}

void expect_line_error(const std::string& text, uint64_t line, const std::string& fragment = "") {
  xtu::FormatError e = parse_error(text);
  EXPECT_EQ(e.offset(), line) << e.what();
  EXPECT_EQ(e.file(), "guest.txt");
  EXPECT_NE(std::string(e.what()).find("guest.txt:line " + std::to_string(line) + ":"), std::string::npos) << e.what();
  if (!fragment.empty()) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

GuestRecord B(uint64_t pc) { return GuestRecord::block(pc); }
GuestRecord G() { return GuestRecord::gap(); }

// ---- records ----

TEST(GuestRecord, TextForm) {
  EXPECT_EQ(xtu::to_text(B(0x4005c0)), "0x4005c0");
  EXPECT_EQ(xtu::to_text(B(0)), "0x0");
  EXPECT_EQ(xtu::to_text(B(0xffffffffffffffffull)), "0xffffffffffffffff");
  EXPECT_EQ(xtu::to_text(G()), "gap");
}

TEST(GuestRecord, EqualityIgnoresThePcOfGaps) {
  EXPECT_EQ(B(1), B(1));
  EXPECT_NE(B(1), B(2));
  EXPECT_NE(B(0), G());
  GuestRecord g2 = G();
  g2.pc = 1234;
  EXPECT_EQ(G(), g2);
}

// ---- writer ----

TEST(GuestTraceWriter, WritesHeaderBlocksGapsAndCommentsExactly) {
  uint64_t blocks = 0, gaps = 0;
  std::string out = written(
      [](GuestTraceWriter& w) {
        w.block(0x4005c0);
        w.comment("resync at 1234");
        w.gap();
        w.block(0);
        w.record(B(0xffffffffffffffffull));
        w.record(G());
      },
      &blocks, &gaps);
  EXPECT_EQ(out, kHeader + "0x4005c0\n# resync at 1234\ngap\n0x0\n0xffffffffffffffff\ngap\n");
  EXPECT_EQ(blocks, 3u);
  EXPECT_EQ(gaps, 2u);
}

TEST(GuestTraceWriter, EmptyTraceIsJustTheHeader) {
  EXPECT_EQ(written([](GuestTraceWriter&) {}), kHeader);
  EXPECT_TRUE(parse(kHeader).empty());
}

TEST(GuestTraceWriter, ConsecutiveGapsAreMergedIntoOne) {
  uint64_t gaps = 0;
  std::string out = written(
      [](GuestTraceWriter& w) {
        w.gap();
        w.gap();
        w.record(G());
        w.block(0x10);
        w.gap();
        w.gap();
        w.block(0x20);
        w.block(0x20);
      },
      nullptr, &gaps);
  EXPECT_EQ(out, kHeader + "gap\n0x10\ngap\n0x20\n0x20\n");
  EXPECT_EQ(gaps, 2u);
}

TEST(GuestTraceWriter, OutputParsesBackToTheSameRecords) {
  std::vector<GuestRecord> in = {B(0x400000), B(0x400010), G(), B(0x7fffffffe000), B(0x1), G(), B(0xdeadbeefcafef00d)};
  std::string out = written([&](GuestTraceWriter& w) {
    for (const GuestRecord& r : in) w.record(r);
  });
  EXPECT_EQ(parse(out), in);
}

// ---- parser: accepted input ----

TEST(GuestTraceParse, AcceptsCommentsBlankLinesAndNoFinalNewline) {
  std::vector<GuestRecord> v = parse(kHeader + "# produced by test\n\n0xabc\n#\ngap\n0x00000000000000ff");
  EXPECT_EQ(v, (std::vector<GuestRecord>{B(0xabc), G(), B(0xff)}));
}

TEST(GuestTraceParse, AcceptsSixteenHexDigits) {
  EXPECT_EQ(parse(kHeader + "0xffffffffffffffff\n0x0123456789abcdef\n"),
            (std::vector<GuestRecord>{B(0xffffffffffffffffull), B(0x0123456789abcdefull)}));
}

TEST(GuestTraceParse, ToleratesCrlfLineEndings) {
  std::string text = std::string(xtu::kGuestTraceHeader) + "\r\n0x10\r\ngap\r\n# c\r\n\r\n0x20\r\n";
  EXPECT_EQ(parse(text), (std::vector<GuestRecord>{B(0x10), G(), B(0x20)}));
}

TEST(GuestTraceParse, KeepsRepeatedGapsAsWritten) {
  EXPECT_EQ(parse(kHeader + "gap\ngap\n"), (std::vector<GuestRecord>{G(), G()}));
}

// ---- parser: errors with line numbers ----

TEST(GuestTraceParse, EmptyFileLacksTheHeader) { expect_line_error("", 1, "missing guest trace header"); }

TEST(GuestTraceParse, MissingHeader) { expect_line_error("0x4005c0\n", 1, "expected header"); }

TEST(GuestTraceParse, HeaderMustBeTheFirstLineExactly) {
  expect_line_error("# a comment\n" + kHeader, 1, "expected header");
  expect_line_error("# xtu guest trace v2\n0x1\n", 1);
  expect_line_error("# xtu guest trace v1 \n0x1\n", 1);
  expect_line_error("\n" + kHeader, 1);
}

TEST(GuestTraceParse, UpperCaseHexIsRejected) {
  expect_line_error(kHeader + "0x10\n0x4005C0\n", 3, "'0x4005C0'");
  expect_line_error(kHeader + "0X10\n", 2);
}

TEST(GuestTraceParse, BarePrefixIsRejected) { expect_line_error(kHeader + "0x1\n\n0x\n", 4, "'0x'"); }

TEST(GuestTraceParse, MoreThanSixteenHexDigitsAreRejected) {
  expect_line_error(kHeader + "0x10000000000000000\n", 2);
  expect_line_error(kHeader + "0x00000000000000001\n", 2);
}

TEST(GuestTraceParse, JunkIsRejected) {
  expect_line_error(kHeader + "gap\nhello\n", 3, "'hello'");
  expect_line_error(kHeader + " 0x10\n", 2);
  expect_line_error(kHeader + "0x10 \n", 2);
  expect_line_error(kHeader + "0x1g\n", 2);
  expect_line_error(kHeader + "4005c0\n", 2);
  expect_line_error(kHeader + "GAP\n", 2);
  expect_line_error(kHeader + "gap \n", 2);
  expect_line_error(kHeader + "-0x1\n", 2);
  expect_line_error(kHeader + "0x1\r\r\n", 2);  // only one CR is a line ending
}

TEST(GuestTraceParse, LongJunkIsQuotedShortened) {
  xtu::FormatError e = parse_error(kHeader + std::string(200, 'z') + "\n");
  std::string what = e.what();
  EXPECT_NE(what.find("'" + std::string(40, 'z') + "'"), std::string::npos) << what;
  EXPECT_EQ(what.find(std::string(41, 'z')), std::string::npos) << what;
}

TEST(GuestTraceFile, ReadsAFileAndNamesItInErrors) {
  std::string path = ::testing::TempDir() + "guest_trace_test_" + std::to_string(getpid()) + ".txt";
  { std::ofstream(path) << kHeader << "0x1\ngap\n0x2\n"; }
  EXPECT_EQ(xtu::read_guest_trace(path), (std::vector<GuestRecord>{B(1), G(), B(2)}));
  { std::ofstream(path) << kHeader << "0x1\nbad\n"; }
  try {
    xtu::read_guest_trace(path);
    ADD_FAILURE() << "accepted a bad line";
  } catch (const xtu::FormatError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.offset(), 3u);
  }
  std::remove(path.c_str());
  EXPECT_THROW(xtu::read_guest_trace(path), std::runtime_error);
}

// ---- compare ----

TEST(CompareGuestTraces, EqualTraces) {
  xtu::TraceDiff d = xtu::compare_guest_traces({B(1), G(), B(2)}, {B(1), G(), B(2)});
  EXPECT_TRUE(d.equal);
  EXPECT_EQ(d.message, "");
  EXPECT_TRUE(xtu::compare_guest_traces({}, {}).equal);
}

TEST(CompareGuestTraces, FirstDifferenceWithContext) {
  xtu::TraceDiff d = xtu::compare_guest_traces({B(1), B(2), B(3), B(4)}, {B(1), B(2), B(5), B(6)});
  EXPECT_FALSE(d.equal);
  EXPECT_EQ(d.index, 2u);
  EXPECT_EQ(d.message,
            "first difference at record 2: expected 0x3, got 0x5 (expected 4 records, got 4); previous record 0x2");
}

TEST(CompareGuestTraces, GapAgainstBlockAtTheStart) {
  xtu::TraceDiff d = xtu::compare_guest_traces({G(), B(1)}, {B(1)});
  EXPECT_FALSE(d.equal);
  EXPECT_EQ(d.index, 0u);
  EXPECT_EQ(d.message, "first difference at record 0: expected gap, got 0x1 (expected 2 records, got 1)");
}

TEST(CompareGuestTraces, ActualShorter) {
  xtu::TraceDiff d = xtu::compare_guest_traces({B(1), B(2), B(3)}, {B(1), B(2)});
  EXPECT_FALSE(d.equal);
  EXPECT_EQ(d.index, 2u);
  EXPECT_EQ(d.message,
            "first difference at record 2: expected 0x3, got <end> (expected 3 records, got 2); previous record 0x2");
}

TEST(CompareGuestTraces, ActualLonger) {
  xtu::TraceDiff d = xtu::compare_guest_traces({B(1)}, {B(1), G()});
  EXPECT_FALSE(d.equal);
  EXPECT_EQ(d.index, 1u);
  EXPECT_NE(d.message.find("expected <end>, got gap"), std::string::npos) << d.message;
  xtu::TraceDiff from_empty = xtu::compare_guest_traces({}, {B(7)});
  EXPECT_FALSE(from_empty.equal);
  EXPECT_EQ(from_empty.index, 0u);
  EXPECT_EQ(from_empty.message, "first difference at record 0: expected <end>, got 0x7 (expected 0 records, got 1)");
}

}  // namespace
