// TlmMemory: host memory as a TLM-2.0 target (loosely timed, blocking transport), with the
// access windows of AxiMemory (axi_memory.hpp) for the unit's DMA behind UnitTlm's `mem`
// socket.
//
// b_transport: reads and writes of any length at any address, byte enables (any pattern
// length) honoured, streaming width equal to the length. Only bytes inside a window configured
// with allow() are accessible (a read needs a window with `read`, a write one with `write`;
// every byte of the transaction is checked, for writes regardless of the byte enables). A
// transaction with any byte outside is refused as a whole: nothing read or written,
// TLM_ADDRESS_ERROR_RESPONSE, and recorded as a Violation (one per transaction; with
// fail_on_violation it also raises SC_REPORT_ERROR("/xtu/sim/TlmMemory")). Other refusals:
// length 0 or streaming width < length (TLM_BURST_ERROR_RESPONSE), a byte enable pointer with
// length 0 (TLM_BYTE_ENABLE_ERROR_RESPONSE); TLM_IGNORE_COMMAND is answered OK.
// inject_error() makes accesses touching a range fail with a chosen status (not a violation):
// for tests of error paths.
//
// Timing: b_transport never waits; it adds read_latency / write_latency to the delay.
// transport_dbg: reads and writes without windows or timing. No DMI.
//
// Backdoor: write()/read() access the store directly (no windows, no timing). The store is
// sparse: 4 KiB pages allocated on first write; never-written memory reads as 0.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "xtu/sim/axi_memory.hpp"  // Window, Violation, ViolationKind

namespace xtu::sim {

struct TlmMemoryTiming {
  sc_core::sc_time read_latency{20, sc_core::SC_NS};  // added to the delay of every read
  sc_core::sc_time write_latency{10, sc_core::SC_NS};
};

// One transaction as the memory saw it (when logging is on).
struct TlmAccess {
  tlm::tlm_command command = tlm::TLM_IGNORE_COMMAND;
  uint64_t addr = 0;
  uint32_t length = 0, streaming_width = 0;
  std::vector<uint8_t> byte_enables;  // empty: no byte enable array
  sc_core::sc_time time;              // sc_time_stamp() of the call
  sc_core::sc_time delay_in;          // the delay the initiator passed
  tlm::tlm_response_status response = tlm::TLM_INCOMPLETE_RESPONSE;
};

struct TlmMemoryStats {
  uint64_t reads = 0, writes = 0;            // transactions performed
  uint64_t read_bytes = 0, write_bytes = 0;  // bytes transferred (enabled bytes for writes)
  uint64_t refused = 0, injected = 0;        // refused (violations, bad payloads); injected errors
};

class TlmMemory : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<TlmMemory, 64> socket;

  explicit TlmMemory(const sc_core::sc_module_name& name, const TlmMemoryTiming& timing = {});

  void set_timing(const TlmMemoryTiming& t) { timing_ = t; }
  const TlmMemoryTiming& timing() const { return timing_; }
  void set_fail_on_violation(bool on) { fail_on_violation_ = on; }
  // Violation::cycle is the call time in units of this period (default 1 ns).
  void set_cycle_period(const sc_core::sc_time& p) { period_ = p; }

  void allow(uint64_t base, uint64_t size, const std::string& name, bool read = true, bool write = true);
  void clear_windows() { windows_.clear(); }
  const std::vector<Window>& windows() const { return windows_; }
  const std::vector<Violation>& violations() const { return violations_; }
  void clear_violations() { violations_.clear(); }
  static std::string describe(const Violation& v);  // one line

  // Accesses of the given direction touching [base, base + size) fail with `status`.
  void inject_error(uint64_t base, uint64_t size, tlm::tlm_response_status status, bool read = true,
                    bool write = true);
  void clear_injected_errors() { injected_.clear(); }

  void set_logging(bool on) { logging_ = on; }
  const std::vector<TlmAccess>& log() const { return log_; }
  void clear_log() { log_.clear(); }
  const TlmMemoryStats& stats() const { return stats_; }

  // Backdoor (host side): no windows, no timing; little-endian.
  void write(uint64_t addr, const void* src, size_t n) { store_.write(addr, src, n); }
  void read(uint64_t addr, void* dst, size_t n) const { store_.read(addr, dst, n); }
  uint64_t read64(uint64_t addr) const { return store_.read64(addr); }
  void write64(uint64_t addr, uint64_t value) { store_.write64(addr, value); }
  size_t allocated_pages() const { return store_.allocated_pages(); }

  static constexpr uint64_t kPageSize = SparseMemory::kPageSize;
  static constexpr const char* kMsgType = "/xtu/sim/TlmMemory";

private:
  struct Injected {
    uint64_t base, size;
    tlm::tlm_response_status status;
    bool read, write;
  };
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& t);
  tlm::tlm_response_status serve(tlm::tlm_generic_payload& t);

  TlmMemoryTiming timing_;
  sc_core::sc_time period_{1, sc_core::SC_NS};
  bool fail_on_violation_ = true;
  bool logging_ = false;
  std::vector<Window> windows_;
  std::vector<Injected> injected_;
  std::vector<Violation> violations_;
  std::vector<TlmAccess> log_;
  SparseMemory store_;
  TlmMemoryStats stats_;
};

}  // namespace xtu::sim
