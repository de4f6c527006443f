#include "xtu/capture/capture.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>

#include "xtu/capture/jitdump.hpp"
#include "xtu/capture/perfmap.hpp"
#include "xtu/capture/qemu_log.hpp"
#include "xtu/capture/qemu_runner.hpp"
#include "xtu/formats/error.hpp"
#include "xtu/formats/guest_trace.hpp"
#include "xtu/formats/hex.hpp"

namespace fs = std::filesystem;

namespace xtu::capture {
namespace {

// Everything the traced run's log says, bound together: translations (OUT + its IN + its TB
// identity from the Trace that follows), the prologue, and the exec lines in order.
class TracedLog : public qemu::QemuLogVisitor {
public:
  explicit TracedLog(std::string name) : name_(std::move(name)) {}
  std::optional<qemu::PrologueBlock> prologue;
  std::vector<Translation> translations;
  std::vector<ExecLine> exec;
  std::vector<Executed> executed;  // Trace lines (every execution in a nochain run)
  uint64_t chain_stops = 0, other_lines = 0;

  void on_prologue(const qemu::PrologueBlock& p) override { prologue = p; }
  void on_in(const qemu::InBlock& b) override { last_in_ = b; }
  void on_out(const qemu::OutBlock& o) override {
    if (unbound_) fail(o.line, "translation at line " + std::to_string(translations[*unbound_].log_line) +
                                   " was never executed before the next one");
    Translation t;
    t.host_addr = o.host_addr;
    t.code = o.code;
    t.marks = o.marks;
    t.code_end = o.slow_path_addr ? o.slow_path_addr : o.data_addr ? o.data_addr : o.host_addr + o.code.size();
    t.guest = last_in_.insns;  // a failed attempt before a flush leaves an IN without OUT: the last IN wins
    t.symbol = last_in_.symbol;
    t.log_line = o.line;
    if (t.guest.empty()) fail(o.line, "OUT block without a preceding IN block");
    translations.push_back(std::move(t));
    unbound_ = translations.size() - 1;
  }
  void on_trace(const qemu::TraceLine& l) override {
    exec.push_back({ExecLine::Kind::Trace, l.host, l.pc, 0, 0});
    executed.push_back({l.pc, l.cs_base, l.flags});
    if (unbound_) {
      Translation& t = translations[*unbound_];
      if (t.host_addr != l.host)
        fail(l.line, "expected the first execution of the TB translated at line " + std::to_string(t.log_line) + " (" +
                         hex(t.host_addr) + "), found " + hex(l.host));
      t.id = {l.pc, l.cs_base, l.flags};
      t.cflags = l.cflags;
      if (t.guest.front().pc != l.pc)
        fail(l.line, "TB " + hex(l.host) + " executes pc " + hex(l.pc) + " but its IN block starts at " + hex(t.guest.front().pc));
      unbound_.reset();
    }
  }
  void on_link(const qemu::LinkLine& l) override { exec.push_back({ExecLine::Kind::Link, l.src_host, 0, l.slot, l.dst_host}); }
  void on_chain_stop(const qemu::ChainStopLine&) override { ++chain_stops; }
  void on_other(uint64_t, const std::string&) override { ++other_lines; }

  void finish() {
    if (unbound_) translations.pop_back();  // translated but never run (the process ended)
  }

private:
  [[noreturn]] void fail(uint64_t line, const std::string& m) { throw FormatError::at_line(name_, line, m); }
  std::string name_;
  qemu::InBlock last_in_;
  std::optional<size_t> unbound_;
};

// Only the Trace lines (the ground-truth run).
class TraceOnly : public qemu::QemuLogVisitor {
public:
  std::vector<Executed> executed;
  void on_trace(const qemu::TraceLine& l) override { executed.push_back({l.pc, l.cs_base, l.flags}); }
};

void move_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec) return;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::remove(from);
}

struct ProcessResult {
  OpList ops;
  ReplayStats replay;
  std::vector<ev::Event> initial;  // set by compose through ops
  uint32_t pid = 0;
  uint64_t code_base = 0, code_size = 0;
  double qemu_seconds = 0;
  uint64_t translations = 0, jit_loads = 0, perfmap_entries = 0;
  int exit_code = 0;
  std::string jitdump, perfmap;  // bundle-relative paths
};

ProcessResult capture_process(const CaptureOptions& o, const std::vector<std::string>& argv, const std::string& dir,
                              bool primary, StdioPlan& stdio, const PtContext& ctx, const std::string& label) {
  ProcessResult pr;
  std::string qdir = dir + "/qemu";
  fs::create_directories(qdir);
  std::vector<std::string> common = o.qemu_options;
  if (o.tb_size_mib) { common.push_back("-tb-size"); common.push_back(std::to_string(o.tb_size_mib)); }
  common.push_back("-jitdump");
  common.push_back("-perfmap");
  auto say = [&](const std::string& m) { if (!o.quiet) std::fprintf(stderr, "xtu capture: %s%s\n", label.c_str(), m.c_str()); };

  std::string traced_log = qdir + (o.nochain ? "/nochain.log" : "/chained.log");
  std::string truth_log = qdir + "/nochain.log";

  auto run = [&](const std::string& log, const std::string& dflags, bool prim) {
    QemuInvocation inv;
    inv.qemu = o.qemu;
    inv.options = common;
    inv.options.push_back("-d");
    inv.options.push_back(dflags);
    inv.options.push_back("-D");
    inv.options.push_back(log);
    inv.argv = argv;
    inv.primary = prim;
    inv.disable_aslr = !o.aslr;
    QemuResult r = stdio.run(inv);
    pr.qemu_seconds += r.seconds;
    if (r.signal || r.exit_code == 127) {  // QEMU's own files of a failed run go too
      std::error_code ec;
      fs::remove("jit-" + std::to_string(r.pid) + ".dump", ec);
      fs::remove("/tmp/perf-" + std::to_string(r.pid) + ".map", ec);
    }
    if (r.signal) throw std::runtime_error(label + "qemu run was killed by signal " + std::to_string(r.signal));
    if (r.exit_code == 127) throw std::runtime_error("cannot execute " + o.qemu);
    return r;
  };

  // Primary (traced) run first: it records piped stdin for the other run.
  say(std::string("traced run (") + (o.nochain ? "nochain" : "chained") + ")");
  QemuResult traced = run(traced_log, o.nochain ? "in_asm,out_asm,exec,nochain" : "in_asm,out_asm,exec", primary);
  pr.pid = static_cast<uint32_t>(traced.pid);
  pr.exit_code = traced.exit_code;
  std::string jit_name = "jit-" + std::to_string(traced.pid) + ".dump";
  std::string map_name = "perf-" + std::to_string(traced.pid) + ".map";
  if (!fs::exists(jit_name)) throw std::runtime_error("QEMU wrote no " + jit_name + " in the working directory (not writable?)");
  move_file(jit_name, qdir + "/" + jit_name);
  move_file("/tmp/" + map_name, qdir + "/" + map_name);
  pr.jitdump = "qemu/" + jit_name;
  pr.perfmap = "qemu/" + map_name;

  std::vector<Executed> truth;
  if (!o.nochain) {
    say("ground-truth run (nochain)");
    QemuResult t = run(truth_log, "exec,nochain", false);
    fs::remove("jit-" + std::to_string(t.pid) + ".dump");
    fs::remove("/tmp/perf-" + std::to_string(t.pid) + ".map");
    if (t.exit_code != traced.exit_code)
      throw std::runtime_error(label + "the two QEMU runs exited differently (" + std::to_string(traced.exit_code) + " vs " +
                               std::to_string(t.exit_code) + "): the program is not deterministic");
    TraceOnly to;
    qemu::parse_qemu_log(truth_log, to);
    truth = std::move(to.executed);
  }

  TracedLog log(traced_log);
  qemu::parse_qemu_log(traced_log, log);
  log.finish();
  if (!log.prologue)
    throw std::runtime_error(label + "QEMU did not run the program (exit code " + std::to_string(traced.exit_code) +
                             "; no code was translated)");
  if (log.chain_stops)
    throw std::runtime_error(traced_log + ": " + std::to_string(log.chain_stops) +
                             " 'Stopped execution of TB chain' lines: exit requests are not modelled");
  if (o.nochain) truth = log.executed;
  if (truth.empty()) throw std::runtime_error(label + "the run executed no TB");

  // Cross-check QEMU's own map files against the log.
  qemu::JitDump jd = qemu::read_jitdump(qdir + "/" + jit_name);
  pr.jit_loads = jd.loads.size();
  if (jd.loads.size() < log.translations.size())
    throw std::runtime_error(pr.jitdump + ": " + std::to_string(jd.loads.size()) + " code loads for " +
                             std::to_string(log.translations.size()) + " translations in the log");
  for (size_t i = 0; i < log.translations.size(); ++i) {
    const Translation& t = log.translations[i];
    const qemu::JitCodeLoad& l = jd.loads[i];
    if (l.code_addr != t.host_addr || qemu::guest_pc_from_symbol(l.name) != t.id.pc || l.code.size() > t.code.size() ||
        !std::equal(l.code.begin(), l.code.end(), t.code.begin()))
      throw std::runtime_error(pr.jitdump + ": code load " + std::to_string(i) + " (" + l.name + " at " + hex(l.code_addr) +
                               ") differs from the translation at log line " + std::to_string(t.log_line));
  }
  std::vector<qemu::PerfMapEntry> pm = qemu::read_perfmap(qdir + "/" + map_name);
  pr.perfmap_entries = pm.size();

  hostcode::Prologue pro = hostcode::analyze_prologue(log.prologue->host_addr, log.prologue->code);
  std::optional<int32_t> pc_disp;
  for (const Translation& t : log.translations)
    if ((pc_disp = hostcode::find_pc_env_disp(t.host_addr, t.code))) break;
  if (!pc_disp) throw std::runtime_error(traced_log + ": cannot find where TBs store the guest pc");
  for (Translation& t : log.translations)
    t.code_model = std::make_shared<hostcode::TbCode>(t.host_addr, t.code, *pc_disp, pro);
  pr.translations = log.translations.size();

  // The IP filter: QEMU's code buffer, tb-size MiB (128 MiB by default in user mode) less a guard page.
  pr.code_base = pro.addr;
  pr.code_size = (uint64_t(o.tb_size_mib ? o.tb_size_mib : 128) << 20) - 4096;
  uint64_t lookup_helper = 0;
  for (const Translation& t : log.translations) {
    for (const hostcode::Exit& e : t.code_model->exits())
      if (e.kind == hostcode::Exit::Kind::GotoPtr) { lookup_helper = e.helper; break; }
    if (lookup_helper) break;
  }
  // Where the epilogue's ret returns in QEMU's C code is in no log: modelled as the start of the
  // 1 MiB of QEMU text holding helper_lookup_tb_ptr.
  uint64_t c_ret = lookup_helper ? (lookup_helper & ~uint64_t(0xfffff)) : pro.addr - 0x100000;

  pr.ops.context = ctx;
  OpRecorder rec(pr.ops, pro, c_ret, CostModel{});
  ev::Process proc;
  proc.cr3 = ctx.cr3;
  proc.vmcs = ctx.vmcs;
  proc.non_root = ctx.non_root;
  proc.code_base = pr.code_base;
  proc.code_size = pr.code_size;
  proc.pid = pr.pid;
  proc.name = fs::path(argv[0]).filename().string();
  rec.add_initial_event(proc);
  rec.add_initial_event(ev::Code{pro.addr, ev::CodeKind::Prologue, log.prologue->code});

  say("replaying " + std::to_string(truth.size()) + " TB executions over " + std::to_string(log.translations.size()) +
      " translations");
  Replay replay(pro, std::move(log.translations), !o.nochain);
  replay.run(truth, rec);
  pr.replay = replay.stats();
  if (replay.stats().translations != replay.translations().size())
    throw std::runtime_error(label + "the log has " + std::to_string(replay.translations().size()) +
                             " translations, the replay used " + std::to_string(replay.stats().translations));
  std::string diff = compare_exec_logs(replay.predicted_log(), log.exec);
  if (!diff.empty()) throw std::runtime_error(traced_log + ": replaying QEMU's chaining rule does not reproduce the log: " + diff);

  // Per-instruction host ranges must agree with QEMU's perf map (same translations, in order).
  size_t k = 0;
  while (k < pm.size() && pm[k].name.rfind("guest-", 0) != 0) ++k;
  for (const Op& op : pr.ops.ops) {
    if (op.kind != Op::Kind::Event) continue;
    const auto* tb = std::get_if<ev::TbLoad>(&pr.ops.events[op.small].body);
    if (!tb) continue;
    for (const ev::InsnMap& m : tb->insns) {
      if (k >= pm.size()) throw std::runtime_error(pr.perfmap + ": ends before TB " + hex(tb->host_addr));
      const qemu::PerfMapEntry& e = pm[k++];
      if (qemu::guest_pc_from_symbol(e.name) != m.guest_pc || e.start != tb->host_addr + m.host_offset ||
          e.size != m.host_size)
        throw std::runtime_error(pr.perfmap + ":line " + std::to_string(e.line) + ": '" + e.name + "' at " + hex(e.start) +
                                 " size " + hex(e.size) + " differs from the log's range for pc " + hex(m.guest_pc) +
                                 " in TB " + hex(tb->host_addr));
    }
  }
  if (!o.keep_logs) {
    fs::remove(traced_log);
    if (!o.nochain) fs::remove(truth_log);
  }
  return pr;
}

std::vector<LossWindow> plan_losses(uint64_t blocks, unsigned count, uint64_t len, uint64_t seed) {
  std::vector<LossWindow> w;
  if (!count || blocks < 4) return w;
  std::mt19937_64 rng(seed);
  // Windows start in distinct equal slices of the run (never at block 0), so they never overlap.
  uint64_t slice = blocks / count;
  for (unsigned i = 0; i < count && slice > 2; ++i) {
    uint64_t lo = i * slice + 1, span = slice - 1;
    uint64_t l = std::min<uint64_t>(len, span / 2 ? span / 2 : 1);
    uint64_t start = lo + rng() % (span - l + 1);
    w.push_back({start, l});
  }
  return w;
}

nlohmann::json pt_stats_json(const PtStats& s) {
  nlohmann::json packets = nlohmann::json::object(), bytes = nlohmann::json::object();
  for (size_t i = 0; i < static_cast<size_t>(Pkt::count); ++i) {
    if (!s.packets[i]) continue;
    packets[pkt_name(static_cast<Pkt>(i))] = s.packets[i];
    bytes[pkt_name(static_cast<Pkt>(i))] = s.bytes[i];
  }
  return {{"packets", packets}, {"bytes", bytes}, {"tnt_bits", s.tnt_bits}, {"dropped_packets", s.dropped_packets},
          {"overflows", s.overflows}};
}

nlohmann::json replay_json(const ReplayStats& r) {
  std::vector<std::pair<uint64_t, uint64_t>> top(r.unobservable_by_pc.begin(), r.unobservable_by_pc.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json unob = nlohmann::json::array();
  for (size_t i = 0; i < top.size() && i < 10; ++i) unob.push_back({{"pc", hex(top[i].first)}, {"branches", top[i].second}});
  return {{"unobservable_top_tbs", unob}, {"executions", r.executions}, {"translations", r.translations}, {"flushes", r.flushes}, {"links", r.links},
          {"linked", r.linked}, {"to_c", r.to_c}, {"lookup_hit", r.lookup_hit}, {"lookup_miss", r.lookup_miss},
          {"noreturn", r.noreturn}, {"unobservable_branches", r.unobservable_branches}, {"host_insns", r.host_insns}};
}

}  // namespace

CaptureReport run_capture(const CaptureOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  if (o.argv.empty()) throw std::invalid_argument("no guest program given");
  if (o.out_dir.empty()) throw std::invalid_argument("no output directory given");
  for (const std::vector<std::string>* a : {&o.argv, &o.other_argv})
    if (!a->empty() && !fs::is_regular_file(a->front())) throw std::runtime_error("no such guest program: " + a->front());
  fs::create_directories(o.out_dir);
  std::string dir = fs::absolute(o.out_dir).string();
  for (const char* f : {"trace.pt", "events.xtev", "guest.txt", "bundle.json"}) fs::remove(dir + "/" + f);
  fs::remove_all(dir + "/qemu");
  fs::remove_all(dir + "/other");

  CaptureReport rep;
  BundleInfo& info = rep.info;
  info.qemu_version = qemu_version(o.qemu);
  info.workload = fs::path(o.argv[0]).filename().string();
  info.argv = o.argv;
  info.cwd = fs::current_path().string();
  info.mode = o.nochain ? "nochain" : "chained";
  info.tb_size_mib = o.tb_size_mib;
  info.cr3 = o.cr3;
  info.non_root = o.vm;
  info.vmcs = o.vm ? o.vmcs : 0;

  StdioPlan stdio;
  PtContext main_ctx{o.cr3, info.vmcs, o.vm};
  ProcessResult main = capture_process(o, o.argv, dir, true, stdio, main_ctx, "");
  std::optional<ProcessResult> other;
  if (!o.other_argv.empty()) {
    PtContext octx{o.other_cr3, o.other_vmcs ? o.other_vmcs : info.vmcs, o.vm};
    other = capture_process(o, o.other_argv, dir + "/other", false, stdio, octx, "[other] ");
    info.others.push_back("other");
  }

  ComposeOptions co = o.compose;
  co.pt.filter_base = main.code_base;
  co.pt.filter_limit = main.code_base + main.code_size;
  co.losses = plan_losses(main.ops.blocks(), o.ovf_count, o.ovf_blocks, o.seed);
  if (other && !co.switch_every) co.switch_every = 5000;
  ComposeResult cr = compose(main.ops, other ? &other->ops : nullptr, co);
  info.pt = co.pt;

  auto write_bytes = [](const std::string& path, const std::vector<uint8_t>& b) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size() || std::fclose(f) != 0)
      throw std::runtime_error(path + ": write failed");
  };
  write_bytes(dir + "/" + info.trace_file, cr.pt);
  {
    ev::Writer w(dir + "/" + info.events_file);
    for (const ev::Event& e : cr.main_events) w.write(e);
    w.close();
  }
  if (other) {
    ev::Writer w(dir + "/other/events.xtev");
    for (const ev::Event& e : cr.other_events) w.write(e);
    w.close();
  }
  {
    std::string path = dir + "/" + info.guest_file;
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error(path + ": cannot write");
    GuestTraceWriter gw(f);
    gw.comment("ground truth: QEMU's Trace lines of a nochain run of " + info.workload);
    for (const GuestRecord& r : cr.truth) gw.record(r);
    if (std::fclose(f) != 0) throw std::runtime_error(path + ": write failed");
  }

  rep.replay = main.replay;
  rep.pt = cr.stats;
  rep.pt_bytes = cr.pt.size();
  rep.lost_blocks = cr.lost_blocks;
  rep.context_switches = cr.context_switches;
  for (const GuestRecord& r : cr.truth) rep.guest_blocks += r.kind == GuestRecord::Kind::Block;
  rep.seconds_qemu = main.qemu_seconds + (other ? other->qemu_seconds : 0);
  rep.seconds_total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json st = {
      {"guest_blocks", main.ops.blocks()}, {"truth_blocks", rep.guest_blocks}, {"lost_blocks", cr.lost_blocks},
      {"pt_bytes", cr.pt.size()},
      {"pt_bits_per_block", main.ops.blocks() ? 8.0 * double(cr.pt.size()) / double(main.ops.blocks()) : 0.0},
      {"pt", pt_stats_json(cr.stats)}, {"replay", replay_json(main.replay)}, {"pid", main.pid},
      {"exit_code", main.exit_code}, {"jitdump", main.jitdump}, {"perfmap", main.perfmap},
      {"jitdump_loads", main.jit_loads}, {"perfmap_entries", main.perfmap_entries},
      {"events", cr.main_events.size()}, {"context_switches", cr.context_switches}, {"cycles", cr.cycles},
      {"seconds_total", rep.seconds_total}, {"seconds_qemu", rep.seconds_qemu},
      {"stdio", {stdio.kind(0), stdio.kind(1), stdio.kind(2)}}};
  nlohmann::json losses = nlohmann::json::array();
  for (const LossWindow& l : co.losses) losses.push_back({{"first_block", l.first}, {"blocks", l.count}});
  st["ovf_windows"] = losses;
  if (other) st["other"] = {{"argv", o.other_argv}, {"cr3", o.other_cr3}, {"blocks", other->ops.blocks()},
                           {"replay", replay_json(other->replay)}, {"events", cr.other_events.size()}};
  info.stats_json = st.dump();
  write_bundle_info(dir, info);
  return rep;
}

}  // namespace xtu::capture
