// Errors raised by xtu's readers: every message names the file and the byte offset at fault.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace xtu {

// A malformed, truncated or inconsistent input file. what() reads "FILE:OFFSET: MESSAGE"
// (or "FILE:line N: MESSAGE" for line-oriented text formats).
class FormatError : public std::runtime_error {
public:
  FormatError(std::string file, uint64_t offset, const std::string& message)
      : std::runtime_error(file + ":" + std::to_string(offset) + ": " + message),
        file_(std::move(file)), offset_(offset), message_(message) {}

  // For text formats: the location is a 1-based line number.
  static FormatError at_line(std::string file, uint64_t line, const std::string& message) {
    return FormatError(std::move(file), line, message, LineTag{});
  }

  const std::string& file() const { return file_; }
  uint64_t offset() const { return offset_; }  // byte offset, or line number for at_line()
  const std::string& message() const { return message_; }

private:
  struct LineTag {};
  FormatError(std::string file, uint64_t line, const std::string& message, LineTag)
      : std::runtime_error(file + ":line " + std::to_string(line) + ": " + message),
        file_(std::move(file)), offset_(line), message_(message) {}

  std::string file_;
  uint64_t offset_;
  std::string message_;
};

}  // namespace xtu
