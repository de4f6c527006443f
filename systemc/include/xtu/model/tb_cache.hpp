// tb_cache block (docs/architecture.md): CAM_ENTRIES lines, each an entry point (key), its TB
// descriptor (header and up to MAX_NODES nodes, in node RAM) and its two link targets; the hash
// table in memory behind it; and the engine that refills lines on a miss and applies DBT events
// to the table (LOAD, LINK, UNLINK, INVALIDATE, FLUSH).
//
// Read port for the walker: cam_lookup() is the CAM's compare (one cycle); line() reads node RAM.
// Both are used only while the engine is idle (the walker has one request outstanding at most).
#pragma once

#include <systemc>

#include <unordered_map>
#include <vector>

#include "xtu/model/mem_channels.hpp"
#include "xtu/model/records.hpp"
#include "xtu/model/unit_state.hpp"

namespace xtu::model {

class TbCache : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni, start_i;
  ChanIn<CacheReq> req;
  ChanOut<CacheResp> resp;
  MemReadPorts mem_rd;
  MemWritePorts mem_wr;
  sc_core::sc_out<uint32_t> error_o;  // ErrorBits

  TbCache(sc_core::sc_module_name n, const UnitConfig& cfg, UnitCounters& counters, unsigned entries,
          unsigned max_nodes, unsigned max_probe);

  int cam_lookup(uint64_t addr) const;  // line index, or -1
  void touch(unsigned line);            // a hit: update the replacement state
  const WalkLine& line(unsigned idx) const { return lines_[idx]; }
  unsigned entries() const { return unsigned(lines_.size()); }
  uint32_t epoch() const { return epoch_; }

  // The hash table index of a key (shared with the driver's checks and the tests).
  static uint64_t hash_index(uint64_t key, uint32_t entries);

private:
  enum class State : uint8_t {
    Idle, Probe, ProbeWait, HeaderWait, NodesWait, WriteEntry, WriteWait, Respond, Error
  };
  void seq();
  void reset_state();
  void start_probe(const CacheReq& r);
  void next_probe();
  void on_entry(const uint8_t* e);  // a hash-table entry has been read
  void fill_line();
  void drop_key(uint64_t key);
  unsigned victim();
  void fail(uint32_t bits);
  bool in_window(uint64_t addr, uint64_t bytes, uint64_t base, uint64_t size) const;

  const UnitConfig& cfg_;
  UnitCounters& cnt_;
  unsigned max_nodes_, max_probe_;
  std::vector<WalkLine> lines_;
  std::vector<bool> valid_;
  std::unordered_map<uint64_t, unsigned> cam_;  // key -> line (the CAM's compare, modelled)
  std::vector<uint8_t> plru_;                   // tree pseudo-LRU bits
  uint32_t epoch_ = 1;

  State st_ = State::Idle;
  CacheReq cur_;
  uint64_t probe_idx_ = 0;
  unsigned probes_ = 0;
  int64_t free_idx_ = -1;  // first deleted/empty/stale entry seen (LOAD)
  std::vector<uint8_t> buf_;   // beats being received
  unsigned beats_expected_ = 0;
  // entry found
  uint64_t entry_addr_ = 0;
  uint64_t found_desc_ = 0;
  unsigned found_nodes_ = 0;
  uint32_t found_link_[2] = {0, 0};
  // descriptor being read
  uint8_t hdr_[32];
  // writes
  std::vector<MemWBeat> wbeats_;
  size_t wnext_ = 0;
  bool wreq_sent_ = false;
  // output registers
  bool resp_valid_ = false, rreq_valid_ = false, wreq_valid_ = false, wbeat_valid_ = false;
  CacheResp resp_reg_;
  MemRead rreq_reg_;
  MemWrite wreq_reg_;
  MemWBeat wbeat_reg_;
  uint32_t error_ = 0;
};

}  // namespace xtu::model
