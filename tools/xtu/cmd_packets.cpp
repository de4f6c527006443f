// xtu packets [--backend systemc|software] FILE.pt [ptdump options]: the packets the unit's
// decoder block sees, listed in libipt's ptdump format.
#include <algorithm>

#include "options.hpp"
#include "xtu/driver/driver.hpp"
#include "xtu/driver/systemc_backend.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/model/ptdump_format.hpp"
#include "xtu/model/unit.hpp"

namespace xtu::cli {

namespace {

// Run the model's decoder block (through the whole unit, driven like any job) on the trace.
std::vector<std::string> systemc_listing(const std::vector<uint8_t>& pt, const model::PtdumpOptions& opts) {
  driver::SystemCBackend dev;
  auto& unit = const_cast<model::Unit&>(dev.unit());
  model::PktDecoder& dec = unit.decoder();
  model::PtdumpFormatter f(opts);
  std::vector<std::string> out;
  f.begin(out);
  dec.set_errata(f.decode_errata());
  dec.set_no_sync(opts.no_sync);
  bool stop = false;
  dec.set_tap([&](const model::DecoderTap& t) {
    if (stop) return;
    switch (t.kind) {
      case model::DecoderTap::Kind::Packet:
        if (!f.packet(t.offset, t.pkt, t.raw, t.raw_n, out)) {
          dec.request_resync();  // ptdump resynchronises when it cannot print a packet
          f.reset_tracking();
        }
        break;
      case model::DecoderTap::Kind::Error:
        f.decode_error(t.offset, t.error, out);
        f.reset_tracking();
        break;
      case model::DecoderTap::Kind::OutOfSync:
        out.push_back(model::PtdumpFormatter::diag(t.offset, "error decoding packet", "decoder out of sync"));
        stop = true;
        break;
    }
  });
  driver::Driver drv(dev);
  drv.identify();
  driver::Buffers b;
  b.trace_bytes = std::max<uint64_t>(4096, (pt.size() + 4095) & ~uint64_t(4095));
  b.event_entries = 4;
  b.desc_bytes = 4096;
  b.ht_entries = 4;
  b.out_bytes = 1 << 16;
  drv.setup(b);
  drv.start();
  if (!pt.empty()) drv.push_trace(pt.data(), pt.size());
  drv.trace_last();
  std::vector<driver::Record> sink;
  for (int i = 0; i < 1000000 && !drv.done(); ++i) {
    dev.run(4096);
    drv.drain(sink);
  }
  return out;
}

}  // namespace

int cmd_packets(const Args& all) {
  // Everything after the file that starts with '-' is a ptdump option.
  po::options_description desc("packets options (plus libipt ptdump's: --no-offset --raw --lastip --exec-mode "
                               "--time --time-delta --tcal --no-tcal --no-wall-clock --no-cyc --no-sync "
                               "--nom-freq N --mtc-freq N --cpuid-0x15.eax N --cpuid-0x15.ebx N --cpu F/M)");
  std::string file, backend;
  desc.add_options()
      ("file", po::value(&file)->required(), "raw PT file")
      ("backend,b", po::value(&backend)->default_value("systemc"),
       "systemc: the model's decoder block; software: the same decoding as a plain loop");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  Args ours, ptdump;
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string& a = all[i];
    if (a == "-b" || a == "--backend" || a == "-h" || a == "--help" || a.rfind("--backend=", 0) == 0 || a[0] != '-') {
      ours.push_back(a);
      if ((a == "-b" || a == "--backend") && i + 1 < all.size()) ours.push_back(all[++i]);
    } else {
      ptdump.push_back(a);
      bool takes_value = a == "--nom-freq" || a == "--mtc-freq" || a == "--cpuid-0x15.eax" || a == "--cpuid-0x15.ebx" ||
                         a == "--cpu";
      if (takes_value && i + 1 < all.size()) ptdump.push_back(all[++i]);
    }
  }
  if (!parse(ours, "xtu packets [--backend systemc|software] FILE.pt [ptdump options]", desc, vm, &pos)) return 0;
  model::PtdumpOptions opts = model::parse_ptdump_options(ptdump);
  std::vector<uint8_t> pt = read_file_bytes(file);
  std::vector<std::string> lines;
  if (backend == "systemc") lines = systemc_listing(pt, opts);
  else if (backend == "software") lines = model::ptdump_listing(pt, opts);
  else {
    std::fprintf(stderr, "xtu packets: unknown backend '%s'\n", backend.c_str());
    return 2;
  }
  for (const std::string& l : lines) std::printf("%s\n", l.c_str());
  return 0;
}

}  // namespace xtu::cli
