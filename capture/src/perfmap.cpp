// perf map reader: "START SIZE NAME" lines, START and SIZE in hex (no 0x), NAME to end of line.
#include "xtu/capture/perfmap.hpp"

#include <fstream>
#include <sstream>
#include <string_view>

#include "xtu/formats/error.hpp"

namespace xtu::qemu {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Parse one hex field starting at `pos`; advances `pos` past it.
uint64_t hex_field(std::string_view line, size_t& pos, const std::string& name, uint64_t lineno,
                   const char* what) {
  size_t start = pos;
  uint64_t v = 0;
  while (pos < line.size() && !is_blank(line[pos])) {
    char c = line[pos];
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else
      throw FormatError::at_line(name, lineno,
                                 std::string("bad ") + what + " '" +
                                     std::string(line.substr(start, pos - start + 1)) +
                                     "...': not a hex number");
    if (v >> 60)
      throw FormatError::at_line(name, lineno,
                                 std::string(what) + " does not fit in 64 bits");
    v = (v << 4) | d;
    ++pos;
  }
  if (pos == start)
    throw FormatError::at_line(name, lineno, std::string("missing ") + what);
  return v;
}

void skip_blanks(std::string_view line, size_t& pos) {
  while (pos < line.size() && is_blank(line[pos])) ++pos;
}

}  // namespace

std::vector<PerfMapEntry> parse_perfmap(const std::string& text, const std::string& name) {
  std::vector<PerfMapEntry> out;
  std::string_view all(text);
  uint64_t lineno = 0;
  size_t at = 0;
  while (at < all.size()) {
    size_t nl = all.find('\n', at);
    std::string_view line = all.substr(at, nl == std::string_view::npos ? std::string_view::npos
                                                                        : nl - at);
    at = nl == std::string_view::npos ? all.size() : nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t pos = 0;
    skip_blanks(line, pos);
    if (pos == line.size()) continue;  // blank line

    PerfMapEntry e;
    e.line = lineno;
    e.start = hex_field(line, pos, name, lineno, "start address");
    skip_blanks(line, pos);
    e.size = hex_field(line, pos, name, lineno, "size");
    if (e.start + e.size < e.start)
      throw FormatError::at_line(name, lineno, "start + size overflows 64 bits");
    skip_blanks(line, pos);
    if (pos == line.size()) throw FormatError::at_line(name, lineno, "missing symbol name");
    e.name.assign(line.substr(pos));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<PerfMapEntry> read_perfmap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": read error");
  return parse_perfmap(ss.str(), path);
}

}  // namespace xtu::qemu
