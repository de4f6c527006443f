// The unit's behaviour without time: the reference the cycle-accurate model must reproduce
// record for record. Packets in trace order; before a packet at offset p, every event with
// offset <= p is applied to the TB table (LOAD inserts, LINK/UNLINK set a slot, INVALIDATE
// removes, FLUSH empties); then the walker (walker_core.hpp) steps until it has used the packet,
// looking entry points up in the table.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include "xtu/model/walker_core.hpp"

namespace xtu::model {

// An event ring entry (docs/layouts.md, "event").
struct UnitEvent {
  uint64_t offset = 0;
  uint8_t type = 0;  // 1 LOAD, 2 LINK, 3 UNLINK, 4 INVALIDATE, 5 FLUSH
  uint8_t slot = 0;
  uint8_t nodes = 0;  // LOAD: the descriptor's node count
  uint64_t a = 0, b = 0;
};

struct FlowStats {
  uint64_t packets = 0, events = 0, lookups = 0, lookup_misses = 0, nodes = 0;
  uint64_t blocks = 0, gaps = 0, overflows = 0, decode_errors = 0;
};

class FlowReference {
public:
  // `descriptor(addr)` returns the line a LOAD's descriptor address describes (links cleared),
  // or nullptr if the address holds no valid descriptor.
  using DescriptorSource = std::function<const WalkLine*(uint64_t desc_addr)>;

  FlowReference(const WalkerConfig& cfg, std::vector<UnitEvent> events, DescriptorSource descriptors);

  void packet(const WalkPacket& p);  // process one packet
  void finish();                     // end of trace
  const std::vector<WalkOut>& output() const { return out_; }
  const FlowStats& stats() const { return stats_; }
  std::string last_error() const { return walker_.last_error(); }

private:
  void apply_until(uint64_t offset);
  void drain(const WalkPacket* p);

  WalkerCore walker_;
  std::vector<UnitEvent> events_;
  size_t next_event_ = 0;
  DescriptorSource descriptors_;
  std::unordered_map<uint64_t, WalkLine> table_;  // entry host address -> line (with link state)
  std::vector<WalkOut> out_;
  FlowStats stats_;
};

}  // namespace xtu::model
