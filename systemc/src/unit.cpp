#include "xtu/model/unit.hpp"

#include <stdexcept>
#include <string>

namespace xtu::model {

Unit::Unit(sc_core::sc_module_name n, const UnitParams& params)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), irq_o("irq_o"), s_axil("s_axil"), m_axi("m_axi"),
      params_(params), start_("start"), soft_reset_("soft_reset"), blk_rst_n_("blk_rst_n"), done_("done"),
      watermark_("watermark"), evq_drained_("evq_drained"), walker_idle_("walker_idle"),
      dec_pos_("dec_pos"), err_cache_("err_cache"), err_evq_("err_evq"), err_out_("err_out"), err_trace_("err_trace"),
      err_all_("err_all"), rd_trace_("rd_trace"), rd_event_("rd_event"), rd_cache_("rd_cache"),
      wr_cache_("wr_cache"), wr_out_("wr_out"), beats_("beats"), pkt_dec_("pkt_dec"), pkt_walk_("pkt_walk"),
      events_("events"), creq_("creq"), cresp_("cresp"), out_("out") {
  if (params_.walk_width < 1 || params_.walk_width > 15)
    throw std::invalid_argument("xtu unit: WALK_WIDTH must be 1..15, not " + std::to_string(params_.walk_width));
  if (params_.dec_width < 1 || params_.dec_width > kMaxDecWidth)
    throw std::invalid_argument("xtu unit: DEC_WIDTH must be 1.." + std::to_string(kMaxDecWidth) + ", not " +
                                std::to_string(params_.dec_width));
  regs_ = std::make_unique<RegBlock>("regs", cfg_, status_, counters_, params_);
  regs_->clk_i(clk_i);
  regs_->rst_ni(rst_ni);
  regs_->s_axil.awaddr(s_axil.awaddr); regs_->s_axil.awvalid(s_axil.awvalid); regs_->s_axil.awready(s_axil.awready);
  regs_->s_axil.wdata(s_axil.wdata); regs_->s_axil.wstrb(s_axil.wstrb); regs_->s_axil.wvalid(s_axil.wvalid);
  regs_->s_axil.wready(s_axil.wready); regs_->s_axil.bresp(s_axil.bresp); regs_->s_axil.bvalid(s_axil.bvalid);
  regs_->s_axil.bready(s_axil.bready); regs_->s_axil.araddr(s_axil.araddr); regs_->s_axil.arvalid(s_axil.arvalid);
  regs_->s_axil.arready(s_axil.arready); regs_->s_axil.rdata(s_axil.rdata); regs_->s_axil.rresp(s_axil.rresp);
  regs_->s_axil.rvalid(s_axil.rvalid); regs_->s_axil.rready(s_axil.rready);
  regs_->start_o(start_);
  regs_->soft_reset_o(soft_reset_);
  regs_->irq_o(irq_o);
  regs_->done_i(done_);
  regs_->watermark_i(watermark_);
  regs_->error_i(err_all_);

  auto clocked = [&](auto& b) {
    b.clk_i(clk_i);
    b.rst_ni(blk_rst_n_);
    b.start_i(start_);
  };

  reader_ = std::make_unique<TraceReader>("trace_reader", cfg_, params_.trace_fifo_beats, params_.trace_burst);
  clocked(*reader_);
  reader_->mem_rd.req.bind(rd_trace_.req);
  reader_->mem_rd.beat.bind(rd_trace_.beat);
  reader_->out.bind(beats_);
  reader_->error_o(err_trace_);

  decoder_ = std::make_unique<PktDecoder>("pkt_decoder", cfg_, status_, counters_, params_.dec_width);
  clocked(*decoder_);
  decoder_->in.bind(beats_);
  decoder_->out.bind(pkt_dec_);
  decoder_->pos_o(dec_pos_);

  pkt_fifo_ = std::make_unique<Fifo<PktItem>>("pkt_fifo", 8);
  pkt_fifo_->clk_i(clk_i);
  pkt_fifo_->rst_ni(blk_rst_n_);
  pkt_fifo_->in.bind(pkt_dec_);
  pkt_fifo_->out.bind(pkt_walk_);

  evq_ = std::make_unique<EventQueue>("event_queue", cfg_, status_, params_.event_fifo);
  clocked(*evq_);
  evq_->mem_rd.req.bind(rd_event_.req);
  evq_->mem_rd.beat.bind(rd_event_.beat);
  evq_->out.bind(events_);
  evq_->drained_o(evq_drained_);
  evq_->error_o(err_evq_);

  cache_ = std::make_unique<TbCache>("tb_cache", cfg_, counters_, params_.cam_entries, params_.max_nodes,
                                     params_.ht_max_probe);
  clocked(*cache_);
  cache_->req.bind(creq_);
  cache_->resp.bind(cresp_);
  cache_->mem_rd.req.bind(rd_cache_.req);
  cache_->mem_rd.beat.bind(rd_cache_.beat);
  cache_->mem_wr.req.bind(wr_cache_.req);
  cache_->mem_wr.beat.bind(wr_cache_.beat);
  cache_->mem_wr.ack.bind(wr_cache_.ack);
  cache_->error_o(err_cache_);

  walker_ = std::make_unique<Walker>("walker", cfg_, counters_, *cache_, params_.walk_width, params_.dec_width);
  clocked(*walker_);
  walker_->pkt.bind(pkt_walk_);
  walker_->ev.bind(events_);
  walker_->evq_drained_i(evq_drained_);
  walker_->dec_pos_i(dec_pos_);
  walker_->dec_out_valid_i(pkt_dec_.valid);
  walker_->creq.bind(creq_);
  walker_->cresp.bind(cresp_);
  walker_->out.bind(out_);
  walker_->idle_o(walker_idle_);

  writer_ = std::make_unique<OutWriter>("out_writer", cfg_, status_, counters_, params_.out_fifo);
  clocked(*writer_);
  writer_->in.bind(out_);
  writer_->mem_wr.req.bind(wr_out_.req);
  writer_->mem_wr.beat.bind(wr_out_.beat);
  writer_->mem_wr.ack.bind(wr_out_.ack);
  writer_->done_o(done_);
  writer_->watermark_o(watermark_);
  writer_->error_o(err_out_);

  arbiter_ = std::make_unique<AxiArbiter>("axi_arbiter", 3, 2);
  arbiter_->clk_i(clk_i);
  arbiter_->rst_ni(blk_rst_n_);
  arbiter_->bind_read(0, rd_trace_);
  arbiter_->bind_read(1, rd_event_);
  arbiter_->bind_read(2, rd_cache_);
  arbiter_->bind_write(0, wr_cache_);
  arbiter_->bind_write(1, wr_out_);
  arbiter_->m_axi.arid(m_axi.arid); arbiter_->m_axi.araddr(m_axi.araddr); arbiter_->m_axi.arlen(m_axi.arlen);
  arbiter_->m_axi.arsize(m_axi.arsize); arbiter_->m_axi.arburst(m_axi.arburst); arbiter_->m_axi.arvalid(m_axi.arvalid);
  arbiter_->m_axi.arready(m_axi.arready); arbiter_->m_axi.rid(m_axi.rid); arbiter_->m_axi.rdata(m_axi.rdata);
  arbiter_->m_axi.rresp(m_axi.rresp); arbiter_->m_axi.rlast(m_axi.rlast); arbiter_->m_axi.rvalid(m_axi.rvalid);
  arbiter_->m_axi.rready(m_axi.rready); arbiter_->m_axi.awid(m_axi.awid); arbiter_->m_axi.awaddr(m_axi.awaddr);
  arbiter_->m_axi.awlen(m_axi.awlen); arbiter_->m_axi.awsize(m_axi.awsize); arbiter_->m_axi.awburst(m_axi.awburst);
  arbiter_->m_axi.awvalid(m_axi.awvalid); arbiter_->m_axi.awready(m_axi.awready); arbiter_->m_axi.wdata(m_axi.wdata);
  arbiter_->m_axi.wstrb(m_axi.wstrb); arbiter_->m_axi.wlast(m_axi.wlast); arbiter_->m_axi.wvalid(m_axi.wvalid);
  arbiter_->m_axi.wready(m_axi.wready); arbiter_->m_axi.bid(m_axi.bid); arbiter_->m_axi.bresp(m_axi.bresp);
  arbiter_->m_axi.bvalid(m_axi.bvalid); arbiter_->m_axi.bready(m_axi.bready);

  SC_HAS_PROCESS(Unit);
  SC_METHOD(combine);
  sensitive << rst_ni << soft_reset_ << err_cache_ << err_evq_ << err_out_ << err_trace_;
}

void Unit::combine() {
  blk_rst_n_.write(rst_ni.read() && !soft_reset_.read());
  err_all_.write(err_cache_.read() | err_evq_.read() | err_out_.read() | err_trace_.read());
}

void Unit::trace(sc_core::sc_trace_file* tf) const {
  std::string p = std::string(name()) + ".";
  beats_.trace(tf, p + "beats");
  pkt_walk_.trace(tf, p + "pkt");
  events_.trace(tf, p + "events");
  creq_.trace(tf, p + "creq");
  cresp_.trace(tf, p + "cresp");
  out_.trace(tf, p + "out");
  sc_core::sc_trace(tf, start_, p + "start");
  sc_core::sc_trace(tf, done_, p + "done");
  sc_core::sc_trace(tf, err_all_, p + "err");
}

}  // namespace xtu::model
