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
  EventTranslator t(limits);
  for (const ev::Event& e : events) {
    if (const auto* proc = std::get_if<ev::Process>(&e.body)) {
      p.cr3 = proc->cr3;
      p.vmcs = proc->vmcs;
      p.code_base = proc->code_base;
      p.code_size = proc->code_size;
      continue;
    }
    t.translate(
        e,
        [&](Descriptor&& d) {
          p.descriptors.push_back(std::move(d));
          return uint64_t(p.descriptors.size() - 1);
        },
        p.events);
  }
  p.invalid_descriptors = t.invalid_descriptors();
  return p;
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
  SessionConfig c;
  c.buffers = o.buffers;
  uint64_t need = 4096;
  for (const Descriptor& d : prog.descriptors) need += R::desc::kSize + 8 * d.nodes.size() + 8;
  c.buffers.desc_bytes = std::max<uint64_t>(c.buffers.desc_bytes, (need * 9 / 8 + 8191) & ~uint64_t(4095));
  c.cr3 = prog.cr3;
  c.vmcs = prog.vmcs;
  c.ctx_records = o.ctx_records;
  c.time = o.time;
  c.code_base = prog.code_base;
  c.code_size = prog.code_size;
  c.mtc_freq = prog.mtc_freq;
  c.nom_freq = prog.nom_freq;
  c.cpuid15_eax = prog.cpuid15_eax;
  c.cpuid15_ebx = prog.cpuid15_ebx;
  c.chunk = o.chunk;
  c.step_cycles = o.step_cycles;
  c.max_idle_steps = o.max_idle_steps;
  Session s(dev, c);
  for (const Descriptor& d : prog.descriptors)
    if (d.nodes.size() > s.info().max_nodes) throw std::runtime_error("a descriptor has more nodes than the unit's MAX_NODES");
  std::vector<uint64_t> addr(prog.descriptors.size());
  for (size_t k = 0; k < prog.descriptors.size(); ++k) addr[k] = s.driver().put_descriptor(prog.descriptors[k]);
  for (UnitEvent e : prog.events) {
    if (e.kind == uint8_t(R::EventType::Load)) e.b = addr.at(e.b);
    s.push(e);
  }
  s.trace(pt.data(), pt.size());
  RunResult r = s.finish();
  r.descriptors = prog.descriptors.size();
  r.invalid_descriptors = prog.invalid_descriptors;
  return r;
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
