// DBT event stream ("xtev"): encoding and parsing of every record type, the streaming Writer,
// describe(), and the validation of damaged files (each error names the file and the exact
// offset of the faulty field). Ends with a mutation fuzz test of parse().
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/error.hpp"
#include "xtu/formats/event_stream.hpp"

using namespace xtu::ev;

namespace {

constexpr const char* kName = "events.xtev";
constexpr size_t kRec = kFileHeaderSize;  // offset of the first record

// ---- builders ----

Event ev(uint64_t off, uint64_t time, Body body) {
  Event e;
  e.trace_offset = off;
  e.time = time;
  e.body = std::move(body);
  return e;
}

Process sample_process() {
  Process p;
  p.cr3 = 0x1a2b3c000;
  p.vmcs = 0x7f00d000;
  p.code_base = 0x7f1234000000;
  p.code_size = 0x40000000;
  p.pid = 31337;
  p.non_root = true;
  p.name = "qemu-aarch64";
  return p;
}

TbLoad sample_tb(size_t n_insns = 3, size_t code_size = 45) {
  TbLoad t;
  t.host_addr = 0x7f1234000400;
  t.guest_pc = 0x4005c0;
  t.cs_base = 0x1122334455667788;
  t.flags = 0x80000001;
  t.cflags = 0x00ff00aa;
  for (size_t i = 0; i < code_size; ++i) t.code.push_back(static_cast<uint8_t>(0x90 + i * 7));
  for (size_t i = 0; i < n_insns; ++i) {
    InsnMap m;
    m.guest_pc = t.guest_pc + 4 * i;
    m.host_offset = static_cast<uint32_t>(i * 10);
    m.host_size = (i + 1 == n_insns) ? 0 : 10;  // last insn has an empty host range
    t.insns.push_back(m);
  }
  return t;
}

std::vector<Event> sample_events() {
  std::vector<Event> v;
  v.push_back(ev(0, 1000, sample_process()));
  v.push_back(ev(0, 1001, Code{0x7f1234000000, CodeKind::Prologue, {0x55, 0x48, 0x89, 0xe5, 0xc3}}));
  v.push_back(ev(16, 1002, sample_tb()));
  v.push_back(ev(16, 1003, Link{0x7f1234000400, 0x7f1234000420, 0x7f1234000800, 1}));
  v.push_back(ev(4096, 1004, Unlink{0x7f1234000400, 0x7f1234000420, 0x7f1234000425, 0}));
  v.push_back(ev(4096, 1005, Invalidate{0x7f1234000800}));
  v.push_back(ev(0xffffffffffff0000ull, 0xfffffffffffffff0ull, Flush{}));
  return v;
}

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void put64(std::vector<uint8_t>& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }
uint32_t get32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
uint64_t get64(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}

std::vector<uint8_t> file_header(uint64_t count, uint16_t major = kVersionMajor, uint32_t hsize = kFileHeaderSize) {
  std::vector<uint8_t> b(kFileHeaderSize, 0);
  std::memcpy(b.data(), kMagic, 8);
  put16(b, 8, major);
  put16(b, 10, kVersionMinor);
  put32(b, 12, hsize);
  put64(b, 16, count);
  return b;
}

// A whole stream image as Writer would produce it.
std::vector<uint8_t> image(const std::vector<Event>& events) {
  std::vector<uint8_t> b = file_header(events.size());
  for (const Event& e : events) {
    std::vector<uint8_t> r = encode(e);
    b.insert(b.end(), r.begin(), r.end());
  }
  return b;
}

std::vector<uint8_t> image1(const Event& e) { return image(std::vector<Event>{e}); }

// Runs parse() and returns the FormatError it must throw.
xtu::FormatError parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse(bytes, kName);
  } catch (const xtu::FormatError& e) {
    return e;
  }
  ADD_FAILURE() << "parse() accepted a damaged stream";
  return xtu::FormatError("", ~0ull, "");
}

#define EXPECT_FORMAT_ERROR(bytes, off, text)                            \
  do {                                                                  \
    xtu::FormatError err_ = parse_error(bytes);                         \
    EXPECT_EQ(err_.offset(), uint64_t(off)) << err_.what();             \
    EXPECT_EQ(err_.file(), kName);                                      \
    EXPECT_NE(std::string(err_.what()).find(kName), std::string::npos); \
    EXPECT_NE(std::string(err_.what()).find(text), std::string::npos)   \
        << "message: " << err_.what();                                  \
  } while (0)

// ---- field-by-field comparison ----

void expect_same(const Event& a, const Event& b) {
  EXPECT_EQ(a.trace_offset, b.trace_offset);
  EXPECT_EQ(a.time, b.time);
  ASSERT_EQ(a.body.index(), b.body.index());
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b.body);
        if constexpr (std::is_same_v<T, Process>) {
          EXPECT_EQ(x.cr3, y.cr3);
          EXPECT_EQ(x.vmcs, y.vmcs);
          EXPECT_EQ(x.code_base, y.code_base);
          EXPECT_EQ(x.code_size, y.code_size);
          EXPECT_EQ(x.pid, y.pid);
          EXPECT_EQ(x.non_root, y.non_root);
          EXPECT_EQ(x.name, y.name);
        } else if constexpr (std::is_same_v<T, Code>) {
          EXPECT_EQ(x.host_addr, y.host_addr);
          EXPECT_EQ(x.kind, y.kind);
          EXPECT_EQ(x.bytes, y.bytes);
        } else if constexpr (std::is_same_v<T, TbLoad>) {
          EXPECT_EQ(x.host_addr, y.host_addr);
          EXPECT_EQ(x.guest_pc, y.guest_pc);
          EXPECT_EQ(x.cs_base, y.cs_base);
          EXPECT_EQ(x.flags, y.flags);
          EXPECT_EQ(x.cflags, y.cflags);
          EXPECT_EQ(x.code, y.code);
          ASSERT_EQ(x.insns.size(), y.insns.size());
          for (size_t i = 0; i < x.insns.size(); ++i) {
            EXPECT_EQ(x.insns[i].guest_pc, y.insns[i].guest_pc) << i;
            EXPECT_EQ(x.insns[i].host_offset, y.insns[i].host_offset) << i;
            EXPECT_EQ(x.insns[i].host_size, y.insns[i].host_size) << i;
          }
        } else if constexpr (std::is_same_v<T, Link> || std::is_same_v<T, Unlink>) {
          EXPECT_EQ(x.src_tb, y.src_tb);
          EXPECT_EQ(x.jmp_addr, y.jmp_addr);
          EXPECT_EQ(x.target, y.target);
          EXPECT_EQ(x.slot, y.slot);
        } else if constexpr (std::is_same_v<T, Invalidate>) {
          EXPECT_EQ(x.host_addr, y.host_addr);
        }
      },
      a.body);
}

class TempFile {
public:
  TempFile() {
    std::string tmpl = ::testing::TempDir() + "xtev_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());
    if (fd >= 0) close(fd);
    path_ = buf.data();
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

// ---- round trips ----

TEST(EventStream, RoundTripsEveryEventType) {
  std::vector<Event> in = sample_events();
  uint64_t skipped = 99;
  std::vector<Event> out = parse(image(in), kName, &skipped);
  EXPECT_EQ(skipped, 0u);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(type_of(out[i].body), type_of(in[i].body));
    expect_same(in[i], out[i]);
  }
}

TEST(EventStream, RoundTripsProcessWithEmptyNameAndRootMode) {
  Process p;
  p.cr3 = 0xffffffffffffffffull;
  p.code_base = 0x1000;
  p.code_size = 0;
  p.non_root = false;
  p.name = "";
  std::vector<Event> out = parse(image1(ev(3, 4, p)), kName);
  ASSERT_EQ(out.size(), 1u);
  expect_same(ev(3, 4, p), out[0]);
}

TEST(EventStream, RoundTripsCodeOfEverySizeUpTo17WithPadding) {
  for (uint32_t n = 0; n <= 17; ++n) {
    SCOPED_TRACE("code size " + std::to_string(n));
    Code c{0x7f0000001000ull + n, n % 2 ? CodeKind::Other : CodeKind::Prologue, {}};
    for (uint32_t i = 0; i < n; ++i) c.bytes.push_back(static_cast<uint8_t>(0xff - i));
    std::vector<uint8_t> rec = encode(ev(n, n, c));
    size_t unpadded = kRecordHeaderSize + 16 + n;
    EXPECT_EQ(rec.size(), (unpadded + 7) / 8 * 8);
    EXPECT_EQ(get32(rec, 4), rec.size()) << "record size field";
    for (size_t i = unpadded; i < rec.size(); ++i) EXPECT_EQ(rec[i], 0) << "padding byte " << i;
    std::vector<Event> out = parse(image1(ev(n, n, c)), kName);
    ASSERT_EQ(out.size(), 1u);
    expect_same(ev(n, n, c), out[0]);
  }
}

TEST(EventStream, RoundTripsTbLoadWithOneInsnAndNoCode) {
  TbLoad t = sample_tb(1, 0);
  ASSERT_EQ(t.insns[0].host_size, 0u);
  std::vector<Event> out = parse(image1(ev(8, 9, t)), kName);
  ASSERT_EQ(out.size(), 1u);
  expect_same(ev(8, 9, t), out[0]);
}

TEST(EventStream, RoundTripsTbLoadWithManyInsns) {
  TbLoad t = sample_tb(512, 5120);
  std::vector<Event> out = parse(image1(ev(8, 9, t)), kName);
  ASSERT_EQ(out.size(), 1u);
  expect_same(ev(8, 9, t), out[0]);
}

TEST(EventStream, EncodesRecordHeaderAndLinkPayloadAsDocumented) {
  std::vector<uint8_t> r = encode(ev(0x1122, 0x3344, Link{0xa, 0xb, 0xc, 7}));
  ASSERT_EQ(r.size(), 24u + 32u);
  EXPECT_EQ(r[0] | r[1] << 8, static_cast<int>(Type::Link));
  EXPECT_EQ(r[2] | r[3] << 8, 0);  // flags
  EXPECT_EQ(get32(r, 4), 56u);
  EXPECT_EQ(get64(r, 8), 0x1122u);
  EXPECT_EQ(get64(r, 16), 0x3344u);
  EXPECT_EQ(get64(r, 24), 0xau);
  EXPECT_EQ(get64(r, 32), 0xbu);
  EXPECT_EQ(get64(r, 40), 0xcu);
  EXPECT_EQ(get32(r, 48), 7u);
  EXPECT_EQ(get32(r, 52), 0u);

  std::vector<uint8_t> f = encode(ev(1, 2, Flush{}));
  EXPECT_EQ(f.size(), 24u);
  EXPECT_EQ(f[0], static_cast<int>(Type::Flush));
}

TEST(EventStream, TypeNamesAndTypeOf) {
  std::vector<Event> v = sample_events();
  const char* names[] = {"process", "code", "tb", "link", "unlink", "invalidate", "flush"};
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(type_of(v[i].body)), i + 1);
    EXPECT_STREQ(type_name(type_of(v[i].body)), names[i]);
  }
}

TEST(EventStream, EmptyStreamParsesToNoEvents) {
  EXPECT_TRUE(parse(file_header(0), kName).empty());
}

TEST(EventStream, LargerHeaderFromANewerMinorVersionIsSkipped) {
  std::vector<uint8_t> b = file_header(1, kVersionMajor, 48);
  put16(b, 10, kVersionMinor + 3);
  b.resize(48, 0xee);  // unknown header extension
  std::vector<uint8_t> r = encode(ev(5, 6, Invalidate{0x1234}));
  b.insert(b.end(), r.begin(), r.end());
  std::vector<Event> out = parse(b, kName);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<Invalidate>(out[0].body).host_addr, 0x1234u);
}

TEST(EventStream, UnknownRecordTypesAreSkippedAndCounted) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{0x10}), ev(2, 2, Invalidate{0x20}), ev(3, 3, Flush{}),
                                  ev(4, 4, Invalidate{0x40})});
  // Records are 32, 32, 24, 32 bytes long.
  put16(b, kRec + 32, 0x77);        // second record: unknown type
  put16(b, kRec + 64, 0);           // third record: type 0 is unknown too
  uint64_t skipped = 0;
  std::vector<Event> out = parse(b, kName, &skipped);
  EXPECT_EQ(skipped, 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<Invalidate>(out[0].body).host_addr, 0x10u);
  EXPECT_EQ(std::get<Invalidate>(out[1].body).host_addr, 0x40u);
  EXPECT_EQ(out[1].trace_offset, 4u);
}

TEST(EventStream, EqualTraceOffsetsKeepFileOrder) {
  std::vector<Event> in = {ev(7, 3, Invalidate{1}), ev(7, 2, Invalidate{2}), ev(7, 1, Invalidate{3})};
  std::vector<Event> out = parse(image(in), kName);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(std::get<Invalidate>(out[i].body).host_addr, i + 1);
}

// ---- Writer ----

TEST(EventStreamWriter, WritesWhatEncodeProducesAndPatchesTheCount) {
  TempFile tmp;
  std::vector<Event> in = sample_events();
  {
    Writer w(tmp.path());
    for (const Event& e : in) w.write(e);
    EXPECT_EQ(w.count(), in.size());
  }  // destructor closes
  std::vector<uint8_t> bytes = xtu::read_file_bytes(tmp.path());
  EXPECT_EQ(bytes, image(in));
  EXPECT_EQ(get64(bytes, 16), in.size());
  std::vector<Event> out = read(tmp.path());
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) expect_same(in[i], out[i]);
}

TEST(EventStreamWriter, ExplicitCloseIsIdempotentAndWriteAfterCloseThrows) {
  TempFile tmp;
  Writer w(tmp.path());
  w.write(ev(1, 1, Flush{}));
  w.close();
  w.close();
  EXPECT_THROW(w.write(ev(2, 2, Flush{})), std::runtime_error);
  EXPECT_EQ(read(tmp.path()).size(), 1u);
}

TEST(EventStreamWriter, RejectsTraceOffsetsGoingBackwardsAndKeepsTheFileValid) {
  TempFile tmp;
  {
    Writer w(tmp.path());
    w.write(ev(100, 1, Invalidate{1}));
    w.write(ev(100, 2, Invalidate{2}));
    try {
      w.write(ev(99, 3, Invalidate{3}));
      ADD_FAILURE() << "Writer accepted an offset going backwards";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(tmp.path()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("backwards"), std::string::npos) << e.what();
    }
    EXPECT_EQ(w.count(), 2u);
    w.write(ev(101, 4, Invalidate{4}));
  }
  std::vector<Event> out = read(tmp.path());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(std::get<Invalidate>(out[2].body).host_addr, 4u);
}

TEST(EventStreamWriter, UnopenablePathThrows) {
  EXPECT_THROW(Writer("/nonexistent-dir/for/xtu/events.xtev"), std::runtime_error);
}

TEST(EventStream, ReadOfMissingFileThrowsNamingIt) {
  try {
    read("/nonexistent-dir/x.xtev");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.xtev"), std::string::npos);
  }
}

TEST(EventStream, ReadNamesTheFileInFormatErrors) {
  TempFile tmp;
  { std::ofstream(tmp.path(), std::ios::binary) << "XTUEVT\r\nnot really"; }
  try {
    read(tmp.path());
    ADD_FAILURE() << "no exception";
  } catch (const xtu::FormatError& e) {
    EXPECT_EQ(e.file(), tmp.path());
    EXPECT_EQ(e.offset(), 0u);  // an 18-byte file: the 32-byte header is truncated
  }
}

// ---- describe ----

TEST(EventStream, DescribeShowsTheKeyFields) {
  std::vector<Event> v = sample_events();
  std::string p = describe(v[0]);
  for (const char* s : {"@0 ", "t=1000", "process", "cr3=0x1a2b3c000", "vmcs=0x7f00d000", "nr=1", "pid=31337",
                        "code=[0x7f1234000000,0x7f1274000000)", "qemu-aarch64"})
    EXPECT_NE(p.find(s), std::string::npos) << s << " in: " << p;
  std::string c = describe(v[1]);
  for (const char* s : {"code", "0x7f1234000000", "size=5", "kind=prologue"})
    EXPECT_NE(c.find(s), std::string::npos) << s << " in: " << c;
  std::string t = describe(v[2]);
  for (const char* s : {"@16 ", "t=1002", "tb", "0x7f1234000400", "size=45", "pc=0x4005c0",
                        "cs_base=0x1122334455667788", "flags=0x80000001", "insns=3"})
    EXPECT_NE(t.find(s), std::string::npos) << s << " in: " << t;
  std::string l = describe(v[3]);
  for (const char* s : {"link", "0x7f1234000400", "slot 1", "jmp at 0x7f1234000420", "-> 0x7f1234000800"})
    EXPECT_NE(l.find(s), std::string::npos) << s << " in: " << l;
  std::string u = describe(v[4]);
  for (const char* s : {"@4096", "unlink", "slot 0", "-> 0x7f1234000425"})
    EXPECT_NE(u.find(s), std::string::npos) << s << " in: " << u;
  EXPECT_EQ(u.find("link     "), std::string::npos);
  std::string i = describe(v[5]);
  EXPECT_NE(i.find("invalidate 0x7f1234000800"), std::string::npos) << i;
  std::string f = describe(v[6]);
  EXPECT_NE(f.find("flush"), std::string::npos) << f;
  EXPECT_NE(f.find("@18446744073709486080"), std::string::npos) << f;
  Code other{1, CodeKind::Other, {}};
  EXPECT_NE(describe(ev(0, 0, other)).find("kind=other"), std::string::npos);
}

// ---- file header errors ----

TEST(EventStreamErrors, EmptyFile) { EXPECT_FORMAT_ERROR(std::vector<uint8_t>{}, 0, "truncated file header"); }

TEST(EventStreamErrors, TruncatedFileHeader) {
  std::vector<uint8_t> b = file_header(0);
  b.resize(31);
  EXPECT_FORMAT_ERROR(b, 0, "truncated file header");
}

TEST(EventStreamErrors, BadMagic) {
  std::vector<uint8_t> b = image(sample_events());
  b[6] = '\n';
  EXPECT_FORMAT_ERROR(b, 0, "bad magic");
}

TEST(EventStreamErrors, WrongMajorVersion) {
  std::vector<uint8_t> b = image(sample_events());
  put16(b, 8, kVersionMajor + 1);
  EXPECT_FORMAT_ERROR(b, 8, "unsupported event stream version 2");
  put16(b, 8, 0);
  EXPECT_FORMAT_ERROR(b, 8, "version 0");
}

TEST(EventStreamErrors, NewerMinorVersionIsAccepted) {
  std::vector<uint8_t> b = image(sample_events());
  put16(b, 10, 0xffff);
  EXPECT_EQ(parse(b, kName).size(), sample_events().size());
}

TEST(EventStreamErrors, HeaderSizeTooSmallUnalignedOrPastTheEnd) {
  std::vector<uint8_t> b = image(sample_events());
  for (uint32_t bad : {0u, 24u, 31u, 36u, 33u, static_cast<uint32_t>(b.size() + 8), 0xfffffff8u}) {
    SCOPED_TRACE(bad);
    put32(b, 12, bad);
    EXPECT_FORMAT_ERROR(b, 12, "bad header size " + std::to_string(bad));
  }
}

// ---- record framing errors ----

TEST(EventStreamErrors, TruncatedRecordHeader) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1}), ev(2, 2, Invalidate{2})});
  b.resize(kRec + 32 + 23);
  EXPECT_FORMAT_ERROR(b, kRec + 32, "truncated record header");
}

TEST(EventStreamErrors, RecordSizeNotAMultipleOf8) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1}), ev(2, 2, Invalidate{2})});
  put32(b, kRec + 32 + 4, 36);
  EXPECT_FORMAT_ERROR(b, kRec + 32 + 4, "bad record size 36");
}

TEST(EventStreamErrors, RecordSizeBelowTheRecordHeader) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1})});
  for (uint32_t bad : {0u, 8u, 16u}) {
    put32(b, kRec + 4, bad);
    EXPECT_FORMAT_ERROR(b, kRec + 4, "bad record size " + std::to_string(bad));
  }
}

TEST(EventStreamErrors, RecordSizeAboveTheMaximum) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1})});
  put32(b, kRec + 4, kMaxRecordSize + 8);
  EXPECT_FORMAT_ERROR(b, kRec + 4, "bad record size " + std::to_string(kMaxRecordSize + 8));
  put32(b, kRec + 4, 0xfffffff8u);
  EXPECT_FORMAT_ERROR(b, kRec + 4, "bad record size");
}

TEST(EventStreamErrors, RecordSizePastTheEndOfTheFile) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1}), ev(2, 2, Invalidate{2})});
  put32(b, kRec + 32 + 4, 40);  // the record is 32 bytes, and the last one
  EXPECT_FORMAT_ERROR(b, kRec + 32 + 4, "runs past the end of the file");
  put32(b, kRec + 32 + 4, kMaxRecordSize);
  EXPECT_FORMAT_ERROR(b, kRec + 32 + 4, "runs past the end of the file");
}

TEST(EventStreamErrors, TruncatedLastRecord) {
  std::vector<uint8_t> b = image({ev(1, 1, sample_tb())});
  b.resize(b.size() - 8);
  EXPECT_FORMAT_ERROR(b, kRec + 4, "runs past the end of the file");
}

TEST(EventStreamErrors, RecordTooShortForItsPayload) {
  // An Invalidate record whose size says 24: the payload (host_addr) is missing.
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1})});
  put32(b, kRec + 4, 24);
  b.resize(kRec + 24);
  EXPECT_FORMAT_ERROR(b, kRec + 24, "truncated invalidate host_addr");
}

TEST(EventStreamErrors, TraceOffsetGoingBackwards) {
  std::vector<uint8_t> b = image({ev(10, 1, Invalidate{1}), ev(20, 2, Invalidate{2}), ev(30, 3, Invalidate{3})});
  put64(b, kRec + 64 + 8, 19);
  EXPECT_FORMAT_ERROR(b, kRec + 64 + 8, "trace offset 19 goes backwards (previous 20)");
}

TEST(EventStreamErrors, TraceOffsetGoingBackwardsInASkippedRecord) {
  std::vector<uint8_t> b = image({ev(10, 1, Invalidate{1}), ev(20, 2, Invalidate{2})});
  put16(b, kRec + 32, 0x99);
  put64(b, kRec + 32 + 8, 9);
  EXPECT_FORMAT_ERROR(b, kRec + 32 + 8, "goes backwards");
}

TEST(EventStreamErrors, DeclaredRecordCountLargerThanTheRecordsPresent) {
  // A file cut at a record boundary: the framing is intact, only the count tells.
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1}), ev(2, 2, Invalidate{2}), ev(3, 3, Invalidate{3})});
  b.resize(kRec + 64);
  EXPECT_FORMAT_ERROR(b, 16, "header says 3 records, file holds 2");
}

TEST(EventStreamErrors, DeclaredRecordCountSmallerThanTheRecordsPresent) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1}), ev(2, 2, Invalidate{2})});
  put64(b, 16, 1);
  EXPECT_FORMAT_ERROR(b, 16, "header says 1 records, file holds 2");
}

TEST(EventStreamErrors, DeclaredRecordCountIncludesSkippedRecords) {
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1}), ev(2, 2, Invalidate{2})});
  put16(b, kRec, 0x1234);
  uint64_t skipped = 0;
  EXPECT_EQ(parse(b, kName, &skipped).size(), 1u);
  EXPECT_EQ(skipped, 1u);
}

TEST(EventStreamErrors, ZeroRecordCountMeansUnknown) {
  // A stream whose writer never closed it: the count is still 0 and is not checked.
  std::vector<uint8_t> b = image({ev(1, 1, Invalidate{1}), ev(2, 2, Invalidate{2})});
  put64(b, 16, 0);
  EXPECT_EQ(parse(b, kName).size(), 2u);
}

// ---- payload errors ----
// Payload field offsets inside a record (after the 24-byte record header).
constexpr size_t kPay = kRec + kRecordHeaderSize;
constexpr size_t kTbInsnCount = kPay + 8 + 8 + 8 + 4 + 4 + 4;  // after host_addr..code_size
constexpr size_t kTbInsns = kTbInsnCount + 4;

TEST(EventStreamErrors, TbLoadInsnCountOverrunningTheRecord) {
  std::vector<uint8_t> b = image1(ev(1, 1, sample_tb()));
  for (uint32_t bad : {0xffffffffu, 0x10000000u, 7u}) {
    put32(b, kTbInsnCount, bad);
    EXPECT_FORMAT_ERROR(b, kTbInsnCount, "tb insn count " + std::to_string(bad) + " overruns its record");
  }
}

TEST(EventStreamErrors, TbLoadWithoutInsns) {
  std::vector<uint8_t> b = image1(ev(1, 1, sample_tb()));
  put32(b, kTbInsnCount, 0);
  EXPECT_FORMAT_ERROR(b, kTbInsnCount, "no guest instructions");
}

TEST(EventStreamErrors, TbLoadInsnHostRangeOutsideTheCode) {
  TbLoad t = sample_tb(3, 45);
  t.insns[2].host_offset = 40;
  t.insns[2].host_size = 6;  // [40, 46) but only 45 code bytes
  EXPECT_FORMAT_ERROR(image1(ev(1, 1, t)), kTbInsns + 2 * 16, "insn host range [40, +6) is outside the TB's 45");
  t.insns[2].host_size = 5;  // [40, 45): fine
  EXPECT_EQ(parse(image1(ev(1, 1, t)), kName).size(), 1u);
  t.insns[1].host_offset = 0xffffffffu;  // would wrap in 32 bits
  t.insns[1].host_size = 2;
  EXPECT_FORMAT_ERROR(image1(ev(1, 1, t)), kTbInsns + 16, "is outside the TB's");
}

TEST(EventStreamErrors, TbLoadFirstInsnPcDifferentFromTheTbPc) {
  TbLoad t = sample_tb(3, 45);
  t.insns[0].guest_pc = t.guest_pc + 4;
  EXPECT_FORMAT_ERROR(image1(ev(1, 1, t)), kTbInsns, "first insn pc differs");
}

TEST(EventStreamErrors, TbLoadCodeSizeOverrunningTheRecord) {
  std::vector<uint8_t> b = image1(ev(1, 1, sample_tb(3, 45)));
  put32(b, kTbInsnCount - 4, 1000);  // code_size; insn ranges still fit
  EXPECT_FORMAT_ERROR(b, kTbInsns + 3 * 16, "truncated tb code");
}

TEST(EventStreamErrors, CodeKindUnknown) {
  std::vector<uint8_t> b = image1(ev(1, 1, Code{0x1000, CodeKind::Other, {1, 2, 3}}));
  const size_t kind_at = kPay + 8 + 4;
  for (uint32_t bad : {0u, 3u, 0x80000001u}) {
    put32(b, kind_at, bad);
    EXPECT_FORMAT_ERROR(b, kind_at, "code kind " + std::to_string(bad) + " unknown");
  }
}

TEST(EventStreamErrors, CodeSizeOverrunningTheRecord) {
  std::vector<uint8_t> b = image1(ev(1, 1, Code{0x1000, CodeKind::Other, {1, 2, 3}}));
  put32(b, kPay + 8, 9);  // 3 code bytes + 5 padding bytes in the record
  EXPECT_FORMAT_ERROR(b, kPay + 16, "truncated code bytes");
}

TEST(EventStreamErrors, ProcessFlagsWithUnknownBits) {
  std::vector<uint8_t> b = image1(ev(1, 1, sample_process()));
  const size_t flags_at = kPay + 4 * 8 + 4;
  for (uint32_t bad : {2u, 3u, 0x80000000u}) {
    put32(b, flags_at, bad);
    EXPECT_FORMAT_ERROR(b, flags_at, "process flags has unknown bits set");
  }
}

TEST(EventStreamErrors, ProcessCodeRangeWrappingAround) {
  Process p = sample_process();
  p.code_base = 0xfffffffffffff000ull;
  p.code_size = 0x2000;
  EXPECT_FORMAT_ERROR(image1(ev(1, 1, p)), kPay + 3 * 8, "process code range wraps around");
}

TEST(EventStreamErrors, ProcessNameWithoutTerminator) {
  Process p = sample_process();
  p.name = "abcdefg";  // 7 chars + NUL = 8: no padding after it
  std::vector<uint8_t> b = image1(ev(1, 1, p));
  const size_t name_at = kPay + 4 * 8 + 8;
  ASSERT_EQ(b.size(), name_at + 8);
  b.back() = 'h';
  EXPECT_FORMAT_ERROR(b, name_at, "unterminated process name");
}

// ---- robustness ----

// Every mutation of a valid stream either parses or raises FormatError: no crash, no other
// exception, no out-of-bounds access (the test is also run under -fsanitize=address).
TEST(EventStreamFuzz, MutatedStreamsParseOrRaiseFormatError) {
  std::vector<Event> events = sample_events();
  events.push_back(ev(0xffffffffffff0000ull, 1, sample_tb(5, 47)));
  events.push_back(ev(0xffffffffffff0001ull, 2, Code{0x99, CodeKind::Other, {9, 8, 7}}));
  const std::vector<uint8_t> valid = image(events);
  ASSERT_EQ(parse(valid, kName).size(), events.size());

  size_t accepted = 0, rejected = 0;
  auto attempt = [&](const std::vector<uint8_t>& b, const std::string& what) {
    try {
      parse(b, kName);
      ++accepted;
    } catch (const xtu::FormatError& e) {
      ++rejected;
      EXPECT_LE(e.offset(), b.size()) << what << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": unexpected exception " << e.what();
    } catch (...) {
      ADD_FAILURE() << what << ": unexpected non-std exception";
    }
  };

  // Truncation at every length.
  for (size_t n = 0; n < valid.size(); ++n) attempt(std::vector<uint8_t>(valid.begin(), valid.begin() + n), "truncated to " + std::to_string(n));
  EXPECT_EQ(accepted, 0u) << "every strict prefix must be rejected (the count is in the header)";

  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b = valid;
    int kind = static_cast<int>(rng() % 4);
    int n = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) {
      size_t at = rng() % b.size();
      switch (kind) {
        case 0: b[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;            // bit flip
        case 1: b[at] = static_cast<uint8_t>(rng()); break;                          // random byte
        case 2: if (at + 4 <= b.size()) put32(b, at & ~size_t(3), static_cast<uint32_t>(rng() >> (rng() % 32))); break;  // a length-ish word
        case 3: b[at] = (rng() & 1) ? 0xff : 0x00; break;
      }
    }
    if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
    attempt(b, "mutation " + std::to_string(i));
  }
  EXPECT_GT(rejected, 1000u);
  EXPECT_GT(accepted, 10u) << "some mutations (e.g. in code bytes) must stay valid";
}

}  // namespace
