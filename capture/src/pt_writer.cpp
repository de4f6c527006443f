#include "xtu/capture/pt_writer.hpp"

#include <intel-pt.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace xtu::capture {
namespace {
constexpr uint64_t kTscBase = 1000000000ull;  // TSC value when tracing starts (modelled)

bool is_sext48(uint64_t ip) {
  uint64_t top = ip >> 47;
  return top == 0 || top == 0x1ffff;
}

pt_ip_compression choose_ipc(uint64_t ip, uint64_t last, bool have_last, bool force_full) {
  if (!force_full && have_last) {
    uint64_t diff = ip ^ last;
    if ((diff >> 16) == 0) return pt_ipc_update_16;
    if ((diff >> 32) == 0) return pt_ipc_update_32;
  }
  if (is_sext48(ip)) return pt_ipc_sext_48;
  if (!force_full && have_last && ((ip ^ last) >> 48) == 0) return pt_ipc_update_48;
  return pt_ipc_full;
}

}  // namespace

struct PtWriter::Packet : pt_packet {
  Packet() { std::memset(static_cast<pt_packet*>(this), 0, sizeof(pt_packet)); }
};

const char* pkt_name(Pkt p) {
  static const char* names[] = {"pad", "psb", "psbend", "fup", "tip", "tip.pge", "tip.pgd", "tnt.8", "tnt.64",
                                "mode.exec", "pip", "vmcs", "cbr", "tsc", "tma", "mtc", "cyc", "ovf"};
  return names[static_cast<unsigned>(p)];
}

PtWriter::PtWriter(const PtConfig& config, const PtContext& context, uint64_t pad_seed, unsigned pad_every)
    : cfg_(config), ctx_(context), pad_state_(pad_seed | 1), pad_every_(pad_every) {
  if (cfg_.cbr == 0 || cfg_.nom_freq == 0 || cfg_.cpuid_15_eax == 0 || cfg_.cpuid_15_ebx == 0)
    throw std::invalid_argument("PT config: cbr, nom_freq and the CPUID 0x15 ratio must be nonzero");
  pt_config c;
  pt_config_init(&c);
  c.begin = scratch_;
  c.end = scratch_ + sizeof scratch_;
  enc_ = pt_alloc_encoder(&c);
  if (!enc_) throw std::runtime_error("pt_alloc_encoder failed");
  out_.reserve(1 << 20);
  // MTC periods are counted from the crystal clock at the start, not from the first advance().
  last_mtc_ = (tsc() * cfg_.cpuid_15_eax / cfg_.cpuid_15_ebx) >> cfg_.mtc_freq;
}

PtWriter::~PtWriter() { pt_free_encoder(enc_); }

void PtWriter::emit(Packet& p, Pkt kind) {
  if (losing_) {
    ++stats_.dropped_packets;
    return;
  }
  if (pt_enc_sync_set(enc_, 0) < 0) throw std::runtime_error("pt_enc_sync_set failed");
  int size = pt_enc_next(enc_, &p);
  if (size <= 0) throw std::runtime_error(std::string("pt_enc_next failed for ") + pkt_name(kind) + ": " +
                                          pt_errstr(pt_errcode(size)));
  out_.insert(out_.end(), scratch_, scratch_ + size);
  ++stats_.packets[static_cast<size_t>(kind)];
  stats_.bytes[static_cast<size_t>(kind)] += static_cast<uint64_t>(size);
  maybe_pad();
}

void PtWriter::maybe_pad() {
  if (!pad_every_ || losing_) return;
  if (++since_pad_ < pad_every_) return;
  since_pad_ = 0;
  pad_state_ ^= pad_state_ << 13; pad_state_ ^= pad_state_ >> 7; pad_state_ ^= pad_state_ << 17;
  unsigned n = 1 + static_cast<unsigned>(pad_state_ % 3);
  for (unsigned i = 0; i < n; ++i) {
    out_.push_back(0x00);  // PAD
    ++stats_.packets[static_cast<size_t>(Pkt::pad)];
    ++stats_.bytes[static_cast<size_t>(Pkt::pad)];
  }
}

void PtWriter::maybe_cyc() {
  if (!cfg_.cyc) return;
  uint64_t delta = cycles_ - last_cyc_cycles_;
  if (delta == 0 || delta < (cfg_.cyc_thresh ? (1ull << (cfg_.cyc_thresh - 1)) : 1)) return;
  last_cyc_cycles_ = cycles_;
  Packet p;
  p.type = ppt_cyc;
  p.payload.cyc.value = delta;
  emit(p, Pkt::cyc);
}

void PtWriter::emit_ip(Pkt kind, uint64_t ip, bool force_full) {
  Packet p;
  switch (kind) {
    case Pkt::tip: p.type = ppt_tip; break;
    case Pkt::tip_pge: p.type = ppt_tip_pge; break;
    case Pkt::tip_pgd: p.type = ppt_tip_pgd; break;
    case Pkt::fup: p.type = ppt_fup; break;
    default: throw std::logic_error("emit_ip: not an IP packet");
  }
  pt_ip_compression ipc = choose_ipc(ip, last_ip_, have_last_ip_, force_full);
  p.payload.ip.ipc = ipc;
  p.payload.ip.ip = ip;
  if (!losing_) {
    // Only packets actually written move the last IP (SDM: after an OVF, compression is
    // relative to the last IP packet that preceded the overflow).
    last_ip_ = ip;
    have_last_ip_ = true;
  }
  emit(p, kind);
}

void PtWriter::flush_tnt() {
  if (tnt_count_ == 0) return;
  maybe_cyc();
  Packet p;
  p.type = cfg_.tnt64 ? ppt_tnt_64 : ppt_tnt_8;
  p.payload.tnt.bit_size = static_cast<uint8_t>(tnt_count_);
  p.payload.tnt.payload = tnt_bits_;  // first branch in the most significant bit
  emit(p, cfg_.tnt64 ? Pkt::tnt_64 : Pkt::tnt_8);
  if (!losing_) stats_.tnt_bits += tnt_count_;
  tnt_bits_ = 0;
  tnt_count_ = 0;
}

void PtWriter::cond(bool taken) {
  if (!enabled_) throw std::logic_error("PtWriter::cond while packet generation is disabled");
  tnt_bits_ = (tnt_bits_ << 1) | (taken ? 1u : 0u);
  ++tnt_count_;
  if (tnt_count_ == (cfg_.tnt64 ? 47u : 6u)) flush_tnt();
}

void PtWriter::indirect(uint64_t target) {
  if (!enabled_) throw std::logic_error("PtWriter::indirect while packet generation is disabled");
  flush_tnt();
  maybe_cyc();
  emit_ip(Pkt::tip, target, false);
}

void PtWriter::enable(uint64_t target) {
  if (enabled_) throw std::logic_error("PtWriter::enable while already enabled");
  maybe_cyc();
  if (!mode_since_psb_) {
    Packet m;
    m.type = ppt_mode;
    m.payload.mode.leaf = pt_mol_exec;
    m.payload.mode.bits.exec.csl = 1;  // 64-bit code
    m.payload.mode.bits.exec.csd = 0;
    emit(m, Pkt::mode_exec);
    if (!losing_) mode_since_psb_ = true;
  }
  emit_ip(Pkt::tip_pge, target, false);
  enabled_ = true;
}

void PtWriter::disable(uint64_t target) {
  if (!enabled_) throw std::logic_error("PtWriter::disable while already disabled");
  flush_tnt();
  maybe_cyc();
  emit_ip(Pkt::tip_pgd, target, false);
  enabled_ = false;
}

void PtWriter::psb_plus(bool with_ip, uint64_t ip) {
  flush_tnt();
  Packet p;
  p.type = ppt_psb;
  emit(p, Pkt::psb);
  last_psb_ = out_.size();
  have_last_ip_ = false;  // PSB resets the last IP
  mode_since_psb_ = false;
  if (cfg_.tsc) {
    Packet t;
    t.type = ppt_tsc;
    t.payload.tsc.tsc = tsc();
    emit(t, Pkt::tsc);
    if (cfg_.mtc) {
      uint64_t ctc_ticks = tsc() * cfg_.cpuid_15_eax / cfg_.cpuid_15_ebx;
      uint64_t fc = tsc() - ctc_ticks * cfg_.cpuid_15_ebx / cfg_.cpuid_15_eax;
      Packet a;
      a.type = ppt_tma;
      a.payload.tma.ctc = static_cast<uint16_t>(ctc_ticks & 0xffff);
      a.payload.tma.fc = static_cast<uint16_t>(fc & 0x1ff);
      emit(a, Pkt::tma);
    }
  }
  Packet c;
  c.type = ppt_cbr;
  c.payload.cbr.ratio = static_cast<uint8_t>(cfg_.cbr);
  emit(c, Pkt::cbr);
  Packet pip;
  pip.type = ppt_pip;
  pip.payload.pip.cr3 = ctx_.cr3;
  pip.payload.pip.nr = ctx_.non_root ? 1 : 0;
  emit(pip, Pkt::pip);
  if (ctx_.vmcs) {
    Packet v;
    v.type = ppt_vmcs;
    v.payload.vmcs.base = ctx_.vmcs;
    emit(v, Pkt::vmcs);
  }
  if (with_ip) {
    Packet m;
    m.type = ppt_mode;
    m.payload.mode.leaf = pt_mol_exec;
    m.payload.mode.bits.exec.csl = 1;
    emit(m, Pkt::mode_exec);
    mode_since_psb_ = true;
    emit_ip(Pkt::fup, ip, true);
  }
  Packet e;
  e.type = ppt_psbend;
  emit(e, Pkt::psbend);
}

void PtWriter::maybe_psb(bool with_ip, uint64_t ip) {
  if (losing_) return;
  if (out_.size() - last_psb_ >= cfg_.psb_period) psb_plus(with_ip, ip);
}

void PtWriter::start() {
  enabled_ = false;
  psb_plus(false, 0);
}

void PtWriter::finish() { flush_tnt(); }

void PtWriter::boundary(uint64_t ip) {
  if (enabled_) maybe_psb(true, ip);
}

void PtWriter::idle_boundary() {
  if (!enabled_) maybe_psb(false, 0);
}

void PtWriter::switch_context(const PtContext& context) {
  if (enabled_) throw std::logic_error("PtWriter::switch_context while packet generation is enabled");
  maybe_cyc();
  if (context.vmcs != ctx_.vmcs && context.vmcs) {
    Packet v;
    v.type = ppt_vmcs;
    v.payload.vmcs.base = context.vmcs;
    emit(v, Pkt::vmcs);
  }
  ctx_ = context;
  Packet pip;
  pip.type = ppt_pip;
  pip.payload.pip.cr3 = ctx_.cr3;
  pip.payload.pip.nr = ctx_.non_root ? 1 : 0;
  emit(pip, Pkt::pip);
}

void PtWriter::begin_loss() {
  if (losing_) return;
  flush_tnt();  // bits already in the buffer are written; everything after is lost
  losing_ = true;
}

void PtWriter::end_loss(bool enabled, uint64_t ip) {
  if (!losing_) return;
  losing_ = false;
  tnt_bits_ = 0;
  tnt_count_ = 0;
  enabled_ = enabled;
  Packet o;
  o.type = ppt_ovf;
  emit(o, Pkt::ovf);
  ++stats_.overflows;
  last_cyc_cycles_ = cycles_;  // the cycle counter restarts at OVF
  // The SDM lets the next IP be compressed against the last IP written before the overflow, but
  // libipt (2.0.5) resets its last IP at OVF: send the next IP in full so both decode it.
  have_last_ip_ = false;
  if (enabled) emit_ip(Pkt::fup, ip, false);
}

void PtWriter::advance(uint64_t core_cycles) {
  cycles_ += core_cycles;
  if (!cfg_.mtc) return;
  uint64_t ctc_ticks = tsc() * cfg_.cpuid_15_eax / cfg_.cpuid_15_ebx;
  uint64_t period = ctc_ticks >> cfg_.mtc_freq;
  while (last_mtc_ < period) {
    ++last_mtc_;
    Packet m;
    m.type = ppt_mtc;
    m.payload.mtc.ctc = static_cast<uint8_t>(last_mtc_ & 0xff);
    emit(m, Pkt::mtc);
  }
}

uint64_t PtWriter::tsc() const { return kTscBase + cycles_ * cfg_.nom_freq / cfg_.cbr; }

}  // namespace xtu::capture
