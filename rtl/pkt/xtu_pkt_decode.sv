// xtu_pkt_decode: the Intel PT packet decode core of the pkt_decoder block (purely combinational).
//
// The RTL of xtu::model::decode_packet() (systemc/src/pt_packet.cpp): which packet starts at
// byte 0 of the decoder's byte window, its size and its payload, from at most the first
// avail_i bytes. Same results as the model for every window and every avail, including where
// the answer is "need more bytes" rather than an error (libipt 2.0.5's order of checks):
//
//   status_o     DecPacket: a packet of size_o bytes, type_o and its payload fields;
//                DecNeedMore: the first avail_i bytes are too few to tell;
//                DecUnknownOpcode / DecBadPacket: decode_packet()'s two errors.
//   type_o       the packet type (xtu_pt_pkg::pkt_type_e = model::PktType); PktInvalid with
//                DecPacket is the 8-byte packet of the SKZ84 workaround (a TMA with reserved
//                bits set, skz84_i = 1); size_o is then 8 although only 7 bytes are needed.
//   fields       every payload field of model::Packet; as in the model, all zero except the
//                fields of type_o when status_o is DecPacket.
//
// How it is computed: every case of the opcode map yields the packet's type and size, an
// error flag, and `req`, the number of bytes the decision looked at. The status is DecNeedMore
// while avail_i < req, so bytes at or past avail_i (which may hold anything) never change any
// output. Checked against the model by tests/rtl/test_rtl_pkt_decode.cpp.
module xtu_pkt_decode (
  input  logic [xtu_pt_pkg::WinW-1:0]       win_i,    // byte k at bits 8k+7:8k, byte 0 first
  input  logic [xtu_pt_pkg::AvailW-1:0]     avail_i,  // valid bytes (above WinBytes: WinBytes)
  input  logic                              skz84_i,  // SKZ84 erratum workaround enabled

  output xtu_pt_pkg::dec_status_e           status_o,
  output xtu_pt_pkg::pkt_type_e             type_o,
  output logic [xtu_pt_pkg::SizeW-1:0]      size_o,

  // FUP, TIP, TIP.PGE, TIP.PGD: IPBytes and the raw payload (not combined with the last IP)
  output logic [xtu_pt_pkg::IpcW-1:0]       ipc_o,
  output logic [xtu_pt_pkg::IpW-1:0]        ip_o,
  // TNT-8, TNT-64: number of branches, the branches (oldest at bit tnt_bits_o-1), no stop bit
  output logic [xtu_pt_pkg::TntCntW-1:0]    tnt_bits_o,
  output logic [xtu_pt_pkg::TntMaxBits-1:0] tnt_o,
  // MODE.Exec: CS.L, CS.D; MODE.TSX: InTX, TXAbort
  output logic                              csl_o,
  output logic                              csd_o,
  output logic                              intx_o,
  output logic                              abrt_o,
  // PIP: CR3 (bits 51:5), non-root; VMCS: base address (bits 51:12)
  output logic [xtu_pt_pkg::PaW-1:0]        cr3_o,
  output logic                              nr_o,
  output logic [xtu_pt_pkg::PaW-1:0]        vmcs_o,
  // Timing: CBR ratio, TSC, TMA CTC and FC, MTC CTC, CYC count
  output logic [7:0]                        cbr_o,
  output logic [xtu_pt_pkg::TscW-1:0]       tsc_o,
  output logic [xtu_pt_pkg::CtcW-1:0]       tma_ctc_o,
  output logic [xtu_pt_pkg::FcW-1:0]        tma_fc_o,
  output logic [7:0]                        mtc_ctc_o,
  output logic [xtu_pt_pkg::CycW-1:0]       cyc_o,
  // MNT payload; EXSTOP: an FUP follows
  output logic [xtu_pt_pkg::MntW-1:0]       mnt_o,
  output logic                              exstop_ip_o,
  // MWAIT: EAX hints, ECX extensions
  output logic [xtu_pt_pkg::MwaitW-1:0]     mwait_hints_o,
  output logic [xtu_pt_pkg::MwaitW-1:0]     mwait_ext_o,
  // PWRE: C-state, sub C-state, hardware-initiated
  output logic [xtu_pt_pkg::CstateW-1:0]    pwre_state_o,
  output logic [xtu_pt_pkg::CstateW-1:0]    pwre_sub_state_o,
  output logic                              pwre_hw_o,
  // PWRX: last and deepest core C-state, wake reason
  output logic [xtu_pt_pkg::CstateW-1:0]    pwrx_last_o,
  output logic [xtu_pt_pkg::CstateW-1:0]    pwrx_deepest_o,
  output logic                              pwrx_interrupt_o,
  output logic                              pwrx_store_o,
  output logic                              pwrx_autonomous_o,
  // PTW: payload size code, payload, an FUP follows
  output logic [xtu_pt_pkg::PtwPlcW-1:0]    ptw_plc_o,
  output logic [xtu_pt_pkg::PtwW-1:0]       ptw_o,
  output logic                              ptw_ip_o
);

  localparam int unsigned SizeW      = xtu_pt_pkg::SizeW;
  localparam int unsigned TntCntW    = xtu_pt_pkg::TntCntW;
  localparam int unsigned TntMaxBits = xtu_pt_pkg::TntMaxBits;
  localparam int unsigned CycW       = xtu_pt_pkg::CycW;

  // First-byte opcodes (SDM vol. 3C, Intel Processor Trace, packet definitions).
  localparam logic [7:0] OpcPad  = 8'h00;
  localparam logic [7:0] OpcExt  = 8'h02;  // extended: the second byte says which packet
  localparam logic [7:0] OpcMode = 8'h99;  // 99 [leaf:3 bits:5]
  localparam logic [7:0] OpcMtc  = 8'h59;
  localparam logic [7:0] OpcTsc  = 8'h19;
  // IP packets: [IPBytes:3 opcode:5].
  localparam logic [4:0] OpcFup    = 5'h1d;
  localparam logic [4:0] OpcTip    = 5'h0d;
  localparam logic [4:0] OpcTipPge = 5'h11;
  localparam logic [4:0] OpcTipPgd = 5'h01;
  // Second bytes of the extended packets.
  localparam logic [7:0] ExtPsb      = 8'h82;
  localparam logic [7:0] ExtPsbend   = 8'h23;
  localparam logic [7:0] ExtOvf      = 8'hf3;
  localparam logic [7:0] ExtStop     = 8'h83;
  localparam logic [7:0] ExtCbr      = 8'h03;
  localparam logic [7:0] ExtTma      = 8'h73;
  localparam logic [7:0] ExtPip      = 8'h43;
  localparam logic [7:0] ExtVmcs     = 8'hc8;
  localparam logic [7:0] ExtExstop   = 8'h62;
  localparam logic [7:0] ExtExstopIp = 8'he2;
  localparam logic [7:0] ExtMwait    = 8'hc2;
  localparam logic [7:0] ExtPwre     = 8'h22;
  localparam logic [7:0] ExtPwrx     = 8'ha2;
  localparam logic [7:0] ExtTnt64    = 8'ha3;
  localparam logic [7:0] ExtExt2     = 8'hc3;  // a third opcode byte follows
  localparam logic [4:0] ExtPtw      = 5'h12;  // PTW: [IP:1 PayloadBytes:2 10010]
  localparam logic [7:0] Ext2Mnt     = 8'h88;
  // A PSB: 02 82, 8 times (as 16-bit little-endian words: 8202).
  localparam int unsigned PsbBytes = 16;

  // Index of the highest set bit of a TNT payload (its stop bit); 0 if none is above bit 0.
  function automatic logic [TntCntW-1:0] stop_bit(logic [TntMaxBits:0] payload);
    stop_bit = '0;
    for (int unsigned i = 1; i <= TntMaxBits; i++) begin
      if (payload[i]) stop_bit = i[TntCntW-1:0];
    end
  endfunction

  // ---------------------------------------------------------------------------------------
  // The bytes.

  logic [7:0] opc, ext, ext2;
  assign opc  = win_i[0*8 +: 8];
  assign ext  = win_i[1*8 +: 8];
  assign ext2 = win_i[2*8 +: 8];

  logic psb_ok;
  assign psb_ok = win_i[0 +: 8*PsbBytes] == {(PsbBytes/2){16'h8202}};

  // TMA: 02 73 CTC[7:0] CTC[15:8] reserved(0) FC[7:0] {reserved:7 FC[8]}.
  logic tma_rsvd;
  assign tma_rsvd = (win_i[4*8 +: 8] != 8'h00) || (win_i[6*8+1 +: 7] != 7'h00);

  // TNT-8: [branches+stop:7 0]; TNT-64: 02 a3, then 6 bytes of branches+stop.
  logic [TntMaxBits:0]     tnt_payload;
  logic [TntCntW-1:0]      tnt_cnt;
  logic [TntMaxBits-1:0]   tnt_branches;
  assign tnt_payload  = (opc == OpcExt) ? win_i[2*8 +: TntMaxBits+1]
                                        : {{(TntMaxBits+1-7){1'b0}}, opc[7:1]};
  assign tnt_cnt      = stop_bit(tnt_payload);
  assign tnt_branches = tnt_payload[TntMaxBits-1:0] & ~({{(TntMaxBits-1){1'b0}}, 1'b1} << tnt_cnt);

  // CYC: [value:5 Exp:1 11], then while Exp: [value:7 Exp:1]. Up to 8 extension bytes; a 9th
  // makes it malformed (the value would need more than 64 bits), known at byte 9.
  logic [CycW-1:0]  cyc_val;
  logic [SizeW-1:0] cyc_len;
  logic             cyc_more;  // after the loop: a 9th extension byte would follow
  always_comb begin
    cyc_val  = {{(CycW-5){1'b0}}, opc[7:3]};
    cyc_len  = SizeW'(1);
    cyc_more = opc[2];
    for (int unsigned j = 1; j <= 8; j++) begin
      if (cyc_more) begin
        cyc_val[5 + 7*(j-1) +: 7] = win_i[8*j+1 +: 7];
        cyc_len                   = cyc_len + SizeW'(1);
        cyc_more                  = win_i[8*j];
      end
    end
  end

  // ---------------------------------------------------------------------------------------
  // The opcode map: type, size, error, and req (the bytes the decision needs).

  xtu_pt_pkg::pkt_type_e ptype;
  logic [SizeW-1:0]      psize;
  logic [SizeW-1:0]      req;
  logic                  unknown, bad;

  always_comb begin
    ptype   = xtu_pt_pkg::PktInvalid;
    psize   = '0;
    req     = SizeW'(1);
    unknown = 1'b0;
    bad     = 1'b0;
    if (opc == OpcPad) begin
      ptype = xtu_pt_pkg::PktPad;
      psize = SizeW'(1);
    end else if (opc == OpcExt) begin
      req = SizeW'(2);
      case (ext)
        ExtPsb: begin
          ptype = xtu_pt_pkg::PktPsb;
          psize = SizeW'(PsbBytes);
          req   = SizeW'(PsbBytes);
          bad   = !psb_ok;
        end
        ExtPsbend: begin
          ptype = xtu_pt_pkg::PktPsbend;
          psize = SizeW'(2);
        end
        ExtOvf: begin
          ptype = xtu_pt_pkg::PktOvf;
          psize = SizeW'(2);
        end
        ExtStop: begin
          ptype = xtu_pt_pkg::PktStop;
          psize = SizeW'(2);
        end
        ExtExstop, ExtExstopIp: begin
          ptype = xtu_pt_pkg::PktExstop;
          psize = SizeW'(2);
        end
        ExtCbr: begin
          ptype = xtu_pt_pkg::PktCbr;
          psize = SizeW'(4);
          req   = SizeW'(4);
        end
        ExtTma: begin
          req = SizeW'(7);
          if (!tma_rsvd) begin
            ptype = xtu_pt_pkg::PktTma;
            psize = SizeW'(7);
          end else if (skz84_i) begin
            ptype = xtu_pt_pkg::PktInvalid;  // SKZ84: skipped with one more (unseen) byte
            psize = SizeW'(8);
          end else begin
            bad = 1'b1;
          end
        end
        ExtPip: begin
          ptype = xtu_pt_pkg::PktPip;
          psize = SizeW'(8);
          req   = SizeW'(8);
        end
        ExtVmcs: begin
          ptype = xtu_pt_pkg::PktVmcs;
          psize = SizeW'(7);
          req   = SizeW'(7);
        end
        ExtMwait: begin
          ptype = xtu_pt_pkg::PktMwait;
          psize = SizeW'(10);
          req   = SizeW'(10);
        end
        ExtPwre: begin
          ptype = xtu_pt_pkg::PktPwre;
          psize = SizeW'(4);
          req   = SizeW'(4);
        end
        ExtPwrx: begin
          ptype = xtu_pt_pkg::PktPwrx;
          psize = SizeW'(7);
          req   = SizeW'(7);
        end
        ExtTnt64: begin
          ptype = xtu_pt_pkg::PktTnt64;
          psize = SizeW'(8);
          req   = SizeW'(8);
          bad   = tnt_cnt == '0;  // no stop bit
        end
        ExtExt2: begin
          if (ext2 != Ext2Mnt) begin
            req     = SizeW'(3);
            unknown = 1'b1;
          end else begin
            ptype = xtu_pt_pkg::PktMnt;
            psize = SizeW'(11);
            req   = SizeW'(11);
          end
        end
        default: begin
          if (ext[4:0] == ExtPtw) begin
            if (ext[6]) begin
              bad = 1'b1;  // payload size codes 2 and 3 are reserved
            end else begin
              ptype = xtu_pt_pkg::PktPtw;
              psize = ext[5] ? SizeW'(10) : SizeW'(6);
              req   = psize;
            end
          end else begin
            unknown = 1'b1;
          end
        end
      endcase
    end else if (opc == OpcMode) begin
      req   = SizeW'(2);
      psize = SizeW'(2);
      case (ext[7:5])
        3'd0:    ptype = xtu_pt_pkg::PktModeExec;
        3'd1:    ptype = xtu_pt_pkg::PktModeTsx;
        default: bad   = 1'b1;
      endcase
    end else if (opc == OpcMtc) begin
      ptype = xtu_pt_pkg::PktMtc;
      psize = SizeW'(2);
      req   = SizeW'(2);
    end else if (opc == OpcTsc) begin
      ptype = xtu_pt_pkg::PktTsc;
      psize = SizeW'(8);
      req   = SizeW'(8);
    end else if (opc[1:0] == 2'b11) begin
      ptype = xtu_pt_pkg::PktCyc;
      psize = cyc_len;
      if (cyc_more) begin
        req = SizeW'(10);  // the 9th extension byte is read, then rejected
        bad = 1'b1;
      end else begin
        req = cyc_len;
      end
    end else if (!opc[0]) begin
      ptype = xtu_pt_pkg::PktTnt8;
      psize = SizeW'(1);
      bad   = tnt_cnt == '0;  // no stop bit (only 00 and 02, which are PAD and extended)
    end else begin
      case (opc[4:0])
        OpcFup:    ptype = xtu_pt_pkg::PktFup;
        OpcTip:    ptype = xtu_pt_pkg::PktTip;
        OpcTipPge: ptype = xtu_pt_pkg::PktTipPge;
        OpcTipPgd: ptype = xtu_pt_pkg::PktTipPgd;
        default:   unknown = 1'b1;
      endcase
      if (unknown) begin
        // decided by the opcode byte
      end else if (xtu_pt_pkg::ipc_reserved(opc[7:5])) begin
        bad = 1'b1;  // reserved IPBytes: known from the opcode byte alone
      end else begin
        psize = SizeW'(1) + SizeW'(xtu_pt_pkg::ipc_payload_bytes(opc[7:5]));
        req   = psize;
      end
    end
  end

  // ---------------------------------------------------------------------------------------
  // Status and outputs.

  xtu_pt_pkg::dec_status_e status;
  always_comb begin
    // No decision needs more than WinBytes bytes: an avail_i above it acts as WinBytes.
    if (avail_i < req) begin
      status = xtu_pt_pkg::DecNeedMore;
    end else if (unknown) begin
      status = xtu_pt_pkg::DecUnknownOpcode;
    end else if (bad) begin
      status = xtu_pt_pkg::DecBadPacket;
    end else begin
      status = xtu_pt_pkg::DecPacket;
    end
  end

  logic pkt;
  assign pkt      = status == xtu_pt_pkg::DecPacket;
  assign status_o = status;
  assign type_o   = pkt ? ptype : xtu_pt_pkg::PktInvalid;
  assign size_o   = pkt ? psize : '0;

  // Each field is driven for its own packet types only.
  logic is_ip, is_tnt, is_exec, is_tsx, is_pip, is_vmcs, is_cbr, is_tsc, is_tma, is_mtc, is_cyc;
  logic is_mnt, is_exstop, is_mwait, is_pwre, is_pwrx, is_ptw;
  assign is_ip     = pkt && (ptype == xtu_pt_pkg::PktFup || ptype == xtu_pt_pkg::PktTip ||
                             ptype == xtu_pt_pkg::PktTipPge || ptype == xtu_pt_pkg::PktTipPgd);
  assign is_tnt    = pkt && (ptype == xtu_pt_pkg::PktTnt8 || ptype == xtu_pt_pkg::PktTnt64);
  assign is_exec   = pkt && ptype == xtu_pt_pkg::PktModeExec;
  assign is_tsx    = pkt && ptype == xtu_pt_pkg::PktModeTsx;
  assign is_pip    = pkt && ptype == xtu_pt_pkg::PktPip;
  assign is_vmcs   = pkt && ptype == xtu_pt_pkg::PktVmcs;
  assign is_cbr    = pkt && ptype == xtu_pt_pkg::PktCbr;
  assign is_tsc    = pkt && ptype == xtu_pt_pkg::PktTsc;
  assign is_tma    = pkt && ptype == xtu_pt_pkg::PktTma;
  assign is_mtc    = pkt && ptype == xtu_pt_pkg::PktMtc;
  assign is_cyc    = pkt && ptype == xtu_pt_pkg::PktCyc;
  assign is_mnt    = pkt && ptype == xtu_pt_pkg::PktMnt;
  assign is_exstop = pkt && ptype == xtu_pt_pkg::PktExstop;
  assign is_mwait  = pkt && ptype == xtu_pt_pkg::PktMwait;
  assign is_pwre   = pkt && ptype == xtu_pt_pkg::PktPwre;
  assign is_pwrx   = pkt && ptype == xtu_pt_pkg::PktPwrx;
  assign is_ptw    = pkt && ptype == xtu_pt_pkg::PktPtw;

  // IP packets: the payload bytes after the opcode, as many as IPBytes says.
  assign ipc_o = is_ip ? opc[7:5] : '0;
  assign ip_o  = is_ip ? (win_i[1*8 +: xtu_pt_pkg::IpW] & xtu_pt_pkg::ipc_payload_mask(opc[7:5]))
                       : '0;

  assign tnt_bits_o = is_tnt ? tnt_cnt : '0;
  assign tnt_o      = is_tnt ? tnt_branches : '0;

  assign csl_o  = is_exec && ext[0];
  assign csd_o  = is_exec && ext[1];
  assign intx_o = is_tsx && ext[0];
  assign abrt_o = is_tsx && ext[1];

  // PIP: 02 43, 6 bytes: bit 0 NR, bits 47:1 CR3[51:5]. VMCS: 02 c8, 5 bytes: base[51:12].
  assign nr_o   = is_pip && win_i[2*8];
  assign cr3_o  = is_pip ? {win_i[2*8+1 +: 47], 5'b0} : '0;
  assign vmcs_o = is_vmcs ? {win_i[2*8 +: 40], 12'b0} : '0;

  assign cbr_o     = is_cbr ? win_i[2*8 +: 8] : '0;  // byte 3 is reserved
  assign tsc_o     = is_tsc ? win_i[1*8 +: xtu_pt_pkg::TscW] : '0;
  assign tma_ctc_o = is_tma ? win_i[2*8 +: xtu_pt_pkg::CtcW] : '0;
  assign tma_fc_o  = is_tma ? win_i[5*8 +: xtu_pt_pkg::FcW] : '0;
  assign mtc_ctc_o = is_mtc ? win_i[1*8 +: 8] : '0;
  assign cyc_o     = is_cyc ? cyc_val : '0;

  assign mnt_o       = is_mnt ? win_i[3*8 +: xtu_pt_pkg::MntW] : '0;
  assign exstop_ip_o = is_exstop && ext[7];

  assign mwait_hints_o = is_mwait ? win_i[2*8 +: xtu_pt_pkg::MwaitW] : '0;
  assign mwait_ext_o   = is_mwait ? win_i[6*8 +: xtu_pt_pkg::MwaitW] : '0;

  // PWRE: 02 22, 2 bytes: bit 3 HW (libipt's position), bits 11:8 sub C-state, 15:12 C-state.
  assign pwre_hw_o        = is_pwre && win_i[2*8 + 3];
  assign pwre_sub_state_o = is_pwre ? win_i[2*8 + 8 +: 4] : '0;
  assign pwre_state_o     = is_pwre ? win_i[2*8 + 12 +: 4] : '0;

  // PWRX: 02 a2, 5 bytes: bits 3:0 deepest, 7:4 last C-state, 8 interrupt, 10 store, 11 HW.
  assign pwrx_deepest_o    = is_pwrx ? win_i[2*8 +: 4] : '0;
  assign pwrx_last_o       = is_pwrx ? win_i[2*8 + 4 +: 4] : '0;
  assign pwrx_interrupt_o  = is_pwrx && win_i[2*8 + 8];
  assign pwrx_store_o      = is_pwrx && win_i[2*8 + 10];
  assign pwrx_autonomous_o = is_pwrx && win_i[2*8 + 11];

  // PTW: 02 [IP:1 PayloadBytes:2 10010], then 4 (code 0) or 8 (code 1) bytes.
  assign ptw_plc_o = is_ptw ? ext[6:5] : '0;
  assign ptw_o     = !is_ptw ? '0
                   : ext[5]  ? win_i[2*8 +: 64]
                             : {32'b0, win_i[2*8 +: 32]};
  assign ptw_ip_o  = is_ptw && ext[7];

endmodule
