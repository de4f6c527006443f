// xtu_last_ip: the last IP of the pkt_decoder block (IP reconstruction), one register.
//
// The RTL of xtu::model::LastIp (systemc/include/xtu/model/pt_packet.hpp): combines the
// compressed IP of FUP/TIP/TIP.PGE/TIP.PGD packets (IPBytes and raw payload, as
// xtu_pkt_decode gives them) with the last IP. Update-16/32/48 replace the low bits, sext-48
// sign-extends bit 47, full replaces it; suppressed (IPBytes 0) marks the IP suppressed and
// keeps the last IP, on which a later update builds again; a reserved IPBytes (5, 7) changes
// nothing. clear_i is LastIp::reset() (at PSB, OVF and resynchronisation).
//
// Per cycle: clear_i first, then the update (upd_i) on the result, so a PSB and the FUP after
// it may be handled in one cycle. The state is registered at the rising edge.
//   status_o, ip_o, raw_o            query() and raw() of the state held (registered)
//   status_next_o, ip_next_o         query() of the state after this cycle's clear/update
//                                    (combinational: the IP of the packet being decoded)
//   ipc_ok_o                         update()'s result for upd_ipc_i: 0 for a reserved value
// ip_o and ip_next_o are 0 unless the status is LastIpOk, as query() leaves them.
// One clock, synchronous active-low reset (docs/architecture.md); reset = LastIp{}.
module xtu_last_ip (
  input  logic                              clk_i,
  input  logic                              rst_ni,

  input  logic                              clear_i,    // LastIp::reset()
  input  logic                              upd_i,      // LastIp::update(upd_ipc_i, upd_ip_i)
  input  logic [xtu_pt_pkg::IpcW-1:0]       upd_ipc_i,  // IPBytes
  input  logic [xtu_pt_pkg::IpW-1:0]        upd_ip_i,   // raw payload (xtu_pkt_decode ip_o)
  output logic                              ipc_ok_o,

  output xtu_pt_pkg::last_ip_status_e       status_o,
  output logic [xtu_pt_pkg::IpW-1:0]        ip_o,
  output logic [xtu_pt_pkg::IpW-1:0]        raw_o,
  output xtu_pt_pkg::last_ip_status_e       status_next_o,
  output logic [xtu_pt_pkg::IpW-1:0]        ip_next_o
);

  localparam int unsigned IpW = xtu_pt_pkg::IpW;

  logic [IpW-1:0] ip_d, ip_q;
  logic           have_d, have_q;  // an IP since the reset
  logic           supp_d, supp_q;  // the last IP packet suppressed it

  assign ipc_ok_o = !xtu_pt_pkg::ipc_reserved(upd_ipc_i);

  always_comb begin
    ip_d   = ip_q;
    have_d = have_q;
    supp_d = supp_q;
    if (clear_i) begin
      ip_d   = '0;
      have_d = 1'b0;
      supp_d = 1'b0;
    end
    if (upd_i) begin
      case (upd_ipc_i)
        xtu_pt_pkg::IpcSuppressed: begin
          supp_d = 1'b1;
        end
        xtu_pt_pkg::IpcUpdate16, xtu_pt_pkg::IpcUpdate32, xtu_pt_pkg::IpcUpdate48,
        xtu_pt_pkg::IpcFull: begin
          ip_d   = (ip_d & ~xtu_pt_pkg::ipc_payload_mask(upd_ipc_i)) |
                   (upd_ip_i & xtu_pt_pkg::ipc_payload_mask(upd_ipc_i));
          have_d = 1'b1;
          supp_d = 1'b0;
        end
        xtu_pt_pkg::IpcSext48: begin
          ip_d   = {{(IpW-48){upd_ip_i[47]}}, upd_ip_i[47:0]};
          have_d = 1'b1;
          supp_d = 1'b0;
        end
        default: ;  // reserved: nothing changes
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      ip_q   <= '0;
      have_q <= 1'b0;
      supp_q <= 1'b0;
    end else begin
      ip_q   <= ip_d;
      have_q <= have_d;
      supp_q <= supp_d;
    end
  end

  // query(): no IP since the reset, else suppressed, else the IP.
  function automatic xtu_pt_pkg::last_ip_status_e query(logic have, logic supp);
    if (!have) begin
      query = xtu_pt_pkg::LastIpNoIp;
    end else if (supp) begin
      query = xtu_pt_pkg::LastIpSuppressed;
    end else begin
      query = xtu_pt_pkg::LastIpOk;
    end
  endfunction

  assign status_o      = query(have_q, supp_q);
  assign ip_o          = (status_o == xtu_pt_pkg::LastIpOk) ? ip_q : '0;
  assign raw_o         = ip_q;
  assign status_next_o = query(have_d, supp_d);
  assign ip_next_o     = (status_next_o == xtu_pt_pkg::LastIpOk) ? ip_d : '0;

endmodule
