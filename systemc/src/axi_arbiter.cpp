#include "xtu/model/axi_arbiter.hpp"

namespace xtu::model {

AxiArbiter::AxiArbiter(sc_core::sc_module_name n, unsigned read_clients, unsigned write_clients, unsigned beat_fifo)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), m_axi("m_axi"), nr_(read_clients), nw_(write_clients),
      beat_depth_(beat_fifo), rbuf_valid_(read_clients), rbuf_(read_clients), rfifo_(read_clients),
      wbuf_valid_(write_clients), wbuf_(write_clients), wfifo_(write_clients), ack_valid_(write_clients),
      ack_(write_clients) {
  for (unsigned c = 0; c < nr_; ++c) {
    rd_req.emplace_back(std::make_unique<ChanIn<MemRead>>("rd_req" + std::to_string(c)));
    rd_beat.emplace_back(std::make_unique<ChanOut<MemBeat>>("rd_beat" + std::to_string(c)));
  }
  for (unsigned c = 0; c < nw_; ++c) {
    wr_req.emplace_back(std::make_unique<ChanIn<MemWrite>>("wr_req" + std::to_string(c)));
    wr_beat.emplace_back(std::make_unique<ChanIn<MemWBeat>>("wr_beat" + std::to_string(c)));
    wr_ack.emplace_back(std::make_unique<ChanOut<MemAck>>("wr_ack" + std::to_string(c)));
  }
  SC_HAS_PROCESS(AxiArbiter);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

void AxiArbiter::bind_read(unsigned c, MemReadChannels& ch) {
  rd_req[c]->bind(ch.req);
  rd_beat[c]->bind(ch.beat);
}

void AxiArbiter::bind_write(unsigned c, MemWriteChannels& ch) {
  wr_req[c]->bind(ch.req);
  wr_beat[c]->bind(ch.beat);
  wr_ack[c]->bind(ch.ack);
}

void AxiArbiter::seq() {
  if (!rst_ni.read()) {
    for (unsigned c = 0; c < nr_; ++c) {
      rbuf_valid_[c] = false;
      rfifo_[c].clear();
      rd_req[c]->ready.write(true);
      rd_beat[c]->valid.write(false);
    }
    for (unsigned c = 0; c < nw_; ++c) {
      wbuf_valid_[c] = false;
      wfifo_[c].clear();
      ack_valid_[c] = false;
      wr_req[c]->ready.write(true);
      wr_beat[c]->ready.write(true);
      wr_ack[c]->valid.write(false);
    }
    w_order_.clear();
    ar_valid_ = aw_valid_ = w_valid_ = false;
    m_axi.arvalid.write(false);
    m_axi.awvalid.write(false);
    m_axi.wvalid.write(false);
    m_axi.rready.write(true);
    m_axi.bready.write(true);
    return;
  }

  // ---- reads ----
  // Transfers that happened at this edge.
  for (unsigned c = 0; c < nr_; ++c) {
    if (rd_beat[c]->fired()) rfifo_[c].pop_front();
    if (rd_req[c]->fired()) {
      rbuf_[c] = rd_req[c]->data.read();
      rbuf_valid_[c] = true;
    }
  }
  if (ar_valid_ && m_axi.arready.read()) ar_valid_ = false;
  if (m_axi.rvalid.read() && m_axi.rready.read()) {
    unsigned c = m_axi.rid.read();
    if (c < nr_) {
      MemBeat b{m_axi.rdata.read(), m_axi.rlast.read(), uint8_t(m_axi.rresp.read())};
      rfifo_[c].push_back(b);
      ++stats_.read_beats;
      if (b.resp) ++stats_.read_errors;
    }
  }
  // Issue the next AR.
  if (!ar_valid_) {
    for (unsigned k = 0; k < nr_; ++k) {
      unsigned c = (rr_read_ + k) % nr_;
      if (!rbuf_valid_[c]) continue;
      const MemRead& r = rbuf_[c];
      m_axi.arid.write(c);
      m_axi.araddr.write(r.addr);
      m_axi.arlen.write(uint32_t(r.beats - 1));
      m_axi.arsize.write(3);
      m_axi.arburst.write(kAxiBurstIncr);
      ar_valid_ = true;
      rbuf_valid_[c] = false;
      rr_read_ = (c + 1) % nr_;
      ++stats_.reads;
      break;
    }
  }
  m_axi.arvalid.write(ar_valid_);
  bool room = true;
  for (unsigned c = 0; c < nr_; ++c) {
    rd_req[c]->ready.write(!rbuf_valid_[c]);
    rd_beat[c]->valid.write(!rfifo_[c].empty());
    if (!rfifo_[c].empty()) rd_beat[c]->data.write(rfifo_[c].front());
    // A beat can arrive at the next edge while none leaves: keep one slot free.
    if (rfifo_[c].size() + 1 >= beat_depth_) room = false;
  }
  m_axi.rready.write(room);

  // ---- writes ----
  for (unsigned c = 0; c < nw_; ++c) {
    if (wr_ack[c]->fired()) ack_valid_[c] = false;
    if (wr_req[c]->fired()) {
      wbuf_[c] = wr_req[c]->data.read();
      wbuf_valid_[c] = true;
    }
    if (wr_beat[c]->fired()) wfifo_[c].push_back(wr_beat[c]->data.read());
  }
  if (aw_valid_ && m_axi.awready.read()) aw_valid_ = false;
  if (w_valid_ && m_axi.wready.read()) {
    unsigned c = w_order_.front();
    bool last = wfifo_[c].front().last;
    wfifo_[c].pop_front();
    ++stats_.write_beats;
    if (last) w_order_.pop_front();
    w_valid_ = false;
  }
  bool b_room = true;
  if (m_axi.bvalid.read() && m_axi.bready.read()) {
    unsigned c = m_axi.bid.read();
    if (c < nw_) {
      ack_[c] = MemAck{uint8_t(m_axi.bresp.read())};
      ack_valid_[c] = true;
      if (ack_[c].resp) ++stats_.write_errors;
    }
  }
  if (!aw_valid_) {
    for (unsigned k = 0; k < nw_; ++k) {
      unsigned c = (rr_write_ + k) % nw_;
      if (!wbuf_valid_[c]) continue;
      const MemWrite& w = wbuf_[c];
      m_axi.awid.write(c);
      m_axi.awaddr.write(w.addr);
      m_axi.awlen.write(uint32_t(w.beats - 1));
      m_axi.awsize.write(3);
      m_axi.awburst.write(kAxiBurstIncr);
      aw_valid_ = true;
      wbuf_valid_[c] = false;
      w_order_.push_back(c);
      rr_write_ = (c + 1) % nw_;
      ++stats_.writes;
      break;
    }
  }
  m_axi.awvalid.write(aw_valid_);
  // W data of the oldest granted write.
  if (!w_valid_ && !w_order_.empty() && !wfifo_[w_order_.front()].empty()) {
    const MemWBeat& b = wfifo_[w_order_.front()].front();
    m_axi.wdata.write(b.data);
    m_axi.wstrb.write(b.strb);
    m_axi.wlast.write(b.last);
    w_valid_ = true;
  }
  m_axi.wvalid.write(w_valid_);
  for (unsigned c = 0; c < nw_; ++c) {
    wr_req[c]->ready.write(!wbuf_valid_[c]);
    wr_beat[c]->ready.write(wfifo_[c].size() + 1 < beat_depth_);
    wr_ack[c]->valid.write(ack_valid_[c]);
    if (ack_valid_[c]) wr_ack[c]->data.write(ack_[c]);
    if (ack_valid_[c]) b_room = false;  // a client still holds its ack
  }
  m_axi.bready.write(b_room);
}

}  // namespace xtu::model
