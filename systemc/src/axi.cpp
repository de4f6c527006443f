#include "xtu/model/axi.hpp"

namespace xtu::model {

using sc_core::sc_trace;

void AxiSignals::trace(sc_core::sc_trace_file* tf, const std::string& p) const {
  sc_trace(tf, arid, p + "_arid"); sc_trace(tf, araddr, p + "_araddr"); sc_trace(tf, arlen, p + "_arlen");
  sc_trace(tf, arsize, p + "_arsize"); sc_trace(tf, arburst, p + "_arburst"); sc_trace(tf, arvalid, p + "_arvalid");
  sc_trace(tf, arready, p + "_arready"); sc_trace(tf, rid, p + "_rid"); sc_trace(tf, rdata, p + "_rdata");
  sc_trace(tf, rresp, p + "_rresp"); sc_trace(tf, rlast, p + "_rlast"); sc_trace(tf, rvalid, p + "_rvalid");
  sc_trace(tf, rready, p + "_rready"); sc_trace(tf, awid, p + "_awid"); sc_trace(tf, awaddr, p + "_awaddr");
  sc_trace(tf, awlen, p + "_awlen"); sc_trace(tf, awsize, p + "_awsize"); sc_trace(tf, awburst, p + "_awburst");
  sc_trace(tf, awvalid, p + "_awvalid"); sc_trace(tf, awready, p + "_awready"); sc_trace(tf, wdata, p + "_wdata");
  sc_trace(tf, wstrb, p + "_wstrb"); sc_trace(tf, wlast, p + "_wlast"); sc_trace(tf, wvalid, p + "_wvalid");
  sc_trace(tf, wready, p + "_wready"); sc_trace(tf, bid, p + "_bid"); sc_trace(tf, bresp, p + "_bresp");
  sc_trace(tf, bvalid, p + "_bvalid"); sc_trace(tf, bready, p + "_bready");
}

void AxiLiteSignals::trace(sc_core::sc_trace_file* tf, const std::string& p) const {
  sc_trace(tf, awaddr, p + "_awaddr"); sc_trace(tf, awvalid, p + "_awvalid"); sc_trace(tf, awready, p + "_awready");
  sc_trace(tf, wdata, p + "_wdata"); sc_trace(tf, wstrb, p + "_wstrb"); sc_trace(tf, wvalid, p + "_wvalid");
  sc_trace(tf, wready, p + "_wready"); sc_trace(tf, bresp, p + "_bresp"); sc_trace(tf, bvalid, p + "_bvalid");
  sc_trace(tf, bready, p + "_bready"); sc_trace(tf, araddr, p + "_araddr"); sc_trace(tf, arvalid, p + "_arvalid");
  sc_trace(tf, arready, p + "_arready"); sc_trace(tf, rdata, p + "_rdata"); sc_trace(tf, rresp, p + "_rresp");
  sc_trace(tf, rvalid, p + "_rvalid"); sc_trace(tf, rready, p + "_rready");
}

#define XTU_BIND_AXI(P, S)                                                                                   \
  P.arid(S.arid); P.araddr(S.araddr); P.arlen(S.arlen); P.arsize(S.arsize); P.arburst(S.arburst);          \
  P.arvalid(S.arvalid); P.arready(S.arready); P.rid(S.rid); P.rdata(S.rdata); P.rresp(S.rresp);             \
  P.rlast(S.rlast); P.rvalid(S.rvalid); P.rready(S.rready); P.awid(S.awid); P.awaddr(S.awaddr);             \
  P.awlen(S.awlen); P.awsize(S.awsize); P.awburst(S.awburst); P.awvalid(S.awvalid); P.awready(S.awready);   \
  P.wdata(S.wdata); P.wstrb(S.wstrb); P.wlast(S.wlast); P.wvalid(S.wvalid); P.wready(S.wready);             \
  P.bid(S.bid); P.bresp(S.bresp); P.bvalid(S.bvalid); P.bready(S.bready)

#define XTU_BIND_AXIL(P, S)                                                                                  \
  P.awaddr(S.awaddr); P.awvalid(S.awvalid); P.awready(S.awready); P.wdata(S.wdata); P.wstrb(S.wstrb);       \
  P.wvalid(S.wvalid); P.wready(S.wready); P.bresp(S.bresp); P.bvalid(S.bvalid); P.bready(S.bready);         \
  P.araddr(S.araddr); P.arvalid(S.arvalid); P.arready(S.arready); P.rdata(S.rdata); P.rresp(S.rresp);       \
  P.rvalid(S.rvalid); P.rready(S.rready)

void AxiMasterPorts::bind(AxiSignals& s) { XTU_BIND_AXI((*this), s); }
void AxiSlavePorts::bind(AxiSignals& s) { XTU_BIND_AXI((*this), s); }
void AxiLiteSlavePorts::bind(AxiLiteSignals& s) { XTU_BIND_AXIL((*this), s); }
void AxiLiteMasterPorts::bind(AxiLiteSignals& s) { XTU_BIND_AXIL((*this), s); }

}  // namespace xtu::model
