// A live session with the unit: what a DBT calls as it translates, links and flushes, while the
// PT bytes arrive; the driver keeps the ordering rule (every event applying at trace offset X is
// in the event ring before the trace bytes at X are published), lets the device run and collects
// the records. run_bundle() / run_program() are a session fed from a bundle.
//
//   Session s(dev, cfg);                        // identifies the unit, buffers, registers
//   s.code(0, prologue_addr, prologue_bytes);   // QEMU's prologue/epilogue
//   s.tb_translated(off, host, pc, insns, code);  s.tb_linked(off, src, slot, dst);  ...
//   s.trace(bytes, n);                          // PT bytes as they are written
//   s.step(records);                            // publish, run, drain (call as often as you like)
//   s.end_of_trace();  RunResult r = s.finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "xtu/driver/descriptor.hpp"
#include "xtu/driver/driver.hpp"
#include "xtu/formats/event_stream.hpp"

namespace xtu::driver {

struct RunResult {
  std::vector<Record> records;
  std::vector<std::pair<std::string, uint64_t>> counters;
  uint64_t cycles = 0;          // device cycles from START to the end
  uint32_t status = 0;
  bool done = false;            // STATUS.DONE: the trace ended and every record is written
  std::vector<std::string> violations;
  uint64_t pt_bytes = 0, descriptors = 0, events = 0, invalid_descriptors = 0;
  double seconds = 0;
  uint64_t counter(const std::string& name) const;
};

// DBT event stream records (docs/formats.md) into the unit's events and descriptors, one record at
// a time: a `tb` becomes a descriptor (built from its host code with Zydis) and a LOAD; `code`
// (the prologue/epilogue) two descriptors, its two entry points (the prologue, and the epilogue
// that zeroes %eax); a `flush` is a FLUSH followed by LOADs of those two at the same offset, so
// they stay valid. `process` records configure the context and give no event.
class EventTranslator {
public:
  explicit EventTranslator(const BuildLimits& limits = {}) : limits_(limits) {}
  // `place` puts a descriptor where the unit can read it and returns what its LOAD carries in `b`.
  template <class Place>
  void translate(const ev::Event& e, Place&& place, std::vector<UnitEvent>& out);
  uint64_t invalid_descriptors() const { return invalid_; }

private:
  struct Placed {
    uint64_t host, where;
    uint8_t nodes;
  };
  // The descriptor(s) one record needs, and the events after placing them.
  std::vector<Descriptor> build(const ev::Event& e);
  void events(const ev::Event& e, const std::vector<Placed>& placed, std::vector<UnitEvent>& out);

  BuildLimits limits_;
  hostcode::Prologue pro_{};
  bool have_pro_ = false, have_disp_ = false;
  int32_t pc_disp_ = 0;
  std::vector<Placed> code_entries_;  // the prologue and epilogue entry points, reloaded at a flush
  uint64_t invalid_ = 0;
};

template <class Place>
void EventTranslator::translate(const ev::Event& e, Place&& place, std::vector<UnitEvent>& out) {
  std::vector<Placed> placed;
  for (Descriptor& d : build(e)) {
    const uint64_t host = d.host;
    const auto nodes = uint8_t(d.nodes.size());
    placed.push_back(Placed{host, place(std::move(d)), nodes});
  }
  events(e, placed, out);
}

struct SessionConfig {
  Buffers buffers;
  uint64_t cr3 = 0, vmcs = 0;        // the traced context (PIP CR3; VMCS pointer when in a VM, else 0)
  bool ctx_filter = true;            // drop other contexts' control flow
  bool ctx_records = false;          // CONTEXT records
  bool time = false;                 // CTRL.TIME_EN: TSC in BLOCK records, TIME records
  uint64_t code_base = 0, code_size = 0;  // the code buffer (LINK targets are offsets from its base)
  // How the trace's timing packets convert to TSC ticks (the PT configuration).
  uint8_t mtc_freq = 0, nom_freq = 0;
  uint32_t cpuid15_eax = 0, cpuid15_ebx = 0;
  BuildLimits limits;
  size_t chunk = 64 * 1024;          // trace bytes published per step at most
  uint64_t step_cycles = 4096;       // cycles the device runs per step
  uint64_t max_idle_steps = 4096;    // steps without any progress before finish() gives up
};

class Session {
public:
  // Identifies the unit (throws if it is not an xtu of a known version), allocates the buffers and
  // programs the registers. The unit starts at the first step().
  Session(Device& dev, const SessionConfig& config);

  // DBT calls. `offset`: the PT bytes written when the change was made; it applies to the packets
  // from there on. Offsets never decrease and never fall below the bytes given to trace() so far
  // (std::invalid_argument otherwise).
  void code(uint64_t offset, uint64_t host_addr, const std::vector<uint8_t>& bytes);  // prologue/epilogue
  void tb_translated(uint64_t offset, uint64_t host_addr, uint64_t guest_pc, uint16_t guest_insns,
                     const std::vector<uint8_t>& code);
  void tb_linked(uint64_t offset, uint64_t src_tb, unsigned slot, uint64_t target);
  void tb_unlinked(uint64_t offset, uint64_t src_tb, unsigned slot);
  void tb_invalidated(uint64_t offset, uint64_t host_addr);
  void flush(uint64_t offset);
  // Any event stream record (docs/formats.md); a `process` record sets the context and the code
  // buffer, before the first step() only (std::logic_error after).
  void event(const ev::Event& e);
  // Lower level: a descriptor already built, loaded at `offset` (its pool address is returned); a
  // unit event as is (a LOAD's `b` must be a pool address).
  uint64_t load(uint64_t offset, const Descriptor& d);
  void push(const UnitEvent& e);

  void trace(const uint8_t* data, size_t n);  // PT bytes, appended
  void end_of_trace();                        // no more PT bytes: the unit ends after the last

  // Publish what the ordering rule allows (events first, then trace bytes up to the next event's
  // offset, at most `chunk`), run the device for `step_cycles`, drain new records into `out`.
  // Returns false once the session is over: DONE, an error stopped the unit, or no progress for
  // `max_idle_steps` steps.
  bool step(std::vector<Record>& out);
  // Step until the session is over; the result has every record since the start.
  RunResult finish();

  Driver& driver() { return drv_; }
  const DeviceInfo& info() const { return info_; }
  uint64_t events_queued() const { return events_total_; }
  uint64_t descriptors_placed() const { return descriptors_; }

private:
  void check_offset(uint64_t offset) const;
  void start_if_needed();

  Device& dev_;
  Driver drv_;
  SessionConfig cfg_;
  DeviceInfo info_;
  EventTranslator translator_;
  std::vector<UnitEvent> pending_;  // events not yet in the ring, in order
  size_t pending_head_ = 0;
  std::vector<uint8_t> trace_;      // trace bytes not yet published; trace_[0] is at offset trace_base_
  uint64_t trace_base_ = 0, trace_received_ = 0, last_offset_ = 0;
  bool started_ = false, ended_ = false, last_sent_ = false, over_ = false;
  uint64_t start_cycles_ = 0, idle_ = 0;
  uint64_t events_total_ = 0, descriptors_ = 0;
  uint32_t status_ = 0;
  std::vector<Record> records_;     // everything step() drained, for finish()
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace xtu::driver
