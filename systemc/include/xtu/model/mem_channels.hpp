// The blocks' memory requests, before the arbiter turns them into AXI4 transactions. A block
// that reads sends a MemRead {address, beats} and receives `beats` MemBeats in order; a block
// that writes sends a MemWrite header, then the beats, and receives one MemAck.
#pragma once

#include <cstdint>
#include <ostream>
#include <tuple>

#include "xtu/model/channel.hpp"

namespace xtu::model {

struct MemRead {
  uint64_t addr = 0;   // 8-byte aligned
  uint16_t beats = 1;  // 1..256, never crossing a 4 KiB boundary
  auto tie() const { return std::tie(addr, beats); }
  std::ostream& print(std::ostream& o) const { return o << "rd{" << std::hex << addr << std::dec << "," << beats << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, addr, n + ".addr");
    sc_core::sc_trace(tf, beats, n + ".beats");
  }
};
XTU_SIGNAL_TYPE(MemRead)

struct MemBeat {
  uint64_t data = 0;
  bool last = false;
  uint8_t resp = 0;  // AXI RRESP
  auto tie() const { return std::tie(data, last, resp); }
  std::ostream& print(std::ostream& o) const { return o << "beat{" << std::hex << data << std::dec << (last ? ",last" : "") << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, data, n + ".data");
    sc_core::sc_trace(tf, last, n + ".last");
  }
};
XTU_SIGNAL_TYPE(MemBeat)

struct MemWrite {
  uint64_t addr = 0;
  uint16_t beats = 1;
  auto tie() const { return std::tie(addr, beats); }
  std::ostream& print(std::ostream& o) const { return o << "wr{" << std::hex << addr << std::dec << "," << beats << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, addr, n + ".addr");
    sc_core::sc_trace(tf, beats, n + ".beats");
  }
};
XTU_SIGNAL_TYPE(MemWrite)

struct MemWBeat {
  uint64_t data = 0;
  uint8_t strb = 0xff;
  bool last = false;
  auto tie() const { return std::tie(data, strb, last); }
  std::ostream& print(std::ostream& o) const { return o << "wbeat{" << std::hex << data << "," << int(strb) << std::dec << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const {
    sc_core::sc_trace(tf, data, n + ".data");
    sc_core::sc_trace(tf, strb, n + ".strb");
  }
};
XTU_SIGNAL_TYPE(MemWBeat)

struct MemAck {
  uint8_t resp = 0;  // AXI BRESP
  auto tie() const { return std::tie(resp); }
  std::ostream& print(std::ostream& o) const { return o << "ack{" << int(resp) << "}"; }
  void trace(sc_core::sc_trace_file* tf, const std::string& n) const { sc_core::sc_trace(tf, resp, n + ".resp"); }
};
XTU_SIGNAL_TYPE(MemAck)

// Port bundles of a block that reads / writes memory.
struct MemReadPorts {
  explicit MemReadPorts(const std::string& n) : req(n + "_rreq"), beat(n + "_rbeat") {}
  ChanOut<MemRead> req;
  ChanIn<MemBeat> beat;
};
struct MemWritePorts {
  explicit MemWritePorts(const std::string& n) : req(n + "_wreq"), beat(n + "_wbeat"), ack(n + "_wack") {}
  ChanOut<MemWrite> req;
  ChanOut<MemWBeat> beat;
  ChanIn<MemAck> ack;
};
// The signals between a block and the arbiter.
struct MemReadChannels {
  explicit MemReadChannels(const std::string& n) : req(n + "_rreq"), beat(n + "_rbeat") {}
  Channel<MemRead> req;
  Channel<MemBeat> beat;
};
struct MemWriteChannels {
  explicit MemWriteChannels(const std::string& n) : req(n + "_wreq"), beat(n + "_wbeat"), ack(n + "_wack") {}
  Channel<MemWrite> req;
  Channel<MemWBeat> beat;
  Channel<MemAck> ack;
};

}  // namespace xtu::model
