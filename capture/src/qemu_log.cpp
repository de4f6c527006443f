// Streaming parser for QEMU -d in_asm,out_asm,exec[,nochain] logs.
//
// The file is read in large chunks and split into lines in place (string_view into the chunk
// buffer); the block objects handed to the visitor are reused from one block to the next, so
// the steady state allocates nothing per line.
#include "xtu/capture/qemu_log.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

#include "xtu/formats/error.hpp"

namespace xtu::qemu {
namespace {

using sv = std::string_view;

// Hex digit value, or 0xff.
struct HexTable {
  uint8_t v[256];
  constexpr HexTable() : v{} {
    for (int i = 0; i < 256; ++i) v[i] = 0xff;
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 6; ++i) {
      v['a' + i] = static_cast<uint8_t>(10 + i);
      v['A' + i] = static_cast<uint8_t>(10 + i);
    }
  }
};
constexpr HexTable kHex;

inline unsigned hexval(char c) { return kHex.v[static_cast<unsigned char>(c)]; }

bool starts_with(sv s, sv prefix) { return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix; }

sv trim(sv s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Cursor over one line; every parse step reports failure by returning false.
struct Cursor {
  sv s;
  size_t p = 0;

  bool eat(sv lit) {
    if (s.size() - p < lit.size() || s.compare(p, lit.size(), lit) != 0) return false;
    p += lit.size();
    return true;
  }
  bool eat(char c) {
    if (p >= s.size() || s[p] != c) return false;
    ++p;
    return true;
  }
  bool at_end() const { return p == s.size(); }
  // 1..max_digits hex digits.
  bool hex(uint64_t& out, unsigned max_digits = 16) {
    size_t start = p;
    uint64_t v = 0;
    while (p < s.size()) {
      unsigned d = hexval(s[p]);
      if (d > 15) break;
      if (p - start == max_digits) return false;
      v = (v << 4) | d;
      ++p;
    }
    if (p == start) return false;
    out = v;
    return true;
  }
  bool hex0x(uint64_t& out) { return eat("0x") && hex(out); }
  bool dec(uint64_t& out, uint64_t max = UINT64_MAX) {
    size_t start = p;
    uint64_t v = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      unsigned d = static_cast<unsigned>(s[p] - '0');
      if (v > (max - d) / 10) return false;
      v = v * 10 + d;
      ++p;
    }
    if (p == start) return false;
    out = v;
    return true;
  }
  sv rest() const { return s.substr(p); }
};

constexpr sv kSeparator = "----------------";
constexpr sv kIn = "IN:";
constexpr sv kOut = "OUT: [size=";
constexpr sv kPrologue = "PROLOGUE: [size=";
constexpr sv kTrace = "Trace ";
constexpr sv kLinking = "Linking TBs ";
constexpr sv kStopped = "Stopped execution of TB chain before ";
constexpr sv kGuestAddr = "  -- guest addr ";
constexpr sv kTbPrologue = " + tb prologue";
constexpr sv kSlowPaths = "  -- tb slow paths + alignment";
constexpr sv kData = "  data: [size=";

class Parser {
public:
  Parser(std::string name, QemuLogVisitor& v) : name_(std::move(name)), v_(v) {}

  void line(sv text) {
    ++lineno_;
    switch (state_) {
      case State::Top: top_line(text); break;
      case State::In: in_line(text); break;
      case State::Out:
      case State::Prologue: code_line(text); break;
    }
  }

  void finish() {
    if (state_ == State::Top) return;
    const char* what = state_ == State::In ? "IN" : state_ == State::Out ? "OUT" : "PROLOGUE";
    throw FormatError::at_line(name_, block_line_,
                               std::string(what) + " block cut off by the end of the file at line " +
                                   std::to_string(lineno_) +
                                   " (no blank line ends it; was QEMU killed?)");
  }

  uint64_t lineno() const { return lineno_; }
  const std::string& name() const { return name_; }

private:
  enum class State { Top, In, Out, Prologue };

  [[noreturn]] void fail(const std::string& msg) const {
    throw FormatError::at_line(name_, lineno_, msg);
  }
  [[noreturn]] void fail_line(const std::string& msg, sv text) const {
    constexpr size_t kShow = 120;
    std::string shown(text.substr(0, kShow));
    if (text.size() > kShow) shown += "...";
    fail(msg + ": '" + shown + "'");
  }

  static bool is_separator(sv text) {
    if (text.size() < kSeparator.size()) return false;
    for (char c : text)
      if (c != '-') return false;
    return true;
  }

  // Lines that can only start something at the top level: seeing one inside an IN block means
  // the blank line that ends the block is missing.
  static bool is_structural(sv text) {
    return starts_with(text, kIn) || starts_with(text, kOut) || starts_with(text, kPrologue) ||
           starts_with(text, kLinking) || starts_with(text, kStopped) || is_trace(text) ||
           is_separator(text) || starts_with(text, "  -- ") || starts_with(text, kData);
  }
  static bool is_trace(sv text) {
    return starts_with(text, kTrace) && text.size() > kTrace.size() && text[kTrace.size()] >= '0' &&
           text[kTrace.size()] <= '9';
  }

  // ---- top level -------------------------------------------------------------------------
  void top_line(sv text) {
    if (text.empty()) return;
    char c0 = text[0];
    if (c0 == '-' && is_separator(text)) return;
    if (c0 == 'T' && is_trace(text)) return trace_line(text);
    if (c0 == 'L' && starts_with(text, kLinking)) return link_line(text);
    if (c0 == 'I' && starts_with(text, kIn)) return begin_in(text);
    if (c0 == 'O' && starts_with(text, kOut)) return begin_code(text, State::Out);
    if (c0 == 'P' && starts_with(text, kPrologue)) return begin_code(text, State::Prologue);
    if (c0 == 'S' && starts_with(text, kStopped)) return stop_line(text);
    other_.assign(text.data(), text.size());
    v_.on_other(lineno_, other_);
  }

  // "Trace CPU: 0xHOST [CS_BASE/PC/FLAGS/CFLAGS] SYMBOL"
  void trace_line(sv text) {
    Cursor c{text};
    uint64_t cpu, host, cs_base, pc, flags, cflags;
    if (!(c.eat(kTrace) && c.dec(cpu, UINT32_MAX) && c.eat(": ") && c.hex0x(host) && c.eat(" [") &&
          c.hex(cs_base) && c.eat('/') && c.hex(pc) && c.eat('/') && c.hex(flags, 8) &&
          c.eat('/') && c.hex(cflags, 8) && c.eat(']') && (c.at_end() || c.eat(' '))))
      fail_line("malformed Trace line", text);
    trace_.line = lineno_;
    trace_.cpu = static_cast<unsigned>(cpu);
    trace_.host = host;
    trace_.cs_base = cs_base;
    trace_.pc = pc;
    trace_.flags = static_cast<uint32_t>(flags);
    trace_.cflags = static_cast<uint32_t>(cflags);
    sv sym = c.rest();
    trace_.symbol.assign(sym.data(), sym.size());
    v_.on_trace(trace_);
  }

  // "Linking TBs 0xSRC index N -> 0xDST"
  void link_line(sv text) {
    Cursor c{text};
    uint64_t src, slot, dst;
    if (!(c.eat(kLinking) && c.hex0x(src) && c.eat(" index ") && c.dec(slot, UINT32_MAX) &&
          c.eat(" -> ") && c.hex0x(dst) && c.at_end()))
      fail_line("malformed Linking line", text);
    LinkLine l;
    l.line = lineno_;
    l.src_host = src;
    l.slot = static_cast<unsigned>(slot);
    l.dst_host = dst;
    v_.on_link(l);
  }

  // "Stopped execution of TB chain before 0xHOST [PC] SYMBOL" (QEMU 10), also accepted with
  // the Trace line's "[CS_BASE/PC/FLAGS/CFLAGS]".
  void stop_line(sv text) {
    Cursor c{text};
    uint64_t host, a, pc;
    bool ok = c.eat(kStopped) && c.hex0x(host) && c.eat(" [") && c.hex(a);
    if (ok) {
      if (c.eat('/')) {
        uint64_t flags, cflags;
        ok = c.hex(pc) && c.eat('/') && c.hex(flags, 8) && c.eat('/') && c.hex(cflags, 8);
      } else {
        pc = a;
      }
    }
    ok = ok && c.eat(']') && (c.at_end() || c.eat(' '));
    if (!ok) fail_line("malformed 'Stopped execution of TB chain' line", text);
    ChainStopLine s;
    s.line = lineno_;
    s.host = host;
    s.pc = pc;
    v_.on_chain_stop(s);
  }

  // ---- IN blocks -------------------------------------------------------------------------
  void begin_in(sv text) {
    sv sym = text.substr(kIn.size());
    if (!sym.empty() && sym[0] == ' ') sym.remove_prefix(1);
    in_.line = lineno_;
    in_.symbol.assign(sym.data(), sym.size());
    in_.insns.clear();
    block_line_ = lineno_;
    state_ = State::In;
  }

  // "0xPC:  WORD  TEXT"
  void in_line(sv text) {
    if (text.empty()) {
      v_.on_in(in_);
      state_ = State::Top;
      return;
    }
    if (!starts_with(text, "0x")) {
      if (is_structural(text)) fail_line("IN block (line " + std::to_string(block_line_) +
                                             ") is not ended by a blank line",
                                         text);
      // e.g. the disassembler's own complaints; not part of the block
      other_.assign(text.data(), text.size());
      v_.on_other(lineno_, other_);
      return;
    }
    Cursor c{text};
    uint64_t pc, word;
    if (!(c.hex0x(pc) && c.eat(":  ") && c.hex(word, 8) && (c.at_end() || c.eat(' '))))
      fail_line("malformed guest instruction line in IN block", text);
    GuestInsn insn;
    insn.pc = pc;
    insn.word = static_cast<uint32_t>(word);
    sv t = trim(c.rest());
    insn.text.assign(t.data(), t.size());
    in_.insns.push_back(std::move(insn));
  }

  // ---- OUT / PROLOGUE blocks -------------------------------------------------------------
  void begin_code(sv text, State st) {
    Cursor c{text};
    uint64_t size;
    if (!(c.eat(st == State::Out ? kOut : kPrologue) && c.dec(size, UINT32_MAX) && c.eat(']') &&
          c.at_end()))
      fail_line(st == State::Out ? "malformed OUT header" : "malformed PROLOGUE header", text);
    block_line_ = lineno_;
    block_size_ = static_cast<uint32_t>(size);
    code_ = st == State::Out ? &out_.code : &prologue_.code;
    code_->clear();
    // Bounded so that an absurd [size=N] cannot make us allocate before any byte is seen.
    size_t want = static_cast<size_t>(size < (1u << 20) ? size : (1u << 20));
    if (code_->capacity() < want) code_->reserve(want);
    start_addr_ = 0;
    have_start_ = false;
    out_.marks.clear();
    pending_marks_ = 0;
    slow_path_pending_ = data_pending_ = false;
    slow_path_addr_ = data_addr_ = 0;
    data_size_ = 0;
    data_start_ = 0;
    in_data_ = false;
    state_ = st;
  }

  uint64_t next_addr() const { return start_addr_ + code_->size(); }

  // Called with the address of a byte line: resolves markers waiting for their first byte.
  void resolve_pending(uint64_t addr) {
    for (size_t i = out_.marks.size() - pending_marks_; i < out_.marks.size(); ++i)
      out_.marks[i].host_addr = addr;
    pending_marks_ = 0;
    if (slow_path_pending_) slow_path_addr_ = addr, slow_path_pending_ = false;
    if (data_pending_) data_addr_ = addr, data_start_ = code_->size(), data_pending_ = false;
  }

  void code_line(sv text) {
    if (text.empty()) return end_code_block();
    if (text[0] == '0') return byte_line(text);
    if (starts_with(text, kGuestAddr)) {
      if (state_ != State::Out) fail_line("guest address marker in PROLOGUE block", text);
      if (in_data_) fail_line("guest address marker after the data section", text);
      Cursor c{text};
      c.eat(kGuestAddr);
      HostMark m;
      if (!c.hex0x(m.guest_pc)) fail_line("malformed guest address marker", text);
      if (c.eat(kTbPrologue)) m.tb_prologue = true;
      if (!c.at_end()) fail_line("malformed guest address marker", text);
      m.host_addr = have_start_ ? next_addr() : 0;
      out_.marks.push_back(m);
      ++pending_marks_;
      return;
    }
    if (text == kSlowPaths) {
      if (state_ != State::Out) fail_line("slow-path marker in PROLOGUE block", text);
      if (slow_path_pending_ || slow_path_addr_ || in_data_)
        fail_line("unexpected slow-path marker", text);
      slow_path_pending_ = true;
      return;
    }
    if (starts_with(text, kData)) {
      Cursor c{text};
      c.eat(kData);
      uint64_t size;
      if (!(c.dec(size, UINT32_MAX) && c.eat(']') && c.at_end()))
        fail_line("malformed data section header", text);
      if (in_data_) fail_line("second data section in one block", text);
      in_data_ = true;
      data_pending_ = true;
      data_size_ = size;
      data_line_ = lineno_;
      return;
    }
    fail_line(std::string("unexpected line in ") + (state_ == State::Out ? "OUT" : "PROLOGUE") +
                  " block (line " + std::to_string(block_line_) + ")",
              text);
  }

  // "0xADDR:  hh hh hh   text", "0xADDR:  hh hh" or "0xADDR:  .quad  0xVALUE"
  void byte_line(sv text) {
    Cursor c{text};
    uint64_t addr;
    if (!(c.hex0x(addr) && c.eat(":  ")) || c.at_end())
      fail_line("malformed host code line", text);
    if (!have_start_) {
      start_addr_ = addr;
      have_start_ = true;
    } else if (addr != next_addr()) {
      fail_line("host code line at 0x" + to_hex(addr) + " does not continue the previous line (expected 0x" +
                    to_hex(next_addr()) + ")",
                text);
    }
    if (pending_marks_ || slow_path_pending_ || data_pending_) resolve_pending(addr);

    const char* p = text.data() + c.p;
    const char* end = text.data() + text.size();
    if (*p == '.') {
      Cursor d{text, c.p};
      unsigned width;
      if (d.eat(".quad")) width = 8;
      else if (d.eat(".long")) width = 4;
      else fail_line("unknown data directive", text);
      if (!d.eat(' ')) fail_line("malformed data line", text);
      while (d.eat(' ')) {}
      uint64_t value;
      if (!(d.eat("0x") && d.hex(value, width * 2) && trim(d.rest()).empty()))
        fail_line("malformed data line", text);
      for (unsigned i = 0; i < width; ++i) code_->push_back(static_cast<uint8_t>(value >> (8 * i)));
    } else {
      // Byte tokens: exactly two hex digits each, single spaces between, ended by two spaces
      // or the end of the line. The disassembly after them is not used.
      for (;;) {
        if (end - p < 2) fail_line("malformed host code bytes", text);
        unsigned hi = hexval(p[0]), lo = hexval(p[1]);
        if ((hi | lo) > 15) fail_line("malformed host code bytes", text);
        code_->push_back(static_cast<uint8_t>(hi << 4 | lo));
        p += 2;
        if (p == end) break;
        if (*p != ' ') fail_line("malformed host code bytes", text);
        ++p;
        if (p == end || *p == ' ') break;
      }
    }
    if (code_->size() > block_size_)
      fail("block has more bytes than its [size=" + std::to_string(block_size_) + "] (line " +
           std::to_string(block_line_) + ")");
  }

  void end_code_block() {
    const char* what = state_ == State::Out ? "OUT" : "PROLOGUE";
    if (code_->size() != block_size_)
      throw FormatError::at_line(name_, block_line_,
                                 std::string(what) + " block has " + std::to_string(code_->size()) +
                                     " bytes but its header says [size=" +
                                     std::to_string(block_size_) + "]");
    if (in_data_ && code_->size() - (data_pending_ ? code_->size() : data_start_) != data_size_)
      throw FormatError::at_line(name_, data_line_,
                                 "data section has " +
                                     std::to_string(code_->size() -
                                                    (data_pending_ ? code_->size() : data_start_)) +
                                     " bytes but its header says [size=" +
                                     std::to_string(data_size_) + "]");
    // Markers not followed by any byte point at the end of the block.
    if (pending_marks_ || slow_path_pending_ || data_pending_) resolve_pending(next_addr());
    if (state_ == State::Out) {
      out_.line = block_line_;
      out_.host_addr = start_addr_;
      out_.size = block_size_;
      out_.slow_path_addr = slow_path_addr_;
      out_.data_addr = data_addr_;
      v_.on_out(out_);
    } else {
      prologue_.line = block_line_;
      prologue_.host_addr = start_addr_;
      prologue_.size = block_size_;
      v_.on_prologue(prologue_);
    }
    state_ = State::Top;
  }

  static std::string to_hex(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
  }

  std::string name_;
  QemuLogVisitor& v_;
  uint64_t lineno_ = 0;
  State state_ = State::Top;
  uint64_t block_line_ = 0;

  // reused items
  InBlock in_;
  OutBlock out_;
  PrologueBlock prologue_;
  TraceLine trace_;
  std::string other_;

  // code block state
  std::vector<uint8_t>* code_ = nullptr;
  uint32_t block_size_ = 0;
  uint64_t start_addr_ = 0;
  bool have_start_ = false;
  size_t pending_marks_ = 0;
  bool slow_path_pending_ = false, data_pending_ = false, in_data_ = false;
  uint64_t slow_path_addr_ = 0, data_addr_ = 0, data_size_ = 0, data_line_ = 0;
  size_t data_start_ = 0;
};

void check_length(const Parser& parser, size_t len) {
  if (len > kMaxQemuLogLine)
    throw FormatError::at_line(parser.name(), parser.lineno() + 1,
                               "line longer than " + std::to_string(kMaxQemuLogLine) +
                                   " bytes; not a QEMU log?");
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

void parse_qemu_log_text(const std::string& text, const std::string& name, QemuLogVisitor& visitor) {
  Parser parser(name, visitor);
  sv all(text);
  size_t at = 0;
  while (at < all.size()) {
    size_t nl = all.find('\n', at);
    size_t len = (nl == sv::npos ? all.size() : nl) - at;
    check_length(parser, len);
    parser.line(all.substr(at, len));
    at = nl == sv::npos ? all.size() : nl + 1;
  }
  parser.finish();
}

void parse_qemu_log(const std::string& path, QemuLogVisitor& visitor) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw std::runtime_error(path + ": cannot open for reading: " + std::strerror(errno));
  Parser parser(path, visitor);

  // Chunked reading: lines are parsed in place; a partial line at the end of the buffer moves
  // to the front before the next read. The buffer holds a maximal line plus a read chunk.
  constexpr size_t kChunk = 4u << 20;
  const size_t cap = kMaxQemuLogLine + 1 + kChunk;
  std::unique_ptr<char[]> buf(new char[cap]);
  size_t have = 0;  // bytes in buf
  bool eof = false;
  while (!eof) {
    size_t want = cap - have;
    size_t got = std::fread(buf.get() + have, 1, want, f.get());
    if (got < want) {
      if (std::ferror(f.get())) throw std::runtime_error(path + ": read error");
      eof = true;
    }
    have += got;
    const char* p = buf.get();
    const char* end = p + have;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (!nl) break;
      check_length(parser, static_cast<size_t>(nl - p));
      parser.line(sv(p, static_cast<size_t>(nl - p)));
      p = nl + 1;
    }
    size_t rest = static_cast<size_t>(end - p);
    check_length(parser, rest);  // the unfinished line is already too long
    if (eof) {
      if (rest) parser.line(sv(p, rest));
      break;
    }
    std::memmove(buf.get(), p, rest);
    have = rest;
  }
  parser.finish();
}

}  // namespace xtu::qemu
