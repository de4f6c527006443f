// xtu_fpga_pkt_decode: an out-of-context harness that puts the packet decode core
// (rtl/pkt/xtu_pkt_decode.sv) on an iCE40 between two rows of registers, to measure what the
// core costs (logic cells) and how fast it runs (the register-to-register Fmax nextpnr reports).
//
// The window, avail and the SKZ84 bit come from a shift register fed by one input pin; every
// output of the core is registered and the registers are XOR-folded into one output pin, so no
// output can be optimized away. The paths from the input row through the core into the output
// row are the core's: the fold after the output row is pipelined (one register per 16 bits).
module xtu_fpga_pkt_decode (
  input  logic clk_i,
  input  logic din_i,
  output logic dout_o
);
  localparam int unsigned InW = xtu_pt_pkg::WinW + xtu_pt_pkg::AvailW + 1;

  logic [InW-1:0] in_q;
  always_ff @(posedge clk_i) in_q <= {in_q[InW-2:0], din_i};

  xtu_pt_pkg::dec_status_e status;
  xtu_pt_pkg::pkt_type_e   ptype;
  logic [xtu_pt_pkg::SizeW-1:0]      size;
  logic [xtu_pt_pkg::IpcW-1:0]       ipc;
  logic [xtu_pt_pkg::IpW-1:0]        ip;
  logic [xtu_pt_pkg::TntCntW-1:0]    tnt_bits;
  logic [xtu_pt_pkg::TntMaxBits-1:0] tnt;
  logic csl, csd, intx, abrt, nr, exstop_ip, pwre_hw, pwrx_int, pwrx_store, pwrx_auto, ptw_ip;
  logic [xtu_pt_pkg::PaW-1:0]        cr3, vmcs;
  logic [7:0]                        cbr, mtc_ctc;
  logic [xtu_pt_pkg::TscW-1:0]       tsc;
  logic [xtu_pt_pkg::CtcW-1:0]       tma_ctc;
  logic [xtu_pt_pkg::FcW-1:0]        tma_fc;
  logic [xtu_pt_pkg::CycW-1:0]       cyc;
  logic [xtu_pt_pkg::MntW-1:0]       mnt;
  logic [xtu_pt_pkg::MwaitW-1:0]     mwait_hints, mwait_ext;
  logic [xtu_pt_pkg::CstateW-1:0]    pwre_state, pwre_sub, pwrx_last, pwrx_deepest;
  logic [xtu_pt_pkg::PtwPlcW-1:0]    ptw_plc;
  logic [xtu_pt_pkg::PtwW-1:0]       ptw;

  xtu_pkt_decode u_decode (
    .win_i            (in_q[InW-1 -: xtu_pt_pkg::WinW]),
    .avail_i          (in_q[xtu_pt_pkg::AvailW:1]),
    .skz84_i          (in_q[0]),
    .status_o         (status),
    .type_o           (ptype),
    .size_o           (size),
    .ipc_o            (ipc),
    .ip_o             (ip),
    .tnt_bits_o       (tnt_bits),
    .tnt_o            (tnt),
    .csl_o            (csl),
    .csd_o            (csd),
    .intx_o           (intx),
    .abrt_o           (abrt),
    .cr3_o            (cr3),
    .nr_o             (nr),
    .vmcs_o           (vmcs),
    .cbr_o            (cbr),
    .tsc_o            (tsc),
    .tma_ctc_o        (tma_ctc),
    .tma_fc_o         (tma_fc),
    .mtc_ctc_o        (mtc_ctc),
    .cyc_o            (cyc),
    .mnt_o            (mnt),
    .exstop_ip_o      (exstop_ip),
    .mwait_hints_o    (mwait_hints),
    .mwait_ext_o      (mwait_ext),
    .pwre_state_o     (pwre_state),
    .pwre_sub_state_o (pwre_sub),
    .pwre_hw_o        (pwre_hw),
    .pwrx_last_o      (pwrx_last),
    .pwrx_deepest_o   (pwrx_deepest),
    .pwrx_interrupt_o (pwrx_int),
    .pwrx_store_o     (pwrx_store),
    .pwrx_autonomous_o(pwrx_auto),
    .ptw_plc_o        (ptw_plc),
    .ptw_o            (ptw),
    .ptw_ip_o         (ptw_ip)
  );

  logic [767:0] out_d, out_q;
  assign out_d = 768'({status, ptype, size, ipc, ip, tnt_bits, tnt, csl, csd, intx, abrt, cr3, nr, vmcs,
                       cbr, tsc, tma_ctc, tma_fc, mtc_ctc, cyc, mnt, exstop_ip, mwait_hints, mwait_ext,
                       pwre_state, pwre_sub, pwre_hw, pwrx_last, pwrx_deepest, pwrx_int, pwrx_store,
                       pwrx_auto, ptw_plc, ptw, ptw_ip});
  always_ff @(posedge clk_i) out_q <= out_d;

  // Pipelined XOR fold: 768 -> 48 -> 3 -> 1.
  logic [47:0] fold1_q;
  logic [2:0]  fold2_q;
  always_ff @(posedge clk_i) begin
    for (int i = 0; i < 48; i++) fold1_q[i] <= ^out_q[16*i +: 16];
    for (int j = 0; j < 3; j++) fold2_q[j] <= ^fold1_q[16*j +: 16];
    dout_o <= ^fold2_q;
  end
endmodule
