#include "xtu/golden/golden.hpp"

#include <intel-pt.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "xtu/formats/bundle.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/event_stream.hpp"

namespace xtu::golden {
namespace {

// One TB as the golden model knows it.
struct Tb {
  uint64_t pc = 0;
  // host offset -> guest instructions starting there, in guest order (empty ones first)
  std::vector<std::pair<uint32_t, uint64_t>> insn_starts;
};

struct Segment {
  uint64_t addr = 0;
  std::vector<uint8_t> bytes;
  int tb = -1;  // index into Space::tbs, -1 for non-TB code
};

// The code of one address space (one DBT process), as of the events applied so far.
class Space {
public:
  Space(std::string name, std::vector<ev::Event> events) : name_(std::move(name)), events_(std::move(events)) {}
  uint64_t cr3 = 0, vmcs = 0;
  bool main = false;

  void apply_until(uint64_t offset, Stats& st) {
    while (next_ < events_.size() && events_[next_].trace_offset <= offset) {
      apply(events_[next_++]);
      ++st.events_applied;
    }
  }

  int read(uint8_t* buf, size_t size, uint64_t ip) const {
    auto it = segs_.upper_bound(ip);
    if (it == segs_.begin()) return -pte_nomap;
    --it;
    const Segment& s = it->second;
    if (ip >= s.addr + s.bytes.size()) return -pte_nomap;
    size_t n = std::min<size_t>(size, s.addr + s.bytes.size() - ip);
    std::memcpy(buf, s.bytes.data() + (ip - s.addr), n);
    return int(n);
  }

  // The TB whose entry is `ip`, or nullptr.
  const Tb* entry(uint64_t ip) const {
    auto it = entries_.find(ip);
    return it == entries_.end() ? nullptr : &tbs_[it->second];
  }

  // The TB and host offset containing ip (for --insn), or nullptr.
  const Tb* containing(uint64_t ip, uint32_t& off) const {
    auto it = segs_.upper_bound(ip);
    if (it == segs_.begin()) return nullptr;
    --it;
    const Segment& s = it->second;
    if (s.tb < 0 || ip >= s.addr + s.bytes.size()) return nullptr;
    off = uint32_t(ip - s.addr);
    return &tbs_[size_t(s.tb)];
  }

private:
  void erase_overlapping(uint64_t addr, uint64_t size) {
    auto it = segs_.lower_bound(addr);
    if (it != segs_.begin()) {
      auto p = std::prev(it);
      if (p->first + p->second.bytes.size() > addr) it = p;
    }
    while (it != segs_.end() && it->first < addr + size) {
      if (it->second.tb >= 0) entries_.erase(it->first);
      it = segs_.erase(it);
    }
  }

  void patch(uint64_t jmp_addr, uint64_t target) {
    auto it = segs_.upper_bound(jmp_addr);
    if (it == segs_.begin()) return;
    --it;
    Segment& s = it->second;
    if (jmp_addr < s.addr || jmp_addr + 5 > s.addr + s.bytes.size()) return;  // not (or no longer) loaded
    int64_t rel = int64_t(target - (jmp_addr + 5));
    if (rel < INT32_MIN || rel > INT32_MAX) return;
    int32_t r32 = int32_t(rel);
    std::memcpy(s.bytes.data() + (jmp_addr - s.addr) + 1, &r32, 4);
  }

  void apply(const ev::Event& e) {
    std::visit([&](const auto& b) {
      using T = std::decay_t<decltype(b)>;
      if constexpr (std::is_same_v<T, ev::Process>) {
        cr3 = b.cr3;
        vmcs = b.vmcs;
      } else if constexpr (std::is_same_v<T, ev::Code>) {
        erase_overlapping(b.host_addr, b.bytes.size());
        segs_[b.host_addr] = Segment{b.host_addr, b.bytes, -1};
      } else if constexpr (std::is_same_v<T, ev::TbLoad>) {
        erase_overlapping(b.host_addr, b.code.size());
        Tb tb;
        tb.pc = b.guest_pc;
        for (const ev::InsnMap& m : b.insns) tb.insn_starts.push_back({m.host_offset, m.guest_pc});
        std::stable_sort(tb.insn_starts.begin(), tb.insn_starts.end(),
                         [](const auto& x, const auto& y) { return x.first < y.first; });
        tbs_.push_back(std::move(tb));
        segs_[b.host_addr] = Segment{b.host_addr, b.code, int(tbs_.size() - 1)};
        entries_[b.host_addr] = tbs_.size() - 1;
      } else if constexpr (std::is_same_v<T, ev::Link> || std::is_same_v<T, ev::Unlink>) {
        patch(b.jmp_addr, b.target);
      } else if constexpr (std::is_same_v<T, ev::Invalidate>) {
        entries_.erase(b.host_addr);
        auto it = segs_.find(b.host_addr);
        if (it != segs_.end() && it->second.tb >= 0) segs_.erase(it);
      } else if constexpr (std::is_same_v<T, ev::Flush>) {
        for (auto it = segs_.begin(); it != segs_.end();) it = it->second.tb >= 0 ? segs_.erase(it) : std::next(it);
        entries_.clear();
        tbs_.clear();
      }
    }, e.body);
  }

  std::string name_;
  std::vector<ev::Event> events_;
  size_t next_ = 0;
  std::map<uint64_t, Segment> segs_;
  std::unordered_map<uint64_t, size_t> entries_;
  std::vector<Tb> tbs_;
};

struct Decoder {
  std::vector<Space> spaces;
  Space* current = nullptr;  // the space of the decoder's current context
  uint64_t cur_cr3 = 0, cur_vmcs = 0;
  bool have_cr3 = false;
  Stats* st = nullptr;

  Space* find(uint64_t cr3, uint64_t vmcs) {
    for (Space& s : spaces)
      if (s.cr3 == cr3 && (s.vmcs == 0 || vmcs == pt_asid_no_vmcs || s.vmcs == vmcs)) return &s;
    return nullptr;
  }
  void set_context() { current = have_cr3 ? find(cur_cr3, cur_vmcs) : &spaces.front(); }
};

int read_memory(uint8_t* buffer, size_t size, const pt_asid* asid, uint64_t ip, void* context) {
  Decoder& d = *static_cast<Decoder*>(context);
  Space* s = (asid && asid->cr3 != pt_asid_no_cr3) ? d.find(asid->cr3, asid->vmcs) : &d.spaces.front();
  if (!s) return -pte_nomap;
  return s->read(buffer, size, ip);
}

}  // namespace

Stats run(const std::string& dir, GuestTraceWriter& out, const Options& opt) {
  auto t0 = std::chrono::steady_clock::now();
  Stats st;
  BundleInfo info = read_bundle_info(dir);
  std::vector<uint8_t> pt = read_file_bytes(dir + "/" + info.trace_file);
  st.pt_bytes = pt.size();

  Decoder d;
  d.st = &st;
  d.spaces.emplace_back("main", ev::read(dir + "/" + info.events_file));
  d.spaces.front().main = true;
  for (const std::string& o : info.others) d.spaces.emplace_back(o, ev::read(dir + "/" + o + "/events.xtev"));
  // The context of each space is in its first (Process) event, at offset 0 of its stream.
  for (Space& s : d.spaces) s.apply_until(0, st);
  st.events_applied = 0;
  Space& main = d.spaces.front();
  if (main.cr3 == 0 && info.cr3) main.cr3 = info.cr3;

  if (pt.empty()) {
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return st;
  }

  pt_config cfg;
  pt_config_init(&cfg);
  cfg.begin = pt.data();
  cfg.end = pt.data() + pt.size();
  cfg.mtc_freq = uint8_t(info.pt.mtc_freq);
  cfg.nom_freq = uint8_t(info.pt.nom_freq);
  cfg.cpuid_0x15_eax = info.pt.cpuid_15_eax;
  cfg.cpuid_0x15_ebx = info.pt.cpuid_15_ebx;
  pt_insn_decoder* dec = pt_insn_alloc_decoder(&cfg);
  if (!dec) throw std::runtime_error("pt_insn_alloc_decoder failed");
  pt_image* image = pt_insn_get_image(dec);
  pt_image_set_callback(image, read_memory, &d);

  auto offset = [&]() {
    uint64_t off = 0;
    pt_insn_get_offset(dec, &off);
    return off;
  };
  // DBT events happen while tracing is off (after a TIP.PGD, or inside an OVF loss) and apply
  // to packets from their offset on, so code walked after the TIP.PGE or OVF that ends such a
  // window must see them. libipt decodes ahead of the instruction flow (its position is past the
  // next event packet and any timing packets), so the offset of the packet behind a delivered
  // enable/overflow event is taken from a packet-level pass: the last TIP.PGE or OVF that starts
  // before the decoder's position.
  std::vector<uint64_t> enable_points;
  {
    pt_packet_decoder* pd = pt_pkt_alloc_decoder(&cfg);
    if (!pd) throw std::runtime_error("pt_pkt_alloc_decoder failed");
    int ps = pt_pkt_sync_forward(pd);
    while (ps >= 0 || ps == -pte_bad_opc || ps == -pte_bad_packet) {
      if (ps < 0) {
        if ((ps = pt_pkt_sync_forward(pd)) < 0) break;
      }
      uint64_t at = 0;
      pt_pkt_get_offset(pd, &at);
      pt_packet pkt;
      ps = pt_pkt_next(pd, &pkt, sizeof pkt);
      if (ps >= 0 && (pkt.type == ppt_tip_pge || pkt.type == ppt_ovf)) enable_points.push_back(at);
      if (ps == -pte_eos) break;
    }
    pt_pkt_free_decoder(pd);
  }
  auto apply_through = [&](uint64_t limit) {
    for (Space& s : d.spaces) s.apply_until(limit, st);
  };
  auto apply_at_enable = [&]() {
    uint64_t pos = offset();
    auto it = std::lower_bound(enable_points.begin(), enable_points.end(), pos);
    if (it != enable_points.begin()) apply_through(*std::prev(it));
  };
  auto apply_at_sync = [&]() {
    uint64_t sync = 0;
    pt_insn_get_sync_offset(dec, &sync);
    apply_through(sync);
  };
  auto gap = [&]() { out.gap(); ++st.gaps; };

  int status = pt_insn_sync_forward(dec);
  if (status == -pte_eos && !pt.empty()) gap();  // trace bytes without a single PSB
  if (status >= 0) {
    uint64_t sync = 0;
    pt_insn_get_sync_offset(dec, &sync);
    if (sync > 0) gap();  // bytes before the first PSB could not be decoded
    apply_at_sync();
  }
  d.set_context();
  uint64_t last_off = offset(), since_check = 0, stalled = 0;
  while (status != -pte_eos) {
    if (status < 0) {
      ++st.decode_errors;
      gap();
      status = pt_insn_sync_forward(dec);
      if (status >= 0) apply_at_sync();
      d.set_context();
      continue;
    }
    bool failed = false;
    while (status & pts_event_pending) {
      pt_event ev;
      status = pt_insn_event(dec, &ev, sizeof ev);
      if (status < 0) { failed = true; break; }
      switch (ev.type) {
        case ptev_enabled:
          if (!ev.status_update) apply_at_enable();
          break;
        case ptev_overflow:
          ++st.overflows;
          gap();
          apply_at_enable();
          break;
        case ptev_paging:
        case ptev_async_paging:
          d.cur_cr3 = ev.type == ptev_paging ? ev.variant.paging.cr3 : ev.variant.async_paging.cr3;
          d.have_cr3 = true;
          d.set_context();
          if (opt.contexts) {
            char b[64];
            std::snprintf(b, sizeof b, "context cr3=0x%" PRIx64, d.cur_cr3);
            out.comment(b);
          }
          break;
        case ptev_vmcs:
        case ptev_async_vmcs:
          d.cur_vmcs = ev.type == ptev_vmcs ? ev.variant.vmcs.base : ev.variant.async_vmcs.base;
          d.set_context();
          break;
        default:
          break;
      }
    }
    if (failed) continue;
    if (status & pts_eos) break;
    pt_insn insn;
    status = pt_insn_next(dec, &insn, sizeof insn);
    if (status < 0) continue;
    ++st.host_insns;
    if (++since_check == 4096) {
      // Walking code without consuming trace means garbage steered the decoder into a loop.
      since_check = 0;
      uint64_t off = offset();
      stalled = off == last_off ? stalled + 4096 : 0;
      last_off = off;
      if (stalled > opt.stall_limit) {
        status = -pte_internal;
        continue;
      }
    }
    if (!d.current || !d.current->main) {
      ++st.other_context_insns;
      continue;
    }
    if (!opt.insn) {
      if (const Tb* tb = d.current->entry(insn.ip)) {
        out.block(tb->pc);
        ++st.records;
        if (opt.on_block) {
          uint64_t tsc = 0;
          uint32_t lost_mtc = 0, lost_cyc = 0;
          bool valid = pt_insn_time(dec, &tsc, &lost_mtc, &lost_cyc) >= 0;
          opt.on_block(tb->pc, tsc, valid);
        }
      }
      continue;
    }
    uint32_t hoff = 0;
    const Tb* tb = d.current->containing(insn.ip, hoff);
    if (!tb) continue;
    auto it = std::lower_bound(tb->insn_starts.begin(), tb->insn_starts.end(), std::make_pair(hoff, uint64_t(0)),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    for (; it != tb->insn_starts.end() && it->first == hoff; ++it) {
      out.block(it->second);
      ++st.records;
    }
  }
  pt_insn_free_decoder(dec);
  out.flush();
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

}  // namespace xtu::golden
