// axi_arbiter: the blocks' memory requests onto the unit's single AXI4 master port.
//
// Reads: each client has a one-entry request buffer; a round-robin pointer issues one AR per cycle
// with ARID = client index; R beats are routed back by RID into a per-client beat FIFO (RREADY is
// high when every such FIFO can take a beat). Writes: one-entry AW buffer and a W beat FIFO per
// client; AWs are issued round-robin and their order is queued so that W data follows AW order
// (AXI4 has no write interleaving); B responses go back by BID.
#pragma once

#include <systemc>

#include <deque>
#include <memory>
#include <vector>

#include "xtu/model/axi.hpp"
#include "xtu/model/mem_channels.hpp"

namespace xtu::model {

struct ArbiterStats {
  uint64_t reads = 0, read_beats = 0, writes = 0, write_beats = 0, read_errors = 0, write_errors = 0;
};

class AxiArbiter : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni;
  AxiMasterPorts m_axi;
  std::vector<std::unique_ptr<ChanIn<MemRead>>> rd_req;
  std::vector<std::unique_ptr<ChanOut<MemBeat>>> rd_beat;
  std::vector<std::unique_ptr<ChanIn<MemWrite>>> wr_req;
  std::vector<std::unique_ptr<ChanIn<MemWBeat>>> wr_beat;
  std::vector<std::unique_ptr<ChanOut<MemAck>>> wr_ack;

  AxiArbiter(sc_core::sc_module_name n, unsigned read_clients, unsigned write_clients, unsigned beat_fifo = 4);
  void bind_read(unsigned client, MemReadChannels& c);
  void bind_write(unsigned client, MemWriteChannels& c);
  const ArbiterStats& stats() const { return stats_; }

private:
  void seq();

  unsigned nr_, nw_, beat_depth_;
  // reads
  std::vector<bool> rbuf_valid_;
  std::vector<MemRead> rbuf_;
  std::vector<std::deque<MemBeat>> rfifo_;
  unsigned rr_read_ = 0;
  bool ar_valid_ = false;
  // writes
  std::vector<bool> wbuf_valid_;
  std::vector<MemWrite> wbuf_;
  std::vector<std::deque<MemWBeat>> wfifo_;
  std::vector<bool> ack_valid_;
  std::vector<MemAck> ack_;
  std::deque<unsigned> w_order_;
  unsigned rr_write_ = 0;
  bool aw_valid_ = false;
  bool w_valid_ = false;
  ArbiterStats stats_;
};

}  // namespace xtu::model
