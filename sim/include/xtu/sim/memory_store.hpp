// What the test bench's memory models share (AxiMemory at pin level, TlmMemory behind a TLM-2.0
// socket): the sparse byte store and the access windows the driver configures.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace xtu::sim {

// Sparse byte-addressed memory: 4 KiB pages allocated on first write, unwritten bytes read 0;
// multi-byte accessors are little-endian (the bus's byte lanes and the x86-64 host's order).
class SparseMemory {
public:
  static constexpr uint64_t kPageSize = 4096;

  uint8_t byte_at(uint64_t addr) const;
  void set_byte(uint64_t addr, uint8_t v);
  void write(uint64_t addr, const void* src, size_t n);
  void read(uint64_t addr, void* dst, size_t n) const;
  uint64_t read64(uint64_t addr) const;
  void write64(uint64_t addr, uint64_t value);
  uint32_t read32(uint64_t addr) const;
  void write32(uint64_t addr, uint32_t value);
  size_t allocated_pages() const { return pages_.size(); }

private:
  using Page = std::array<uint8_t, kPageSize>;
  std::unordered_map<uint64_t, std::unique_ptr<Page>> pages_;
};

// An address range the master may access.
struct Window {
  uint64_t base = 0;
  uint64_t size = 0;
  std::string name;
  bool read = true;
  bool write = true;
};

enum class ViolationKind {
  Outside,      // a byte outside every window
  ReadOnly,     // a write to a byte only read windows cover
  WriteOnly,    // a read of a byte only write windows cover
  Cross4K,      // a burst crossing a 4 KiB boundary (AXI protocol)
  Unsupported,  // AxSIZE wider than the bus, or a burst type other than INCR (burst refused)
  Protocol,     // other AXI protocol errors: AxLEN > 255, WLAST mismatch, WSTRB outside the beat
};

const char* to_string(ViolationKind k);

// Whether every byte of [addr, addr + n) lies in a window that allows the access; if not, the
// first byte that does not, and why.
struct WindowCheck {
  bool ok = true;
  ViolationKind kind = ViolationKind::Outside;  // Outside, ReadOnly or WriteOnly
  uint64_t addr = 0;                            // the first refused byte
  std::string name;                             // the window without the permission, if any
  std::string why;
};
WindowCheck check_windows(const std::vector<Window>& windows, uint64_t addr, uint64_t n, bool write);

}  // namespace xtu::sim
