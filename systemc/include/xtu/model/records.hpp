// Items that travel between the unit's blocks (sc_signal payloads).
#pragma once

#include <cstdint>
#include <ostream>
#include <tuple>

#include "xtu/model/channel.hpp"
#include "xtu/model/flow_reference.hpp"
#include "xtu/model/walker_core.hpp"

namespace xtu::model {

// trace_reader -> pkt_decoder: up to 8 trace bytes. Byte i of the beat (i in [skip, skip+n)) is
// trace byte offset - skip + i.
struct TraceBeat {
  uint64_t data = 0;
  uint64_t offset = 0;  // trace offset of the first valid byte
  uint8_t skip = 0;     // valid bytes start at this byte of `data`
  uint8_t n = 0;        // valid bytes
  bool end = false;     // no more trace: the beat carries no bytes
  auto tie() const { return std::tie(data, offset, skip, n, end); }
  std::ostream& print(std::ostream& o) const { return o << "tbeat{" << offset << "," << int(n) << (end ? ",end" : "") << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& nm) const {
    sc_core::sc_trace(tf, data, nm + ".data");
    sc_core::sc_trace(tf, offset, nm + ".offset");
    sc_core::sc_trace(tf, n, nm + ".n");
  }
};
XTU_SIGNAL_TYPE(TraceBeat)

// pkt_decoder -> walker: the packets decoded in one cycle (up to DEC_WIDTH), in trace order.
constexpr unsigned kMaxDecWidth = 4;
inline auto packet_key(const WalkPacket& q) {
  return std::tie(q.kind, q.offset, q.ip, q.ip_valid, q.tnt_bits, q.tnt_count, q.cr3, q.nr, q.vmcs, q.mode64,
                  q.reason, q.time, q.time_valid);
}
struct PktItem {
  uint8_t n = 0;
  WalkPacket p[kMaxDecWidth];
  auto tie() const {
    return std::make_tuple(n, packet_key(p[0]), packet_key(p[1]), packet_key(p[2]), packet_key(p[3]));
  }
  std::ostream& print(std::ostream& o) const {
    o << "pkt{";
    for (unsigned i = 0; i < n; ++i) o << (i ? "," : "") << int(p[i].kind) << "@" << p[i].offset;
    return o << "}";
  }
  void trace(sc_core::sc_trace_file* tf, const std::string& nm) const {
    sc_core::sc_trace(tf, n, nm + ".n");
    sc_core::sc_trace(tf, p[0].offset, nm + ".offset");
    sc_core::sc_trace(tf, p[0].ip, nm + ".ip");
  }
};
XTU_SIGNAL_TYPE(PktItem)

// event_queue -> walker
struct EventItem {
  UnitEvent e;
  auto tie() const { return std::tie(e.offset, e.type, e.slot, e.nodes, e.a, e.b); }
  std::ostream& print(std::ostream& o) const { return o << "ev{" << int(e.type) << "@" << e.offset << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, e.offset, n + ".offset");
    sc_core::sc_trace(tf, e.type, n + ".type");
  }
};
XTU_SIGNAL_TYPE(EventItem)

// walker -> formatter
struct OutItem {
  WalkOut o;
  bool end = false;  // the trace ended: write the END record (value = trace bytes consumed)
  auto tie() const { return std::tie(o.kind, o.value, o.icount, o.flags, o.time, o.time_valid, end); }
  std::ostream& print(std::ostream& s) const { return s << "out{" << int(o.kind) << "," << std::hex << o.value << std::dec << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, o.value, n + ".value");
    sc_core::sc_trace(tf, end, n + ".end");
  }
};
XTU_SIGNAL_TYPE(OutItem)

// walker <-> tb_cache
struct CacheReq {
  enum class Op : uint8_t { Lookup = 0, Load = 1, Link = 2, Unlink = 3, Invalidate = 4, Flush = 5 };
  Op op = Op::Lookup;
  uint64_t addr = 0;    // host address (entry point / source TB)
  uint64_t desc = 0;    // Load: descriptor address
  uint64_t target = 0;  // Link: destination host address
  uint8_t slot = 0;
  uint8_t nodes = 0;    // Load: the descriptor's node count
  auto tie() const { return std::tie(op, addr, desc, target, slot, nodes); }
  std::ostream& print(std::ostream& o) const { return o << "creq{" << int(op) << "," << std::hex << addr << std::dec << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const { sc_core::sc_trace(tf, addr, n + ".addr"); }
};
XTU_SIGNAL_TYPE(CacheReq)

struct CacheResp {
  bool found = false;  // Lookup: the address is an entry point; its line is `line`
  uint16_t line = 0;
  auto tie() const { return std::tie(found, line); }
  std::ostream& print(std::ostream& o) const { return o << "cresp{" << found << "," << line << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, found, n + ".found");
    sc_core::sc_trace(tf, line, n + ".line");
  }
};
XTU_SIGNAL_TYPE(CacheResp)

}  // namespace xtu::model
