// xtu_last_ip: the last IP of the pkt_decoder block (IP reconstruction), one register.
//
// The RTL of xtu::model::LastIp (systemc/include/xtu/model/pt_packet.hpp): combines the
// compressed IP of FUP/TIP/TIP.PGE/TIP.PGD packets (IPBytes and raw payload, as
// xtu_pkt_decode gives them) with the last IP. Update-16/32/48 replace the low bits, sext-48
// sign-extends bit 47, full replaces it; suppressed (IPBytes 0) marks the IP suppressed and
// keeps the last IP, on which a later update builds again; a reserved IPBytes (5, 7) changes
// nothing. A clear is LastIp::reset() (at PSB, OVF and resynchronisation).
//
// NumUpd ports, applied in order within a cycle (the pkt_decoder's DEC_WIDTH chained decoders:
// port j is decoder j's packet): port j clears (clear_i[j]) first, then updates (upd_i[j]) the
// state port j-1 left, so a PSB and the FUP after it may be handled in one cycle. The state
// after the last port is registered at the rising edge. Vectors hold port j at
// [j*W +: W].
//   status_o, ip_o, raw_o            query() and raw() of the state held (registered)
//   status_next_o, ip_next_o         port j: query() of the state after port j's clear/update
//                                    (combinational: the IP of the packet port j decodes)
//   ipc_ok_o                         port j: update()'s result for its IPBytes: 0 for a
//                                    reserved value
// ip_o and ip_next_o are 0 unless the status is LastIpOk, as query() leaves them. status
// values are xtu_pt_pkg::last_ip_status_e.
// One clock, synchronous active-low reset (docs/architecture.md); reset = LastIp{}.
module xtu_last_ip #(
  parameter int unsigned NumUpd = 1  // clear/update ports per cycle, applied in order
) (
  input  logic                                 clk_i,
  input  logic                                 rst_ni,

  input  logic [NumUpd-1:0]                    clear_i,    // LastIp::reset()
  input  logic [NumUpd-1:0]                    upd_i,      // LastIp::update(ipc, ip)
  input  logic [NumUpd*xtu_pt_pkg::IpcW-1:0]   upd_ipc_i,  // IPBytes
  input  logic [NumUpd*xtu_pt_pkg::IpW-1:0]    upd_ip_i,   // raw payload (xtu_pkt_decode ip_o)
  output logic [NumUpd-1:0]                    ipc_ok_o,

  output xtu_pt_pkg::last_ip_status_e          status_o,
  output logic [xtu_pt_pkg::IpW-1:0]           ip_o,
  output logic [xtu_pt_pkg::IpW-1:0]           raw_o,
  output logic [NumUpd*2-1:0]                  status_next_o,
  output logic [NumUpd*xtu_pt_pkg::IpW-1:0]    ip_next_o
);

  localparam int unsigned IpW  = xtu_pt_pkg::IpW;
  localparam int unsigned IpcW = xtu_pt_pkg::IpcW;

  logic [IpW-1:0] ip_d, ip_q;
  logic           have_d, have_q;  // an IP since the reset
  logic           supp_d, supp_q;  // the last IP packet suppressed it

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

  always_comb begin
    logic [IpcW-1:0]              ipc;
    logic [IpW-1:0]               raw;
    xtu_pt_pkg::last_ip_status_e  st;
    ip_d          = ip_q;
    have_d        = have_q;
    supp_d        = supp_q;
    ipc_ok_o      = '0;
    status_next_o = '0;
    ip_next_o     = '0;
    for (int unsigned j = 0; j < NumUpd; j++) begin
      ipc         = upd_ipc_i[j*IpcW +: IpcW];
      raw         = upd_ip_i[j*IpW +: IpW];
      ipc_ok_o[j] = !xtu_pt_pkg::ipc_reserved(ipc);
      if (clear_i[j]) begin
        ip_d   = '0;
        have_d = 1'b0;
        supp_d = 1'b0;
      end
      if (upd_i[j]) begin
        case (ipc)
          xtu_pt_pkg::IpcSuppressed: begin
            supp_d = 1'b1;
          end
          xtu_pt_pkg::IpcUpdate16, xtu_pt_pkg::IpcUpdate32, xtu_pt_pkg::IpcUpdate48,
          xtu_pt_pkg::IpcFull: begin
            ip_d   = (ip_d & ~xtu_pt_pkg::ipc_payload_mask(ipc)) |
                     (raw & xtu_pt_pkg::ipc_payload_mask(ipc));
            have_d = 1'b1;
            supp_d = 1'b0;
          end
          xtu_pt_pkg::IpcSext48: begin
            ip_d   = {{(IpW-48){raw[47]}}, raw[47:0]};
            have_d = 1'b1;
            supp_d = 1'b0;
          end
          default: ;  // reserved: nothing changes
        endcase
      end
      st                        = query(have_d, supp_d);
      status_next_o[j*2 +: 2]   = st;
      ip_next_o[j*IpW +: IpW]   = (st == xtu_pt_pkg::LastIpOk) ? ip_d : '0;
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

  assign status_o = query(have_q, supp_q);
  assign ip_o     = (status_o == xtu_pt_pkg::LastIpOk) ? ip_q : '0;
  assign raw_o    = ip_q;

endmodule
