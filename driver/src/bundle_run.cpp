#include "xtu/driver/bundle_run.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "xtu/formats/bundle.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/hex.hpp"
#include "xtu/regs.hpp"

namespace xtu::driver {

namespace R = xtu::regs;

UnitProgram translate_events(const std::vector<ev::Event>& events, const BuildLimits& limits) {
  UnitProgram p;
  hostcode::Prologue pro{};
  bool have_pro = false;
  int32_t pc_disp = 0;
  bool have_disp = false;
  std::vector<size_t> code_entries;  // descriptor indices of the prologue / epilogue entry points
  auto add = [&](Descriptor d, uint64_t offset) {
    for (const Node& n : d.nodes)
      if (n.kind == NodeKind::Invalid) {
        ++p.invalid_descriptors;
        break;
      }
    p.descriptors.push_back(std::move(d));
    p.events.push_back(UnitEvent{offset, 1, 0, uint8_t(p.descriptors.back().nodes.size()), p.descriptors.back().host,
                                 p.descriptors.size() - 1});
    return p.descriptors.size() - 1;
  };
  for (const ev::Event& e : events) {
    std::visit([&](const auto& b) {
      using T = std::decay_t<decltype(b)>;
      if constexpr (std::is_same_v<T, ev::Process>) {
        p.cr3 = b.cr3;
        p.vmcs = b.vmcs;
        p.code_base = b.code_base;
        p.code_size = b.code_size;
      } else if constexpr (std::is_same_v<T, ev::Code>) {
        pro = hostcode::analyze_prologue(b.host_addr, b.bytes);
        have_pro = true;
        code_entries.push_back(add(build_descriptor(b.host_addr, b.bytes, b.host_addr, DescKind::Code, 0, 0, pro, 0, limits),
                                   e.trace_offset));
        code_entries.push_back(add(build_descriptor(b.host_addr, b.bytes, pro.epilogue_ret0, DescKind::Code, 0, 0, pro, 0, limits),
                                   e.trace_offset));
      } else if constexpr (std::is_same_v<T, ev::TbLoad>) {
        if (!have_pro) throw std::runtime_error("a TB is loaded before the prologue code");
        if (!have_disp) {
          if (auto d = hostcode::find_pc_env_disp(b.host_addr, b.code)) {
            pc_disp = *d;
            have_disp = true;
          }
        }
        add(build_descriptor(b.host_addr, b.code, b.host_addr, DescKind::Tb, b.guest_pc, uint16_t(b.insns.size()), pro,
                             pc_disp, limits),
            e.trace_offset);
      } else if constexpr (std::is_same_v<T, ev::Link>) {
        p.events.push_back(UnitEvent{e.trace_offset, 2, uint8_t(b.slot), 0, b.src_tb, b.target});
      } else if constexpr (std::is_same_v<T, ev::Unlink>) {
        p.events.push_back(UnitEvent{e.trace_offset, 3, uint8_t(b.slot), 0, b.src_tb, 0});
      } else if constexpr (std::is_same_v<T, ev::Invalidate>) {
        p.events.push_back(UnitEvent{e.trace_offset, 4, 0, 0, b.host_addr, 0});
      } else if constexpr (std::is_same_v<T, ev::Flush>) {
        p.events.push_back(UnitEvent{e.trace_offset, 5, 0, 0, 0, 0});
        for (size_t k : code_entries)
          p.events.push_back(UnitEvent{e.trace_offset, 1, 0, uint8_t(p.descriptors[k].nodes.size()), p.descriptors[k].host, k});
      }
    }, e.body);
  }
  return p;
}

uint64_t RunResult::counter(const std::string& name) const {
  for (const auto& [n, v] : counters)
    if (n == name) return v;
  return 0;
}

RunResult run_bundle(Device& dev, const std::string& dir, const RunOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  BundleInfo info = read_bundle_info(dir);
  std::vector<uint8_t> pt = read_file_bytes(dir + "/" + info.trace_file);
  UnitProgram prog = translate_events(ev::read(dir + "/" + info.events_file));
  prog.mtc_freq = uint8_t(info.pt.mtc ? info.pt.mtc_freq : 0);
  prog.nom_freq = uint8_t(info.pt.nom_freq);
  prog.cpuid15_eax = info.pt.cpuid_15_eax;
  prog.cpuid15_ebx = info.pt.cpuid_15_ebx;
  RunResult r = run_program(dev, pt, std::move(prog), o);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

RunResult run_program(Device& dev, const std::vector<uint8_t>& pt, UnitProgram prog, const RunOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  Driver drv(dev);
  DeviceInfo di = drv.identify();
  Buffers b = o.buffers;
  uint64_t need = 4096;
  for (const Descriptor& d : prog.descriptors) need += R::desc::kSize + 8 * d.nodes.size() + 8;
  b.desc_bytes = std::max<uint64_t>(b.desc_bytes, (need * 9 / 8 + 8191) & ~uint64_t(4095));
  for (const Descriptor& d : prog.descriptors)
    if (d.nodes.size() > di.max_nodes) throw std::runtime_error("a descriptor has more nodes than the unit's MAX_NODES");
  drv.setup(b);
  drv.set_context(prog.cr3, prog.vmcs, true, o.ctx_records);
  drv.set_code(prog.code_base, prog.code_size);
  drv.set_time_config(prog.mtc_freq, prog.nom_freq, prog.cpuid15_eax, prog.cpuid15_ebx);
  std::vector<uint64_t> addr(prog.descriptors.size());
  for (size_t k = 0; k < prog.descriptors.size(); ++k) addr[k] = drv.put_descriptor(prog.descriptors[k]);
  for (UnitEvent& e : prog.events)
    if (e.kind == 1) e.b = addr[e.b];

  RunResult res;
  res.pt_bytes = pt.size();
  res.descriptors = prog.descriptors.size();
  res.events = prog.events.size();
  res.invalid_descriptors = prog.invalid_descriptors;
  drv.start(o.time);
  uint64_t start_cycles = dev.cycles();
  size_t next_ev = 0;
  bool last_sent = false;
  uint64_t idle = 0;
  while (true) {
    uint64_t progress = drv.trace_published() + drv.events_published();
    // Publish: events before the next trace chunk's end first, then the chunk (the rule).
    uint64_t target = std::min<uint64_t>(pt.size(), drv.trace_published() + o.chunk);
    while (next_ev < prog.events.size() && (prog.events[next_ev].offset < target || target == pt.size())) {
      if (!drv.try_push_event(prog.events[next_ev])) break;
      ++next_ev;
    }
    if (next_ev < prog.events.size()) target = std::min<uint64_t>(target, prog.events[next_ev].offset);
    if (target > drv.trace_published())
      drv.push_trace(pt.data() + drv.trace_published(), size_t(target - drv.trace_published()));
    // The end of the trace is like a packet at offset pt.size(): it may be published once every
    // event before it is (later events change nothing the unit reports).
    bool events_before_end = next_ev == prog.events.size() || prog.events[next_ev].offset >= pt.size();
    if (!last_sent && events_before_end && drv.trace_published() == pt.size()) {
      drv.trace_last();
      last_sent = true;
    }
    dev.run(o.step_cycles);
    size_t got = drv.drain(res.records);
    uint32_t st = drv.status();
    if (R::status::kDone.get(st) || (st & 0xff00)) {
      drv.drain(res.records);
      res.status = st;
      res.done = R::status::kDone.get(st);
      break;
    }
    if (got == 0 && drv.trace_published() + drv.events_published() == progress) {
      if (++idle > o.max_idle_steps) {
        res.status = st;
        break;  // no progress: reported as not done
      }
    } else {
      idle = 0;
    }
  }
  res.cycles = dev.cycles() - start_cycles;
  res.counters = drv.counters();
  res.violations = dev.violations();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

std::vector<GuestRecord> guest_records(const std::vector<Record>& records) {
  std::vector<GuestRecord> v;
  for (const Record& r : records) {
    if (r.kind == 1) v.push_back(GuestRecord::block(r.value));
    else if (r.kind == 2 && (v.empty() || v.back().kind != GuestRecord::Kind::Gap)) v.push_back(GuestRecord::gap());
  }
  return v;
}

void write_guest_trace(const std::vector<Record>& records, GuestTraceWriter& w) {
  for (const Record& r : records) {
    if (r.kind == 1) w.block(r.value);
    else if (r.kind == 2) w.gap();
    else if (r.kind == 3) w.comment("context cr3=" + hex(r.value) + ((r.flags & 1) ? " (traced)" : ""));
  }
}

}  // namespace xtu::driver
