// xtu_fpga_pkt_decoder: an out-of-context harness that puts the pkt_decoder block
// (rtl/pkt/xtu_pkt_decoder.sv: byte window, PSB search, DecWidth chained decode cores, last IP,
// output register) on an iCE40, to measure what the block costs (logic cells) and how fast it
// runs (the register-to-register Fmax nextpnr reports).
//
// Every input of the block (reset, start, SKZ84, the beat with its valid, the output's ready)
// comes from a shift register fed by one input pin. The block's outputs are its own registers,
// so they are XOR-folded onto one output pin directly, the fold pipelined (one register per 16
// bits); no output can be optimized away. The paths between the input row, the block's
// registers and the fold's first row are the block's.
//
// DEC_WIDTH 1 with the model's default window (64 bytes): at DEC_WIDTH 2 the block alone is
// 8,197 LUT4s and 1,467 flip-flops, more than the HX8K's 7,680 logic cells; the UP5K (5,280)
// takes neither.
module xtu_fpga_pkt_decoder (
  input  logic clk_i,
  input  logic din_i,
  output logic dout_o
);
  localparam int unsigned DecWidth = 1;
  localparam int unsigned WinBytes = 64;
  localparam int unsigned NumW     = $clog2(DecWidth + 1);
  localparam int unsigned Cap      = (WinBytes > 16 * DecWidth + 16) ? WinBytes
                                                                     : 16 * DecWidth + 16;
  localparam int unsigned TbW      = $clog2(Cap + 2);
  localparam int unsigned PaW      = xtu_pt_pkg::PaW;
  localparam int unsigned TntW     = xtu_pt_pkg::TntMaxBits;
  localparam int unsigned TntCntW  = xtu_pt_pkg::TntCntW;

  // rst_n, start, skz84, in_valid, data, offset, skip, n, end, out_ready
  localparam int unsigned InW = 4 + 64 + 64 + 3 + 4 + 1 + 1;
  logic [InW-1:0] in_q;
  always_ff @(posedge clk_i) in_q <= {in_q[InW-2:0], din_i};

  logic                       in_ready, out_valid, inc_err;
  logic [NumW-1:0]            out_n, inc_packets;
  logic [DecWidth*4-1:0]      kind;
  logic [DecWidth*64-1:0]     offset, ip;
  logic [DecWidth-1:0]        ip_valid, nr, mode64;
  logic [DecWidth*TntW-1:0]   tnt;
  logic [DecWidth*TntCntW-1:0] tnt_count;
  logic [DecWidth*PaW-1:0]    cr3, vmcs;
  logic [DecWidth*2-1:0]      reason;
  logic [63:0]                pos, tail;
  logic [26*NumW-1:0]         inc_type;
  logic [TbW-1:0]             inc_tb;

  xtu_pkt_decoder #(
    .DecWidth (DecWidth),
    .WinBytes (WinBytes)
  ) u_decoder (
    .clk_i               (clk_i),
    .rst_ni              (in_q[0]),
    .start_i             (in_q[1]),
    .skz84_i             (in_q[2]),
    .in_valid_i          (in_q[3]),
    .in_ready_o          (in_ready),
    .in_data_i           (in_q[4 +: 64]),
    .in_offset_i         (in_q[68 +: 64]),
    .in_skip_i           (in_q[132 +: 3]),
    .in_n_i              (in_q[135 +: 4]),
    .in_end_i            (in_q[139]),
    .out_valid_o         (out_valid),
    .out_ready_i         (in_q[140]),
    .out_n_o             (out_n),
    .out_kind_o          (kind),
    .out_offset_o        (offset),
    .out_ip_o            (ip),
    .out_ip_valid_o      (ip_valid),
    .out_tnt_bits_o      (tnt),
    .out_tnt_count_o     (tnt_count),
    .out_cr3_o           (cr3),
    .out_nr_o            (nr),
    .out_vmcs_o          (vmcs),
    .out_mode64_o        (mode64),
    .out_reason_o        (reason),
    .pos_o               (pos),
    .trace_tail_o        (tail),
    .inc_packets_o       (inc_packets),
    .inc_pkt_type_o      (inc_type),
    .inc_decode_errors_o (inc_err),
    .inc_trace_bytes_o   (inc_tb)
  );

  localparam int unsigned PktW  = 4 + 64 + 64 + 1 + TntW + TntCntW + PaW + 1 + PaW + 1 + 2;
  localparam int unsigned OutW  = 2 + NumW + DecWidth * PktW + 64 + 64 + NumW + 26 * NumW + 1 + TbW;
  localparam int unsigned Fold2 = (OutW + 255) / 256;  // 256 output bits per second-row bit
  logic [Fold2*256-1:0] out_w;
  assign out_w = (Fold2*256)'({in_ready, out_valid, out_n, kind, offset, ip, ip_valid, tnt,
                               tnt_count, cr3, nr, vmcs, mode64, reason, pos, tail, inc_packets,
                               inc_type, inc_err, inc_tb});

  // Pipelined XOR fold: OutW -> 16 Fold2 -> Fold2 -> 1.
  logic [Fold2*16-1:0] fold1_q;
  logic [Fold2-1:0]    fold2_q;
  always_ff @(posedge clk_i) begin
    for (int i = 0; i < Fold2 * 16; i++) fold1_q[i] <= ^out_w[16*i +: 16];
    for (int j = 0; j < Fold2; j++) fold2_q[j] <= ^fold1_q[16*j +: 16];
    dout_o <= ^fold2_q;
  end
endmodule
