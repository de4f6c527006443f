// The `xtu` Python module: the unit (cycle-accurate SystemC model, through the C++ driver), the
// golden model and the capture tool, with NumPy arrays for what they produce. See
// python/README.md.
//
// One device per process: SystemC elaborates once per process, so there is at most one
// SystemCBackend; xtu.open() creates it on first use and then returns that same device, and
// every Device.run() resets the unit before its job. The backend lives until the interpreter
// exits (an atexit hook destroys it, which also closes a VCD file).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "xtu/capture/capture.hpp"
#include "xtu/driver/bundle_run.hpp"
#include "xtu/driver/driver.hpp"
#include "xtu/driver/session.hpp"
#include "xtu/driver/systemc_backend.hpp"
#include "xtu/formats/error.hpp"
#include "xtu/formats/event_stream.hpp"
#include "xtu/formats/guest_trace.hpp"
#include "xtu/golden/golden.hpp"
#include "xtu/regs.hpp"

#ifndef XTU_VERSION
#define XTU_VERSION "unknown"
#endif

namespace py = pybind11;
namespace fs = std::filesystem;
namespace R = xtu::regs;

namespace {

// ---- Helpers -------------------------------------------------------------------------------

// Raise a Python OSError subclass (FileNotFoundError, ...) with errno, message and filename.
[[noreturn]] void raise_os_error(PyObject* type, int err, const std::string& message, const fs::path& path) {
  py::object exc = py::reinterpret_borrow<py::object>(type)(err, message, path.string());
  PyErr_SetObject(type, exc.ptr());
  throw py::error_already_set();
}

// A trace bundle directory must exist and hold bundle.json.
void check_bundle_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) raise_os_error(PyExc_FileNotFoundError, ENOENT, "trace bundle not found", dir);
  if (!fs::is_directory(dir, ec))
    raise_os_error(PyExc_NotADirectoryError, ENOTDIR, "not a trace bundle directory", dir);
  if (!fs::exists(dir / "bundle.json", ec))
    raise_os_error(PyExc_FileNotFoundError, ENOENT, "not a trace bundle (no bundle.json)", dir);
}

// A read-only 1-D NumPy array that owns a copy of `v`.
template <typename T>
py::array_t<T> readonly_array(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

// The output record dtype: the unit's 16-byte ring record, field for field (docs/layouts.md,
// "record"), so records.tobytes() is what the unit wrote to the output ring. Kept alive for the
// process (never destroyed: a static py::object would outlive the interpreter).
const py::dtype& record_dtype() {
  static py::dtype* dt = [] {
    py::dict spec;
    spec["names"] = py::make_tuple("kind", "value", "flags", "icount", "tsc");
    spec["formats"] = py::make_tuple("u1", "<u8", "u1", "<u2", "<u4");
    spec["offsets"] = py::make_tuple(8, 0, 9, 10, 12);
    spec["itemsize"] = 16;
    return new py::dtype(py::dtype::from_args(spec));
  }();
  return *dt;
}

py::array records_array(const std::vector<xtu::driver::Record>& recs) {
  py::array a(record_dtype(), std::vector<py::ssize_t>{static_cast<py::ssize_t>(recs.size())});
  auto* p = static_cast<uint8_t*>(a.mutable_data());
  for (const xtu::driver::Record& r : recs) {
    R::detail::store_le<uint64_t>(p + 0, r.value);
    p[8] = r.kind;
    p[9] = r.flags;
    R::detail::store_le<uint16_t>(p + 10, r.icount);
    R::detail::store_le<uint32_t>(p + 12, r.tsc);
    p += 16;
  }
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

// ---- GuestTrace ----------------------------------------------------------------------------

// A guest trace as arrays: `pcs` (every block, or instruction, in order) and `gaps` (positions in
// `pcs`: a gap at position k means trace data was lost between pcs[k-1] and pcs[k]; a gap
// before the first block is 0, after the last len(pcs)). Consecutive gaps are one gap, so
// `gaps` is strictly increasing.
struct GuestTrace {
  py::array_t<uint64_t> pcs;
  py::array_t<int64_t> gaps;
  py::dict stats;

  static GuestTrace from_records(const std::vector<xtu::GuestRecord>& recs) {
    std::vector<uint64_t> pcs;
    std::vector<int64_t> gaps;
    pcs.reserve(recs.size());
    for (const xtu::GuestRecord& r : recs) {
      if (r.kind == xtu::GuestRecord::Kind::Block) pcs.push_back(r.pc);
      else if (gaps.empty() || gaps.back() != int64_t(pcs.size())) gaps.push_back(int64_t(pcs.size()));
    }
    return GuestTrace{readonly_array(pcs), readonly_array(gaps), py::dict()};
  }

  std::vector<xtu::GuestRecord> records() const {
    std::vector<xtu::GuestRecord> v;
    auto p = pcs.unchecked<1>();
    auto g = gaps.unchecked<1>();
    v.reserve(size_t(p.shape(0) + g.shape(0)));
    py::ssize_t gi = 0;
    for (py::ssize_t i = 0; i <= p.shape(0); ++i) {
      while (gi < g.shape(0) && g(gi) == i) {
        v.push_back(xtu::GuestRecord::gap());
        ++gi;
      }
      if (i < p.shape(0)) v.push_back(xtu::GuestRecord::block(p(i)));
    }
    return v;
  }

  size_t size() const { return size_t(pcs.shape(0)); }
};

GuestTrace make_guest_trace(py::object pcs_in, py::object gaps_in) {
  auto pcs = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>::ensure(pcs_in);
  if (!pcs || pcs.ndim() != 1) throw py::value_error("pcs must be a 1-D sequence of unsigned 64-bit pcs");
  std::vector<uint64_t> p(pcs.data(), pcs.data() + pcs.shape(0));
  std::vector<int64_t> g;
  if (!gaps_in.is_none()) {
    auto gaps = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(gaps_in);
    if (!gaps || gaps.ndim() != 1) throw py::value_error("gaps must be a 1-D sequence of positions");
    g.assign(gaps.data(), gaps.data() + gaps.shape(0));
  }
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] < 0 || g[i] > int64_t(p.size()))
      throw py::value_error("gap position " + std::to_string(g[i]) + " is outside [0, " + std::to_string(p.size()) + "]");
    if (i && g[i] <= g[i - 1]) throw py::value_error("gap positions must be strictly increasing (one gap per position)");
  }
  return GuestTrace{readonly_array(p), readonly_array(g), py::dict()};
}

// ---- Run -----------------------------------------------------------------------------------

struct Run {
  std::string bundle;
  py::array records;
  GuestTrace guest;
  py::dict stats;
  py::list violations;
  uint64_t cycles = 0;
  bool done = false;
  uint32_t status = 0;
};

// GuestTrace, Run, a path of a guest trace file, or a 1-D array of pcs: as guest records.
std::vector<xtu::GuestRecord> as_records(py::handle obj, const char* what) {
  if (py::isinstance<GuestTrace>(obj)) return obj.cast<const GuestTrace&>().records();
  if (py::isinstance<Run>(obj)) return obj.cast<const Run&>().guest.records();
  if (py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__"))
    return xtu::read_guest_trace(obj.cast<fs::path>().string());
  try {
    return make_guest_trace(py::reinterpret_borrow<py::object>(obj), py::none()).records();
  } catch (const py::error_already_set&) {
  } catch (const py::value_error&) {
  }
  throw py::type_error(std::string(what) + " must be a GuestTrace, a Run, a guest trace file path or a 1-D array of pcs");
}

// ---- The device ----------------------------------------------------------------------------

struct OpenOptions {
  std::string backend = "systemc";
  unsigned cam_entries = 64;
  unsigned mem_latency = 20;
  unsigned mem_write_latency = 10;
  unsigned mem_beat_interval = 1;
  std::string vcd;
  bool operator==(const OpenOptions& o) const {
    return backend == o.backend && cam_entries == o.cam_entries && mem_latency == o.mem_latency &&
           mem_write_latency == o.mem_write_latency && mem_beat_interval == o.mem_beat_interval && vcd == o.vcd;
  }
  // "cam_entries=64 (asked: 32), ..." for the options that differ from `o`.
  std::string differences(const OpenOptions& o) const {
    py::dict a = as_dict(), b = o.as_dict();
    std::string s;
    for (auto item : a) {
      if (item.second.equal(b[item.first])) continue;
      if (!s.empty()) s += ", ";
      s += item.first.cast<std::string>() + "=" + py::repr(item.second).cast<std::string>() +
           " (asked: " + py::repr(b[item.first]).cast<std::string>() + ")";
    }
    return s;
  }
  std::string describe() const {
    std::ostringstream s;
    s << "backend='" << backend << "', cam_entries=" << cam_entries << ", mem_latency=" << mem_latency
      << ", mem_write_latency=" << mem_write_latency << ", mem_beat_interval=" << mem_beat_interval
      << ", vcd=" << (vcd.empty() ? std::string("None") : "'" + vcd + "'");
    return s.str();
  }
  py::dict as_dict() const {
    py::dict d;
    d["backend"] = backend;
    d["cam_entries"] = cam_entries;
    d["mem_latency"] = mem_latency;
    d["mem_write_latency"] = mem_write_latency;
    d["mem_beat_interval"] = mem_beat_interval;
    d["vcd"] = vcd.empty() ? py::object(py::none()) : py::object(py::str(vcd));
    return d;
  }
};

// The process's device. Never deleted (Python objects may refer to it until the very end); its
// backend is destroyed by close() at interpreter exit.
struct Device {
  OpenOptions options;
  std::unique_ptr<xtu::driver::SystemCBackend> backend;
  std::mutex mu;  // one job or register access at a time (SystemC is not thread-safe)
  uint64_t jobs = 0;
  bool closed = false;
  bool session_open = false;  // a live Session owns the unit until it finishes or is closed

  xtu::driver::SystemCBackend& dev() {
    if (closed || !backend) throw std::runtime_error("the xtu device is closed (the interpreter is exiting)");
    return *backend;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    backend.reset();
  }
};

Device* g_device = nullptr;
bool g_open_failed = false;
std::string g_open_error;

Device* open_device(const std::string& backend, unsigned cam_entries, unsigned mem_latency, unsigned mem_write_latency,
                    unsigned mem_beat_interval, std::optional<fs::path> vcd) {
  if (backend != "systemc") throw py::value_error("unknown backend '" + backend + "' (available: 'systemc')");
  if (cam_entries < 2 || cam_entries > 32768 || (cam_entries & (cam_entries - 1)))
    throw py::value_error("cam_entries must be a power of two in [2, 32768], not " + std::to_string(cam_entries));
  if (mem_latency < 1 || mem_write_latency < 1 || mem_beat_interval < 1)
    throw py::value_error("mem_latency, mem_write_latency and mem_beat_interval must be >= 1");
  OpenOptions o;
  o.backend = backend;
  o.cam_entries = cam_entries;
  o.mem_latency = mem_latency;
  o.mem_write_latency = mem_write_latency;
  o.mem_beat_interval = mem_beat_interval;
  if (vcd && !vcd->empty()) {
    fs::path parent = fs::absolute(*vcd).parent_path();
    if (!fs::is_directory(parent)) raise_os_error(PyExc_FileNotFoundError, ENOENT, "VCD directory not found", parent);
    o.vcd = vcd->string();
  }
  if (g_device) {
    if (g_device->closed) throw std::runtime_error("the xtu device is closed (the interpreter is exiting)");
    if (!(g_device->options == o))
      throw std::runtime_error(
          "xtu.open: this process's device is already open with other options: " + g_device->options.differences(o) +
          "; SystemC elaborates once per process, so there is one device per process (open it with the same "
          "options, or use another process for another configuration)");
    std::lock_guard<std::mutex> lock(g_device->mu);
    g_device->dev().reset();
    return g_device;
  }
  if (g_open_failed)
    throw std::runtime_error("xtu.open: the device could not be created earlier in this process (" + g_open_error +
                             "); SystemC elaborates once per process");
  xtu::driver::SystemCOptions so;
  so.cam_entries = cam_entries;
  so.mem_read_latency = mem_latency;
  so.mem_write_latency = mem_write_latency;
  so.mem_beat_interval = mem_beat_interval;
  so.vcd = o.vcd;
  auto d = std::make_unique<Device>();
  d->options = o;
  try {
    d->backend = std::make_unique<xtu::driver::SystemCBackend>(so);
  } catch (const std::exception& e) {
    g_open_failed = true;
    g_open_error = e.what();
    throw;
  }
  g_device = d.release();
  return g_device;
}

double ratio(uint64_t a, uint64_t b) { return b ? double(a) / double(b) : 0.0; }

// A Run from the driver's result (`label`: the bundle, or "<session>").
Run make_run(const std::string& label, const xtu::driver::RunResult& r) {
  Run run;
  run.bundle = label;
  run.records = records_array(r.records);
  run.guest = GuestTrace::from_records(xtu::driver::guest_records(r.records));
  run.cycles = r.cycles;
  run.done = r.done;
  run.status = r.status;
  for (const std::string& v : r.violations) run.violations.append(v);
  py::dict& s = run.stats;
  for (const auto& [name, value] : r.counters) s[py::str(name)] = value;
  s["cycles"] = r.cycles;
  s["pt_bytes"] = r.pt_bytes;
  s["seconds"] = r.seconds;
  s["done"] = r.done;
  s["status"] = r.status;
  s["descriptors"] = r.descriptors;
  s["events_published"] = r.events;
  s["invalid_descriptors"] = r.invalid_descriptors;
  s["records"] = uint64_t(r.records.size());
  s["blocks_per_cycle"] = ratio(r.counter("BLOCKS"), r.cycles);
  s["bytes_per_cycle"] = ratio(r.pt_bytes, r.cycles);
  s["cam_hit_rate"] = ratio(r.counter("CAM_HITS"), r.counter("CAM_LOOKUPS"));
  s["cycles_per_second"] = r.seconds > 0 ? double(r.cycles) / r.seconds : 0.0;
  return run;
}

Run run_on_device(Device& d, const fs::path& dir, uint64_t out_ring, uint64_t trace_ring, uint32_t event_entries,
                  uint32_t hash_entries, size_t chunk, uint64_t step_cycles, bool contexts, uint64_t max_idle_steps) {
  check_bundle_dir(dir);
  if (chunk == 0 || step_cycles == 0) throw py::value_error("chunk and step_cycles must be positive");
  xtu::driver::RunOptions ro;
  ro.buffers.out_bytes = out_ring;
  ro.buffers.trace_bytes = trace_ring;
  ro.buffers.event_entries = event_entries;
  ro.buffers.ht_entries = hash_entries;
  ro.chunk = chunk;
  ro.step_cycles = step_cycles;
  ro.ctx_records = contexts;
  ro.max_idle_steps = max_idle_steps;
  xtu::driver::RunResult r;
  {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.session_open) throw std::runtime_error("a live Session is open on the device: finish() or close() it first");
    xtu::driver::SystemCBackend& dev = d.dev();
    dev.reset();  // every job starts from reset (counters, caches, state; violations cleared)
    ++d.jobs;
    r = xtu::driver::run_bundle(dev, dir.string(), ro);
  }
  return make_run(dir.string(), r);
}

// ---- Live session --------------------------------------------------------------------------

// The driver's live API (driver/include/xtu/driver/session.hpp) on the process's device: the DBT's
// calls at trace offsets and the PT bytes as they arrive. It owns the unit until finish()/close().
struct Session {
  Device* dev = nullptr;
  std::unique_ptr<xtu::driver::Session> s;
  bool finished = false;

  xtu::driver::Session& live() {
    if (!s) throw std::runtime_error(finished ? "the session is finished" : "the session is closed");
    return *s;
  }
  template <class F>
  auto locked(F&& f) {
    std::lock_guard<std::mutex> lock(dev->mu);
    return f(live());
  }
  void close() {
    if (!dev) return;
    std::lock_guard<std::mutex> lock(dev->mu);
    s.reset();
    dev->session_open = false;
  }
  ~Session() {
    if (s) close();
  }
};

std::unique_ptr<Session> open_session(Device& d, uint64_t cr3, uint64_t vmcs, uint64_t code_base, uint64_t code_size,
                                      bool ctx_filter, bool contexts, bool time, uint64_t trace_ring,
                                      uint32_t event_entries, uint64_t descriptor_pool, uint32_t hash_entries,
                                      uint64_t out_ring, size_t chunk, uint64_t step_cycles) {
  if (chunk == 0 || step_cycles == 0) throw py::value_error("chunk and step_cycles must be positive");
  xtu::driver::SessionConfig c;
  c.buffers.trace_bytes = trace_ring;
  c.buffers.event_entries = event_entries;
  c.buffers.desc_bytes = descriptor_pool;
  c.buffers.ht_entries = hash_entries;
  c.buffers.out_bytes = out_ring;
  c.cr3 = cr3;
  c.vmcs = vmcs;
  c.code_base = code_base;
  c.code_size = code_size;
  c.ctx_filter = ctx_filter;
  c.ctx_records = contexts;
  c.time = time;
  c.chunk = chunk;
  c.step_cycles = step_cycles;
  auto ps = std::make_unique<Session>();
  std::lock_guard<std::mutex> lock(d.mu);
  if (d.session_open) throw std::runtime_error("a live Session is already open on the device");
  xtu::driver::SystemCBackend& dev = d.dev();
  dev.reset();
  ++d.jobs;
  ps->s = std::make_unique<xtu::driver::Session>(dev, c);
  ps->dev = &d;
  d.session_open = true;
  return ps;
}

std::vector<uint8_t> as_bytes(const py::bytes& b) {
  std::string_view v = b;
  return std::vector<uint8_t>(v.begin(), v.end());
}

// An event stream record as a dict: type, offset, time and the record's fields (code as bytes).
py::dict event_dict(const xtu::ev::Event& e) {
  namespace ev = xtu::ev;
  py::dict d;
  d["type"] = ev::type_name(ev::type_of(e.body));
  d["offset"] = e.trace_offset;
  d["time"] = e.time;
  std::visit([&](const auto& b) {
    using T = std::decay_t<decltype(b)>;
    if constexpr (std::is_same_v<T, ev::Process>) {
      d["cr3"] = b.cr3;
      d["vmcs"] = b.vmcs;
      d["code_base"] = b.code_base;
      d["code_size"] = b.code_size;
      d["pid"] = b.pid;
      d["non_root"] = b.non_root;
      d["name"] = b.name;
    } else if constexpr (std::is_same_v<T, ev::Code>) {
      d["host_addr"] = b.host_addr;
      d["code"] = py::bytes(reinterpret_cast<const char*>(b.bytes.data()), b.bytes.size());
    } else if constexpr (std::is_same_v<T, ev::TbLoad>) {
      d["host_addr"] = b.host_addr;
      d["guest_pc"] = b.guest_pc;
      d["guest_insns"] = b.insns.size();
      std::vector<uint64_t> pcs;
      for (const ev::InsnMap& m : b.insns) pcs.push_back(m.guest_pc);
      d["insn_pcs"] = pcs;
      d["code"] = py::bytes(reinterpret_cast<const char*>(b.code.data()), b.code.size());
    } else if constexpr (std::is_same_v<T, ev::Link> || std::is_same_v<T, ev::Unlink>) {
      d["src_tb"] = b.src_tb;
      d["slot"] = b.slot;
      d["target"] = b.target;
      d["jmp_addr"] = b.jmp_addr;
    } else if constexpr (std::is_same_v<T, ev::Invalidate>) {
      d["host_addr"] = b.host_addr;
    }
  }, e.body);
  return d;
}

py::dict device_info(Device& d) {
  xtu::driver::DeviceInfo i;
  {
    std::lock_guard<std::mutex> lock(d.mu);
    xtu::driver::Driver drv(d.dev());
    i = drv.identify();
  }
  py::dict r;
  r["backend"] = d.options.backend;
  r["id"] = i.id;
  r["id_text"] = std::string{char(i.id >> 24), char(i.id >> 16), char(i.id >> 8), char(i.id)};
  r["version"] = i.version;
  r["version_text"] = std::to_string(R::version::kMajor.get(i.version)) + "." +
                      std::to_string(R::version::kMinor.get(i.version)) + "." +
                      std::to_string(R::version::kPatch.get(i.version));
  r["params0"] = i.params0;
  r["params1"] = i.params1;
  r["params2"] = i.params2;
  r["cam_entries"] = R::params0::kCamEntries.get(i.params0);
  r["max_nodes"] = R::params0::kMaxNodes.get(i.params0);
  r["axi_bytes"] = R::params0::kAxiBytes.get(i.params0);
  r["ht_max_probe"] = R::params2::kHtMaxProbe.get(i.params2);
  r["walk_width"] = R::params2::kWalkWidth.get(i.params2);
  r["dec_width"] = R::params2::kDecWidth.get(i.params2);
  r["trace_fifo_beats"] = R::params1::kTraceFifoBeats.get(i.params1);
  r["trace_burst"] = R::params1::kTraceBurst.get(i.params1);
  r["event_fifo"] = R::params1::kEventFifo.get(i.params1);
  r["out_fifo"] = R::params1::kOutFifo.get(i.params1);
  r["options"] = d.options.as_dict();
  return r;
}

// ---- Golden model and capture ----------------------------------------------------------------

GuestTrace run_golden(const fs::path& dir, bool insn, uint64_t stall_limit) {
  check_bundle_dir(dir);
  xtu::golden::Options go;
  go.insn = insn;
  go.stall_limit = stall_limit;
  xtu::golden::Stats st;
  std::vector<xtu::GuestRecord> recs;
  {
    py::gil_scoped_release nogil;
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* f = open_memstream(&buf, &len);
    if (!f) throw std::runtime_error(std::string("open_memstream: ") + std::strerror(errno));
    std::unique_ptr<char, decltype(&std::free)> own(nullptr, &std::free);
    try {
      xtu::GuestTraceWriter w(f);
      st = xtu::golden::run(dir.string(), w, go);
      w.flush();
    } catch (...) {
      std::fclose(f);
      std::free(buf);
      throw;
    }
    std::fclose(f);
    own.reset(buf);
    recs = xtu::parse_guest_trace(std::string(buf, len), "golden(" + dir.string() + ")");
  }
  GuestTrace g = GuestTrace::from_records(recs);
  g.stats["pt_bytes"] = st.pt_bytes;
  g.stats["host_insns"] = st.host_insns;
  g.stats["records"] = st.records;
  g.stats["gaps"] = st.gaps;
  g.stats["overflows"] = st.overflows;
  g.stats["decode_errors"] = st.decode_errors;
  g.stats["events_applied"] = st.events_applied;
  g.stats["other_context_insns"] = st.other_context_insns;
  g.stats["seconds"] = st.seconds;
  return g;
}

std::vector<std::string> as_argv(py::handle seq, const char* what) {
  if (py::isinstance<py::str>(seq) || py::isinstance<py::bytes>(seq))
    throw py::type_error(std::string(what) + " must be a list of arguments, not a string");
  std::vector<std::string> v;
  for (py::handle a : seq) v.push_back(py::isinstance<py::str>(a) ? a.cast<std::string>() : a.cast<fs::path>().string());
  return v;
}

py::dict run_capture(const fs::path& out_dir, py::object argv, bool nochain, unsigned tb_size, bool quiet,
                     const std::string& qemu, py::object qemu_options, bool keep_logs, bool aslr, unsigned ovf,
                     uint64_t ovf_blocks, uint64_t seed, uint64_t psb_period, bool tsc, std::optional<unsigned> mtc,
                     std::optional<unsigned> cyc, bool tnt64, unsigned pad_every, py::object other,
                     uint64_t switch_every, bool vm, bool other_vm) {
  xtu::capture::CaptureOptions c;
  c.out_dir = out_dir.string();
  c.argv = as_argv(argv, "argv");
  if (c.argv.empty()) throw py::value_error("argv must name the guest program");
  c.nochain = nochain;
  c.tb_size_mib = tb_size;
  c.quiet = quiet;
  c.qemu = qemu;
  if (!qemu_options.is_none()) c.qemu_options = as_argv(qemu_options, "qemu_options");
  c.keep_logs = keep_logs;
  c.aslr = aslr;
  c.ovf_count = ovf;
  c.ovf_blocks = ovf_blocks;
  c.seed = seed;
  if (psb_period < 64) throw py::value_error("psb_period must be at least 64 bytes");
  c.compose.pt.psb_period = psb_period;
  c.compose.pt.tsc = tsc;
  if (mtc) {
    c.compose.pt.mtc = true;
    c.compose.pt.mtc_freq = *mtc;
  }
  if (cyc) {
    c.compose.pt.cyc = true;
    c.compose.pt.cyc_thresh = *cyc;
  }
  c.compose.pt.tnt64 = tnt64;
  c.compose.pad_every = pad_every;
  if (!other.is_none()) c.other_argv = as_argv(other, "other");
  c.compose.switch_every = switch_every;
  c.vm = vm;
  if (other_vm) {
    if (!vm) throw py::value_error("other_vm needs vm=True");
    c.other_vmcs = 0x23456000;
  }
  xtu::capture::CaptureReport r;
  {
    py::gil_scoped_release nogil;
    r = xtu::capture::run_capture(c);
  }
  py::dict d;
  d["out_dir"] = c.out_dir;
  d["workload"] = r.info.workload;
  d["argv"] = r.info.argv;
  d["mode"] = r.info.mode;
  d["qemu_version"] = r.info.qemu_version;
  d["blocks"] = r.replay.executions;
  d["guest_blocks"] = r.guest_blocks;
  d["pt_bytes"] = r.pt_bytes;
  d["bits_per_block"] = r.replay.executions ? 8.0 * double(r.pt_bytes) / double(r.replay.executions) : 0.0;
  d["translations"] = r.replay.translations;
  d["links"] = r.replay.links;
  d["flushes"] = r.replay.flushes;
  d["linked"] = r.replay.linked;
  d["to_c"] = r.replay.to_c;
  d["lookup_hit"] = r.replay.lookup_hit;
  d["lookup_miss"] = r.replay.lookup_miss;
  d["host_insns"] = r.replay.host_insns;
  d["unobservable_branches"] = r.replay.unobservable_branches;
  d["lost_blocks"] = r.lost_blocks;
  d["overflows"] = r.pt.overflows;
  d["context_switches"] = r.context_switches;
  d["seconds"] = r.seconds_total;
  d["seconds_qemu"] = r.seconds_qemu;
  py::object stats = py::module_::import("json").attr("loads")(r.info.stats_json);
  d["exit_code"] = stats.attr("get")("exit_code");
  d["stats"] = stats;
  return d;
}

}  // namespace

// ---- The module ------------------------------------------------------------------------------

PYBIND11_MODULE(xtu, m) {
  m.doc() = R"doc(xtu: the trace-processing unit (Intel PT -> guest trace of QEMU-translated code).

Run the cycle-accurate SystemC model of the unit on a trace bundle (``xtu.open().run(dir)``),
decode the same bundle with the libipt golden model (``xtu.golden(dir)``), compare them, and
capture new bundles from real QEMU runs (``xtu.capture(out_dir, argv)``).

One device per process: SystemC elaborates once per process, so ``xtu.open()`` creates the
device on its first call and returns that same device afterwards (with the same options;
other options raise RuntimeError). Every ``Device.run()`` resets the unit first, so jobs are
independent. Use another process for another configuration.

Guest traces are arrays: ``pcs`` (uint64, one per executed guest block, or instruction with
``insn=True``) and ``gaps`` (int64 positions in ``pcs`` where trace data was lost: a gap at
position k lies between pcs[k-1] and pcs[k]; consecutive gaps are one gap).
)doc";
  m.attr("__version__") = XTU_VERSION;

  m.attr("BLOCK") = 1;
  m.attr("GAP") = 2;
  m.attr("CONTEXT") = 3;
  m.attr("TIME") = 4;
  m.attr("END") = 5;
  m.attr("GAP_OVF") = 1;
  m.attr("GAP_DECODE") = 2;
  m.attr("GAP_NOSYNC") = 3;
  m.attr("RECORD_DTYPE") = record_dtype();
  {
    py::list names;
    for (const R::Counter& c : R::kCounters) names.append(std::string(c.name));
    m.attr("COUNTERS") = py::tuple(names);
  }

  // FormatError: malformed bundle / trace files; a ValueError with .file and .offset.
  static py::exception<xtu::FormatError> format_error(m, "FormatError", PyExc_ValueError);
  format_error.doc() = "A malformed, truncated or inconsistent input file (message: FILE:OFFSET: what). "
                       "Attributes: file, offset (byte offset, or line number for text formats).";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const xtu::FormatError& e) {
      py::object exc = py::reinterpret_borrow<py::object>(format_error.ptr())(e.what());
      exc.attr("file") = e.file();
      exc.attr("offset") = e.offset();
      PyErr_SetObject(format_error.ptr(), exc.ptr());
    }
  });

  // ---- GuestTrace ----
  py::class_<GuestTrace>(m, "GuestTrace", R"doc(A guest trace: executed guest pcs with the positions of gaps.

``pcs``: uint64 array, one per executed guest block (or guest instruction for
``golden(..., insn=True)``). ``gaps``: int64 array of strictly increasing positions in ``pcs``
where trace data was lost (a gap at k lies before pcs[k]; ``len(pcs)`` is a gap at the end).
``np.asarray(trace)`` is ``pcs``; ``==`` compares pcs and gaps. ``stats`` holds the producer's
statistics (golden model: pt_bytes, host_insns, records, gaps, ...; empty otherwise).
Both arrays are read-only.)doc")
      .def(py::init(&make_guest_trace), py::arg("pcs"), py::arg("gaps") = py::none(),
           "Build a guest trace from pcs and optional gap positions (strictly increasing, in [0, len(pcs)]).")
      .def_readonly("pcs", &GuestTrace::pcs, "uint64 array of guest pcs (read-only).")
      .def_readonly("gaps", &GuestTrace::gaps, "int64 array of gap positions in pcs (read-only).")
      .def_readonly("stats", &GuestTrace::stats, "Statistics of the producer (dict; empty if none).")
      .def("__len__", &GuestTrace::size, "Number of pcs (gaps not counted).")
      .def("__array__", [](const GuestTrace& g, py::object dtype) -> py::object {
             if (dtype.is_none()) return g.pcs;
             return g.pcs.attr("astype")(dtype);
           }, py::arg("dtype") = py::none(), "The pcs array (for np.asarray).")
      .def("__eq__", [](const GuestTrace& a, py::object b) -> py::object {
             if (py::isinstance<GuestTrace>(b)) return py::bool_(a.records() == b.cast<const GuestTrace&>().records());
             if (py::isinstance<Run>(b)) return py::bool_(a.records() == b.cast<const Run&>().guest.records());
             return py::reinterpret_borrow<py::object>(Py_NotImplemented);
           }, py::arg("other"), "Equal pcs and equal gap positions (against a GuestTrace or a Run's trace).")
      .def("__ne__", [](const GuestTrace& a, py::object b) -> py::object {
             if (py::isinstance<GuestTrace>(b)) return py::bool_(a.records() != b.cast<const GuestTrace&>().records());
             if (py::isinstance<Run>(b)) return py::bool_(a.records() != b.cast<const Run&>().guest.records());
             return py::reinterpret_borrow<py::object>(Py_NotImplemented);
           }, py::arg("other"))
      .def_property_readonly("blocks", &GuestTrace::size, "Number of pcs (same as len()).")
      .def("to_text", [](const GuestTrace& g) {
             std::string s = std::string(xtu::kGuestTraceHeader) + "\n";
             for (const xtu::GuestRecord& r : g.records()) s += xtu::to_text(r) + "\n";
             return s;
           }, "The trace as guest trace text v1 (docs/formats.md).")
      .def("write", [](const GuestTrace& g, const fs::path& path) {
             std::vector<xtu::GuestRecord> recs = g.records();
             std::FILE* f = std::fopen(path.c_str(), "w");
             if (!f) {
               int err = errno;
               raise_os_error(PyExc_OSError, err, std::strerror(err), path);
             }
             xtu::GuestTraceWriter w(f);
             for (const xtu::GuestRecord& r : recs) w.record(r);
             w.flush();
             if (std::fclose(f) != 0) raise_os_error(PyExc_OSError, errno, "write failed", path);
           }, py::arg("path"), "Write the trace as guest trace text v1 (what `xtu compare` reads).")
      .def("__repr__", [](const GuestTrace& g) {
             return "<xtu.GuestTrace " + std::to_string(g.size()) + " pcs, " + std::to_string(g.gaps.shape(0)) + " gaps>";
           })
      .attr("__hash__") = py::none();

  // ---- Run ----
  py::class_<Run>(m, "Run", R"doc(The result of one job of the unit on a trace bundle (Device.run).

``records``: NumPy structured array of the unit's output records, dtype ``xtu.RECORD_DTYPE``
(fields kind u1, value u8, flags u1, icount u2, tsc u4 at the output ring's byte layout, 16
bytes each). Kinds: BLOCK 1 (value = guest pc, icount = guest instructions), GAP 2 (value =
trace offset, flags = reason GAP_OVF/GAP_DECODE/GAP_NOSYNC), CONTEXT 3, TIME 4, END 5.
``trace``: uint64 array of the guest pcs of the BLOCK records; ``gaps``: int64 positions in
``trace`` of the GAP records (consecutive GAPs merged): the same convention as GuestTrace;
``guest`` is both as a GuestTrace (``run.guest == xtu.golden(dir)``). ``stats``: every counter
by its register-map name plus cycles, pt_bytes, seconds, done, status and derived rates.)doc")
      .def_readonly("bundle", &Run::bundle, "The bundle directory.")
      .def_readonly("records", &Run::records, "Output records (structured array, dtype xtu.RECORD_DTYPE, read-only).")
      .def_property_readonly("trace", [](const Run& r) { return r.guest.pcs; },
                             "uint64 array of guest pcs, one per BLOCK record (read-only).")
      .def_property_readonly("gaps", [](const Run& r) { return r.guest.gaps; },
                             "int64 array of gap positions in trace (read-only).")
      .def_readonly("guest", &Run::guest, "trace and gaps as a GuestTrace.")
      .def_readonly("stats", &Run::stats, R"doc(Statistics (dict): every counter by its register-map name
(CYCLES, BLOCKS, CAM_LOOKUPS, CAM_HITS, PKT_TIP, ...: xtu.COUNTERS), and cycles (device cycles
from START to DONE), pt_bytes, seconds (wall clock), done, status, descriptors,
events_published, invalid_descriptors, records, blocks_per_cycle, bytes_per_cycle
(PT bytes per cycle), cam_hit_rate (CAM_HITS / CAM_LOOKUPS, 0.0 without lookups),
cycles_per_second (simulation speed).)doc")
      .def_readonly("violations", &Run::violations, "Memory-access violations the backend saw (list of str).")
      .def_readonly("cycles", &Run::cycles, "Device cycles from START to DONE.")
      .def_readonly("done", &Run::done, "The unit reported DONE.")
      .def_readonly("status", &Run::status, "The STATUS register at the end.")
      .def_property_readonly("ok", [](const Run& r) { return r.done && r.violations.empty(); },
                             "done and no violations.")
      .def("check", [](py::object self) {
             const Run& r = self.cast<const Run&>();
             if (!r.done) {
               char buf[64];
               std::snprintf(buf, sizeof buf, "0x%x", r.status);
               throw std::runtime_error(r.bundle + ": the unit did not finish (STATUS " + buf + ")");
             }
             if (!r.violations.empty())
               throw std::runtime_error(r.bundle + ": memory violation: " + r.violations[0].cast<std::string>());
             return self;
           }, "Raise RuntimeError unless the unit finished without violations; returns the Run.")
      .def("__len__", [](const Run& r) { return r.records.shape(0); }, "Number of output records.")
      .def("__repr__", [](const Run& r) {
             return "<xtu.Run " + r.bundle + ": " + std::to_string(r.guest.size()) + " blocks, " +
                    std::to_string(r.guest.gaps.shape(0)) + " gaps, " + std::to_string(r.cycles) + " cycles" +
                    (r.done ? "" : ", NOT DONE") + ">";
           });

  // ---- Device ----
  py::class_<Device, std::unique_ptr<Device, py::nodelete>>(m, "Device", R"doc(The unit (xtu.open() returns it).

One per process: SystemC elaborates once. ``run()`` resets the unit before each job. Methods
hold a lock and release the GIL while the simulation runs; do not expect parallel jobs.)doc")
      .def("run", [](Device& d, const fs::path& dir, uint64_t out_ring, uint64_t trace_ring, uint32_t event_entries,
                     uint32_t hash_entries, size_t chunk, uint64_t step_cycles, bool contexts, uint64_t max_idle_steps) {
             return run_on_device(d, dir, out_ring, trace_ring, event_entries, hash_entries, chunk, step_cycles,
                                  contexts, max_idle_steps);
           },
           py::arg("bundle_dir"), py::kw_only(), py::arg("out_ring") = 65536, py::arg("trace_ring") = 1 << 20,
           py::arg("event_entries") = 1024, py::arg("hash_entries") = 1 << 16, py::arg("chunk") = 64 * 1024,
           py::arg("step_cycles") = 4096, py::arg("contexts") = false, py::arg("max_idle_steps") = 4096,
           R"doc(Run the unit on the trace bundle in ``bundle_dir`` and return a Run.

The unit is reset first. The driver streams the bundle's trace and DBT events into the
unit's rings and drains its output ring. Buffer sizes (bytes or entries; the output ring,
event and hash entries are powers of two): out_ring, trace_ring, event_entries,
hash_entries. chunk: trace bytes published per driver step; step_cycles: cycles run between
steps; contexts: also emit CONTEXT records; max_idle_steps: steps without progress before
giving up (the Run is then not done). Raises FileNotFoundError for a missing bundle,
xtu.FormatError for malformed bundle files, RuntimeError for driver errors. A unit that did
not finish, or memory violations, are reported in the Run (see Run.ok / Run.check()).)doc")
      .def("session", &open_session, py::kw_only(), py::arg("cr3") = 0, py::arg("vmcs") = 0,
           py::arg("code_base") = 0, py::arg("code_size") = 0, py::arg("ctx_filter") = true,
           py::arg("contexts") = false, py::arg("time") = false, py::arg("trace_ring") = 1 << 20,
           py::arg("event_entries") = 1024, py::arg("descriptor_pool") = 16u << 20,
           py::arg("hash_entries") = 1 << 16, py::arg("out_ring") = 65536, py::arg("chunk") = 64 * 1024,
           py::arg("step_cycles") = 4096,
           R"doc(Reset the unit and open a live Session on it.

cr3 / vmcs: the traced context (PIP CR3; VMCS pointer when the host runs in a VM, else 0);
code_base / code_size: QEMU's code buffer (link targets are offsets from its base); ctx_filter:
drop other contexts' control flow; contexts: CONTEXT records; time: TSC in the records. Buffer
sizes as for run(); descriptor_pool: bytes for every descriptor of the session (not reclaimed).)doc")
      .def("reset", [](Device& d) {
             py::gil_scoped_release nogil;
             std::lock_guard<std::mutex> lock(d.mu);
             d.dev().reset();
           }, "Soft-reset the unit (CTRL.SOFT_RESET): every block back to its reset state, nothing "
           "re-elaborated; violations are cleared. The counters keep their values until the next job "
           "starts (START clears them). run() does this itself before every job.")
      .def_property_readonly("cycles", [](Device& d) {
             std::lock_guard<std::mutex> lock(d.mu);
             return d.dev().cycles();
           }, "Clock cycles since the device was opened.")
      .def_property_readonly("name", [](Device& d) { return d.options.backend; }, "The backend's name.")
      .def_property_readonly("options", [](Device& d) { return d.options.as_dict(); },
                             "The options the device was opened with (dict).")
      .def_readonly("jobs", &Device::jobs, "Jobs run on this device so far.")
      .def_property_readonly("irq", [](Device& d) {
             std::lock_guard<std::mutex> lock(d.mu);
             return d.dev().irq();
           }, "The interrupt line.")
      .def("info", &device_info,
           "Identification registers: id, id_text ('XTU1'), version, version_text, params0/1/2 and their "
           "fields (cam_entries, max_nodes, axi_bytes, trace_fifo_beats, trace_burst, event_fifo, out_fifo, ht_max_probe, walk_width, dec_width), "
           "backend and options.")
      .def("counters", [](Device& d) {
             std::vector<std::pair<std::string, uint64_t>> c;
             {
               std::lock_guard<std::mutex> lock(d.mu);
               xtu::driver::Driver drv(d.dev());
               c = drv.counters();
             }
             py::dict r;
             for (const auto& [name, v] : c) r[py::str(name)] = v;
             return r;
           }, "The performance counters now, by register-map name (dict).")
      .def("read32", [](Device& d, uint32_t offset) {
             if (offset % 4 || offset >= R::kMapSize) throw py::value_error("register offset must be 4-aligned and below 0x400");
             std::lock_guard<std::mutex> lock(d.mu);
             return d.dev().read32(offset);
           }, py::arg("offset"), "Read a 32-bit register (byte offset in the register space, docs/registers.md).")
      .def("write32", [](Device& d, uint32_t offset, uint32_t value) {
             if (offset % 4 || offset >= R::kMapSize) throw py::value_error("register offset must be 4-aligned and below 0x400");
             std::lock_guard<std::mutex> lock(d.mu);
             d.dev().write32(offset, value);
           }, py::arg("offset"), py::arg("value"), "Write a 32-bit register.")
      .def_property_readonly("violations", [](Device& d) {
             std::lock_guard<std::mutex> lock(d.mu);
             return d.dev().violations();
           }, "Memory-access violations seen since the last reset (list of str).")
      .def("__repr__", [](Device& d) {
             return "<xtu.Device " + d.options.describe() + (d.closed ? " closed" : "") + ">";
           });

  // ---- Session ----
  py::class_<Session>(m, "Session", R"doc(A live session with the unit (Device.session() opens it).

The DBT's calls, each at the trace offset (PT bytes written so far) from which the change
applies, and the PT bytes as they arrive; the driver keeps the ordering rule (events at offset X
reach the unit before the trace bytes at X), holds back what the rings cannot take, runs the
unit and collects its records. Offsets never decrease and never fall below the bytes already
given to trace() (ValueError). The session owns the device until finish() or close(); it is
also a context manager.)doc")
      .def("code", [](Session& ps, uint64_t offset, uint64_t host_addr, const py::bytes& code) {
             ps.locked([&](auto& s) { s.code(offset, host_addr, as_bytes(code)); });
           }, py::arg("offset"), py::arg("host_addr"), py::arg("code"),
           "QEMU's prologue/epilogue code at host_addr (its two entry points become descriptors).")
      .def("tb_translated", [](Session& ps, uint64_t offset, uint64_t host_addr, uint64_t guest_pc,
                               unsigned guest_insns, const py::bytes& code) {
             if (guest_insns > 0xffff) throw py::value_error("guest_insns must fit 16 bits");
             ps.locked([&](auto& s) { s.tb_translated(offset, host_addr, guest_pc, uint16_t(guest_insns), as_bytes(code)); });
           }, py::arg("offset"), py::arg("host_addr"), py::arg("guest_pc"), py::arg("guest_insns"), py::arg("code"),
           "A translated block: its host code (as generated, before link patches) at host_addr.")
      .def("tb_linked", [](Session& ps, uint64_t offset, uint64_t src_tb, unsigned slot, uint64_t target) {
             ps.locked([&](auto& s) { s.tb_linked(offset, src_tb, slot, target); });
           }, py::arg("offset"), py::arg("src_tb"), py::arg("slot"), py::arg("target"),
           "goto_tb slot `slot` of the TB at src_tb now jumps to the TB at target.")
      .def("tb_unlinked", [](Session& ps, uint64_t offset, uint64_t src_tb, unsigned slot) {
             ps.locked([&](auto& s) { s.tb_unlinked(offset, src_tb, slot); });
           }, py::arg("offset"), py::arg("src_tb"), py::arg("slot"), "The slot jumps to its exit stub again.")
      .def("tb_invalidated", [](Session& ps, uint64_t offset, uint64_t host_addr) {
             ps.locked([&](auto& s) { s.tb_invalidated(offset, host_addr); });
           }, py::arg("offset"), py::arg("host_addr"), "The TB at host_addr is gone.")
      .def("flush", [](Session& ps, uint64_t offset) { ps.locked([&](auto& s) { s.flush(offset); }); },
           py::arg("offset"), "tb_flush: every TB is gone; host addresses will be reused.")
      .def("trace", [](Session& ps, const py::bytes& data) {
             std::string_view v = data;
             ps.locked([&](auto& s) { s.trace(reinterpret_cast<const uint8_t*>(v.data()), v.size()); });
           }, py::arg("data"), "Append PT bytes.")
      .def("end_of_trace", [](Session& ps) { ps.locked([&](auto& s) { s.end_of_trace(); }); },
           "No more PT bytes: the unit finishes after the last one.")
      .def("step", [](Session& ps) {
             std::vector<xtu::driver::Record> out;
             {
               py::gil_scoped_release nogil;
               ps.locked([&](auto& s) { return s.step(out); });
             }
             return records_array(out);
           }, "Publish what the ordering rule allows, run the unit for step_cycles, and return the new "
              "records (RECORD_DTYPE array).")
      .def("finish", [](Session& ps) {
             xtu::driver::RunResult r;
             {
               py::gil_scoped_release nogil;
               r = ps.locked([&](auto& s) { return s.finish(); });
             }
             ps.finished = true;
             ps.close();
             return make_run("<session>", r);
           }, "End the trace if not done, run until the unit is done (or stuck), release the device, and "
              "return a Run with every record of the session.")
      .def("close", &Session::close, "Abandon the session and release the device.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](Session& ps, py::args) { ps.close(); });

  m.def("open", [](const std::string& backend, unsigned cam_entries, unsigned mem_latency, unsigned mem_write_latency,
                   unsigned mem_beat_interval, std::optional<fs::path> vcd) {
          return open_device(backend, cam_entries, mem_latency, mem_write_latency, mem_beat_interval, vcd);
        },
        py::arg("backend") = "systemc", py::kw_only(), py::arg("cam_entries") = 64, py::arg("mem_latency") = 20,
        py::arg("mem_write_latency") = 10, py::arg("mem_beat_interval") = 1, py::arg("vcd") = py::none(),
        py::return_value_policy::reference,
        R"doc(Open the unit and return the process's Device.

backend: 'systemc' (the cycle-accurate model in its test bench). cam_entries: TB cache lines
(power of two). mem_latency / mem_write_latency: memory read / write latency in cycles;
mem_beat_interval: cycles per 8-byte data beat. vcd: write a VCD waveform to this file
(closed when the interpreter exits; XTU_VCD=<dir> in the environment also works).

There is one device per process (SystemC elaborates once): the first call creates it; later
calls with the same options return the same Device, reset; other options raise RuntimeError.)doc");

  m.def("golden", &run_golden, py::arg("bundle_dir"), py::kw_only(), py::arg("insn") = false,
        py::arg("stall_limit") = 1000000,
        R"doc(Decode the bundle with the golden model (libipt) and return its GuestTrace.

insn: one pc per guest instruction instead of per guest block. stall_limit: host
instructions without consuming trace before a decode error. The result's ``stats`` holds
pt_bytes, host_insns, records, gaps, overflows, decode_errors, events_applied,
other_context_insns and seconds. Raises FileNotFoundError for a missing bundle,
xtu.FormatError for malformed bundle files.)doc");

  m.def("read_events", [](const fs::path& path) {
          std::vector<xtu::ev::Event> events = xtu::ev::read(path.string());
          py::list l;
          for (const auto& e : events) l.append(event_dict(e));
          return l;
        }, py::arg("path"),
        "Read a DBT event stream (a bundle's events.xtev, docs/formats.md): a list of dicts with type "
        "('process', 'code', 'tb', 'link', 'unlink', 'invalidate', 'flush'), offset, time and the record's "
        "fields (code as bytes). Raises xtu.FormatError for a malformed file.");
  m.def("read_guest_trace", [](const fs::path& path) {
          std::error_code ec;
          if (!fs::exists(path, ec)) raise_os_error(PyExc_FileNotFoundError, ENOENT, "guest trace not found", path);
          std::vector<xtu::GuestRecord> recs;
          {
            py::gil_scoped_release nogil;
            recs = xtu::read_guest_trace(path.string());
          }
          return GuestTrace::from_records(recs);
        },
        py::arg("path"), "Read a guest trace text v1 file (e.g. a bundle's guest.txt ground truth) as a GuestTrace.");

  m.def("compare", [](py::object expected, py::object actual) -> py::object {
          xtu::TraceDiff d = xtu::compare_guest_traces(as_records(expected, "expected"), as_records(actual, "actual"));
          if (d.equal) return py::none();
          return py::str(d.message);
        },
        py::arg("expected"), py::arg("actual"),
        R"doc(Compare two guest traces record by record (gaps included).

Each argument is a GuestTrace, a Run, a guest trace file path, or a 1-D array of pcs.
Returns None when they are equal, else a message naming the first difference (index,
expected and actual record, lengths), so ``assert xtu.compare(a, b) is None`` reports it.)doc");

  m.def("capture", &run_capture, py::arg("out_dir"), py::arg("argv"), py::kw_only(), py::arg("nochain") = false,
        py::arg("tb_size") = 0, py::arg("quiet") = true, py::arg("qemu") = "qemu-aarch64",
        py::arg("qemu_options") = py::none(), py::arg("keep_logs") = false, py::arg("aslr") = false,
        py::arg("ovf") = 0, py::arg("ovf_blocks") = 200, py::arg("seed") = 1, py::arg("psb_period") = 4096,
        py::arg("tsc") = true, py::arg("mtc") = py::none(), py::arg("cyc") = py::none(), py::arg("tnt64") = false,
        py::arg("pad_every") = 0, py::arg("other") = py::none(), py::arg("switch_every") = 0, py::arg("vm") = false,
        py::arg("other_vm") = false,
        R"doc(Capture a trace bundle from a real QEMU run of a guest program (like `xtu capture`).

out_dir: bundle directory to write. argv: guest program and arguments (list). nochain: trace
a -d nochain run. tb_size: QEMU -tb-size in MiB (1 forces flushes). quiet: no progress
messages on stderr. qemu: the QEMU user-mode binary; qemu_options: extra QEMU options (list).
keep_logs: keep QEMU's logs in out_dir/qemu. aslr: keep host ASLR. ovf / ovf_blocks / seed:
inject overflows losing that many blocks each. psb_period, tsc, mtc (MTC frequency exponent or
None), cyc (CYC threshold exponent or None), tnt64, pad_every: PT configuration. other: argv of
a second traced process interleaved through PIP; switch_every: blocks between switches; vm /
other_vm: the host (and the other process) in a VM.

Returns the capture report (dict): out_dir, workload, argv, mode, qemu_version, blocks
(executed guest blocks), guest_blocks (ground-truth blocks), pt_bytes, bits_per_block,
translations, links, flushes, linked, to_c, lookup_hit, lookup_miss, host_insns,
unobservable_branches, lost_blocks, overflows, context_switches, seconds, seconds_qemu,
exit_code (the guest's exit status) and stats (the bundle manifest's capture statistics).
Raises RuntimeError (with the capture's message) when QEMU or the capture fails.)doc");

  // Destroy the backend before the interpreter goes away (closes a VCD file; SystemC objects
  // are not left to static destructors that run after Python is gone).
  py::module_::import("atexit").attr("register")(py::cpp_function([]() {
    if (g_device) g_device->close();
  }));
}
