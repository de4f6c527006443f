// The driver: what the DBT and the tools use to run the unit on any Device. It owns the buffers
// (trace ring, event ring, descriptor pool, hash table, output ring), publishes DBT events and
// trace bytes, starts the unit and drains its output records.
//
// Publishing rule (docs/architecture.md): every event with trace offset <= X is published before
// the trace byte at X, so the unit never holds a packet whose events are still missing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xtu/driver/descriptor.hpp"
#include "xtu/driver/device.hpp"

namespace xtu::driver {

struct Buffers {
  uint64_t trace_bytes = 1 << 20;   // trace ring
  uint32_t event_entries = 1024;    // event ring (power of two)
  uint64_t desc_bytes = 1 << 20;    // descriptor pool
  uint32_t ht_entries = 1 << 16;    // hash table (power of two)
  uint64_t out_bytes = 1 << 16;     // output ring (power of two)
};

// An event ring entry (docs/layouts.md, "event").
struct UnitEvent {
  uint64_t offset = 0;
  uint8_t kind = 0;  // 1 LOAD, 2 LINK, 3 UNLINK, 4 INVALIDATE, 5 FLUSH
  uint8_t slot = 0;
  uint8_t nodes = 0;  // LOAD: the descriptor's node count
  uint64_t a = 0, b = 0;
};

// An output ring record (docs/layouts.md, "record").
struct Record {
  uint8_t kind = 0;  // 1 BLOCK, 2 GAP, 3 CONTEXT, 4 TIME, 5 END
  uint64_t value = 0;
  uint8_t flags = 0;
  uint16_t icount = 0;
  uint32_t tsc = 0;
};

struct DeviceInfo {
  uint32_t id = 0, version = 0, params0 = 0, params1 = 0, params2 = 0;
  unsigned cam_entries = 0, max_nodes = 0;
};

class Driver {
public:
  explicit Driver(Device& dev);

  DeviceInfo identify();  // reads ID/VERSION/PARAMS; throws if this is not an xtu of a known version
  void setup(const Buffers& b);  // allocate the buffers and program their registers
  void set_context(uint64_t cr3, uint64_t vmcs, bool filter, bool records);
  void set_code(uint64_t base, uint64_t size);
  void set_time_config(uint8_t mtc_freq, uint8_t nom_freq, uint32_t cpuid15_eax, uint32_t cpuid15_ebx);

  uint64_t put_descriptor(const Descriptor& d);  // into the pool (never across 4 KiB); its address
  bool try_push_event(const UnitEvent& e);       // false while the event ring is full
  size_t push_trace(const uint8_t* data, size_t n);  // bytes accepted (ring space)
  void trace_last();                              // no more trace: the unit ends at TRACE_HEAD
  void start(bool time = false);
  size_t drain(std::vector<Record>& out);         // new output records
  uint32_t status();
  bool done();
  std::vector<std::pair<std::string, uint64_t>> counters();

  uint64_t trace_published() const { return trace_head_; }
  uint64_t events_published() const { return evq_head_; }
  Device& device() { return dev_; }

private:
  Device& dev_;
  Buffers buf_;
  uint64_t trace_base_ = 0, evq_base_ = 0, desc_base_ = 0, ht_base_ = 0, out_base_ = 0;
  uint64_t trace_head_ = 0, trace_tail_ = 0, evq_head_ = 0, evq_tail_ = 0, out_tail_ = 0;
  uint64_t desc_used_ = 0;
  uint32_t ctrl_ = 0;
};

}  // namespace xtu::driver
