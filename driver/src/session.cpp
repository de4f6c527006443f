#include "xtu/driver/session.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "xtu/formats/hex.hpp"
#include "xtu/regs.hpp"

namespace xtu::driver {

namespace R = xtu::regs;

namespace {
constexpr uint8_t kLoad = uint8_t(R::EventType::Load), kLink = uint8_t(R::EventType::Link),
                  kUnlink = uint8_t(R::EventType::Unlink), kInvalidate = uint8_t(R::EventType::Invalidate),
                  kFlush = uint8_t(R::EventType::Flush);
}  // namespace

uint64_t RunResult::counter(const std::string& name) const {
  for (const auto& [n, v] : counters)
    if (n == name) return v;
  return 0;
}

// ------------------------------------------------------------------------------------------------
// EventTranslator

std::vector<Descriptor> EventTranslator::build(const ev::Event& e) {
  std::vector<Descriptor> out;
  if (const auto* c = std::get_if<ev::Code>(&e.body)) {
    pro_ = hostcode::analyze_prologue(c->host_addr, c->bytes);
    have_pro_ = true;
    out.push_back(build_descriptor(c->host_addr, c->bytes, c->host_addr, DescKind::Code, 0, 0, pro_, 0, limits_));
    out.push_back(build_descriptor(c->host_addr, c->bytes, pro_.epilogue_ret0, DescKind::Code, 0, 0, pro_, 0, limits_));
  } else if (const auto* t = std::get_if<ev::TbLoad>(&e.body)) {
    if (!have_pro_) throw std::runtime_error("a TB (host " + hex(t->host_addr) + ") is loaded before the prologue code");
    if (!have_disp_) {
      if (auto d = hostcode::find_pc_env_disp(t->host_addr, t->code)) {
        pc_disp_ = *d;
        have_disp_ = true;
      }
    }
    out.push_back(build_descriptor(t->host_addr, t->code, t->host_addr, DescKind::Tb, t->guest_pc,
                                   uint16_t(t->insns.size()), pro_, pc_disp_, limits_));
  }
  for (const Descriptor& d : out)
    if (std::any_of(d.nodes.begin(), d.nodes.end(), [](const Node& n) { return n.kind == NodeKind::Invalid; }))
      ++invalid_;
  return out;
}

void EventTranslator::events(const ev::Event& e, const std::vector<Placed>& placed, std::vector<UnitEvent>& out) {
  const uint64_t off = e.trace_offset;
  for (const Placed& p : placed) out.push_back(UnitEvent{off, kLoad, 0, p.nodes, p.host, p.where});
  if (std::holds_alternative<ev::Code>(e.body)) {
    code_entries_.insert(code_entries_.end(), placed.begin(), placed.end());
  } else if (const auto* l = std::get_if<ev::Link>(&e.body)) {
    out.push_back(UnitEvent{off, kLink, uint8_t(l->slot), 0, l->src_tb, l->target});
  } else if (const auto* u = std::get_if<ev::Unlink>(&e.body)) {
    out.push_back(UnitEvent{off, kUnlink, uint8_t(u->slot), 0, u->src_tb, 0});
  } else if (const auto* i = std::get_if<ev::Invalidate>(&e.body)) {
    out.push_back(UnitEvent{off, kInvalidate, 0, 0, i->host_addr, 0});
  } else if (std::holds_alternative<ev::Flush>(e.body)) {
    out.push_back(UnitEvent{off, kFlush, 0, 0, 0, 0});
    for (const Placed& p : code_entries_) out.push_back(UnitEvent{off, kLoad, 0, p.nodes, p.host, p.where});
  }
}

// ------------------------------------------------------------------------------------------------
// Session

Session::Session(Device& dev, const SessionConfig& config)
    : dev_(dev), drv_(dev), cfg_(config), translator_(config.limits), t0_(std::chrono::steady_clock::now()) {
  info_ = drv_.identify();
  drv_.setup(cfg_.buffers);
  drv_.set_context(cfg_.cr3, cfg_.vmcs, cfg_.ctx_filter, cfg_.ctx_records);
  drv_.set_code(cfg_.code_base, cfg_.code_size);
  drv_.set_time_config(cfg_.mtc_freq, cfg_.nom_freq, cfg_.cpuid15_eax, cfg_.cpuid15_ebx);
}

void Session::check_offset(uint64_t offset) const {
  if (offset < last_offset_)
    throw std::invalid_argument("event at trace offset " + std::to_string(offset) + " after one at " +
                                std::to_string(last_offset_) + ": offsets must not decrease");
  if (offset < trace_received_)
    throw std::invalid_argument("event at trace offset " + std::to_string(offset) + " after " +
                                std::to_string(trace_received_) + " trace bytes were given: too late to apply");
}

uint64_t Session::load(uint64_t offset, const Descriptor& d) {
  check_offset(offset);
  if (d.nodes.size() > info_.max_nodes)
    throw std::runtime_error("descriptor of " + hex(d.host) + " has " + std::to_string(d.nodes.size()) +
                             " nodes; the unit takes " + std::to_string(info_.max_nodes));
  uint64_t addr = drv_.put_descriptor(d);
  ++descriptors_;
  push(UnitEvent{offset, kLoad, 0, uint8_t(d.nodes.size()), d.host, addr});
  return addr;
}

void Session::push(const UnitEvent& e) {
  check_offset(e.offset);
  last_offset_ = e.offset;
  pending_.push_back(e);
  ++events_total_;
}

void Session::event(const ev::Event& e) {
  if (const auto* p = std::get_if<ev::Process>(&e.body)) {
    if (started_) throw std::logic_error("a process record after the unit started");
    cfg_.cr3 = p->cr3;
    cfg_.vmcs = p->vmcs;
    cfg_.code_base = p->code_base;
    cfg_.code_size = p->code_size;
    drv_.set_context(cfg_.cr3, cfg_.vmcs, cfg_.ctx_filter, cfg_.ctx_records);
    drv_.set_code(cfg_.code_base, cfg_.code_size);
    return;
  }
  check_offset(e.trace_offset);
  std::vector<UnitEvent> out;
  translator_.translate(
      e,
      [&](Descriptor&& d) {
        if (d.nodes.size() > info_.max_nodes)
          throw std::runtime_error("descriptor of " + hex(d.host) + " has " + std::to_string(d.nodes.size()) +
                                   " nodes; the unit takes " + std::to_string(info_.max_nodes));
        ++descriptors_;
        return drv_.put_descriptor(d);
      },
      out);
  for (const UnitEvent& u : out) push(u);
}

void Session::code(uint64_t offset, uint64_t host_addr, const std::vector<uint8_t>& bytes) {
  ev::Code c;
  c.host_addr = host_addr;
  c.bytes = bytes;
  event(ev::Event{offset, 0, std::move(c)});
}

void Session::tb_translated(uint64_t offset, uint64_t host_addr, uint64_t guest_pc, uint16_t guest_insns,
                            const std::vector<uint8_t>& code) {
  ev::TbLoad t;
  t.host_addr = host_addr;
  t.guest_pc = guest_pc;
  t.insns.resize(guest_insns);  // the descriptor needs only their count
  if (guest_insns) t.insns[0].guest_pc = guest_pc;
  t.code = code;
  event(ev::Event{offset, 0, std::move(t)});
}

void Session::tb_linked(uint64_t offset, uint64_t src_tb, unsigned slot, uint64_t target) {
  event(ev::Event{offset, 0, ev::Link{src_tb, 0, target, slot}});
}

void Session::tb_unlinked(uint64_t offset, uint64_t src_tb, unsigned slot) {
  event(ev::Event{offset, 0, ev::Unlink{src_tb, 0, 0, slot}});
}

void Session::tb_invalidated(uint64_t offset, uint64_t host_addr) {
  event(ev::Event{offset, 0, ev::Invalidate{host_addr}});
}

void Session::flush(uint64_t offset) { event(ev::Event{offset, 0, ev::Flush{}}); }

void Session::trace(const uint8_t* data, size_t n) {
  if (ended_) throw std::logic_error("trace bytes after end_of_trace()");
  trace_.insert(trace_.end(), data, data + n);
  trace_received_ += n;
}

void Session::end_of_trace() { ended_ = true; }

void Session::start_if_needed() {
  if (started_) return;
  drv_.start(cfg_.time);
  start_cycles_ = dev_.cycles();
  started_ = true;
}

bool Session::step(std::vector<Record>& out) {
  if (over_) return false;
  start_if_needed();
  const uint64_t progress = drv_.trace_published() + drv_.events_published();
  // Events first: those before the end of the next trace chunk (all of them once every byte
  // received fits in the chunk), then the chunk, cut at the first event not yet in the ring.
  uint64_t target = std::min<uint64_t>(trace_received_, drv_.trace_published() + cfg_.chunk);
  while (pending_head_ < pending_.size() &&
         (pending_[pending_head_].offset < target || target == trace_received_)) {
    if (!drv_.try_push_event(pending_[pending_head_])) break;
    ++pending_head_;
  }
  if (pending_head_ < pending_.size()) target = std::min<uint64_t>(target, pending_[pending_head_].offset);
  if (target > drv_.trace_published()) {
    const uint64_t from = drv_.trace_published();
    drv_.push_trace(trace_.data() + (from - trace_base_), size_t(target - from));
  }
  // Drop what the ring has taken (in large steps, to keep this linear).
  const uint64_t published = drv_.trace_published();
  if (published - trace_base_ >= (1u << 20) || published == trace_received_) {
    trace_.erase(trace_.begin(), trace_.begin() + ptrdiff_t(published - trace_base_));
    trace_base_ = published;
  }
  if (pending_head_ >= 4096 || pending_head_ == pending_.size()) {
    pending_.erase(pending_.begin(), pending_.begin() + ptrdiff_t(pending_head_));
    pending_head_ = 0;
  }
  // The end of the trace is like a packet at offset trace_received_: it may be published once
  // every event before it is (later events change nothing the unit reports).
  const bool events_before_end = pending_head_ == pending_.size() || pending_[pending_head_].offset >= trace_received_;
  if (ended_ && !last_sent_ && events_before_end && published == trace_received_) {
    drv_.trace_last();
    last_sent_ = true;
  }

  dev_.run(cfg_.step_cycles);
  std::vector<Record> got;
  drv_.drain(got);
  status_ = drv_.status();
  const uint32_t errors = status_ & ~(R::status::kBusy.mask | R::status::kDone.mask);
  const bool stop = R::status::kDone.get(status_) || errors;
  if (stop) drv_.drain(got);
  out.insert(out.end(), got.begin(), got.end());
  records_.insert(records_.end(), got.begin(), got.end());
  if (stop) {
    over_ = true;
    return false;
  }
  // Waiting for input is not being stuck; once the trace has ended, no progress is.
  if (ended_ && got.empty() && drv_.trace_published() + drv_.events_published() == progress) {
    if (++idle_ > cfg_.max_idle_steps) {
      over_ = true;
      return false;
    }
  } else {
    idle_ = 0;
  }
  return true;
}

RunResult Session::finish() {
  end_of_trace();
  std::vector<Record> sink;
  while (step(sink)) sink.clear();
  RunResult res;
  res.records = std::move(records_);
  records_.clear();
  res.status = status_;
  res.done = R::status::kDone.get(status_);
  res.cycles = dev_.cycles() - start_cycles_;
  res.counters = drv_.counters();
  res.violations = dev_.violations();
  res.pt_bytes = trace_received_;
  res.descriptors = descriptors_;
  res.events = events_total_;
  res.invalid_descriptors = translator_.invalid_descriptors();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  return res;
}

}  // namespace xtu::driver
