#include "xtu/formats/event_stream.hpp"

#include <cinttypes>
#include <cstring>
#include <stdexcept>

#include "xtu/formats/byte_reader.hpp"

namespace xtu::ev {
namespace {

class Out {
public:
  void u16(uint16_t v) { put(&v, 2); }
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void bytes(const uint8_t* p, size_t n) { buf_.insert(buf_.end(), p, p + n); }
  void str(const std::string& s) { bytes(reinterpret_cast<const uint8_t*>(s.c_str()), s.size() + 1); }
  void pad8() { while (buf_.size() % 8) buf_.push_back(0); }
  std::vector<uint8_t>& buf() { return buf_; }

private:
  void put(const void* p, size_t n) { bytes(static_cast<const uint8_t*>(p), n); }
  std::vector<uint8_t> buf_;
};

struct PayloadEncoder {
  Out& o;
  void operator()(const Process& p) {
    o.u64(p.cr3); o.u64(p.vmcs); o.u64(p.code_base); o.u64(p.code_size);
    o.u32(p.pid); o.u32(p.non_root ? 1u : 0u);
    o.str(p.name);
  }
  void operator()(const Code& c) {
    o.u64(c.host_addr); o.u32(static_cast<uint32_t>(c.bytes.size())); o.u32(static_cast<uint32_t>(c.kind));
    o.bytes(c.bytes.data(), c.bytes.size());
  }
  void operator()(const TbLoad& t) {
    o.u64(t.host_addr); o.u64(t.guest_pc); o.u64(t.cs_base); o.u32(t.flags); o.u32(t.cflags);
    o.u32(static_cast<uint32_t>(t.code.size())); o.u32(static_cast<uint32_t>(t.insns.size()));
    for (const InsnMap& m : t.insns) { o.u64(m.guest_pc); o.u32(m.host_offset); o.u32(m.host_size); }
    o.bytes(t.code.data(), t.code.size());
  }
  void operator()(const Link& l) { o.u64(l.src_tb); o.u64(l.jmp_addr); o.u64(l.target); o.u32(l.slot); o.u32(0); }
  void operator()(const Unlink& l) { o.u64(l.src_tb); o.u64(l.jmp_addr); o.u64(l.target); o.u32(l.slot); o.u32(0); }
  void operator()(const Invalidate& i) { o.u64(i.host_addr); }
  void operator()(const Flush&) {}
};

Body decode_payload(Type type, ByteReader& r) {
  switch (type) {
    case Type::Process: {
      Process p;
      p.cr3 = r.u64("process cr3"); p.vmcs = r.u64("process vmcs");
      p.code_base = r.u64("process code_base");
      size_t size_pos = r.pos();
      p.code_size = r.u64("process code_size");
      if (p.code_base + p.code_size < p.code_base) r.fail_at(size_pos, "process code range wraps around");
      p.pid = r.u32("process pid");
      size_t flags_pos = r.pos();
      uint32_t fl = r.u32("process flags");
      if (fl & ~1u) r.fail_at(flags_pos, "process flags has unknown bits set");
      p.non_root = fl & 1u;
      p.name = r.cstring(r.remaining(), "process name");
      return p;
    }
    case Type::Code: {
      Code c;
      c.host_addr = r.u64("code host_addr");
      uint32_t n = r.u32("code size");
      size_t kind_pos = r.pos();
      uint32_t kind = r.u32("code kind");
      if (kind != 1 && kind != 2) r.fail_at(kind_pos, "code kind " + std::to_string(kind) + " unknown");
      c.kind = static_cast<CodeKind>(kind);
      c.bytes = r.bytes(n, "code bytes");
      return c;
    }
    case Type::TbLoad: {
      TbLoad t;
      t.host_addr = r.u64("tb host_addr"); t.guest_pc = r.u64("tb guest_pc");
      t.cs_base = r.u64("tb cs_base"); t.flags = r.u32("tb flags"); t.cflags = r.u32("tb cflags");
      uint32_t code_size = r.u32("tb code_size");
      size_t n_pos = r.pos();
      uint32_t n = r.u32("tb insn count");
      if (n == 0) r.fail_at(n_pos, "tb has no guest instructions");
      if (uint64_t(n) * 16 > r.remaining()) r.fail_at(n_pos, "tb insn count " + std::to_string(n) + " overruns its record");
      t.insns.resize(n);
      size_t insns_pos = r.pos();
      for (InsnMap& m : t.insns) {
        size_t at = r.pos();
        m.guest_pc = r.u64("insn guest_pc"); m.host_offset = r.u32("insn host_offset"); m.host_size = r.u32("insn host_size");
        if (uint64_t(m.host_offset) + m.host_size > code_size)
          r.fail_at(at, "insn host range [" + std::to_string(m.host_offset) + ", +" +
                            std::to_string(m.host_size) + ") is outside the TB's " + std::to_string(code_size) + " code bytes");
      }
      if (t.insns[0].guest_pc != t.guest_pc) r.fail_at(insns_pos, "first insn pc differs from the tb's guest_pc");
      t.code = r.bytes(code_size, "tb code");
      return t;
    }
    case Type::Link: {
      Link l; l.src_tb = r.u64("link src_tb"); l.jmp_addr = r.u64("link jmp_addr");
      l.target = r.u64("link target"); l.slot = r.u32("link slot"); r.u32("link reserved");
      return l;
    }
    case Type::Unlink: {
      Unlink l; l.src_tb = r.u64("unlink src_tb"); l.jmp_addr = r.u64("unlink jmp_addr");
      l.target = r.u64("unlink target"); l.slot = r.u32("unlink slot"); r.u32("unlink reserved");
      return l;
    }
    case Type::Invalidate: { Invalidate i; i.host_addr = r.u64("invalidate host_addr"); return i; }
    case Type::Flush: return Flush{};
  }
  r.fail("unknown record type");
}

bool known_type(uint16_t t) { return t >= 1 && t <= 7; }

}  // namespace

Type type_of(const Body& body) {
  return std::visit([](const auto& b) -> Type {
    using T = std::decay_t<decltype(b)>;
    if constexpr (std::is_same_v<T, Process>) return Type::Process;
    else if constexpr (std::is_same_v<T, Code>) return Type::Code;
    else if constexpr (std::is_same_v<T, TbLoad>) return Type::TbLoad;
    else if constexpr (std::is_same_v<T, Link>) return Type::Link;
    else if constexpr (std::is_same_v<T, Unlink>) return Type::Unlink;
    else if constexpr (std::is_same_v<T, Invalidate>) return Type::Invalidate;
    else return Type::Flush;
  }, body);
}

const char* type_name(Type type) {
  switch (type) {
    case Type::Process: return "process";
    case Type::Code: return "code";
    case Type::TbLoad: return "tb";
    case Type::Link: return "link";
    case Type::Unlink: return "unlink";
    case Type::Invalidate: return "invalidate";
    case Type::Flush: return "flush";
  }
  return "?";
}

std::vector<uint8_t> encode(const Event& e) {
  Out o;
  o.u16(static_cast<uint16_t>(type_of(e.body))); o.u16(0); o.u32(0);
  o.u64(e.trace_offset); o.u64(e.time);
  std::visit(PayloadEncoder{o}, e.body);
  o.pad8();
  std::vector<uint8_t>& b = o.buf();
  if (b.size() > kMaxRecordSize) throw std::runtime_error("event record larger than the format allows");
  uint32_t size = static_cast<uint32_t>(b.size());
  std::memcpy(b.data() + 4, &size, 4);
  return std::move(b);
}

Writer::Writer(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw std::runtime_error(path + ": cannot open for writing");
  uint8_t hdr[kFileHeaderSize] = {};
  std::memcpy(hdr, kMagic, 8);
  std::memcpy(hdr + 8, &kVersionMajor, 2);
  std::memcpy(hdr + 10, &kVersionMinor, 2);
  std::memcpy(hdr + 12, &kFileHeaderSize, 4);
  if (std::fwrite(hdr, 1, sizeof hdr, file_) != sizeof hdr) {
    std::fclose(file_);
    file_ = nullptr;
    throw std::runtime_error(path + ": write failed");
  }
}

Writer::~Writer() {
  try { close(); } catch (...) {}
}

void Writer::write(const Event& e) {
  if (!file_) throw std::runtime_error(path_ + ": write after close");
  if (e.trace_offset < last_offset_)
    throw std::runtime_error(path_ + ": event trace offsets must not go backwards");
  last_offset_ = e.trace_offset;
  std::vector<uint8_t> rec = encode(e);
  if (std::fwrite(rec.data(), 1, rec.size(), file_) != rec.size()) throw std::runtime_error(path_ + ": write failed");
  ++count_;
}

void Writer::close() {
  if (!file_) return;
  std::FILE* f = file_;
  file_ = nullptr;
  bool ok = std::fseek(f, 16, SEEK_SET) == 0 && std::fwrite(&count_, 8, 1, f) == 1;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw std::runtime_error(path_ + ": write failed");
}

std::vector<Event> parse(const std::vector<uint8_t>& bytes, const std::string& name, uint64_t* skipped) {
  ByteReader r(bytes, name);
  r.need(kFileHeaderSize, "file header");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) r.fail("bad magic: not an xtu event stream");
  r.skip(8, "magic");
  uint16_t major = r.u16("version");
  r.u16("minor version");
  if (major != kVersionMajor) r.fail_at(8, "unsupported event stream version " + std::to_string(major));
  uint32_t hsize = r.u32("header size");
  if (hsize < kFileHeaderSize || hsize % 8 || hsize > bytes.size())
    r.fail_at(12, "bad header size " + std::to_string(hsize));
  uint64_t declared = r.u64("record count");
  r.seek(hsize);

  std::vector<Event> events;
  uint64_t skip_count = 0, last_offset = 0;
  while (!r.at_end()) {
    size_t start = r.pos();
    r.need(kRecordHeaderSize, "record header");
    uint16_t type = r.u16("record type");
    r.u16("record flags");
    uint32_t size = r.u32("record size");
    if (size < kRecordHeaderSize || size % 8 || size > kMaxRecordSize)
      r.fail_at(start + 4, "bad record size " + std::to_string(size));
    if (size - 8 > r.remaining())
      r.fail_at(start + 4, "record size " + std::to_string(size) + " runs past the end of the file (truncated?)");
    Event e;
    e.trace_offset = r.u64("record trace offset");
    e.time = r.u64("record time");
    if (e.trace_offset < last_offset)
      r.fail_at(start + 8, "trace offset " + std::to_string(e.trace_offset) + " goes backwards (previous " +
                               std::to_string(last_offset) + ")");
    last_offset = e.trace_offset;
    ByteReader payload = r.sub(size - kRecordHeaderSize, "record payload");
    if (!known_type(type)) { ++skip_count; continue; }
    e.body = decode_payload(static_cast<Type>(type), payload);
    events.push_back(std::move(e));
  }
  if (declared != 0 && declared != events.size() + skip_count)
    throw FormatError(name, 16, "header says " + std::to_string(declared) + " records, file holds " +
                                    std::to_string(events.size() + skip_count) + " (truncated?)");
  if (skipped) *skipped = skip_count;
  return events;
}

std::vector<Event> read(const std::string& path, uint64_t* skipped) {
  return parse(read_file_bytes(path), path, skipped);
}

std::string describe(const Event& e) {
  char head[64];
  std::snprintf(head, sizeof head, "@%-10" PRIu64 " t=%-12" PRIu64 " ", e.trace_offset, e.time);
  std::string s = head;
  char buf[256];
  std::visit([&](const auto& b) {
    using T = std::decay_t<decltype(b)>;
    if constexpr (std::is_same_v<T, Process>)
      std::snprintf(buf, sizeof buf, "process  cr3=0x%" PRIx64 " vmcs=0x%" PRIx64 " nr=%d pid=%u code=[0x%" PRIx64 ",0x%" PRIx64 ") %s",
                    b.cr3, b.vmcs, b.non_root ? 1 : 0, b.pid, b.code_base, b.code_base + b.code_size, b.name.c_str());
    else if constexpr (std::is_same_v<T, Code>)
      std::snprintf(buf, sizeof buf, "code     0x%" PRIx64 " size=%zu kind=%s", b.host_addr, b.bytes.size(),
                    b.kind == CodeKind::Prologue ? "prologue" : "other");
    else if constexpr (std::is_same_v<T, TbLoad>)
      std::snprintf(buf, sizeof buf, "tb       0x%" PRIx64 " size=%zu pc=0x%" PRIx64 " cs_base=0x%" PRIx64 " flags=0x%x insns=%zu",
                    b.host_addr, b.code.size(), b.guest_pc, b.cs_base, b.flags, b.insns.size());
    else if constexpr (std::is_same_v<T, Link>)
      std::snprintf(buf, sizeof buf, "link     0x%" PRIx64 " slot %u (jmp at 0x%" PRIx64 ") -> 0x%" PRIx64, b.src_tb, b.slot, b.jmp_addr, b.target);
    else if constexpr (std::is_same_v<T, Unlink>)
      std::snprintf(buf, sizeof buf, "unlink   0x%" PRIx64 " slot %u (jmp at 0x%" PRIx64 ") -> 0x%" PRIx64, b.src_tb, b.slot, b.jmp_addr, b.target);
    else if constexpr (std::is_same_v<T, Invalidate>)
      std::snprintf(buf, sizeof buf, "invalidate 0x%" PRIx64, b.host_addr);
    else
      std::snprintf(buf, sizeof buf, "flush");
  }, e.body);
  return s + buf;
}

}  // namespace xtu::ev
