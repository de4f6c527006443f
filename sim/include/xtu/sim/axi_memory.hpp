// AxiMemory: the test bench's host memory behind the unit's AXI4 master port, pin level.
//
// Protocol (AXI4, 64-bit data bus, xtu::model::AxiSlavePorts):
//   - INCR bursts of 1..256 beats; AxSIZE 0..3 (1..8 bytes per beat) with the AXI byte lanes:
//     beat 0 covers [addr, align(addr, 2^size) + 2^size), beat k > 0 covers
//     [align(addr, 2^size) + k*2^size, +2^size); byte b travels on lane b % 8. Unaligned start
//     addresses are allowed. AxSIZE > 3 (wider than the bus) and FIXED/WRAP bursts are not
//     supported: the whole burst is answered SLVERR (reads return 0) and recorded as a
//     violation. A burst crossing a 4 KiB boundary is an AXI protocol violation: it is recorded
//     (its beats are still performed where the windows allow them).
//   - Reads and writes use independent channels; up to `max_outstanding` reads and, separately,
//     `max_outstanding` writes can be outstanding (accepted address, response not yet taken).
//   - W data belongs to the accepted AW bursts in AW order (AXI4 has no WID). WREADY is only
//     raised once the burst's AW has been accepted (allowed: a slave may wait for AWVALID), so
//     the first W beat moves one cycle after the AW handshake at the earliest. WSTRB selects the
//     bytes written; strobes outside the beat's bytes are a recorded protocol violation (those
//     lanes are ignored). A WLAST that disagrees with AWLEN is recorded too (AWLEN counts).
//   - Response order (IdOrder): InOrder (default) answers every read burst, and every write
//     burst, in the order its address was accepted, whatever the IDs; the other modes keep the
//     AXI rule (in order per ID) and randomly reorder whole bursts of different IDs (Reorder) or
//     interleave their R beats beat by beat (Interleave), to check a master's ID handling.
//
// Windows: only bytes inside a window configured with allow() are accessible (a read needs a
// window with `read`, a write one with `write`; overlapping windows combine). Every byte a beat
// addresses is checked (for writes regardless of WSTRB). A beat with any byte outside is
// refused: not performed, answered SLVERR (read data 0; a write burst with a refused beat gets
// BRESP SLVERR), and recorded as a Violation (consecutive refused beats of one burst for the
// same reason are merged into one record). With fail_on_violation (the default) every recorded
// violation raises SC_REPORT_ERROR("/xtu/sim/AxiMemory") at once, which ends sc_start() with an
// sc_core::sc_report exception: a test fails on the first bad access.
//
// Timing (cycle = rising edge of clk_i; a handshake happens at an edge where VALID and READY
// are both high; every output is registered, so a decision made at edge n shows at edge n+1):
//   - Address channels: ARREADY/AWREADY are high whenever fewer than `max_outstanding` bursts
//     of that direction are outstanding (and no random stall).
//   - Read: for a burst whose AR handshake is at edge t, beat k can move at edge
//     t + read_latency + k * beat_interval at the earliest. Uncontended, with RREADY high:
//         R beat k at   t + read_latency + k * beat_interval     (RLAST: k = len)
//     so a burst of N beats finishes read_latency + (N-1) * beat_interval cycles after its AR.
//     Later bursts queue behind earlier ones: their first beat moves at
//     max(t' + read_latency, previous beat + beat_interval).
//   - Write: W beat k moves at t_aw + 1 + k * beat_interval at the earliest (t_aw: AW
//     handshake; the +1 is WREADY waiting for the accepted AW), and B at
//         t_lastW + write_latency                                  (t_lastW: last W handshake)
//     Uncontended, with WVALID and BREADY high: B at t_aw + 1 + (N-1)*beat_interval + write_latency.
//   - Bandwidth: at most one beat every `beat_interval` cycles: separately on R and on W
//     (shared_bandwidth = false, the default: two independent data paths), or in total over R
//     and W (shared_bandwidth = true: one data path; when both want the same slot they
//     alternate). A beat at edge n makes the channel's next slot max(slot, n) + beat_interval,
//     so the long-run rate holds even when a held RVALID and a W beat move at the same edge.
//   - read_latency and write_latency must be >= 1 (registered outputs), beat_interval >= 1.
//   - stall_probability p > 0: at every edge each READY the memory drives (AR, AW, W) is
//     dropped, and each new RVALID/BVALID is delayed, with probability p, from a generator
//     seeded with `seed` (deterministic). p = 0 never touches the generator: exact timing above.
//
// Backdoor: write()/read()/read64()/write64() access the store directly (no windows, no
// timing) for the host side: the driver fills buffers and reads results. The store is sparse:
// 4 KiB pages are allocated on first write; never-written memory reads as 0. Reset (rst_ni low
// at an edge) drops every burst in flight and keeps the memory, windows, violations and stats.
#pragma once

#include <systemc>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "xtu/model/axi.hpp"
#include "xtu/sim/memory_store.hpp"

namespace xtu::sim {

// How responses of different IDs may be ordered (always in order within one ID).
enum class IdOrder {
  InOrder,     // every burst answered in address-acceptance order (no reordering at all)
  Reorder,     // whole bursts of different IDs in random order; R beats of a burst contiguous
  Interleave,  // R beats of bursts of different IDs interleaved at random (AXI4 allows it)
};

struct MemoryTiming {
  uint32_t read_latency = 4;       // cycles from the AR handshake to the first R beat (>= 1)
  uint32_t write_latency = 2;      // cycles from the last W beat to B (>= 1)
  uint32_t beat_interval = 1;      // a data beat every beat_interval cycles (>= 1)
  bool shared_bandwidth = false;   // true: R and W beats share one data path
  uint32_t max_outstanding = 8;    // per direction (>= 1)
  double stall_probability = 0.0;  // random READY drops / VALID delays, 0 <= p < 1
  uint64_t seed = 1;               // for the stalls and the ID reordering
  IdOrder id_order = IdOrder::InOrder;
};

struct Violation {
  ViolationKind kind = ViolationKind::Outside;
  uint64_t addr = 0;    // first refused byte (window violations) or the burst's address
  uint64_t bytes = 0;   // bytes refused (merged over consecutive beats) or the burst's bytes
  bool write = false;
  uint32_t id = 0;      // AXI ID of the burst
  std::string name;     // the window involved (ReadOnly/WriteOnly), else empty
  std::string why;      // human-readable reason
  uint64_t cycle = 0;   // edge of the handshake (beat, or AR/AW for burst-level violations)

  std::string to_string() const;
};

struct MemoryStats {
  uint64_t read_beats = 0, write_beats = 0;            // data handshakes (refused ones included)
  uint64_t read_transactions = 0, write_transactions = 0;  // AR / AW handshakes
  uint64_t refused_beats = 0;                          // beats answered SLVERR
  uint64_t busy_cycles = 0;          // edges after which at least one burst was outstanding
  uint32_t max_outstanding_reads = 0, max_outstanding_writes = 0;  // highest seen
};

class AxiMemory : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i;
  sc_core::sc_in<bool> rst_ni;  // synchronous, active low
  model::AxiSlavePorts axi;

  SC_HAS_PROCESS(AxiMemory);
  explicit AxiMemory(const sc_core::sc_module_name& name, const MemoryTiming& timing = {});

  // Timing: applies to decisions from the next edge on. Throws std::invalid_argument.
  void set_timing(const MemoryTiming& timing);
  const MemoryTiming& timing() const { return timing_; }
  void set_fail_on_violation(bool on) { fail_on_violation_ = on; }
  bool fail_on_violation() const { return fail_on_violation_; }

  // Windows (checked at every beat, so they may change between sc_start() calls).
  void allow(uint64_t base, uint64_t size, const std::string& name, bool read = true, bool write = true);
  void clear_windows() { windows_.clear(); }
  const std::vector<Window>& windows() const { return windows_; }

  const std::vector<Violation>& violations() const { return violations_; }
  void clear_violations() { violations_.clear(); }

  // Backdoor (host side): no windows, no timing; little-endian.
  void write(uint64_t addr, const void* src, size_t n) { store_.write(addr, src, n); }
  void read(uint64_t addr, void* dst, size_t n) const { store_.read(addr, dst, n); }
  uint64_t read64(uint64_t addr) const { return store_.read64(addr); }
  void write64(uint64_t addr, uint64_t value) { store_.write64(addr, value); }
  uint32_t read32(uint64_t addr) const { return store_.read32(addr); }
  void write32(uint64_t addr, uint32_t value) { store_.write32(addr, value); }
  size_t allocated_pages() const { return store_.allocated_pages(); }

  const MemoryStats& stats() const { return stats_; }
  uint64_t cycle() const { return cycle_; }  // rising edges of clk_i seen so far
  size_t outstanding_reads() const { return reads_.size(); }
  size_t outstanding_writes() const { return writes_.size(); }
  bool idle() const { return reads_.empty() && writes_.empty(); }

  static constexpr uint64_t kPageSize = SparseMemory::kPageSize;
  static constexpr const char* kMsgType = "/xtu/sim/AxiMemory";

private:
  struct ReadBurst {
    uint64_t seq = 0;
    uint32_t id = 0;
    uint64_t addr = 0;
    uint32_t beats = 1, size = 3;
    uint32_t done = 0;          // beats handed over
    uint64_t ready_cycle = 0;   // earliest edge for the first beat
    bool rejected = false;      // Unsupported: every beat SLVERR, not performed
    size_t merge = SIZE_MAX;    // index of the violation consecutive refused beats extend
  };
  struct WriteBurst {
    uint64_t seq = 0;
    uint32_t id = 0;
    uint64_t addr = 0;
    uint32_t beats = 1, size = 3;
    uint32_t received = 0;      // W beats taken
    bool data_done = false;
    uint64_t b_cycle = 0;       // earliest edge for B (once data_done)
    bool rejected = false;
    bool error = false;         // some beat refused: BRESP SLVERR
    size_t merge = SIZE_MAX;
  };
  // The R beat on the bus while RVALID is high.
  struct RBeat {
    uint64_t seq = 0;
    bool refused = false;
    ViolationKind kind = ViolationKind::Outside;
    std::string name, why;
    uint64_t addr = 0, bytes = 0;
  };
  struct Access {  // outcome of a window check
    bool ok = true;
    ViolationKind kind = ViolationKind::Outside;
    uint64_t addr = 0;  // first refused byte
    std::string name, why;
  };
  void on_clock();
  void reset_state();
  bool check_burst(uint64_t now, bool write, uint32_t id, uint64_t addr, uint32_t len, uint32_t size,
                   uint32_t burst);
  void accept_read(uint64_t now);
  void accept_write(uint64_t now);
  void take_w_beat(uint64_t now);
  void finish_r_beat(uint64_t now);
  // Chooses the burst whose next beat goes on R at edge `t` (nullptr: none eligible).
  ReadBurst* pick_read(uint64_t t);
  WriteBurst* pick_b(uint64_t t);
  void present_r_beat(ReadBurst& rb);
  Access check(uint64_t addr, uint64_t n, bool write) const;
  // Records v; extends the violation at *merge instead when v continues it.
  void record(Violation v, size_t* merge = nullptr);
  bool roll_stall();

  MemoryTiming timing_;
  bool fail_on_violation_ = true;
  std::vector<Window> windows_;
  std::vector<Violation> violations_;
  SparseMemory store_;
  MemoryStats stats_;
  std::mt19937_64 rng_;

  uint64_t cycle_ = 0, seq_ = 0;
  std::deque<ReadBurst> reads_;    // accepted, not fully answered (acceptance order)
  std::deque<WriteBurst> writes_;  // accepted, B not yet taken (acceptance order)
  RBeat r_out_;
  uint64_t b_out_seq_ = 0;
  bool r_in_burst_ = false;        // Reorder: a burst is partly answered; finish it first
  uint64_t r_burst_seq_ = 0;
  uint64_t r_slot_ = 0, w_slot_ = 0;  // earliest edge of the next beat (shared: r_slot_ only)
  bool prefer_w_ = false;          // shared bandwidth: who wins the next contested slot
};

}  // namespace xtu::sim
