#include "xtu/formats/guest_trace.hpp"

#include <cinttypes>
#include <cstring>

#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/hex.hpp"
#include "xtu/formats/error.hpp"

namespace xtu {

std::string to_text(const GuestRecord& r) {
  return r.kind == GuestRecord::Kind::Gap ? "gap" : hex(r.pc);
}

GuestTraceWriter::GuestTraceWriter(std::FILE* out) : out_(out) {
  std::fprintf(out_, "%s\n", kGuestTraceHeader);
}

void GuestTraceWriter::block(uint64_t pc) {
  std::fprintf(out_, "0x%" PRIx64 "\n", pc);
  last_gap_ = false;
  ++blocks_;
}

void GuestTraceWriter::gap() {
  if (last_gap_) return;
  std::fputs("gap\n", out_);
  last_gap_ = true;
  ++gaps_;
}

void GuestTraceWriter::comment(const std::string& text) { std::fprintf(out_, "# %s\n", text.c_str()); }

void GuestTraceWriter::flush() { std::fflush(out_); }

std::vector<GuestRecord> parse_guest_trace(const std::string& text, const std::string& name) {
  std::vector<GuestRecord> out;
  size_t pos = 0;
  uint64_t line_no = 0;
  bool header = false;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!header) {
      if (line != kGuestTraceHeader)
        throw FormatError::at_line(name, line_no, std::string("expected header '") + kGuestTraceHeader + "'");
      header = true;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    if (line == "gap") {
      out.push_back(GuestRecord::gap());
      continue;
    }
    bool ok = line.size() > 2 && line.size() <= 18 && line[0] == '0' && line[1] == 'x';
    uint64_t pc = 0;
    for (size_t i = 2; ok && i < line.size(); ++i) {
      char c = line[i];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) ok = false;
      pc = (pc << 4) | uint64_t(d < 0 ? 0 : d);
    }
    if (!ok) throw FormatError::at_line(name, line_no, "expected 0x<lower-case hex pc>, 'gap' or a # comment, got '" + line.substr(0, 40) + "'");
    out.push_back(GuestRecord::block(pc));
  }
  if (!header) throw FormatError::at_line(name, 1, "empty file: missing guest trace header");
  return out;
}

std::vector<GuestRecord> read_guest_trace(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_guest_trace(std::string(bytes.begin(), bytes.end()), path);
}

TraceDiff compare_guest_traces(const std::vector<GuestRecord>& expected, const std::vector<GuestRecord>& actual) {
  TraceDiff d;
  size_t n = std::min(expected.size(), actual.size());
  size_t i = 0;
  while (i < n && expected[i] == actual[i]) ++i;
  if (i == n && expected.size() == actual.size()) return d;
  d.equal = false;
  d.index = i;
  auto at = [](const std::vector<GuestRecord>& v, size_t k) { return k < v.size() ? to_text(v[k]) : std::string("<end>"); };
  d.message = "first difference at record " + std::to_string(i) + ": expected " + at(expected, i) + ", got " +
              at(actual, i) + " (expected " + std::to_string(expected.size()) + " records, got " +
              std::to_string(actual.size()) + ")";
  if (i > 0) d.message += "; previous record " + to_text(expected[i - 1]);
  return d;
}

}  // namespace xtu
