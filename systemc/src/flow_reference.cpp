#include "xtu/model/flow_reference.hpp"

#include <stdexcept>

namespace xtu::model {

FlowReference::FlowReference(const WalkerConfig& cfg, std::vector<UnitEvent> events, DescriptorSource descriptors)
    : walker_(cfg), events_(std::move(events)), descriptors_(std::move(descriptors)) {}

void FlowReference::apply_until(uint64_t offset) {
  while (next_event_ < events_.size() && events_[next_event_].offset <= offset) {
    const UnitEvent& e = events_[next_event_++];
    ++stats_.events;
    switch (e.type) {
      case 1: {  // LOAD
        const WalkLine* l = descriptors_(e.b);
        if (l && l->host == e.a) table_[e.a] = *l;
        break;
      }
      case 2:    // LINK
      case 3: {  // UNLINK
        auto it = table_.find(e.a);
        if (it == table_.end()) break;
        it->second.link[e.slot & 1] = e.type == 2 ? e.b : 0;
        walker_.update_links(e.a, it->second.link);
        break;
      }
      case 4:  // INVALIDATE
        table_.erase(e.a);
        if (walker_.has_line() && walker_.line().host == e.a) walker_.drop_line();
        break;
      case 5:  // FLUSH
        table_.clear();
        walker_.drop_line();
        break;
      default:
        break;
    }
  }
}

void FlowReference::drain(const WalkPacket* p) {
  for (uint64_t guard = 0; guard < (1u << 20); ++guard) {
    WalkerCore::Step st = walker_.step(p);
    if (walker_.has_output()) {
      WalkOut o = walker_.take_output();
      if (o.kind == WalkOut::Kind::Block) ++stats_.blocks;
      if (o.kind == WalkOut::Kind::Gap) ++stats_.gaps;
      out_.push_back(o);
    }
    if (st.consumed) p = nullptr;
    if (st.need_lookup) {
      ++stats_.lookups;
      auto it = table_.find(walker_.lookup_addr());
      if (it == table_.end()) ++stats_.lookup_misses;
      walker_.answer_lookup(it == table_.end() ? nullptr : &it->second);
      if (walker_.has_output()) out_.push_back(walker_.take_output()), ++stats_.gaps;
      continue;
    }
    if (st.need_packet) return;
    if (st.idle()) throw std::runtime_error("walker stalled: " + walker_.last_error());
  }
  throw std::runtime_error("walker made no progress (loop in the descriptors)");
}

void FlowReference::packet(const WalkPacket& p) {
  ++stats_.packets;
  apply_until(p.offset);
  drain(&p);
}

void FlowReference::finish() {
  drain(nullptr);
  stats_.nodes = walker_.nodes();
  stats_.overflows = walker_.overflows();
  stats_.decode_errors = walker_.decode_errors();
}

}  // namespace xtu::model
