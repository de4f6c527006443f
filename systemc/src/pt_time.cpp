// Time tracking (see pt_time.hpp for the algorithm).
#include "xtu/model/pt_time.hpp"

namespace xtu::model {

namespace {

constexpr unsigned kMtcBits = 8;      // CTC bits an MTC carries
constexpr unsigned kTmaCtcBits = 16;  // CTC bits a TMA carries
constexpr uint32_t kTmaCtcMask = 0xffff;
constexpr unsigned kTscBits = 56;     // bits of the TSC packet

// CTC distance from `last` to `ctc` on a counter of mtc_freq+8 bits: one wrap is corrected
// (we only ever compare neighbouring MTC/TMA values); a bigger jump back is an error.
TimeStatus ctc_delta(uint32_t* delta, uint32_t ctc, uint32_t last, const TimeConfig& cfg) {
  if (ctc < last) {
    ctc += 1u << (cfg.mtc_freq + kMtcBits);
    if (ctc < last) return TimeStatus::kBadPacket;
  }
  *delta = ctc - last;
  return TimeStatus::kOk;
}

// Crystal ticks → TSC ticks (× ebx / eax of CPUID leaf 0x15).
TimeStatus ctc_to_tsc(uint64_t* out, uint64_t ctc, const TimeConfig& cfg) {
  if (cfg.cpuid_15_eax == 0 || cfg.cpuid_15_ebx == 0) return TimeStatus::kBadConfig;
  *out = ctc * cfg.cpuid_15_ebx / cfg.cpuid_15_eax;
  return TimeStatus::kOk;
}

}  // namespace

const char* time_status_str(TimeStatus s) {
  switch (s) {
    case TimeStatus::kOk: return "OK";
    case TimeStatus::kNoTime: return "no timing information";
    case TimeStatus::kBadPacket: return "unknown packet";
    case TimeStatus::kBadContext: return "unexpected packet context";
    case TimeStatus::kBadConfig: return "bad configuration";
    case TimeStatus::kInternal: return "internal error";
  }
  return "internal error";
}

// ------------------------------------------------------------------------------------------
// TimeTracker

TimeStatus TimeTracker::update_tsc(uint64_t tsc) {
  have_tsc_ = true;
  have_tma_ = false;
  have_mtc_ = false;
  tsc_ = base_ = tsc;
  ctc_ = 0;
  fc_ = 0;
  lost_mtc_ = lost_cyc_ = 0;  // the full time: earlier losses no longer matter
  return TimeStatus::kOk;
}

TimeStatus TimeTracker::update_cbr(uint8_t ratio) {
  if (ratio == 0) return TimeStatus::kBadPacket;
  have_cbr_ = true;
  cbr_ = ratio;
  return TimeStatus::kOk;
}

TimeStatus TimeTracker::update_tma(uint16_t ctc, uint16_t fc, const TimeConfig& cfg) {
  if (!have_tsc_) return TimeStatus::kBadContext;  // TMA belongs to a TSC
  if (have_tma_) return TimeStatus::kBadContext;   // one TMA per TSC
  if (have_mtc_) return TimeStatus::kInternal;
  const unsigned mtc_hi = cfg.mtc_freq + kMtcBits;
  const uint32_t mask = (1u << mtc_hi) - 1u;
  have_tma_ = true;
  base_ -= fc;  // back to the CTC edge before the TSC
  fc_ += fc;
  // If TMA holds all the CTC bits MTCs carry, it serves as the first MTC; otherwise the next
  // MTC completes it (update_mtc).
  if (mtc_hi <= kTmaCtcBits) have_mtc_ = true;
  ctc_ = ctc_cyc_ = ctc & mask;
  return TimeStatus::kOk;
}

TimeStatus TimeTracker::update_mtc(uint8_t mtc, const TimeConfig& cfg) {
  const bool had_tsc = have_tsc_, had_tma = have_tma_, had_mtc = have_mtc_;
  // MTCs between a TSC and its TMA are ignored: the TMA's CTC will restart the count.
  if (had_tsc && !had_tma) return TimeStatus::kOk;

  uint64_t base = base_;
  uint32_t last_ctc = ctc_;
  const uint32_t ctc = uint32_t(mtc) << cfg.mtc_freq;

  // The MTC period the next CYC will be counted in, if CYCs restart with this MTC.
  if (fc_ != 0 || lost_cyc_ != 0 || !had_mtc) ctc_cyc_ = ctc;
  have_mtc_ = true;
  fc_ = 0;
  ctc_ = ctc;
  lost_cyc_ = 0;

  if (!had_mtc) {
    // The first MTC: without a TMA there is no reference (we don't know where in the MTC
    // period tracing started), so it only sets the reference for the next one.
    if (!had_tma) return TimeStatus::kOk;
    // The TMA gave only the low 16 CTC bits: take the higher ones from this MTC, one less if
    // the MTC's low bits already wrapped below the TMA's (assumes no MTC was lost).
    if (last_ctc & ~kTmaCtcMask) return TimeStatus::kInternal;
    const uint32_t ctc_lo = ctc & kTmaCtcMask;
    uint32_t ctc_hi = ctc & ~kTmaCtcMask;
    if (ctc_lo < last_ctc) {
      ctc_hi -= 1u << kTmaCtcBits;
      ctc_hi &= uint32_t{0xff} << cfg.mtc_freq;
    }
    last_ctc |= ctc_hi;
  }

  uint32_t delta = 0;
  TimeStatus st = ctc_delta(&delta, ctc, last_ctc, cfg);
  if (st != TimeStatus::kOk) {
    ++lost_mtc_;
    return st;
  }
  uint64_t ticks = 0;
  st = ctc_to_tsc(&ticks, delta, cfg);
  if (st != TimeStatus::kOk) return st;
  base += ticks;
  tsc_ = base_ = base;
  return TimeStatus::kOk;
}

// A CYC that starts a new MTC period (fc == 0) but whose count began in an earlier one
// (ctc_cyc != ctc): take off the cycles of the whole MTC periods in between.
TimeStatus TimeTracker::adjust_cyc(uint64_t* cyc, const TimeConfig& cfg, uint64_t fcr) const {
  if (fcr == 0) return TimeStatus::kInternal;
  if (ctc_ == ctc_cyc_) return TimeStatus::kOk;
  uint32_t delta = 0;
  TimeStatus st = ctc_delta(&delta, ctc_, ctc_cyc_, cfg);
  if (st != TimeStatus::kOk) return st;
  uint64_t ticks = 0;
  st = ctc_to_tsc(&ticks, delta, cfg);
  if (st != TimeStatus::kOk) return st;
  const uint64_t earlier = (ticks << kFcrShift) / fcr;  // those periods in cycles
  // Rather too slow than too fast: if the CYC is shorter, it all belongs to earlier periods.
  *cyc = *cyc < earlier ? 0 : *cyc - earlier;
  return TimeStatus::kOk;
}

TimeStatus TimeTracker::update_cyc(uint64_t cyc, const TimeConfig& cfg, uint64_t fcr) {
  if (fcr == 0) {
    ++lost_cyc_;
    return TimeStatus::kOk;
  }
  uint64_t fc = fc_;
  if (fc == 0) {
    TimeStatus st = adjust_cyc(&cyc, cfg, fcr);
    if (st != TimeStatus::kOk) return st;
  }
  fc += (cyc * fcr) >> kFcrShift;
  fc_ = fc;
  tsc_ = base_ + fc;
  return TimeStatus::kOk;
}

TimeStatus TimeTracker::query_tsc(uint64_t* tsc) const {
  *tsc = tsc_;
  return have_tsc_ ? TimeStatus::kOk : TimeStatus::kNoTime;
}

// ------------------------------------------------------------------------------------------
// TimeCalibration

TimeStatus TimeCalibration::fcr(uint64_t* out) const {
  if (!have_fcr()) return TimeStatus::kNoTime;
  *out = fcr_;
  return TimeStatus::kOk;
}

void TimeCalibration::set_fcr(uint64_t fcr) {
  fcr_ = fcr;
  if (fcr < min_fcr_) min_fcr_ = fcr;
  if (fcr > max_fcr_) max_fcr_ = fcr;
}

void TimeCalibration::update_psb(const TimeConfig& cfg) {
  if (cfg.skl168) check_skl168_ = true;
}

TimeStatus TimeCalibration::update_tsc(uint64_t tsc, bool in_header) {
  const uint64_t last_tsc = tsc_, cyc = cyc_tsc_;
  tsc_ = tsc;
  cyc_tsc_ = 0;
  // Outside PSB+ a TSC may follow a loss of time: it only starts a new count.
  if (!in_header) return TimeStatus::kOk;
  if (last_tsc == 0 || cyc == 0) return TimeStatus::kOk;
  if (have_mtc_) return TimeStatus::kOk;  // MTC calibrates better
  uint64_t now = tsc;
  if (now < last_tsc) {  // one wrap of the 56-bit TSC
    now += uint64_t{1} << kTscBits;
    if (now < last_tsc) return TimeStatus::kBadPacket;
  }
  const uint64_t delta = now - last_tsc;
  if (delta & ~(~uint64_t{0} >> kFcrShift)) return TimeStatus::kInternal;  // would overflow
  set_fcr((delta << kFcrShift) / cyc);
  return TimeStatus::kOk;
}

TimeStatus TimeCalibration::update_cbr(uint8_t ratio, bool in_header, const TimeConfig& cfg) {
  // Outside PSB+, a CBR is a frequency change: what was measured so far no longer holds.
  if (!in_header) reset();
  if (cfg.nom_freq == 0) return TimeStatus::kOk;
  if (ratio == 0) return TimeStatus::kBadPacket;
  set_fcr((uint64_t{cfg.nom_freq} << kFcrShift) / ratio);
  return TimeStatus::kOk;
}

TimeStatus TimeCalibration::update_mtc(uint8_t mtc, const TimeConfig& cfg) {
  const uint32_t last_ctc = ctc_;
  const bool had_mtc = have_mtc_;
  const uint64_t cyc = cyc_mtc_;
  const bool check_skl168 = check_skl168_;
  check_skl168_ = false;  // only the first MTC after a PSB
  const uint32_t ctc = uint32_t(mtc) << cfg.mtc_freq;

  if (!had_mtc) {  // the first MTC: the start of a measurement
    cyc_mtc_ = 0;
    ctc_ = ctc;
    have_mtc_ = true;
    return TimeStatus::kOk;
  }
  if (cyc == 0) return TimeStatus::kOk;  // no cycles yet: measure over the next MTC too

  have_mtc_ = true;
  cyc_mtc_ = 0;
  ctc_ = ctc;
  ++lost_mtc_;  // until the FCR is updated below

  uint32_t delta = 0;
  TimeStatus st = ctc_delta(&delta, ctc, last_ctc, cfg);
  if (st != TimeStatus::kOk) return st;
  uint64_t fc = 0;
  st = ctc_to_tsc(&fc, delta, cfg);
  if (st != TimeStatus::kOk) return st;
  if (fc & ~(~uint64_t{0} >> kFcrShift)) return TimeStatus::kInternal;
  const uint64_t fcr = (fc << kFcrShift) / cyc;

  if (check_skl168) {
    // More than one MTC period since the last MTC: MTCs were lost around the PSB.
    if ((1u << cfg.mtc_freq) < delta) return TimeStatus::kOk;
    // A lost CYC (the CYC counter wraps every 4096 cycles on these cores) shows as far fewer
    // cycles than the last FCR predicts; only noticeable at high MTC frequencies.
    if (cfg.mtc_freq < 10 && have_fcr()) {
      const uint64_t expected = (fcr_ * (cyc + 0xf00)) >> kFcrShift;
      if (expected < fc) return TimeStatus::kOk;
    }
  }
  set_fcr(fcr);
  lost_mtc_ = 0;
  return TimeStatus::kOk;
}

void TimeCalibration::update_cyc(uint64_t cyc) {
  cyc_mtc_ += cyc;
  cyc_tsc_ += cyc;
}

void TimeCalibration::update_ovf() {
  tsc_ = 0;
  cyc_tsc_ = 0;
  cyc_mtc_ = 0;
  ctc_ = 0;
  have_mtc_ = false;
}

TimeKeeper::Effect TimeKeeper::apply(const Packet& p) {
  Effect e;
  const TimeConfig& cfg = opts_.config;
  switch (p.type) {
    case PktType::kPsb:
      tcal_.update_psb(cfg);
      in_header_ = true;
      break;
    case PktType::kPsbend:
      in_header_ = false;
      break;
    case PktType::kOvf:
      if (opts_.keep_tcal_on_ovf) tcal_.update_ovf();
      else tcal_.reset();
      break;
    case PktType::kTsc:
      e.timing = e.moves_time = e.calibrates = true;
      if (opts_.calibrate) e.calibration = tcal_.update_tsc(p.tsc, in_header_);
      e.update = time_.update_tsc(p.tsc);
      break;
    case PktType::kCbr:
      e.timing = e.calibrates = true;
      if (opts_.calibrate) e.calibration = tcal_.update_cbr(p.cbr, in_header_, cfg);
      e.update = time_.update_cbr(p.cbr);
      break;
    case PktType::kTma:
      e.timing = e.moves_time = true;
      e.update = time_.update_tma(p.tma_ctc, p.tma_fc, cfg);
      break;
    case PktType::kMtc:
      e.timing = e.moves_time = e.calibrates = true;
      if (opts_.calibrate) e.calibration = tcal_.update_mtc(p.mtc_ctc, cfg);
      e.update = time_.update_mtc(p.mtc_ctc, cfg);
      break;
    case PktType::kCyc: {
      if (!opts_.use_cyc) break;
      e.timing = e.moves_time = true;
      uint64_t fcr = 0;  // 0: no calibration, the CYC is lost
      if (opts_.calibrate) {
        e.fcr_query = tcal_.fcr(&fcr);
        tcal_.update_cyc(p.cyc);
      }
      e.update = time_.update_cyc(p.cyc, cfg, fcr);
      e.cyc_uncalibrated = e.update == TimeStatus::kOk && fcr == 0;
      break;
    }
    default:
      break;
  }
  return e;
}

}  // namespace xtu::model
