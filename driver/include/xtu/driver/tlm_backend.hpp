// The TLM backend: the same cycle-accurate model, seen through its TLM-2.0 wrapper
// (model::UnitTlm, docs/tlm.md) as a virtual platform would see it: register accesses are
// b_transport calls on its `regs` socket from an initiator thread, the unit's DMA reaches a
// TLM memory target (sim::TlmMemory: sparse, with the allocated regions as its windows; any
// access outside them is refused and reported by violations()). Register accesses and run()
// advance the simulation. SystemC elaborates once per process, so there is at most one
// TlmBackend (or SystemCBackend) per process; reset() starts a new job.
#pragma once

#include <memory>
#include <string>

#include "xtu/driver/device.hpp"

namespace xtu::model { class Unit; class UnitTlm; }
namespace xtu::sim { class TlmMemory; }
namespace tlm { class tlm_generic_payload; }
namespace sc_core { class sc_time; }

namespace xtu::driver {

struct TlmOptions {
  unsigned mem_read_latency = 20;   // the memory target's annotated delay on reads, in cycles
  unsigned mem_write_latency = 10;  // ... on writes
  unsigned cam_entries = 64;
  unsigned walk_width = 3;          // WALK_WIDTH: walker steps per cycle
  unsigned dec_width = 2;           // DEC_WIDTH: packets decoded per cycle
  bool sync_register_access = true;  // model::UnitTlmParams::sync_register_access
  uint64_t max_access_cycles = 100000;  // a register access not done by then throws
  std::string vcd;                  // VCD file to write (empty: none; XTU_VCD=<dir> also works)
};

class TlmBackend : public Device {
public:
  explicit TlmBackend(const TlmOptions& options = {});
  ~TlmBackend() override;

  std::string name() const override { return "tlm"; }
  uint32_t read32(uint32_t offset) override;
  void write32(uint32_t offset, uint32_t value) override;
  uint64_t alloc(uint64_t size, uint64_t align, const std::string& name, bool unit_reads, bool unit_writes) override;
  void free_all() override;
  void mem_write(uint64_t addr, const void* data, size_t n) override;
  void mem_read(uint64_t addr, void* data, size_t n) override;
  void run(uint64_t cycles) override;  // exactly this many rising edges of the unit's clock
  uint64_t cycles() const override;
  bool irq() const override;
  void reset() override;
  std::vector<std::string> violations() const override;

  // One raw transaction on the register socket, issued by the backend's initiator thread with
  // `delay` as its local time offset (from outside the simulation). On return `delay` is what
  // b_transport left in it; the initiator has already waited for it (the simulation time
  // advanced by the access and that delay). The payload's response status tells the outcome.
  void transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  // The wrapper, the model inside and the memory target, for statistics and tests.
  const model::UnitTlm& unit_tlm() const;
  const model::Unit& unit() const;
  sim::TlmMemory& memory();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xtu::driver
