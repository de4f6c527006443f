// Bounds-checked little-endian reading of an in-memory file image. Every failure is a FormatError
// naming the file and the offset, so no reader can run past the end of its input.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "xtu/formats/error.hpp"

namespace xtu {

// Read a whole file into memory; throws std::runtime_error naming the file if it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

class ByteReader {
public:
  ByteReader(const uint8_t* data, size_t size, std::string name, uint64_t base_offset = 0)
      : data_(data), size_(size), name_(std::move(name)), base_(base_offset) {}
  ByteReader(const std::vector<uint8_t>& bytes, std::string name)
      : ByteReader(bytes.data(), bytes.size(), std::move(name)) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  bool at_end() const { return pos_ == size_; }
  uint64_t file_offset() const { return base_ + pos_; }  // offset of the next byte in the file
  const std::string& name() const { return name_; }
  const uint8_t* data() const { return data_; }

  void need(size_t n, const char* what) const {
    if (n > remaining())
      throw FormatError(name_, file_offset(),
                        std::string("truncated ") + what + ": need " + std::to_string(n) +
                            " bytes, " + std::to_string(remaining()) + " left");
  }
  void seek(size_t pos) {
    if (pos > size_) throw FormatError(name_, base_ + size_, "seek past end of data");
    pos_ = pos;
  }
  void skip(size_t n, const char* what) { need(n, what); pos_ += n; }

  template <typename T> T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));  // hosts are little-endian (x86-64, AArch64)
    pos_ += sizeof(T);
    return v;
  }
  uint8_t u8(const char* what) { return get<uint8_t>(what); }
  uint16_t u16(const char* what) { return get<uint16_t>(what); }
  uint32_t u32(const char* what) { return get<uint32_t>(what); }
  uint64_t u64(const char* what) { return get<uint64_t>(what); }

  std::vector<uint8_t> bytes(size_t n, const char* what) {
    need(n, what);
    std::vector<uint8_t> v(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return v;
  }
  // A NUL-terminated string that must end before `limit` bytes from here.
  std::string cstring(size_t limit, const char* what) {
    size_t max = limit < remaining() ? limit : remaining();
    const void* nul = std::memchr(data_ + pos_, 0, max);
    if (!nul) throw FormatError(name_, file_offset(), std::string("unterminated ") + what);
    size_t len = static_cast<const uint8_t*>(nul) - (data_ + pos_);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len + 1;
    return s;
  }
  // A reader over the next n bytes (for length-delimited records); advances past them.
  ByteReader sub(size_t n, const char* what) {
    need(n, what);
    ByteReader r(data_ + pos_, n, name_, base_ + pos_);
    pos_ += n;
    return r;
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw FormatError(name_, file_offset(), message);
  }
  [[noreturn]] void fail_at(size_t pos, const std::string& message) const {
    throw FormatError(name_, base_ + pos, message);
  }

private:
  const uint8_t* data_;
  size_t size_;
  std::string name_;
  uint64_t base_;
  size_t pos_ = 0;
};

}  // namespace xtu
