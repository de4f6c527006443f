#include "xtu/model/pkt_decoder.hpp"

#include <algorithm>
#include <vector>

namespace xtu::model {

WalkPacket walk_packet(const Packet& pkt, uint64_t offset, LastIp& last_ip) {
  using K = WalkPacket::Kind;
  WalkPacket p;
  p.offset = offset;
  switch (pkt.type) {
    case PktType::kTnt8:
    case PktType::kTnt64:
      p.kind = K::Tnt;
      p.tnt_bits = pkt.tnt;
      p.tnt_count = pkt.tnt_bits;
      break;
    case PktType::kTip:
    case PktType::kTipPge:
    case PktType::kTipPgd:
    case PktType::kFup: {
      p.kind = pkt.type == PktType::kTip      ? K::Tip
               : pkt.type == PktType::kTipPge ? K::TipPge
               : pkt.type == PktType::kTipPgd ? K::TipPgd
                                              : K::Fup;
      last_ip.update(pkt.ipc, pkt.ip);
      uint64_t ip = 0;
      p.ip_valid = last_ip.query(&ip) == LastIp::kOk;
      p.ip = ip;
      break;
    }
    case PktType::kPsb:
      p.kind = K::Psb;
      last_ip.reset();
      break;
    case PktType::kPsbend: p.kind = K::Psbend; break;
    case PktType::kOvf:
      p.kind = K::Ovf;
      last_ip.reset();
      break;
    case PktType::kPip:
      p.kind = K::Pip;
      p.cr3 = pkt.cr3;
      p.nr = pkt.nr;
      break;
    case PktType::kVmcs:
      p.kind = K::Vmcs;
      p.vmcs = pkt.vmcs;
      break;
    case PktType::kModeExec:
      p.kind = K::ModeExec;
      p.mode64 = pkt.csl;
      break;
    default:
      p.kind = K::Other;
      break;
  }
  return p;
}

PktDecoder::PktDecoder(sc_core::sc_module_name n, const UnitConfig& cfg, UnitStatus& status, UnitCounters& counters,
                       unsigned width, unsigned window)
    : sc_module(n), clk_i("clk_i"), rst_ni("rst_ni"), start_i("start_i"), in("in"),
      out("out"), pos_o("pos_o"), cfg_(cfg), status_(status), cnt_(counters),
      width_(std::clamp(width, 1u, kMaxDecWidth)), capacity_(std::max(window, 16u * width_ + 24u)) {
  SC_HAS_PROCESS(PktDecoder);
  SC_METHOD(seq);
  sensitive << clk_i.pos();
  dont_initialize();
}

bool PktDecoder::window_bytes(uint64_t from, size_t n, uint8_t* dst) const {
  if (from < win_off_ || from + n > win_off_ + win_.size()) return false;
  std::copy_n(win_.begin() + long(from - win_off_), n, dst);
  return true;
}

void PktDecoder::start_search(uint64_t from) {
  mode_ = Mode::Search;
  search_from_ = std::max(from, win_off_);
}

void PktDecoder::emit(const WalkPacket& p) {
  out_reg_.p[out_reg_.n++] = p;
  out_valid_ = true;
}

bool PktDecoder::decode_one(uint64_t end) {
  using K = WalkPacket::Kind;
  if (mode_ == Mode::Search) {
    std::vector<uint8_t> buf(win_.begin() + long(search_from_ - win_off_), win_.end());
    int64_t s = psb_search_forward(buf.data(), buf.size(), 0);
    // A run of the PSB pattern longer than 16 bytes is resolved to its last 16 bytes: accept
    // the match once the run is known to have ended.
    bool run_ended = s >= 0 && (end_seen_ || size_t(s) + kPsbSize + 2 <= buf.size()) &&
                     !(size_t(s) + kPsbSize + 2 <= buf.size() && buf[size_t(s) + 16] == 0x02 && buf[size_t(s) + 17] == 0x82);
    if (s >= 0 && run_ended) {
      uint64_t at = search_from_ + uint64_t(s);
      pos_ = sync_ = at;
      mode_ = Mode::Decode;
      last_ip_.reset();
      if (first_search_ && at > 0) {
        WalkPacket p;
        p.kind = K::Error;
        p.offset = 0;
        p.reason = 3;  // no sync at the start: bytes before the first PSB
        emit(p);
      }
      first_search_ = false;
    } else if (s < 0 && end_seen_ && first_search_ && end > 0) {
      // Trace bytes without a single PSB: nothing could be decoded; say so, then end.
      first_search_ = false;
      WalkPacket p;
      p.kind = K::Error;
      p.offset = 0;
      p.reason = 3;
      emit(p);
    } else if (s < 0 && end_seen_) {
      mode_ = Mode::Done;
      WalkPacket p;
      p.kind = K::End;
      p.offset = end;
      emit(p);
    } else if (s < 0 && end > search_from_ + (kPsbSize - 1)) {
      search_from_ = end - (kPsbSize - 1);  // a PSB may still start in the last 15 bytes
    } else if (s >= 0 && !run_ended) {
      // A PSB whose run may go on past the window: drop the bytes before it, so that the window
      // has room for the bytes that tell (with a full window it would otherwise wait for good).
      search_from_ += uint64_t(s);
    }
  } else if (mode_ == Mode::Decode) {
    if (pos_ > end && end_seen_) {
      // Only after an SKZ84 <invalid> packet whose skipped last byte is past the end.
      if (tap_) tap_(DecoderTap{DecoderTap::Kind::OutOfSync, pos_, {}, 0, {}, 0});
      mode_ = Mode::Done;
      WalkPacket p;
      p.kind = K::End;
      p.offset = end;
      emit(p);
    } else if (pos_ >= win_off_ && pos_ <= end) {
      size_t avail = size_t(end - pos_);
      uint8_t bytes[kMaxPacketWindow] = {};
      size_t have = std::min(avail, kMaxPacketWindow);
      window_bytes(pos_, have, bytes);
      Packet pkt;
      int n = avail == 0 ? 0 : decode_packet(bytes, have, pkt, errata_);
      if (n == 0 && (end_seen_ || avail >= kMaxPacketWindow)) {
        // End of trace (possibly in the middle of a packet).
        mode_ = Mode::Done;
        WalkPacket p;
        p.kind = K::End;
        p.offset = pos_;
        emit(p);
      } else if (n < 0) {
        if (tap_) {
          DecoderTap t{DecoderTap::Kind::Error, pos_, {}, n, {}, have};
          std::copy_n(bytes, have, t.raw);
          tap_(t);
        }
        ++cnt_[kCtrDecodeErrors];
        WalkPacket p;
        p.kind = K::Error;
        p.offset = pos_;
        p.reason = 2;
        emit(p);
        uint64_t start = pos_ == sync_ ? pos_ + kPsbSize : pos_;
        start_search(start - std::min<uint64_t>(start, kPsbSize - 1));
      } else if (n > 0) {
        if (tap_) {
          DecoderTap t{DecoderTap::Kind::Packet, pos_, pkt, 0, {}, have};
          std::copy_n(bytes, have, t.raw);
          tap_(t);
        }
        WalkPacket p = walk_packet(pkt, pos_, last_ip_);
        time_.apply(pkt);
        p.time_valid = time_.tsc(&p.time) == TimeStatus::kOk;
        ++cnt_[kCtrPackets];
        if (pkt.type != PktType::kInvalid) ++cnt_[kCtrPktFirst + unsigned(pkt.type) - 1];
        // Packets that do not move the flow (PAD, timing, CBR, ...) stay here: their only effect,
        // the time, rides on the next packet the walker sees. The walker so sees an OVF or a PSB
        // right after the flow packet before it, as libipt's read-ahead does.
        if (p.kind != K::Other) emit(p);
        pos_ += uint64_t(n);
        return true;
      }
    }
  }
  return false;
}

void PktDecoder::seq() {
  if (!rst_ni.read() || start_i.read()) {
    win_.clear();
    win_off_ = 0;
    end_seen_ = false;
    first_search_ = true;
    pos_ = sync_ = search_from_ = 0;
    mode_ = no_sync_ ? Mode::Decode : Mode::Search;
    resync_req_ = false;
    last_ip_.reset();
    {
      TimeKeeperOptions t;
      t.config.mtc_freq = cfg_.mtc_freq;
      t.config.nom_freq = cfg_.nom_freq;
      t.config.cpuid_15_eax = cfg_.cpuid15_eax;
      t.config.cpuid_15_ebx = cfg_.cpuid15_ebx;
      time_ = TimeKeeper(t);
    }
    out_valid_ = false;
    out_reg_.n = 0;
    running_ = rst_ni.read() && start_i.read();
    status_.trace_tail = 0;
    in.ready.write(false);
    out.valid.write(false);
    pos_o.write(0);
    return;
  }
  if (out.fired()) {
    out_valid_ = false;
    out_reg_.n = 0;
  }
  if (in.fired()) {
    TraceBeat b = in.data.read();
    if (b.end) {
      end_seen_ = true;
    } else {
      const uint8_t* d = reinterpret_cast<const uint8_t*>(&b.data);
      if (win_.empty()) win_off_ = b.offset;
      win_.insert(win_.end(), d + b.skip, d + b.skip + b.n);
    }
  }
  uint64_t end = win_off_ + win_.size();

  bool resync = resync_req_;
  resync_req_ = false;
  if (running_ && resync && mode_ == Mode::Decode) {
    uint64_t start = pos_ == sync_ ? pos_ + kPsbSize : pos_;
    start_search(start - std::min<uint64_t>(start, kPsbSize - 1));
  }

  // Up to DEC_WIDTH packets per cycle: the k-th decoder looks at the bytes right after the
  // (k-1)-th packet; anything but a decoded packet (a PSB search, an error, the end) ends the cycle.
  if (running_ && !out_valid_) {
    for (unsigned k = 0; k < width_; ++k)
      if (!decode_one(end)) break;
  }

  // Keep 15 bytes of history behind the position (resync may search from there).
  uint64_t keep_from = mode_ == Mode::Search ? search_from_ : (pos_ > kPsbSize - 1 ? pos_ - (kPsbSize - 1) : 0);
  while (!win_.empty() && win_off_ < keep_from) {
    win_.pop_front();
    ++win_off_;
  }
  uint64_t consumed = mode_ == Mode::Search ? search_from_ : pos_;
  if (consumed > status_.trace_tail) {
    cnt_[kCtrTraceBytes] += consumed - status_.trace_tail;
    status_.trace_tail = consumed;
  }
  in.ready.write(running_ && !end_seen_ && win_.size() + 8 <= capacity_);
  out.valid.write(out_valid_);
  if (out_valid_) out.data.write(out_reg_);
  pos_o.write(consumed);
}

}  // namespace xtu::model
