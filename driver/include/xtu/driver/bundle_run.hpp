// Running a trace bundle through the unit: the bundle's DBT event stream becomes descriptors and
// event ring entries, the trace is streamed in, the output drained. Works on any Device.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "xtu/driver/descriptor.hpp"
#include "xtu/driver/driver.hpp"
#include "xtu/driver/session.hpp"
#include "xtu/formats/event_stream.hpp"
#include "xtu/formats/guest_trace.hpp"

namespace xtu::driver {

// What the unit gets for one traced process: descriptors (LOAD events refer to them by index in
// `b` until they are placed in the pool) and the event ring entries in trace order.
struct UnitProgram {
  uint64_t cr3 = 0, vmcs = 0, code_base = 0, code_size = 0;
  std::vector<Descriptor> descriptors;
  std::vector<UnitEvent> events;
  uint64_t invalid_descriptors = 0;  // descriptors with an INVALID node
  // How the trace's timing packets convert to TSC ticks (from the bundle's PT configuration).
  uint8_t mtc_freq = 0, nom_freq = 0;
  uint32_t cpuid15_eax = 0, cpuid15_ebx = 0;
};

// Build it from a bundle's event stream (EventTranslator, session.hpp, record by record).
UnitProgram translate_events(const std::vector<ev::Event>& events, const BuildLimits& limits = {});

struct RunOptions {
  Buffers buffers;              // the descriptor pool grows to hold every descriptor of the program
  size_t chunk = 64 * 1024;     // trace bytes published per step
  uint64_t step_cycles = 4096;  // cycles run between driver steps
  bool ctx_records = false;
  bool time = false;            // CTRL.TIME_EN: TSC in BLOCK records, TIME records
  uint64_t max_idle_steps = 4096;  // steps without progress before giving up
};

// A Session (session.hpp) fed with the whole program and trace at once.
RunResult run_bundle(Device& dev, const std::string& bundle_dir, const RunOptions& options = {});
// The same on a trace and a program in memory.
RunResult run_program(Device& dev, const std::vector<uint8_t>& pt, UnitProgram prog, const RunOptions& options = {});

// The guest trace (text v1 records) of unit output records: BLOCK -> pc, GAP -> gap.
std::vector<GuestRecord> guest_records(const std::vector<Record>& records);
void write_guest_trace(const std::vector<Record>& records, GuestTraceWriter& w);

}  // namespace xtu::driver
