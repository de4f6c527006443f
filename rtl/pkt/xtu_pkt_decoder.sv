// xtu_pkt_decoder: the pkt_decoder block: trace beats in, the packets the walker sees out.
//
// The RTL of xtu::model::PktDecoder (systemc/include/xtu/model/pkt_decoder.hpp,
// systemc/src/pkt_decoder.cpp), equal to it cycle for cycle and pin for pin
// (tests/rtl/test_rtl_pkt_decoder.cpp), except for what the model does beyond this block:
// the time (TimeKeeper: the packets carry no time/time_valid here), the packet tap,
// request_resync() and set_no_sync(). Per cycle, in the model's order:
//
//   1. the item in the output register leaves at the edge where out_valid_o and out_ready_i
//      are high; a beat arrives at the edge where in_valid_i and in_ready_o are high (an end
//      beat only says the trace ends: no bytes);
//   2. if running and the output register is free (after 1.), either one PSB search step
//      (search mode) or up to DecWidth chained decoders (decode mode): decoder k looks at the
//      bytes right after packet k-1; anything but a decoded packet (a search, an error, the end,
//      too few bytes) ends the chain;
//   3. the window drops the bytes it no longer needs (15 bytes are kept before the position: a
//      resynchronisation searches from there); in_ready_o says whether the window has room for
//      a full beat (8 bytes) after that, and the trace is not at its end.
//
// The window holds the trace bytes [win_off, win_off + cnt), at most Cap bytes (Cap =
// max(WinBytes, 16 DecWidth + 24): the model's `window`). They live in a ring of Ring bytes
// (Cap rounded up to a power of two) indexed by trace offset mod Ring, so a beat is written in
// place (its 8-byte word, the bytes [skip, skip+n)) and dropping bytes moves nothing. A beat
// must be word-aligned in trace offsets, skip = offset mod 8, as trace_reader makes them (its
// ring base and size are multiples of 8), and after start_i the beats must follow each other
// from trace offset 0 (the model assumes the same: it takes a beat's offset as the window's
// start when the window is empty, which it is only before the first beat).
//
// PSB search (the model: psb_search_forward() over the window from the search position, which
// here is always win_off, and the long-run rule): the answer is the first run of 02 82 pairs
// that holds a whole PSB (8 pairs); the PSB is the last 16 bytes of that run (libipt's choice
// in a longer run), accepted once the run is known to have ended (two more bytes seen, or the
// end of the trace). Without a PSB the search position moves to 15 bytes before the end of the
// window (a PSB may start there). At the first search, bytes skipped before the PSB (or a trace
// without any PSB) give an Error item (reason 3, NOSYNC, offset 0). The end of the trace
// during a search gives the End item (offset: the end).
//
// Decoding: the decode core xtu_pkt_decode per decoder; a decoded packet moves the position by
// its size (an SKZ84 <invalid> packet may move it one byte past the bytes seen: the next
// decoder waits, or ends the trace with End at the end). FUP/TIP/TIP.PGE/TIP.PGD take their IP
// from the last IP (xtu_last_ip, one clear/update port per decoder; cleared at PSB, OVF and
// each synchronisation); packets that do not move the flow (PAD, MODE.TSX, timing, CBR, STOP,
// MNT, power, PTW, <invalid>) are counted but not handed on. A decode error gives an Error item
// (reason 2, at the packet's offset) and a new search from 15 bytes before the packet, or from
// the byte after the PSB decoding synchronised on if the error is right there (kept as in the
// model, which cannot reach it either: the PSB a search accepts always decodes). Too few bytes
// at the end of the trace give the End item at the position.
//
// A PSB the search has found but cannot accept yet (the two bytes after it are not in the window)
// moves the search position to it, so the window drops the bytes before it and takes the bytes
// that tell; the window holds at least 16 DecWidth + 24 bytes (15 of history, the packets, a
// beat), so decoding never waits for room it cannot get.
//
// Output item (model::PktItem, registered): out_n_o packets in slots 0..n-1, each slot's fields
// at [k*W +: W] of the field's vector: kind (model::WalkPacket::Kind values), trace offset, IP
// and IP valid, TNT bits and count, CR3 and NR (PIP), VMCS base, mode64 (MODE.Exec's CS.L, 1 for
// every other packet as in the model), reason (Error: 2 decode error, 3 no sync). Fields a
// packet does not have are 0. Slots n.. hold older packets (don't care), as do all slots
// while out_valid_o is low.
//
// Status and counters (registered, updated at the same edge as the model's): pos_o (the trace
// offset of the next packet, or where the search is; after the End of a search, the last decode
// position, as the model), trace_tail_o (bytes consumed: the largest pos_o so far; TRACE_TAIL),
// and the counter increments of the edge: inc_packets_o (PACKETS: every packet decoded),
// inc_pkt_type_o (per type t = 1..26 (PAD..PTW), at [(t-1)*NumW +: NumW]: the counters
// PKT_<type>), inc_decode_errors_o (DECODE_ERRORS), inc_trace_bytes_o (TRACE_BYTES).
//
// One clock, synchronous active-low reset; start_i (CTRL.START) resets the block and starts it
// (running until the next reset or start), as the model's blocks.
module xtu_pkt_decoder #(
  parameter int unsigned DecWidth = 2,   // DEC_WIDTH: packets decoded per cycle, 1..4
  parameter int unsigned WinBytes = 64,  // window capacity in bytes (the model's `window`)
  localparam int unsigned Cap     = (WinBytes > 16 * DecWidth + 24) ? WinBytes : 16 * DecWidth + 24,
  localparam int unsigned NumW    = $clog2(DecWidth + 1),  // 0..DecWidth
  localparam int unsigned TbW     = $clog2(Cap + 2),       // trace bytes per cycle: 0..Cap+1
  localparam int unsigned NumTypes = 26,                   // PktPad .. PktPtw
  localparam int unsigned OffW    = 64,                    // trace offsets
  localparam int unsigned PaW     = xtu_pt_pkg::PaW,
  localparam int unsigned TntW    = xtu_pt_pkg::TntMaxBits,
  localparam int unsigned TntCntW = xtu_pt_pkg::TntCntW
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          start_i,
  input  logic                          skz84_i,   // SKZ84 erratum workaround (model errata)

  // Trace beats (model::TraceBeat) from trace_reader.
  input  logic                          in_valid_i,
  output logic                          in_ready_o,
  input  logic [63:0]                   in_data_i,    // byte i at bits 8i+7:8i
  input  logic [OffW-1:0]               in_offset_i,  // trace offset of byte in_skip_i
  input  logic [2:0]                    in_skip_i,
  input  logic [3:0]                    in_n_i,       // valid bytes: [skip, skip+n), n <= 8-skip
  input  logic                          in_end_i,     // no more trace (no bytes)

  // Items (model::PktItem) to the walker.
  output logic                          out_valid_o,
  input  logic                          out_ready_i,
  output logic [NumW-1:0]               out_n_o,
  output logic [DecWidth*4-1:0]         out_kind_o,
  output logic [DecWidth*OffW-1:0]      out_offset_o,
  output logic [DecWidth*64-1:0]        out_ip_o,
  output logic [DecWidth-1:0]           out_ip_valid_o,
  output logic [DecWidth*TntW-1:0]      out_tnt_bits_o,
  output logic [DecWidth*TntCntW-1:0]   out_tnt_count_o,
  output logic [DecWidth*PaW-1:0]       out_cr3_o,
  output logic [DecWidth-1:0]           out_nr_o,
  output logic [DecWidth*PaW-1:0]       out_vmcs_o,
  output logic [DecWidth-1:0]           out_mode64_o,
  output logic [DecWidth*2-1:0]         out_reason_o,

  // Status.
  output logic [OffW-1:0]               pos_o,
  output logic [OffW-1:0]               trace_tail_o,

  // Counter increments of the last edge.
  output logic [NumW-1:0]               inc_packets_o,
  output logic [NumTypes*NumW-1:0]      inc_pkt_type_o,
  output logic                          inc_decode_errors_o,
  output logic [TbW-1:0]                inc_trace_bytes_o
);

  localparam int unsigned RingAw = $clog2(Cap);
  localparam int unsigned Ring   = 1 << RingAw;  // ring bytes
  localparam int unsigned CntW   = $clog2(Cap + 1);
  localparam int unsigned SW     = CntW + 2;      // window-relative offsets and byte counts
  localparam int unsigned ShB    = 16 * DecWidth; // bytes the chain of decoders may look at

  if (DecWidth < 1 || DecWidth > 4) begin : g_width_check
    $error("DecWidth must be 1..4");
  end

  // WalkPacket::Kind.
  localparam logic [3:0] KTnt = 4'd0, KTip = 4'd1, KTipPge = 4'd2, KTipPgd = 4'd3, KFup = 4'd4,
                         KPsb = 4'd5, KPsbend = 4'd6, KOvf = 4'd7, KPip = 4'd8, KVmcs = 4'd9,
                         KModeExec = 4'd10, KOther = 4'd11, KError = 4'd12, KEnd = 4'd13;
  localparam logic [1:0] ReasonDecode = 2'd2, ReasonNoSync = 2'd3;

  // One packet of the item as a flat record (slot k of the output register at [k*RecW +: RecW]).
  localparam int unsigned RecW     = 4 + OffW + 64 + 1 + TntW + TntCntW + PaW + 1 + PaW + 1 + 2;
  localparam int unsigned RReason  = 0;
  localparam int unsigned RMode64  = RReason + 2;
  localparam int unsigned RVmcs    = RMode64 + 1;
  localparam int unsigned RNr      = RVmcs + PaW;
  localparam int unsigned RCr3     = RNr + 1;
  localparam int unsigned RTntCnt  = RCr3 + PaW;
  localparam int unsigned RTnt     = RTntCnt + TntCntW;
  localparam int unsigned RIpValid = RTnt + TntW;
  localparam int unsigned RIp      = RIpValid + 1;
  localparam int unsigned ROffset  = RIp + 64;
  localparam int unsigned RKind    = ROffset + OffW;

  function automatic logic [RecW-1:0] rec(logic [3:0] kind, logic [OffW-1:0] offset,
                                          logic [63:0] ip, logic ip_valid, logic [TntW-1:0] tnt,
                                          logic [TntCntW-1:0] tnt_cnt, logic [PaW-1:0] cr3,
                                          logic nr, logic [PaW-1:0] vmcs, logic mode64,
                                          logic [1:0] reason);
    rec = {kind, offset, ip, ip_valid, tnt, tnt_cnt, cr3, nr, vmcs, mode64, reason};
  endfunction

  typedef enum logic [1:0] {
    ModeSearch = 2'd0,
    ModeDecode = 2'd1,
    ModeDone   = 2'd2
  } mode_e;

  // ---------------------------------------------------------------------------------------
  // State.

  logic                   running_q;
  mode_e                  mode_q, mode_d;
  logic                   first_q, first_d;       // the first search is still on
  logic                   end_seen_q;             // the end beat came
  logic [OffW-1:0]        pos_q, pos_d;           // decode position
  logic                   at_sync_q, at_sync_d;   // pos is the PSB the last search found
  logic [Ring*8-1:0]      ring_q, ring1;          // ring1: ring_q with this cycle's beat
  logic [OffW-1:0]        win_off_q, win_off_d;   // trace offset of the window's first byte
  logic [CntW-1:0]        cnt_q, cnt_d;           // bytes in the window
  logic [OffW-1:0]        tail_q, tail_d;         // trace bytes consumed (TRACE_TAIL)
  logic                   in_ready_q, in_ready_d;
  logic                   out_valid_q, out_valid_d;
  logic [NumW-1:0]        out_n_q;
  logic [DecWidth*RecW-1:0] out_q;
  logic [OffW-1:0]        pos_o_q, consumed;
  logic [NumW-1:0]        inc_packets_q, inc_packets_d;
  logic [NumTypes*NumW-1:0] inc_type_q, inc_type_d;
  logic                   inc_err_q, inc_err_d;
  logic [TbW-1:0]         inc_tb_q, inc_tb_d;

  // ---------------------------------------------------------------------------------------
  // 1. Handshakes, the beat into the window.

  logic in_fire, out_fire, beat, end_seen1, active;
  assign in_fire   = in_valid_i && in_ready_q;
  assign out_fire  = out_valid_q && out_ready_i;
  assign beat      = in_fire && !in_end_i;
  assign end_seen1 = end_seen_q || (in_fire && in_end_i);
  // Decoding happens when running and the output register is free after this edge.
  assign active    = running_q && (!out_valid_q || out_ready_i);

  // The window starts where it did: it is empty only before the first beat, which starts at
  // offset 0 (the model takes the beat's offset then: the same). in_offset_i only places the beat.
  logic [OffW-1:0] win_off1, end1;
  logic [CntW-1:0] cnt1;
  assign win_off1 = win_off_q;
  assign cnt1     = beat ? cnt_q + CntW'(in_n_i) : cnt_q;
  assign end1     = win_off1 + OffW'(cnt1);

  // The beat's bytes [skip, skip+n) go to their slots (trace offset mod Ring) of its word.
  logic [63:0]         beat_mask;  // bytes of the word written
  logic [Ring/8-1:0]   beat_word;  // the word
  logic [Ring*8-1:0]   ring_mask;
  always_comb begin
    for (int unsigned b = 0; b < 8; b++) begin
      beat_mask[8*b +: 8] = {8{beat && 4'(b) >= {1'b0, in_skip_i} &&
                                4'(b) < {1'b0, in_skip_i} + in_n_i}};
    end
    for (int unsigned w = 0; w < Ring / 8; w++) begin
      beat_word[w] = in_offset_i[RingAw-1:3] == (RingAw-3)'(w);
      ring_mask[64*w +: 64] = beat_word[w] ? beat_mask : '0;
    end
  end
  assign ring1 = (ring_q & ~ring_mask) | ({(Ring/8){in_data_i}} & ring_mask);

  // ---------------------------------------------------------------------------------------
  // 2a. PSB search over the window (search mode: the search position is win_off1).

  logic [Ring-1:0] is02, is82, pair0, pair_rot, pair, in_win;
  always_comb begin
    for (int unsigned p = 0; p < Ring; p++) begin
      is02[p] = ring1[8*p +: 8] == 8'h02;
      is82[p] = ring1[8*p +: 8] == 8'h82;
    end
  end
  // A 02 82 pair at ring slot p (the ring is circular).
  assign pair0 = is02 & {is82[0], is82[Ring-1:1]};
  // Bit r: a pair at window byte r (trace byte win_off1 + r), wholly in the window (r+1 < cnt1).
  assign pair_rot = Ring'({pair0, pair0} >> win_off1[RingAw-1:0]);
  assign in_win   = cnt1 > CntW'(1) ? (Ring'(1) << (cnt1 - CntW'(1))) - Ring'(1) : '0;
  assign pair     = pair_rot & in_win;

  // Candidate c: a PSB at window byte c (8 pairs) that ends its run (no pair at c+16). The first
  // is the answer (the first run that holds a PSB; its last 16 bytes).
  logic [Ring-1:0] cand;
  assign cand = pair & (pair >> 2) & (pair >> 4) & (pair >> 6) & (pair >> 8) & (pair >> 10) &
                (pair >> 12) & (pair >> 14) & ~(pair >> 16);
  logic              found;
  logic [RingAw-1:0] s_rel;
  always_comb begin
    found = 1'b0;
    s_rel = '0;
    for (int unsigned c = 0; c + 16 <= Ring; c++) begin
      if (cand[c] && !found) begin
        found = 1'b1;
        s_rel = RingAw'(c);
      end
    end
  end

  logic            s_go, s_ok, s_nosync_none, s_end, s_adv, s_nosync, s_wait;
  logic [OffW-1:0] s_at;
  assign s_at          = win_off1 + OffW'(s_rel);
  assign s_go          = active && mode_q == ModeSearch;
  // Accepted once two bytes after it are seen (they are no pair) or the trace ended.
  assign s_ok          = s_go && found && (end_seen1 || SW'(s_rel) + SW'(18) <= SW'(cnt1));
  assign s_nosync      = s_ok && first_q && s_at != '0;
  assign s_nosync_none = s_go && !found && end_seen1 && first_q && end1 != '0;
  assign s_end         = s_go && !found && end_seen1 && !(first_q && end1 != '0);
  assign s_adv         = s_go && !found && !end_seen1 && cnt1 > CntW'(15);
  assign s_wait        = s_go && found && !s_ok;  // not yet: drop the bytes before it

  // ---------------------------------------------------------------------------------------
  // 2b. Decode mode: the chain of decoders.

  logic d_go;
  assign d_go = active && mode_q == ModeDecode;

  // The bytes from the position on: rot byte i = trace byte pos_q + i.
  logic [ShB*8-1:0] rot;
  assign rot = (ShB*8)'({ring1, ring1} >> {pos_q[RingAw-1:0], 3'b000});

  // Position relative to the window (0..15 in decode mode), bytes available there.
  logic [SW-1:0]        rel0;
  logic signed [SW-1:0] avail0;
  assign rel0   = pos_q[SW-1:0] - win_off1[SW-1:0];
  assign avail0 = $signed(SW'(cnt1)) - $signed(rel0);

  // Last IP: port k is decoder k's packet.
  logic [DecWidth-1:0]           lip_clear, lip_upd;
  logic [DecWidth*3-1:0]         lip_ipc;
  logic [DecWidth*64-1:0]        lip_raw, lip_ip;
  logic [DecWidth*2-1:0]         lip_status;

  // Per decoder, collected for the output register and the counters.
  logic [DecWidth-1:0]           ok_v, emit_v;
  logic [DecWidth*5-1:0]         type_v;
  logic [DecWidth*NumW-1:0]      ne_v;
  logic [DecWidth*RecW-1:0]      rec_v;

  for (genvar k = 0; k < DecWidth; k++) begin : g_dec
    localparam int unsigned Bytes = 16 * (DecWidth - k);
    logic                   go_in, go_out;          // this decoder runs / the next one does
    logic [Bytes*8-1:0]     sh_in;                  // the bytes from its position on
    logic signed [SW-1:0]   avail_in, avail_out;    // bytes available at its position
    logic [SW-1:0]          dpos_in, dpos_out;      // its position - pos_q
    logic [NumW-1:0]        ne_in, ne_out;          // packets emitted before it
    logic [NumW-1:0]        nd_in, nd_out;          // packets decoded before it
    logic                   err_in, err_out, end_in, end_out;

    if (k == 0) begin : g_first
      assign go_in    = d_go;
      assign sh_in    = rot;
      assign avail_in = avail0;
      assign dpos_in  = '0;
      assign ne_in    = '0;
      assign nd_in    = '0;
      assign err_in   = 1'b0;
      assign end_in   = 1'b0;
    end else begin : g_next
      assign go_in    = g_dec[k-1].go_out;
      assign sh_in    = g_dec[k-1].sh_out;
      assign avail_in = g_dec[k-1].avail_out;
      assign dpos_in  = g_dec[k-1].dpos_out;
      assign ne_in    = g_dec[k-1].ne_out;
      assign nd_in    = g_dec[k-1].nd_out;
      assign err_in   = g_dec[k-1].err_out;
      assign end_in   = g_dec[k-1].end_out;
    end

    logic [xtu_pt_pkg::AvailW-1:0] avail_c;  // clipped to 0..16
    assign avail_c = avail_in < 0 ? '0
                   : avail_in > $signed(SW'(16)) ? xtu_pt_pkg::AvailW'(16)
                   : avail_in[xtu_pt_pkg::AvailW-1:0];

    xtu_pt_pkg::dec_status_e            st;
    xtu_pt_pkg::pkt_type_e              ptype;
    logic [xtu_pt_pkg::SizeW-1:0]       size;
    logic [xtu_pt_pkg::IpcW-1:0]        ipc;
    logic [xtu_pt_pkg::IpW-1:0]         ip;
    logic [TntCntW-1:0]                 tnt_bits;
    logic [TntW-1:0]                    tnt;
    logic                               csl, nr;
    logic [PaW-1:0]                     cr3, vmcs;

    // The payloads the walker does not see (they would go to the time keeper and the tap).
    logic x_csd;
    logic x_intx;
    logic x_abrt;
    logic [8-1:0] x_cbr;
    logic [xtu_pt_pkg::TscW-1:0] x_tsc;
    logic [xtu_pt_pkg::CtcW-1:0] x_tma_ctc;
    logic [xtu_pt_pkg::FcW-1:0] x_tma_fc;
    logic [8-1:0] x_mtc_ctc;
    logic [xtu_pt_pkg::CycW-1:0] x_cyc;
    logic [xtu_pt_pkg::MntW-1:0] x_mnt;
    logic x_exstop_ip;
    logic [xtu_pt_pkg::MwaitW-1:0] x_mwait_hints;
    logic [xtu_pt_pkg::MwaitW-1:0] x_mwait_ext;
    logic [xtu_pt_pkg::CstateW-1:0] x_pwre_state;
    logic [xtu_pt_pkg::CstateW-1:0] x_pwre_sub_state;
    logic x_pwre_hw;
    logic [xtu_pt_pkg::CstateW-1:0] x_pwrx_last;
    logic [xtu_pt_pkg::CstateW-1:0] x_pwrx_deepest;
    logic x_pwrx_interrupt;
    logic x_pwrx_store;
    logic x_pwrx_autonomous;
    logic [xtu_pt_pkg::PtwPlcW-1:0] x_ptw_plc;
    logic [xtu_pt_pkg::PtwW-1:0] x_ptw;
    logic x_ptw_ip;
    logic unused_payload;
    assign unused_payload = ^{x_csd, x_intx, x_abrt, x_cbr, x_tsc, x_tma_ctc, x_tma_fc, x_mtc_ctc,
                              x_cyc, x_mnt, x_exstop_ip, x_mwait_hints, x_mwait_ext, x_pwre_state,
                              x_pwre_sub_state, x_pwre_hw, x_pwrx_last, x_pwrx_deepest,
                              x_pwrx_interrupt, x_pwrx_store, x_pwrx_autonomous, x_ptw_plc, x_ptw,
                              x_ptw_ip};

    xtu_pkt_decode u_decode (
      .win_i             (sh_in[xtu_pt_pkg::WinW-1:0]),
      .avail_i           (avail_c),
      .skz84_i           (skz84_i),
      .status_o          (st),
      .type_o            (ptype),
      .size_o            (size),
      .ipc_o             (ipc),
      .ip_o              (ip),
      .tnt_bits_o        (tnt_bits),
      .tnt_o             (tnt),
      .csl_o             (csl),
      .csd_o             (x_csd),
      .intx_o            (x_intx),
      .abrt_o            (x_abrt),
      .cr3_o             (cr3),
      .nr_o              (nr),
      .vmcs_o            (vmcs),
      .cbr_o             (x_cbr),
      .tsc_o             (x_tsc),
      .tma_ctc_o         (x_tma_ctc),
      .tma_fc_o          (x_tma_fc),
      .mtc_ctc_o         (x_mtc_ctc),
      .cyc_o             (x_cyc),
      .mnt_o             (x_mnt),
      .exstop_ip_o       (x_exstop_ip),
      .mwait_hints_o     (x_mwait_hints),
      .mwait_ext_o       (x_mwait_ext),
      .pwre_state_o      (x_pwre_state),
      .pwre_sub_state_o  (x_pwre_sub_state),
      .pwre_hw_o         (x_pwre_hw),
      .pwrx_last_o       (x_pwrx_last),
      .pwrx_deepest_o    (x_pwrx_deepest),
      .pwrx_interrupt_o  (x_pwrx_interrupt),
      .pwrx_store_o      (x_pwrx_store),
      .pwrx_autonomous_o (x_pwrx_autonomous),
      .ptw_plc_o         (x_ptw_plc),
      .ptw_o             (x_ptw),
      .ptw_ip_o          (x_ptw_ip)
    );

    // What this decoder does.
    logic over, ok, err, end_over, end_more, is_ip, flow, emit;
    assign over     = avail_in < 0;  // an SKZ84 packet skipped a byte not seen yet
    assign ok       = go_in && !over && st == xtu_pt_pkg::DecPacket;
    assign err      = go_in && !over && (st == xtu_pt_pkg::DecUnknownOpcode ||
                                         st == xtu_pt_pkg::DecBadPacket);
    assign end_over = go_in && over && end_seen1;
    assign end_more = go_in && !over && st == xtu_pt_pkg::DecNeedMore &&
                      (end_seen1 || avail_in >= $signed(SW'(16)));
    assign is_ip    = ptype == xtu_pt_pkg::PktFup || ptype == xtu_pt_pkg::PktTip ||
                      ptype == xtu_pt_pkg::PktTipPge || ptype == xtu_pt_pkg::PktTipPgd;
    assign flow     = is_ip || ptype == xtu_pt_pkg::PktTnt8 || ptype == xtu_pt_pkg::PktTnt64 ||
                      ptype == xtu_pt_pkg::PktPsb || ptype == xtu_pt_pkg::PktPsbend ||
                      ptype == xtu_pt_pkg::PktOvf || ptype == xtu_pt_pkg::PktPip ||
                      ptype == xtu_pt_pkg::PktVmcs || ptype == xtu_pt_pkg::PktModeExec;
    assign emit     = (ok && flow) || err || end_over || end_more;

    // The last IP: cleared at PSB and OVF (and, port 0, at a synchronisation or start),
    // updated by IP packets; the packet's IP is the state after its update.
    if (k == 0) begin : g_clear0
      assign lip_clear[k] = start_i || s_ok ||
                            (ok && (ptype == xtu_pt_pkg::PktPsb || ptype == xtu_pt_pkg::PktOvf));
    end else begin : g_clear
      assign lip_clear[k] = ok && (ptype == xtu_pt_pkg::PktPsb || ptype == xtu_pt_pkg::PktOvf);
    end
    assign lip_upd[k]          = !start_i && ok && is_ip;
    assign lip_ipc[k*3 +: 3]   = ipc;
    assign lip_raw[k*64 +: 64] = ip;

    logic [3:0] kind;
    always_comb begin
      case (ptype)
        xtu_pt_pkg::PktTnt8, xtu_pt_pkg::PktTnt64: kind = KTnt;
        xtu_pt_pkg::PktTip:      kind = KTip;
        xtu_pt_pkg::PktTipPge:   kind = KTipPge;
        xtu_pt_pkg::PktTipPgd:   kind = KTipPgd;
        xtu_pt_pkg::PktFup:      kind = KFup;
        xtu_pt_pkg::PktPsb:      kind = KPsb;
        xtu_pt_pkg::PktPsbend:   kind = KPsbend;
        xtu_pt_pkg::PktOvf:      kind = KOvf;
        xtu_pt_pkg::PktPip:      kind = KPip;
        xtu_pt_pkg::PktVmcs:     kind = KVmcs;
        xtu_pt_pkg::PktModeExec: kind = KModeExec;
        default:                 kind = KOther;
      endcase
      if (err) kind = KError;
      if (end_over || end_more) kind = KEnd;
    end

    logic [OffW-1:0] pos_abs;
    logic            ip_ok;
    assign pos_abs = pos_q + OffW'(dpos_in);
    assign ip_ok   = is_ip && lip_status[k*2 +: 2] == xtu_pt_pkg::LastIpOk;
    assign rec_v[k*RecW +: RecW] =
        rec(kind, end_over ? end1 : pos_abs, ip_ok ? lip_ip[k*64 +: 64] : '0, ip_ok,
            tnt, tnt_bits, cr3, nr, vmcs, ptype == xtu_pt_pkg::PktModeExec ? csl : 1'b1,
            err ? ReasonDecode : 2'd0);
    assign ok_v[k]              = ok;
    assign emit_v[k]            = emit;
    assign type_v[k*5 +: 5]     = ptype;
    assign ne_v[k*NumW +: NumW] = ne_in;

    // To the next decoder.
    assign go_out    = ok;
    assign avail_out = ok ? avail_in - $signed(SW'(size)) : avail_in;
    assign dpos_out  = ok ? dpos_in + SW'(size) : dpos_in;
    assign ne_out    = ne_in + NumW'(emit);
    assign nd_out    = nd_in + NumW'(ok);
    assign err_out   = err_in || err;
    assign end_out   = end_in || end_over || end_more;
    localparam int unsigned OutBytes = Bytes > 16 ? Bytes - 16 : 16;  // (the last: unused)
    logic [OutBytes*8-1:0] sh_out;
    assign sh_out = (OutBytes*8)'(sh_in >> {size, 3'b000});
  end

  logic [DecWidth-1:0]             lip_ipc_ok;  // reserved IPBytes are bad packets already
  xtu_pt_pkg::last_ip_status_e     lip_status_q;
  logic [63:0]                     lip_ip_q, lip_raw_q;
  xtu_last_ip #(
    .NumUpd (DecWidth)
  ) u_last_ip (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .clear_i       (lip_clear),
    .upd_i         (lip_upd),
    .upd_ipc_i     (lip_ipc),
    .upd_ip_i      (lip_raw),
    .ipc_ok_o      (lip_ipc_ok),
    .status_o      (lip_status_q),
    .ip_o          (lip_ip_q),
    .raw_o         (lip_raw_q),
    .status_next_o (lip_status),
    .ip_next_o     (lip_ip)
  );

  logic unused_offset;
  assign unused_offset = ^{in_offset_i[OffW-1:RingAw], in_offset_i[2:0]};
  logic unused_lip;
  assign unused_lip = ^{lip_ipc_ok, lip_status_q, lip_ip_q, lip_raw_q};

  // The chain's result.
  logic [SW-1:0]   d_dpos, d_rel, d_start;
  logic [NumW-1:0] d_nd, d_ne;
  logic            d_err, d_end;
  assign d_dpos  = g_dec[DecWidth-1].dpos_out;
  assign d_nd    = g_dec[DecWidth-1].nd_out;
  assign d_ne    = g_dec[DecWidth-1].ne_out;
  assign d_err   = g_dec[DecWidth-1].err_out;
  assign d_end   = g_dec[DecWidth-1].end_out;
  logic unused_last;  // what the last decoder would hand a next one
  assign unused_last = ^{g_dec[DecWidth-1].go_out, g_dec[DecWidth-1].sh_out,
                         g_dec[DecWidth-1].avail_out};
  assign d_rel   = rel0 + d_dpos;
  // A decode error: search from 15 bytes before the failing packet, or, if it is the PSB the
  // last search found, from the byte after that PSB (15 bytes before its end).
  assign d_start = d_rel + ((at_sync_q && d_nd == '0) ? SW'(16) : SW'(0));

  // ---------------------------------------------------------------------------------------
  // 3. Next state.

  logic [SW-1:0] trim;  // bytes the window drops
  always_comb begin
    mode_d    = mode_q;
    pos_d     = pos_q;
    at_sync_d = at_sync_q;
    first_d   = first_q;
    trim      = '0;
    if (s_ok) begin
      mode_d    = ModeDecode;
      pos_d     = s_at;
      at_sync_d = 1'b1;
      first_d   = 1'b0;
      trim      = SW'(s_rel) > SW'(15) ? SW'(s_rel) - SW'(15) : '0;
    end else if (s_nosync_none) begin
      first_d = 1'b0;
    end else if (s_end) begin
      mode_d = ModeDone;
    end else if (s_adv) begin
      trim = SW'(cnt1) - SW'(15);
    end else if (s_wait) begin
      trim = SW'(s_rel);
    end
    if (d_go) begin
      pos_d = pos_q + OffW'(d_dpos);
      if (d_nd != '0) at_sync_d = 1'b0;
      if (d_err) begin
        mode_d = ModeSearch;
        trim   = d_start > SW'(15) ? d_start - SW'(15) : '0;
      end else begin
        if (d_end) mode_d = ModeDone;
        trim = d_rel > SW'(15) ? d_rel - SW'(15) : '0;
      end
    end
  end

  assign win_off_d = win_off1 + OffW'(trim);
  assign cnt_d     = cnt1 - CntW'(trim);
  assign consumed  = mode_d == ModeSearch ? win_off_d : pos_d;
  // consumed - tail_q: TRACE_TAIL moves on (and TRACE_BYTES counts) when it is positive.
  logic [OffW:0] ahead;
  assign ahead     = {1'b0, consumed} - {1'b0, tail_q};
  assign tail_d    = ahead[OffW] ? tail_q : consumed;
  assign in_ready_d = running_q && !end_seen1 && SW'(cnt_d) + SW'(8) <= SW'(Cap);

  // The item: the search's (slot 0) or the decoders' emitted packets, in order.
  logic [NumW-1:0]          n_new;
  logic [DecWidth-1:0]      slot_we;
  logic [DecWidth*RecW-1:0] slot_rec;
  always_comb begin
    n_new    = '0;
    slot_we  = '0;
    slot_rec = '0;
    if (s_nosync || s_nosync_none || s_end) begin
      n_new       = NumW'(1);
      slot_we[0]  = 1'b1;
      slot_rec[0 +: RecW] = s_end ? rec(KEnd, end1, '0, 1'b0, '0, '0, '0, 1'b0, '0, 1'b1, 2'd0)
                                  : rec(KError, '0, '0, 1'b0, '0, '0, '0, 1'b0, '0, 1'b1,
                                        ReasonNoSync);
    end
    if (d_go) begin
      n_new = d_ne;
      for (int unsigned k = 0; k < DecWidth; k++) begin
        for (int unsigned j = 0; j <= k; j++) begin
          if (emit_v[k] && ne_v[k*NumW +: NumW] == NumW'(j)) begin
            slot_we[j]               = 1'b1;
            slot_rec[j*RecW +: RecW] = rec_v[k*RecW +: RecW];
          end
        end
      end
    end
  end
  assign out_valid_d = (out_valid_q && !out_fire) || n_new != '0;

  // Counter increments.
  always_comb begin
    inc_type_d = '0;
    for (int unsigned k = 0; k < DecWidth; k++) begin
      for (int unsigned t = 1; t <= NumTypes; t++) begin
        if (ok_v[k] && type_v[k*5 +: 5] == 5'(t)) begin
          inc_type_d[(t-1)*NumW +: NumW] = inc_type_d[(t-1)*NumW +: NumW] + NumW'(1);
        end
      end
    end
  end
  assign inc_packets_d = d_nd;
  assign inc_err_d     = d_go && d_err;
  assign inc_tb_d      = ahead[OffW] ? '0 : TbW'(ahead);

  // ---------------------------------------------------------------------------------------
  // Registers.

  always_ff @(posedge clk_i) begin
    if (!rst_ni || start_i) begin
      running_q     <= rst_ni && start_i;
      mode_q        <= ModeSearch;
      first_q       <= 1'b1;
      end_seen_q    <= 1'b0;
      pos_q         <= '0;
      at_sync_q     <= 1'b1;
      win_off_q     <= '0;
      cnt_q         <= '0;
      tail_q        <= '0;
      in_ready_q    <= 1'b0;
      out_valid_q   <= 1'b0;
      pos_o_q       <= '0;
      inc_packets_q <= '0;
      inc_type_q    <= '0;
      inc_err_q     <= 1'b0;
      inc_tb_q      <= '0;
    end else begin
      mode_q        <= mode_d;
      first_q       <= first_d;
      end_seen_q    <= end_seen1;
      pos_q         <= pos_d;
      at_sync_q     <= at_sync_d;
      win_off_q     <= win_off_d;
      cnt_q         <= cnt_d;
      tail_q        <= tail_d;
      in_ready_q    <= in_ready_d;
      out_valid_q   <= out_valid_d;
      pos_o_q       <= consumed;
      inc_packets_q <= inc_packets_d;
      inc_type_q    <= inc_type_d;
      inc_err_q     <= inc_err_d;
      inc_tb_q      <= inc_tb_d;
    end
  end

  // The window's bytes and the item's packets: no reset (only cnt_q / out_valid_q say what is
  // valid).
  always_ff @(posedge clk_i) begin
    ring_q <= ring1;
    if (rst_ni && !start_i && n_new != '0) out_n_q <= n_new;
    for (int unsigned j = 0; j < DecWidth; j++) begin
      if (rst_ni && !start_i && slot_we[j]) out_q[j*RecW +: RecW] <= slot_rec[j*RecW +: RecW];
    end
  end

  // ---------------------------------------------------------------------------------------
  // Outputs.

  assign in_ready_o          = in_ready_q;
  assign out_valid_o         = out_valid_q;
  assign out_n_o             = out_n_q;
  assign pos_o               = pos_o_q;
  assign trace_tail_o        = tail_q;
  assign inc_packets_o       = inc_packets_q;
  assign inc_pkt_type_o      = inc_type_q;
  assign inc_decode_errors_o = inc_err_q;
  assign inc_trace_bytes_o   = inc_tb_q;

  for (genvar k = 0; k < DecWidth; k++) begin : g_out
    logic [RecW-1:0] r;
    assign r = out_q[k*RecW +: RecW];
    assign out_kind_o[k*4 +: 4]              = r[RKind +: 4];
    assign out_offset_o[k*OffW +: OffW]      = r[ROffset +: OffW];
    assign out_ip_o[k*64 +: 64]              = r[RIp +: 64];
    assign out_ip_valid_o[k]                 = r[RIpValid];
    assign out_tnt_bits_o[k*TntW +: TntW]    = r[RTnt +: TntW];
    assign out_tnt_count_o[k*TntCntW +: TntCntW] = r[RTntCnt +: TntCntW];
    assign out_cr3_o[k*PaW +: PaW]           = r[RCr3 +: PaW];
    assign out_nr_o[k]                       = r[RNr];
    assign out_vmcs_o[k*PaW +: PaW]          = r[RVmcs +: PaW];
    assign out_mode64_o[k]                   = r[RMode64];
    assign out_reason_o[k*2 +: 2]            = r[RReason +: 2];
  end

endmodule
