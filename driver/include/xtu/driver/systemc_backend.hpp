// The SystemC backend: the cycle-accurate model (systemc/) in a test bench (sim/): a clock and
// reset, the AXI4 memory model behind the unit's master port, and an AXI4-Lite master on its
// register port. Register accesses and run() advance the simulation. SystemC elaborates once per
// process, so there is at most one SystemCBackend per process; reset() starts a new job.
#pragma once

#include <memory>
#include <string>

#include "xtu/driver/device.hpp"

namespace xtu::model { struct UnitParams; struct UnitCounters; class Unit; }
namespace xtu::sim { struct MemoryTiming; }

namespace xtu::driver {

struct SystemCOptions {
  unsigned mem_read_latency = 20;   // cycles from AR to the first R beat
  unsigned mem_write_latency = 10;  // cycles from the last W beat to B
  unsigned mem_beat_interval = 1;   // cycles per data beat (1 = 8 bytes per cycle)
  unsigned cam_entries = 64;
  unsigned walk_width = 3;          // WALK_WIDTH: walker steps per cycle
  unsigned dec_width = 2;           // DEC_WIDTH: packets decoded per cycle
  std::string vcd;                  // VCD file to write (empty: none; XTU_VCD=<dir> also works)
};

class SystemCBackend : public Device {
public:
  explicit SystemCBackend(const SystemCOptions& options = {});
  ~SystemCBackend() override;

  std::string name() const override { return "systemc"; }
  uint32_t read32(uint32_t offset) override;
  void write32(uint32_t offset, uint32_t value) override;
  uint64_t alloc(uint64_t size, uint64_t align, const std::string& name, bool unit_reads, bool unit_writes) override;
  void free_all() override;
  void mem_write(uint64_t addr, const void* data, size_t n) override;
  void mem_read(uint64_t addr, void* data, size_t n) override;
  void run(uint64_t cycles) override;
  uint64_t cycles() const override;
  bool irq() const override;
  void reset() override;
  std::vector<std::string> violations() const override;

  // The model itself, for statistics the registers do not carry.
  const model::Unit& unit() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xtu::driver
