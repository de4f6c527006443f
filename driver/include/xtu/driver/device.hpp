// A device the driver talks to: the unit's registers, the memory the unit reaches by DMA, and a
// way to let time pass. Backends: the SystemC model (systemc_backend.hpp); the Verilated RTL and
// real hardware over UIO implement the same interface.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xtu::driver {

class Device {
public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;

  // Registers (byte offsets in the register space; docs/registers.md).
  virtual uint32_t read32(uint32_t offset) = 0;
  virtual void write32(uint32_t offset, uint32_t value) = 0;
  uint64_t read64(uint32_t offset);   // low word, then high word (re-read if the low word wrapped)
  void write64(uint32_t offset, uint64_t value);

  // DMA memory: a region the unit may read and/or write. Returns its device address. The
  // simulation backends refuse (and report) any unit access outside the allocated regions.
  virtual uint64_t alloc(uint64_t size, uint64_t align, const std::string& name, bool unit_reads,
                         bool unit_writes) = 0;
  virtual void free_all() = 0;
  virtual void mem_write(uint64_t addr, const void* data, size_t n) = 0;
  virtual void mem_read(uint64_t addr, void* data, size_t n) = 0;

  // Time.
  virtual void run(uint64_t cycles) = 0;     // let the unit run this many clock cycles
  virtual uint64_t cycles() const = 0;       // clock cycles since the device was opened
  virtual bool irq() const = 0;              // the interrupt line
  virtual void reset() = 0;                  // reset the unit (new job, nothing re-elaborated)

  // Problems seen by the backend (e.g. accesses outside the allocated regions).
  virtual std::vector<std::string> violations() const { return {}; }
};

// Where the simulation backends place DMA regions in their memory model: bump allocation from
// `base`, aligned, with a guard page between regions (an overrun lands outside every window).
class DmaArena {
public:
  explicit DmaArena(uint64_t base = 0x10000000ull) : base_(base), next_(base) {}
  uint64_t take(uint64_t size, uint64_t align);  // std::invalid_argument unless align is a power of two
  void clear() { next_ = base_; }

private:
  uint64_t base_, next_;
};

}  // namespace xtu::driver
