// Pin-level AXI4 (master) and AXI4-Lite (slave) port bundles of the unit, and the signal
// bundles that connect them. Pin types follow Verilator's --sc mapping (bool for 1 bit,
// uint32_t up to 32 bits, uint64_t up to 64 bits), so the SystemC model and the Verilated RTL
// expose the same ports and can stand in for each other.
//
// Naming (lowRISC): m_axi_<pin>_o / _i on the unit's master port, s_axil_<pin>_i / _o on its
// register slave port.
#pragma once

#include <systemc>

#include <cstdint>
#include <string>

namespace xtu::model {

// AXI4 constants used by the unit.
inline constexpr uint32_t kAxiBurstIncr = 1;
inline constexpr uint32_t kAxiRespOkay = 0, kAxiRespSlverr = 2, kAxiRespDecerr = 3;

// Signals of one AXI4 interface (64-bit data, 64-bit addresses, 4-bit IDs, len up to 256 beats).
struct AxiSignals {
  explicit AxiSignals(const std::string& p)
      : arid((p + "_arid").c_str()), araddr((p + "_araddr").c_str()), arlen((p + "_arlen").c_str()),
        arsize((p + "_arsize").c_str()), arburst((p + "_arburst").c_str()), arvalid((p + "_arvalid").c_str()),
        arready((p + "_arready").c_str()), rid((p + "_rid").c_str()), rdata((p + "_rdata").c_str()),
        rresp((p + "_rresp").c_str()), rlast((p + "_rlast").c_str()), rvalid((p + "_rvalid").c_str()),
        rready((p + "_rready").c_str()), awid((p + "_awid").c_str()), awaddr((p + "_awaddr").c_str()),
        awlen((p + "_awlen").c_str()), awsize((p + "_awsize").c_str()), awburst((p + "_awburst").c_str()),
        awvalid((p + "_awvalid").c_str()), awready((p + "_awready").c_str()), wdata((p + "_wdata").c_str()),
        wstrb((p + "_wstrb").c_str()), wlast((p + "_wlast").c_str()), wvalid((p + "_wvalid").c_str()),
        wready((p + "_wready").c_str()), bid((p + "_bid").c_str()), bresp((p + "_bresp").c_str()),
        bvalid((p + "_bvalid").c_str()), bready((p + "_bready").c_str()) {}
  sc_core::sc_signal<uint32_t> arid; sc_core::sc_signal<uint64_t> araddr; sc_core::sc_signal<uint32_t> arlen, arsize, arburst;
  sc_core::sc_signal<bool> arvalid, arready;
  sc_core::sc_signal<uint32_t> rid; sc_core::sc_signal<uint64_t> rdata; sc_core::sc_signal<uint32_t> rresp;
  sc_core::sc_signal<bool> rlast, rvalid, rready;
  sc_core::sc_signal<uint32_t> awid; sc_core::sc_signal<uint64_t> awaddr; sc_core::sc_signal<uint32_t> awlen, awsize, awburst;
  sc_core::sc_signal<bool> awvalid, awready;
  sc_core::sc_signal<uint64_t> wdata; sc_core::sc_signal<uint32_t> wstrb; sc_core::sc_signal<bool> wlast, wvalid, wready;
  sc_core::sc_signal<uint32_t> bid, bresp; sc_core::sc_signal<bool> bvalid, bready;

  void trace(sc_core::sc_trace_file* tf, const std::string& p) const;
};

// The unit's AXI4 master port (outputs are requests, inputs are responses).
struct AxiMasterPorts {
  explicit AxiMasterPorts(const std::string& p)
      : arid((p + "_arid_o").c_str()), araddr((p + "_araddr_o").c_str()), arlen((p + "_arlen_o").c_str()),
        arsize((p + "_arsize_o").c_str()), arburst((p + "_arburst_o").c_str()), arvalid((p + "_arvalid_o").c_str()),
        arready((p + "_arready_i").c_str()), rid((p + "_rid_i").c_str()), rdata((p + "_rdata_i").c_str()),
        rresp((p + "_rresp_i").c_str()), rlast((p + "_rlast_i").c_str()), rvalid((p + "_rvalid_i").c_str()),
        rready((p + "_rready_o").c_str()), awid((p + "_awid_o").c_str()), awaddr((p + "_awaddr_o").c_str()),
        awlen((p + "_awlen_o").c_str()), awsize((p + "_awsize_o").c_str()), awburst((p + "_awburst_o").c_str()),
        awvalid((p + "_awvalid_o").c_str()), awready((p + "_awready_i").c_str()), wdata((p + "_wdata_o").c_str()),
        wstrb((p + "_wstrb_o").c_str()), wlast((p + "_wlast_o").c_str()), wvalid((p + "_wvalid_o").c_str()),
        wready((p + "_wready_i").c_str()), bid((p + "_bid_i").c_str()), bresp((p + "_bresp_i").c_str()),
        bvalid((p + "_bvalid_i").c_str()), bready((p + "_bready_o").c_str()) {}
  sc_core::sc_out<uint32_t> arid; sc_core::sc_out<uint64_t> araddr; sc_core::sc_out<uint32_t> arlen, arsize, arburst;
  sc_core::sc_out<bool> arvalid; sc_core::sc_in<bool> arready;
  sc_core::sc_in<uint32_t> rid; sc_core::sc_in<uint64_t> rdata; sc_core::sc_in<uint32_t> rresp;
  sc_core::sc_in<bool> rlast, rvalid; sc_core::sc_out<bool> rready;
  sc_core::sc_out<uint32_t> awid; sc_core::sc_out<uint64_t> awaddr; sc_core::sc_out<uint32_t> awlen, awsize, awburst;
  sc_core::sc_out<bool> awvalid; sc_core::sc_in<bool> awready;
  sc_core::sc_out<uint64_t> wdata; sc_core::sc_out<uint32_t> wstrb; sc_core::sc_out<bool> wlast, wvalid;
  sc_core::sc_in<bool> wready;
  sc_core::sc_in<uint32_t> bid, bresp; sc_core::sc_in<bool> bvalid; sc_core::sc_out<bool> bready;

  void bind(AxiSignals& s);
};

// The memory side of an AXI4 interface (what a slave such as the test bench's memory has).
struct AxiSlavePorts {
  explicit AxiSlavePorts(const std::string& p)
      : arid((p + "_arid_i").c_str()), araddr((p + "_araddr_i").c_str()), arlen((p + "_arlen_i").c_str()),
        arsize((p + "_arsize_i").c_str()), arburst((p + "_arburst_i").c_str()), arvalid((p + "_arvalid_i").c_str()),
        arready((p + "_arready_o").c_str()), rid((p + "_rid_o").c_str()), rdata((p + "_rdata_o").c_str()),
        rresp((p + "_rresp_o").c_str()), rlast((p + "_rlast_o").c_str()), rvalid((p + "_rvalid_o").c_str()),
        rready((p + "_rready_i").c_str()), awid((p + "_awid_i").c_str()), awaddr((p + "_awaddr_i").c_str()),
        awlen((p + "_awlen_i").c_str()), awsize((p + "_awsize_i").c_str()), awburst((p + "_awburst_i").c_str()),
        awvalid((p + "_awvalid_i").c_str()), awready((p + "_awready_o").c_str()), wdata((p + "_wdata_i").c_str()),
        wstrb((p + "_wstrb_i").c_str()), wlast((p + "_wlast_i").c_str()), wvalid((p + "_wvalid_i").c_str()),
        wready((p + "_wready_o").c_str()), bid((p + "_bid_o").c_str()), bresp((p + "_bresp_o").c_str()),
        bvalid((p + "_bvalid_o").c_str()), bready((p + "_bready_i").c_str()) {}
  sc_core::sc_in<uint32_t> arid; sc_core::sc_in<uint64_t> araddr; sc_core::sc_in<uint32_t> arlen, arsize, arburst;
  sc_core::sc_in<bool> arvalid; sc_core::sc_out<bool> arready;
  sc_core::sc_out<uint32_t> rid; sc_core::sc_out<uint64_t> rdata; sc_core::sc_out<uint32_t> rresp;
  sc_core::sc_out<bool> rlast, rvalid; sc_core::sc_in<bool> rready;
  sc_core::sc_in<uint32_t> awid; sc_core::sc_in<uint64_t> awaddr; sc_core::sc_in<uint32_t> awlen, awsize, awburst;
  sc_core::sc_in<bool> awvalid; sc_core::sc_out<bool> awready;
  sc_core::sc_in<uint64_t> wdata; sc_core::sc_in<uint32_t> wstrb; sc_core::sc_in<bool> wlast, wvalid;
  sc_core::sc_out<bool> wready;
  sc_core::sc_out<uint32_t> bid, bresp; sc_core::sc_out<bool> bvalid; sc_core::sc_in<bool> bready;

  void bind(AxiSignals& s);
};

// AXI4-Lite, 32-bit data, 32-bit addresses (register space).
struct AxiLiteSignals {
  explicit AxiLiteSignals(const std::string& p)
      : awaddr((p + "_awaddr").c_str()), awvalid((p + "_awvalid").c_str()), awready((p + "_awready").c_str()),
        wdata((p + "_wdata").c_str()), wstrb((p + "_wstrb").c_str()), wvalid((p + "_wvalid").c_str()),
        wready((p + "_wready").c_str()), bresp((p + "_bresp").c_str()), bvalid((p + "_bvalid").c_str()),
        bready((p + "_bready").c_str()), araddr((p + "_araddr").c_str()), arvalid((p + "_arvalid").c_str()),
        arready((p + "_arready").c_str()), rdata((p + "_rdata").c_str()), rresp((p + "_rresp").c_str()),
        rvalid((p + "_rvalid").c_str()), rready((p + "_rready").c_str()) {}
  sc_core::sc_signal<uint32_t> awaddr; sc_core::sc_signal<bool> awvalid, awready;
  sc_core::sc_signal<uint32_t> wdata, wstrb; sc_core::sc_signal<bool> wvalid, wready;
  sc_core::sc_signal<uint32_t> bresp; sc_core::sc_signal<bool> bvalid, bready;
  sc_core::sc_signal<uint32_t> araddr; sc_core::sc_signal<bool> arvalid, arready;
  sc_core::sc_signal<uint32_t> rdata, rresp; sc_core::sc_signal<bool> rvalid, rready;

  void trace(sc_core::sc_trace_file* tf, const std::string& p) const;
};

// The unit's register port (slave).
struct AxiLiteSlavePorts {
  explicit AxiLiteSlavePorts(const std::string& p)
      : awaddr((p + "_awaddr_i").c_str()), awvalid((p + "_awvalid_i").c_str()), awready((p + "_awready_o").c_str()),
        wdata((p + "_wdata_i").c_str()), wstrb((p + "_wstrb_i").c_str()), wvalid((p + "_wvalid_i").c_str()),
        wready((p + "_wready_o").c_str()), bresp((p + "_bresp_o").c_str()), bvalid((p + "_bvalid_o").c_str()),
        bready((p + "_bready_i").c_str()), araddr((p + "_araddr_i").c_str()), arvalid((p + "_arvalid_i").c_str()),
        arready((p + "_arready_o").c_str()), rdata((p + "_rdata_o").c_str()), rresp((p + "_rresp_o").c_str()),
        rvalid((p + "_rvalid_o").c_str()), rready((p + "_rready_i").c_str()) {}
  sc_core::sc_in<uint32_t> awaddr; sc_core::sc_in<bool> awvalid; sc_core::sc_out<bool> awready;
  sc_core::sc_in<uint32_t> wdata, wstrb; sc_core::sc_in<bool> wvalid; sc_core::sc_out<bool> wready;
  sc_core::sc_out<uint32_t> bresp; sc_core::sc_out<bool> bvalid; sc_core::sc_in<bool> bready;
  sc_core::sc_in<uint32_t> araddr; sc_core::sc_in<bool> arvalid; sc_core::sc_out<bool> arready;
  sc_core::sc_out<uint32_t> rdata, rresp; sc_core::sc_out<bool> rvalid; sc_core::sc_in<bool> rready;

  void bind(AxiLiteSignals& s);
};

// The requester side of AXI4-Lite (a test bench or the driver's SystemC backend).
struct AxiLiteMasterPorts {
  explicit AxiLiteMasterPorts(const std::string& p)
      : awaddr((p + "_awaddr_o").c_str()), awvalid((p + "_awvalid_o").c_str()), awready((p + "_awready_i").c_str()),
        wdata((p + "_wdata_o").c_str()), wstrb((p + "_wstrb_o").c_str()), wvalid((p + "_wvalid_o").c_str()),
        wready((p + "_wready_i").c_str()), bresp((p + "_bresp_i").c_str()), bvalid((p + "_bvalid_i").c_str()),
        bready((p + "_bready_o").c_str()), araddr((p + "_araddr_o").c_str()), arvalid((p + "_arvalid_o").c_str()),
        arready((p + "_arready_i").c_str()), rdata((p + "_rdata_i").c_str()), rresp((p + "_rresp_i").c_str()),
        rvalid((p + "_rvalid_i").c_str()), rready((p + "_rready_o").c_str()) {}
  sc_core::sc_out<uint32_t> awaddr; sc_core::sc_out<bool> awvalid; sc_core::sc_in<bool> awready;
  sc_core::sc_out<uint32_t> wdata, wstrb; sc_core::sc_out<bool> wvalid; sc_core::sc_in<bool> wready;
  sc_core::sc_in<uint32_t> bresp; sc_core::sc_in<bool> bvalid; sc_core::sc_out<bool> bready;
  sc_core::sc_out<uint32_t> araddr; sc_core::sc_out<bool> arvalid; sc_core::sc_in<bool> arready;
  sc_core::sc_in<uint32_t> rdata, rresp; sc_core::sc_in<bool> rvalid; sc_core::sc_out<bool> rready;

  void bind(AxiLiteSignals& s);
};

}  // namespace xtu::model
