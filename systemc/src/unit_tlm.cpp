// UnitTlm: see unit_tlm.hpp.
#include "xtu/model/unit_tlm.hpp"

#include "xtu/regs.hpp"

namespace xtu::model {

UnitTlm::UnitTlm(const sc_core::sc_module_name& name, const UnitTlmParams& params)
    : sc_module(name),
      regs("regs"),
      mem("mem"),
      irq("irq"),
      params_(params),
      clk_("clk", params.clock_period, 0.5, sc_core::SC_ZERO_TIME, true),
      rst_n_("rst_n", params.reset_cycles == 0),
      axil_("s_axil"),
      axi_("m_axi"),
      unit_("unit", params.unit),
      reg_bridge_("reg_bridge", xtu::regs::kMapSize, params.sync_register_access),
      mem_bridge_(
          "mem_bridge", [this](tlm::tlm_generic_payload& p, sc_core::sc_time& d) { mem->b_transport(p, d); },
          params.max_outstanding) {
  regs.register_b_transport(this, &UnitTlm::regs_b_transport);

  unit_.clk_i(clk_);
  unit_.rst_ni(rst_n_);
  unit_.irq_o(irq);
  unit_.s_axil.bind(axil_);
  unit_.m_axi.bind(axi_);
  reg_bridge_.clk_i(clk_);
  reg_bridge_.rst_ni(rst_n_);
  reg_bridge_.m_axil.bind(axil_);
  mem_bridge_.clk_i(clk_);
  mem_bridge_.rst_ni(rst_n_);
  mem_bridge_.s_axi.bind(axi_);

  SC_METHOD(on_edge);
  sensitive << clk_.posedge_event();
  dont_initialize();
}

void UnitTlm::regs_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  reg_bridge_.b_transport(trans, delay);
}

// Registered like every other input: the value written at edge k is seen from edge k+1.
void UnitTlm::on_edge() {
  ++edges_;
  rst_n_.write(edges_ >= params_.reset_cycles);
}

void UnitTlm::trace(sc_core::sc_trace_file* tf) const {
  sc_core::sc_trace(tf, clk_, std::string(name()) + ".clk");
  sc_core::sc_trace(tf, rst_n_, std::string(name()) + ".rst_n");
  axil_.trace(tf, std::string(name()) + ".s_axil");
  axi_.trace(tf, std::string(name()) + ".m_axi");
  unit_.trace(tf);
}

}  // namespace xtu::model
