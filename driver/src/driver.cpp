#include "xtu/driver/driver.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "xtu/formats/hex.hpp"
#include "xtu/regs.hpp"

namespace xtu::driver {

namespace R = xtu::regs;

Driver::Driver(Device& dev) : dev_(dev) {}

DeviceInfo Driver::identify() {
  DeviceInfo i;
  i.id = dev_.read32(R::id::kOffset);
  i.version = dev_.read32(R::version::kOffset);
  i.params0 = dev_.read32(R::params0::kOffset);
  i.params1 = dev_.read32(R::params1::kOffset);
  i.params2 = dev_.read32(R::params2::kOffset);
  if (i.id != R::kMapId) throw std::runtime_error("not an xtu unit: ID register reads " + hex(i.id));
  if (R::version::kMajor.get(i.version) != R::kMapVersionMajor)
    throw std::runtime_error("unsupported xtu register map version " + hex(i.version));
  i.cam_entries = R::params0::kCamEntries.get(i.params0);
  i.max_nodes = R::params0::kMaxNodes.get(i.params0);
  return i;
}

void Driver::setup(const Buffers& b) {
  auto pow2 = [](uint64_t v) { return v && !(v & (v - 1)); };
  if (!pow2(b.event_entries) || !pow2(b.ht_entries) || !pow2(b.out_bytes) || b.out_bytes < 64 || b.trace_bytes % 8)
    throw std::invalid_argument("buffer sizes: event/hash entries and the output ring must be powers of two");
  buf_ = b;
  dev_.free_all();
  trace_base_ = dev_.alloc(b.trace_bytes, 4096, "trace ring", true, false);
  evq_base_ = dev_.alloc(uint64_t(b.event_entries) * R::event::kSize, 4096, "event ring", true, false);
  desc_base_ = dev_.alloc(b.desc_bytes, 4096, "descriptor pool", true, false);
  ht_base_ = dev_.alloc(uint64_t(b.ht_entries) * R::ht::kSize, 4096, "hash table", true, true);
  out_base_ = dev_.alloc(b.out_bytes, 4096, "output ring", false, true);
  // The unit owns the hash table once started: it must start empty.
  std::vector<uint8_t> zero(uint64_t(b.ht_entries) * R::ht::kSize, 0);
  dev_.mem_write(ht_base_, zero.data(), zero.size());
  dev_.write64(R::trace_base::kOffset, trace_base_);
  dev_.write64(R::trace_size::kOffset, b.trace_bytes);
  dev_.write64(R::trace_head::kOffset, 0);
  dev_.write64(R::evq_base::kOffset, evq_base_);
  dev_.write32(R::evq_entries::kOffset, b.event_entries);
  dev_.write64(R::evq_head::kOffset, 0);
  dev_.write64(R::desc_base::kOffset, desc_base_);
  dev_.write64(R::desc_size::kOffset, b.desc_bytes);
  dev_.write64(R::ht_base::kOffset, ht_base_);
  dev_.write32(R::ht_entries::kOffset, b.ht_entries);
  dev_.write64(R::out_base::kOffset, out_base_);
  dev_.write64(R::out_size::kOffset, b.out_bytes);
  dev_.write64(R::out_tail::kOffset, 0);
  trace_head_ = trace_tail_ = evq_head_ = evq_tail_ = out_tail_ = desc_used_ = 0;
  ctrl_ = 0;
}

void Driver::set_context(uint64_t cr3, uint64_t vmcs, bool filter, bool records) {
  dev_.write64(R::target_cr3::kOffset, cr3);
  dev_.write64(R::target_vmcs::kOffset, vmcs);
  ctrl_ = R::ctrl::kCtxFilter.set(ctrl_, filter);
  ctrl_ = R::ctrl::kCtxRecords.set(ctrl_, records);
}

void Driver::set_code(uint64_t base, uint64_t size) {
  dev_.write64(R::code_base::kOffset, base);
  dev_.write64(R::code_size::kOffset, size);
}

void Driver::set_time_config(uint8_t mtc_freq, uint8_t nom_freq, uint32_t cpuid15_eax, uint32_t cpuid15_ebx) {
  dev_.write32(R::time_cfg::kOffset, R::time_cfg::kMtcFreq.set(0, mtc_freq) | R::time_cfg::kNomFreq.set(0, nom_freq));
  dev_.write32(R::cpuid15_eax::kOffset, cpuid15_eax);
  dev_.write32(R::cpuid15_ebx::kOffset, cpuid15_ebx);
}

uint64_t Driver::put_descriptor(const Descriptor& d) {
  uint64_t size = R::desc::kSize + 8 * d.nodes.size();
  if ((desc_used_ & 4095) + size > 4096) desc_used_ = (desc_used_ + 4095) & ~uint64_t(4095);
  if (desc_used_ + size > buf_.desc_bytes) throw std::runtime_error("descriptor pool full");
  std::vector<uint8_t> img(size, 0);
  R::Desc h{};
  h.host = d.host;
  h.pc = d.pc;
  h.kind = d.kind == DescKind::Tb ? R::DescKind::Tb : R::DescKind::Code;
  h.n = uint8_t(d.nodes.size());
  h.icount = d.icount;
  h.code_size = d.code_size;
  h.store(img.data());
  for (size_t k = 0; k < d.nodes.size(); ++k) {
    const Node& n = d.nodes[k];
    R::Node rn{};
    rn.kind = R::NodeKind(uint8_t(n.kind));
    rn.succ = n.succ;
    rn.alt = n.alt;
    rn.slot = n.slot;
    rn.ret = n.ret;
    rn.insns = n.insns;
    uint64_t w = rn.pack();
    std::memcpy(img.data() + R::desc::kSize + 8 * k, &w, 8);
  }
  uint64_t addr = desc_base_ + desc_used_;
  dev_.mem_write(addr, img.data(), img.size());
  desc_used_ += (size + 7) & ~uint64_t(7);
  return addr;
}

bool Driver::try_push_event(const UnitEvent& e) {
  if (evq_head_ - evq_tail_ >= buf_.event_entries) {
    evq_tail_ = dev_.read64(R::evq_tail::kOffset);
    if (evq_head_ - evq_tail_ >= buf_.event_entries) return false;
  }
  uint8_t img[R::event::kSize] = {};
  R::Event ev{};
  ev.offset = e.offset;
  ev.kind = R::EventType(e.kind);
  ev.slot = e.slot;
  ev.nodes = e.nodes;
  ev.a = e.a;
  ev.b = e.b;
  ev.store(img);
  dev_.mem_write(evq_base_ + (evq_head_ & (buf_.event_entries - 1)) * R::event::kSize, img, sizeof img);
  ++evq_head_;
  dev_.write64(R::evq_head::kOffset, evq_head_);
  return true;
}

size_t Driver::push_trace(const uint8_t* data, size_t n) {
  uint64_t space = buf_.trace_bytes - (trace_head_ - trace_tail_);
  if (space < n) {
    trace_tail_ = dev_.read64(R::trace_tail::kOffset);
    space = buf_.trace_bytes - (trace_head_ - trace_tail_);
  }
  size_t done = 0;
  while (done < n && space > 0) {
    uint64_t pos = trace_head_ % buf_.trace_bytes;
    size_t chunk = size_t(std::min<uint64_t>({n - done, space, buf_.trace_bytes - pos}));
    dev_.mem_write(trace_base_ + pos, data + done, chunk);
    done += chunk;
    space -= chunk;
    trace_head_ += chunk;
  }
  if (done) dev_.write64(R::trace_head::kOffset, trace_head_);
  return done;
}

void Driver::trace_last() {
  ctrl_ = R::ctrl::kTraceLast.set(ctrl_, 1);
  dev_.write32(R::ctrl::kOffset, ctrl_);
}

void Driver::start(bool time) {
  ctrl_ = R::ctrl::kTimeEn.set(ctrl_, time);
  dev_.write32(R::ctrl::kOffset, ctrl_ | R::ctrl::kStart.mask);
}

size_t Driver::drain(std::vector<Record>& out) {
  uint64_t head = dev_.read64(R::out_head::kOffset);
  size_t n = 0;
  while (out_tail_ < head) {
    uint8_t img[R::record::kSize];
    dev_.mem_read(out_base_ + (out_tail_ & (buf_.out_bytes - 1)), img, sizeof img);
    R::Record r = R::Record::load(img);
    out.push_back(Record{uint8_t(r.kind), r.value, r.flags, r.icount, r.tsc});
    out_tail_ += R::record::kSize;
    ++n;
  }
  if (n) dev_.write64(R::out_tail::kOffset, out_tail_);
  return n;
}

uint32_t Driver::status() { return dev_.read32(R::status::kOffset); }

bool Driver::done() { return R::status::kDone.get(status()); }

std::vector<std::pair<std::string, uint64_t>> Driver::counters() {
  std::vector<std::pair<std::string, uint64_t>> v;
  for (const R::Counter& c : R::kCounters) v.emplace_back(std::string(c.name), dev_.read64(c.offset));
  return v;
}

}  // namespace xtu::driver
