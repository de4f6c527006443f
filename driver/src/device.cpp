#include "xtu/driver/device.hpp"

#include <stdexcept>

namespace xtu::driver {

uint64_t Device::read64(uint32_t offset) {
  // A counter may carry into the high word between the two reads: read high, low, high again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    uint32_t hi = read32(offset + 4);
    uint32_t lo = read32(offset);
    if (read32(offset + 4) == hi) return (uint64_t(hi) << 32) | lo;
  }
  return (uint64_t(read32(offset + 4)) << 32) | read32(offset);
}

void Device::write64(uint32_t offset, uint64_t value) {
  write32(offset, uint32_t(value));
  write32(offset + 4, uint32_t(value >> 32));
}

uint64_t DmaArena::take(uint64_t size, uint64_t align) {
  if (align == 0 || (align & (align - 1))) throw std::invalid_argument("alignment must be a power of two");
  const uint64_t a = (next_ + align - 1) & ~(align - 1);
  next_ = a + size + 4096;
  return a;
}

}  // namespace xtu::driver
