#include "xtu/model/reg_block.hpp"

#include "xtu/regs.hpp"

namespace xtu::model {

namespace R = xtu::regs;

RegBlock::RegBlock(sc_core::sc_module_name n, UnitConfig& cfg, const UnitStatus& status, UnitCounters& counters,
                   const UnitParams& params)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), s_axil("s_axil"), start_o("start_o"),
      soft_reset_o("soft_reset_o"), irq_o("irq_o"), done_i("done_i"), watermark_i("watermark_i"),
      error_i("error_i"), cfg_(cfg), status_(status), cnt_(counters), params_(params) {
  SC_HAS_PROCESS(RegBlock);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

namespace {
uint32_t lo(uint64_t v) { return uint32_t(v); }
uint32_t hi(uint64_t v) { return uint32_t(v >> 32); }
// Replace the low or high half of a 64-bit register.
void set_half(uint64_t& reg, bool high, uint32_t v) {
  reg = high ? (reg & 0xffffffffull) | (uint64_t(v) << 32) : (reg & ~0xffffffffull) | v;
}
}  // namespace

uint32_t RegBlock::read_reg(uint32_t off) const {
  auto half = [&](uint64_t v, uint32_t base) { return off == base ? lo(v) : hi(v); };
  if (off >= R::counters::kBase && off < R::counters::kBase + 8 * R::counters::kCount) {
    unsigned i = (off - R::counters::kBase) / 8;
    return off % 8 ? hi(cnt_[i]) : lo(cnt_[i]);
  }
  switch (off & ~7u) {
    case R::trace_base::kOffset: return half(cfg_.trace_base, R::trace_base::kOffset);
    case R::trace_size::kOffset: return half(cfg_.trace_size, R::trace_size::kOffset);
    case R::trace_head::kOffset: return half(cfg_.trace_head, R::trace_head::kOffset);
    case R::trace_tail::kOffset: return half(status_.trace_tail, R::trace_tail::kOffset);
    case R::evq_base::kOffset: return half(cfg_.evq_base, R::evq_base::kOffset);
    case R::evq_head::kOffset: return half(cfg_.evq_head, R::evq_head::kOffset);
    case R::evq_tail::kOffset: return half(status_.evq_tail, R::evq_tail::kOffset);
    case R::desc_base::kOffset: return half(cfg_.desc_base, R::desc_base::kOffset);
    case R::desc_size::kOffset: return half(cfg_.desc_size, R::desc_size::kOffset);
    case R::ht_base::kOffset: return half(cfg_.ht_base, R::ht_base::kOffset);
    case R::out_base::kOffset: return half(cfg_.out_base, R::out_base::kOffset);
    case R::out_size::kOffset: return half(cfg_.out_size, R::out_size::kOffset);
    case R::out_head::kOffset: return half(status_.out_head, R::out_head::kOffset);
    case R::out_tail::kOffset: return half(cfg_.out_tail, R::out_tail::kOffset);
    case R::target_cr3::kOffset: return half(cfg_.target_cr3, R::target_cr3::kOffset);
    case R::target_vmcs::kOffset: return half(cfg_.target_vmcs, R::target_vmcs::kOffset);
    case R::code_base::kOffset: return half(cfg_.code_base, R::code_base::kOffset);
    case R::code_size::kOffset: return half(cfg_.code_size, R::code_size::kOffset);
    default: break;
  }
  switch (off) {
    case R::id::kOffset: return R::id::kReset;
    case R::version::kOffset: return R::version::kReset;
    case R::params0::kOffset:
      return R::params0::kCamEntries.set(0, params_.cam_entries) | R::params0::kMaxNodes.set(0, params_.max_nodes) |
             R::params0::kAxiBytes.set(0, params_.axi_bytes);
    case R::params1::kOffset:
      return R::params1::kTraceFifoBeats.set(0, params_.trace_fifo_beats) |
             R::params1::kTraceBurst.set(0, params_.trace_burst) | R::params1::kEventFifo.set(0, params_.event_fifo) |
             R::params1::kOutFifo.set(0, params_.out_fifo);
    case R::params2::kOffset:
      return R::params2::kHtMaxProbe.set(0, params_.ht_max_probe) | R::params2::kWalkWidth.set(0, params_.walk_width) |
             R::params2::kDecWidth.set(0, params_.dec_width);
    case R::ctrl::kOffset: return ctrl_ & ~(R::ctrl::kStart.mask | R::ctrl::kSoftReset.mask);
    case R::status::kOffset:
      return R::status::kBusy.set(0, busy_) | R::status::kDone.set(0, done_) | errors_;
    case R::irq_enable::kOffset: return irq_enable_;
    case R::irq_status::kOffset: return irq_status_;
    case R::out_watermark::kOffset: return cfg_.out_watermark;
    case R::evq_entries::kOffset: return cfg_.evq_entries;
    case R::time_cfg::kOffset:
      return R::time_cfg::kMtcFreq.set(0, cfg_.mtc_freq) | R::time_cfg::kNomFreq.set(0, cfg_.nom_freq);
    case R::cpuid15_eax::kOffset: return cfg_.cpuid15_eax;
    case R::cpuid15_ebx::kOffset: return cfg_.cpuid15_ebx;
    case R::ht_entries::kOffset: return cfg_.ht_entries;
    default: return 0;
  }
}

void RegBlock::write_reg(uint32_t off, uint32_t v, uint32_t strb) {
  if (strb != 0xf) {  // byte writes: merge into the current value
    // (a W1C register merges with 0: its bits in bytes not written are not cleared)
    uint32_t cur = off == R::irq_status::kOffset ? 0 : read_reg(off), m = 0;
    for (int b = 0; b < 4; ++b)
      if (strb & (1u << b)) m |= 0xffu << (8 * b);
    v = (cur & ~m) | (v & m);
  }
  bool high = off % 8 == 4;
  switch (off & ~7u) {
    case R::trace_base::kOffset: return set_half(cfg_.trace_base, high, v);
    case R::trace_size::kOffset: return set_half(cfg_.trace_size, high, v);
    case R::trace_head::kOffset: return set_half(cfg_.trace_head, high, v);
    case R::evq_base::kOffset: return set_half(cfg_.evq_base, high, v);
    case R::evq_head::kOffset: return set_half(cfg_.evq_head, high, v);
    case R::desc_base::kOffset: return set_half(cfg_.desc_base, high, v);
    case R::desc_size::kOffset: return set_half(cfg_.desc_size, high, v);
    case R::ht_base::kOffset: return set_half(cfg_.ht_base, high, v);
    case R::out_base::kOffset: return set_half(cfg_.out_base, high, v);
    case R::out_size::kOffset: return set_half(cfg_.out_size, high, v);
    case R::out_tail::kOffset: return set_half(cfg_.out_tail, high, v);
    case R::target_cr3::kOffset: return set_half(cfg_.target_cr3, high, v);
    case R::target_vmcs::kOffset: return set_half(cfg_.target_vmcs, high, v);
    case R::code_base::kOffset: return set_half(cfg_.code_base, high, v);
    case R::code_size::kOffset: return set_half(cfg_.code_size, high, v);
    default: break;
  }
  switch (off) {
    case R::ctrl::kOffset:
      if (R::ctrl::kStart.get(v)) start_pulse_ = true;
      if (R::ctrl::kSoftReset.get(v)) reset_pulse_ = true;
      // only CTRL's rw fields hold a value (bits without a field read 0, as in IRQ_ENABLE and TIME_CFG)
      ctrl_ = v & (R::ctrl::kTraceLast.mask | R::ctrl::kTimeEn.mask | R::ctrl::kCtxRecords.mask |
                   R::ctrl::kCtxFilter.mask);
      cfg_.trace_last = R::ctrl::kTraceLast.get(v);
      cfg_.time_en = R::ctrl::kTimeEn.get(v);
      cfg_.ctx_records = R::ctrl::kCtxRecords.get(v);
      cfg_.ctx_filter = R::ctrl::kCtxFilter.get(v);
      return;
    case R::irq_enable::kOffset: irq_enable_ = v & 7; return;
    case R::irq_status::kOffset: irq_status_ &= ~v; return;  // W1C
    case R::out_watermark::kOffset: cfg_.out_watermark = v; return;
    case R::evq_entries::kOffset: cfg_.evq_entries = v; return;
    case R::time_cfg::kOffset:
      cfg_.mtc_freq = uint8_t(R::time_cfg::kMtcFreq.get(v));
      cfg_.nom_freq = uint8_t(R::time_cfg::kNomFreq.get(v));
      return;
    case R::cpuid15_eax::kOffset: cfg_.cpuid15_eax = v; return;
    case R::cpuid15_ebx::kOffset: cfg_.cpuid15_ebx = v; return;
    case R::ht_entries::kOffset: cfg_.ht_entries = v; return;
    default: return;  // read-only or unmapped: ignored (OKAY, as AXI-Lite register files usually do)
  }
}

void RegBlock::seq() {
  if (!rst_ni.read()) {
    cfg_ = UnitConfig{};
    ctrl_ = irq_enable_ = irq_status_ = 0;
    busy_ = done_ = prev_done_ = prev_wm_ = false;
    errors_ = 0;
    cnt_.clear();  // the counters' reset value is 0 (docs/registers.md)
    start_pulse_ = reset_pulse_ = false;
    aw_held_ = w_held_ = b_valid_ = r_valid_ = false;
    s_axil.awready.write(true);
    s_axil.wready.write(true);
    s_axil.bvalid.write(false);
    s_axil.arready.write(true);
    s_axil.rvalid.write(false);
    start_o.write(false);
    soft_reset_o.write(false);
    irq_o.write(false);
    return;
  }
  start_pulse_ = reset_pulse_ = false;

  // AXI4-Lite transfers at this edge.
  if (s_axil.bvalid.read() && s_axil.bready.read()) b_valid_ = false;
  if (s_axil.rvalid.read() && s_axil.rready.read()) r_valid_ = false;
  if (s_axil.awvalid.read() && s_axil.awready.read()) {
    aw_addr_ = s_axil.awaddr.read();
    aw_held_ = true;
  }
  if (s_axil.wvalid.read() && s_axil.wready.read()) {
    w_data_ = s_axil.wdata.read();
    w_strb_ = s_axil.wstrb.read();
    w_held_ = true;
  }
  if (aw_held_ && w_held_ && !b_valid_) {
    uint32_t off = aw_addr_ & (R::kMapSize - 1) & ~3u;
    b_resp_ = aw_addr_ % 4 ? kAxiRespSlverr : kAxiRespOkay;
    if (!b_resp_) write_reg(off, w_data_, w_strb_);
    aw_held_ = w_held_ = false;
    b_valid_ = true;
  }
  if (s_axil.arvalid.read() && s_axil.arready.read()) {
    uint32_t a = s_axil.araddr.read();
    r_data_ = a % 4 ? 0 : read_reg(a & (R::kMapSize - 1) & ~3u);
    r_resp_ = a % 4 ? kAxiRespSlverr : kAxiRespOkay;
    r_valid_ = true;
  }

  // Unit state.
  if (start_pulse_) {
    busy_ = true;
    done_ = false;
    errors_ = 0;
    cnt_.clear();
  }
  if (reset_pulse_) {
    busy_ = false;
    done_ = false;
    errors_ = 0;
  }
  bool done_now = busy_ && done_i.read();
  uint32_t err = busy_ ? error_i.read() : 0;
  if (err && !errors_) irq_status_ |= R::irq_status::kError.mask;
  errors_ |= err;
  if (done_now && !prev_done_) irq_status_ |= R::irq_status::kDone.mask;
  if (done_now) done_ = true;
  if (done_ || errors_) busy_ = false;
  prev_done_ = done_now;
  bool wm = watermark_i.read();
  if (wm && !prev_wm_) irq_status_ |= R::irq_status::kWatermark.mask;
  prev_wm_ = wm;
  ++cnt_[kCtrCycles];
  if (busy_) ++cnt_[kCtrBusyCycles];

  s_axil.awready.write(!aw_held_);
  s_axil.wready.write(!w_held_);
  s_axil.bvalid.write(b_valid_);
  s_axil.bresp.write(b_resp_);
  s_axil.arready.write(!r_valid_);
  s_axil.rvalid.write(r_valid_);
  s_axil.rdata.write(r_data_);
  s_axil.rresp.write(r_resp_);
  start_o.write(start_pulse_);
  soft_reset_o.write(reset_pulse_);
  irq_o.write((irq_status_ & irq_enable_) != 0);
}

}  // namespace xtu::model
