// Intel PT packet decoding (see pt_packet.hpp). Opcode map: Intel SDM vol. 3C, chapter 33
// ("Intel Processor Trace"), packet definitions; accept/reject rules: libipt 2.0.5.
#include "xtu/model/pt_packet.hpp"

namespace xtu::model {

namespace {

// Little-endian value of n bytes at p (n ≤ 8).
uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// TNT payloads carry a stop bit above the branch bits: the number of branch bits is the
// index of the highest set bit. Returns 0 for an empty payload (no stop bit: malformed).
uint8_t tnt_bit_count(uint64_t payload) {
  uint8_t n = 0;
  while (payload >>= 1) ++n;
  return n;
}

// Second-byte opcodes of the extended (0x02) packets.
enum : uint8_t {
  kExtPsb = 0x82, kExtPsbend = 0x23, kExtOvf = 0xf3, kExtStop = 0x83, kExtCbr = 0x03,
  kExtTma = 0x73, kExtPip = 0x43, kExtVmcs = 0xc8, kExtExstop = 0x62, kExtExstopIp = 0xe2,
  kExtMwait = 0xc2, kExtPwre = 0x22, kExtPwrx = 0xa2, kExtTnt64 = 0xa3, kExtExt2 = 0xc3,
  kExt2Mnt = 0x88,
};

int ip_packet(PktType t, const uint8_t* p, size_t avail, Packet& out) {
  const uint8_t ipc = p[0] >> 5;
  const int n = ip_payload_size(ipc);
  if (n < 0) return kDecodeBadPacket;  // reserved IPBytes: known without the payload
  if (avail < size_t(1 + n)) return 0;
  out.type = t;
  out.ipc = ipc;
  out.ip = le(p + 1, n);
  return 1 + n;
}

int ext_packet(const uint8_t* p, size_t avail, Packet& out, const DecodeErrata& errata) {
  if (avail < 2) return 0;
  const uint8_t ext = p[1];
  // Fixed-size packets: (type, size); the payload is filled in below.
  auto need = [&](PktType t, size_t size) -> bool {
    if (avail < size) return false;
    out.type = t;
    return true;
  };
  switch (ext) {
    case kExtPsb:
      if (avail < kPsbSize) return 0;
      if (!is_psb(p, avail)) return kDecodeBadPacket;
      out.type = PktType::kPsb;
      return int(kPsbSize);
    case kExtPsbend: out.type = PktType::kPsbend; return 2;
    case kExtOvf: out.type = PktType::kOvf; return 2;
    case kExtStop: out.type = PktType::kStop; return 2;
    case kExtExstop:
    case kExtExstopIp:
      out.type = PktType::kExstop;
      out.exstop_ip = (ext & 0x80) != 0;
      return 2;
    case kExtCbr:
      if (!need(PktType::kCbr, 4)) return 0;
      out.cbr = p[2];  // p[3] is reserved and ignored
      return 4;
    case kExtTma: {
      if (avail < 7) return 0;
      // 02 73 CTC[7:0] CTC[15:8] reserved(0) FC[7:0] FC[8] (bits 15..9 of FC reserved).
      const uint16_t fc = uint16_t(p[5] | (p[6] << 8));
      if ((fc & ~0x1ffu) != 0 || p[4] != 0) {
        if (!errata.skz84) return kDecodeBadPacket;
        out.type = PktType::kInvalid;  // SKZ84: report the corrupted TMA, skip it with one more byte
        return 8;
      }
      out.type = PktType::kTma;
      out.tma_ctc = uint16_t(p[2] | (p[3] << 8));
      out.tma_fc = fc;
      return 7;
    }
    case kExtPip: {
      if (!need(PktType::kPip, 8)) return 0;
      const uint64_t v = le(p + 2, 6);  // bit 0: NR; bits 47..1: CR3[51:5]
      out.nr = (v & 1) != 0;
      out.cr3 = (v >> 1) << 5;
      return 8;
    }
    case kExtVmcs:
      if (!need(PktType::kVmcs, 7)) return 0;
      out.vmcs = le(p + 2, 5) << 12;
      return 7;
    case kExtMwait:
      if (!need(PktType::kMwait, 10)) return 0;
      out.mwait_hints = uint32_t(le(p + 2, 4));
      out.mwait_ext = uint32_t(le(p + 6, 4));
      return 10;
    case kExtPwre: {
      if (!need(PktType::kPwre, 4)) return 0;
      const uint32_t v = uint32_t(le(p + 2, 2));
      out.pwre_hw = (v & 0x0008) != 0;
      out.pwre_sub_state = uint8_t((v >> 8) & 0xf);
      out.pwre_state = uint8_t((v >> 12) & 0xf);
      return 4;
    }
    case kExtPwrx: {
      if (!need(PktType::kPwrx, 7)) return 0;
      const uint64_t v = le(p + 2, 5);
      out.pwrx_deepest = uint8_t(v & 0xf);
      out.pwrx_last = uint8_t((v >> 4) & 0xf);
      out.pwrx_interrupt = (v & (1u << 8)) != 0;
      out.pwrx_store = (v & (1u << 10)) != 0;
      out.pwrx_autonomous = (v & (1u << 11)) != 0;
      return 7;
    }
    case kExtTnt64: {
      if (avail < 8) return 0;
      const uint64_t v = le(p + 2, 6);
      const uint8_t bits = tnt_bit_count(v);
      if (bits == 0) return kDecodeBadPacket;
      out.type = PktType::kTnt64;
      out.tnt_bits = bits;
      out.tnt = v & ~(uint64_t{1} << bits);
      return 8;
    }
    case kExtExt2:
      if (avail < 3) return 0;
      if (p[2] != kExt2Mnt) return kDecodeUnknownOpcode;
      if (!need(PktType::kMnt, 11)) return 0;
      out.mnt = le(p + 3, 8);
      return 11;
    default:
      break;
  }
  if ((ext & 0x1f) == 0x12) {  // PTW: 02 [IP:1 PayloadBytes:2 10010]
    const uint8_t plc = (ext >> 5) & 3;
    const int n = plc == 0 ? 4 : plc == 1 ? 8 : -1;
    if (n < 0) return kDecodeBadPacket;
    if (avail < size_t(2 + n)) return 0;
    out.type = PktType::kPtw;
    out.ptw_plc = plc;
    out.ptw = le(p + 2, n);
    out.ptw_ip = (ext & 0x80) != 0;
    return 2 + n;
  }
  return kDecodeUnknownOpcode;
}

}  // namespace

const char* pkt_name(PktType t) {
  switch (t) {
    case PktType::kInvalid: return "<invalid>";
    case PktType::kPad: return "pad";
    case PktType::kPsb: return "psb";
    case PktType::kPsbend: return "psbend";
    case PktType::kFup: return "fup";
    case PktType::kTip: return "tip";
    case PktType::kTipPge: return "tip.pge";
    case PktType::kTipPgd: return "tip.pgd";
    case PktType::kTnt8: return "tnt.8";
    case PktType::kTnt64: return "tnt.64";
    case PktType::kModeExec: return "mode.exec";
    case PktType::kModeTsx: return "mode.tsx";
    case PktType::kPip: return "pip";
    case PktType::kVmcs: return "vmcs";
    case PktType::kCbr: return "cbr";
    case PktType::kTsc: return "tsc";
    case PktType::kTma: return "tma";
    case PktType::kMtc: return "mtc";
    case PktType::kCyc: return "cyc";
    case PktType::kStop: return "stop";
    case PktType::kOvf: return "ovf";
    case PktType::kMnt: return "mnt";
    case PktType::kExstop: return "exstop";
    case PktType::kMwait: return "mwait";
    case PktType::kPwre: return "pwre";
    case PktType::kPwrx: return "pwrx";
    case PktType::kPtw: return "ptw";
  }
  return "?";
}

int ip_payload_size(uint8_t ipc) {
  switch (ipc) {
    case kIpcSuppressed: return 0;
    case kIpcUpdate16: return 2;
    case kIpcUpdate32: return 4;
    case kIpcSext48:
    case kIpcUpdate48: return 6;
    case kIpcFull: return 8;
    default: return -1;
  }
}

bool is_psb(const uint8_t* p, size_t avail) {
  if (avail < kPsbSize) return false;
  for (size_t i = 0; i < kPsbSize; i += 2)
    if (p[i] != 0x02 || p[i + 1] != 0x82) return false;
  return true;
}

int decode_packet(const uint8_t* p, size_t avail, Packet& out, const DecodeErrata& errata) {
  out = Packet{};
  if (avail == 0) return 0;
  if (avail > kMaxPacketWindow) avail = kMaxPacketWindow;  // the window: nothing beyond it matters
  const uint8_t opc = p[0];
  int size = 0;
  switch (opc) {
    case 0x00:
      out.type = PktType::kPad;
      size = 1;
      break;
    case 0x02:
      size = ext_packet(p, avail, out, errata);
      break;
    case 0x99: {  // MODE: 99 [leaf:3 bits:5]
      if (avail < 2) return 0;
      const uint8_t leaf = p[1] & 0xe0;
      if (leaf == 0x00) {
        out.type = PktType::kModeExec;
        out.csl = (p[1] & 0x01) != 0;
        out.csd = (p[1] & 0x02) != 0;
      } else if (leaf == 0x20) {
        out.type = PktType::kModeTsx;
        out.intx = (p[1] & 0x01) != 0;
        out.abrt = (p[1] & 0x02) != 0;
      } else {
        return kDecodeBadPacket;
      }
      size = 2;
      break;
    }
    case 0x59:  // MTC
      if (avail < 2) return 0;
      out.type = PktType::kMtc;
      out.mtc_ctc = p[1];
      size = 2;
      break;
    case 0x19:  // TSC
      if (avail < 8) return 0;
      out.type = PktType::kTsc;
      out.tsc = le(p + 1, 7);
      size = 8;
      break;
    default:
      if ((opc & 0x03) == 0x03) {
        // CYC: [value:5 Exp:1 11], then while Exp: [value:7 Exp:1]. The value may not need more
        // than 64 bits: a 9th extension byte makes the packet malformed.
        uint64_t value = opc >> 3;
        bool more = (opc & 0x04) != 0;
        unsigned shift = 5;
        size_t i = 1;
        while (more) {
          if (i >= avail) return 0;
          const uint8_t b = p[i++];
          more = (b & 0x01) != 0;
          const uint64_t bits = uint64_t{b} >> 1;
          if (shift + 7 > 64) return kDecodeBadPacket;
          value |= bits << shift;
          shift += 7;
        }
        out.type = PktType::kCyc;
        out.cyc = value;
        size = int(i);
      } else if ((opc & 0x01) == 0) {
        // TNT-8: [bits+stop:7 0].
        const uint8_t bits = tnt_bit_count(opc >> 1);
        if (bits == 0) return kDecodeBadPacket;
        out.type = PktType::kTnt8;
        out.tnt_bits = bits;
        out.tnt = (opc >> 1) & ~(1u << bits);
        size = 1;
      } else {
        switch (opc & 0x1f) {
          case 0x1d: size = ip_packet(PktType::kFup, p, avail, out); break;
          case 0x0d: size = ip_packet(PktType::kTip, p, avail, out); break;
          case 0x11: size = ip_packet(PktType::kTipPge, p, avail, out); break;
          case 0x01: size = ip_packet(PktType::kTipPgd, p, avail, out); break;
          default: return kDecodeUnknownOpcode;
        }
      }
      break;
  }
  if (size > 0) out.size = uint8_t(size);
  else out = Packet{};
  return size;
}

bool LastIp::update(uint8_t ipc, uint64_t raw_ip) {
  switch (ipc) {
    case kIpcSuppressed:
      suppressed_ = true;
      return true;
    case kIpcUpdate16: ip_ = (ip_ & ~uint64_t{0xffff}) | (raw_ip & 0xffff); break;
    case kIpcUpdate32: ip_ = (ip_ & ~uint64_t{0xffffffff}) | (raw_ip & 0xffffffff); break;
    case kIpcUpdate48: ip_ = (ip_ & ~uint64_t{0xffffffffffff}) | (raw_ip & 0xffffffffffff); break;
    case kIpcSext48:
      ip_ = (raw_ip & (uint64_t{1} << 47)) ? (raw_ip | ~uint64_t{0xffffffffffff}) : (raw_ip & 0xffffffffffff);
      break;
    case kIpcFull: ip_ = raw_ip; break;
    default: return false;
  }
  have_ip_ = true;
  suppressed_ = false;
  return true;
}

LastIp::Status LastIp::query(uint64_t* ip) const {
  if (ip) *ip = 0;
  if (!have_ip_) return kNoIp;
  if (suppressed_) return kSuppressed;
  if (ip) *ip = ip_;
  return kOk;
}

int64_t psb_search_forward(const uint8_t* data, size_t size, size_t from) {
  if (from > size) return -1;
  // The 8-byte words made only of the PSB pattern, in either phase.
  auto pattern_word = [&](size_t at) {
    const uint8_t a = data[at], b = data[at + 1];
    if (!((a == 0x02 && b == 0x82) || (a == 0x82 && b == 0x02))) return false;
    for (size_t i = 2; i < 8; i += 2)
      if (data[at + i] != a || data[at + i + 1] != b) return false;
    return true;
  };
  for (size_t word = (from + 7) / 8 * 8; word + 8 <= size; word += 8) {
    if (!pattern_word(word)) continue;
    // Walk the 02 82 pairs from the first 02 of the word to the end of the run.
    size_t pos = data[word] == 0x02 ? word : word + 1;
    while (pos + 1 < size && data[pos] == 0x02 && data[pos + 1] == 0x82) pos += 2;
    if (pos < kPsbSize) continue;
    const size_t candidate = pos - kPsbSize;
    if (!is_psb(data + candidate, size - candidate)) continue;
    if (candidate < from) continue;  // a PSB the search started inside of
    return int64_t(candidate);
  }
  return -1;
}

}  // namespace xtu::model
