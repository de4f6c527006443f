// The unit, cycle-accurate (docs/architecture.md): every block, wired. Pins: clk_i, rst_ni,
// irq_o, the register slave (s_axil_*) and the memory master (m_axi_*), the same as the RTL's
// top, so the Verilated RTL can take its place.
#pragma once

#include <systemc>

#include <memory>

#include "xtu/model/axi.hpp"
#include "xtu/model/axi_arbiter.hpp"
#include "xtu/model/event_queue.hpp"
#include "xtu/model/fifo.hpp"
#include "xtu/model/out_writer.hpp"
#include "xtu/model/pkt_decoder.hpp"
#include "xtu/model/reg_block.hpp"
#include "xtu/model/tb_cache.hpp"
#include "xtu/model/trace_reader.hpp"
#include "xtu/model/walker.hpp"

namespace xtu::model {

class Unit : public sc_core::sc_module {
public:
  sc_core::sc_in<bool> clk_i, rst_ni;
  sc_core::sc_out<bool> irq_o;
  AxiLiteSlavePorts s_axil;
  AxiMasterPorts m_axi;

  Unit(sc_core::sc_module_name n, const UnitParams& params = {});

  // Observation for test benches and tools (not pins).
  const UnitCounters& counters() const { return counters_; }
  const UnitConfig& config() const { return cfg_; }
  const UnitStatus& status() const { return status_; }
  const UnitParams& params() const { return params_; }
  PktDecoder& decoder() { return *decoder_; }
  const Walker& walker() const { return *walker_; }
  const TbCache& cache() const { return *cache_; }
  const AxiArbiter& arbiter() const { return *arbiter_; }
  void trace(sc_core::sc_trace_file* tf) const;

private:
  void combine();  // block reset and error OR (combinational)

  UnitParams params_;
  UnitConfig cfg_;
  UnitStatus status_;
  UnitCounters counters_;

  sc_core::sc_signal<bool> start_, soft_reset_, blk_rst_n_, done_, watermark_, evq_drained_, walker_idle_;
  sc_core::sc_signal<uint64_t> dec_pos_;
  sc_core::sc_signal<uint32_t> err_cache_, err_evq_, err_out_, err_trace_, err_all_;
  MemReadChannels rd_trace_, rd_event_, rd_cache_;
  MemWriteChannels wr_cache_, wr_out_;
  Channel<TraceBeat> beats_;
  Channel<PktItem> pkt_dec_, pkt_walk_;
  Channel<EventItem> events_;
  Channel<CacheReq> creq_;
  Channel<CacheResp> cresp_;
  Channel<OutItem> out_;

  std::unique_ptr<RegBlock> regs_;
  std::unique_ptr<TraceReader> reader_;
  std::unique_ptr<PktDecoder> decoder_;
  std::unique_ptr<Fifo<PktItem>> pkt_fifo_;
  std::unique_ptr<EventQueue> evq_;
  std::unique_ptr<TbCache> cache_;
  std::unique_ptr<Walker> walker_;
  std::unique_ptr<OutWriter> writer_;
  std::unique_ptr<AxiArbiter> arbiter_;
};

}  // namespace xtu::model
