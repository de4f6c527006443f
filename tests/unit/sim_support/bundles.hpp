// Trace bundles the end-to-end capture tests write (fixture unit_test_bundles in
// tests/CMakeLists.txt), loaded for whole-run tests of the unit, and the check of a run.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xtu/driver/bundle_run.hpp"
#include "xtu/formats/byte_reader.hpp"
#include "xtu/formats/event_stream.hpp"
#include "xtu/formats/guest_trace.hpp"
#include "xtu/regs.hpp"

namespace xtu::test {

inline std::string bundle_dir(const std::string& name) { return std::string(XTU_E2E_DIR) + "/" + name + "/bundle"; }

struct Bundle {
  std::vector<uint8_t> pt;
  driver::UnitProgram prog;
  std::vector<GuestRecord> truth;  // QEMU's ground truth (guest.txt)
};

inline Bundle load_bundle(const std::string& name) {
  const std::string dir = bundle_dir(name);
  Bundle b;
  b.pt = read_file_bytes(dir + "/trace.pt");
  b.prog = driver::translate_events(ev::read(dir + "/events.xtev"));
  b.truth = read_guest_trace(dir + "/guest.txt");
  return b;
}

// The run finished cleanly and its guest trace is `want`.
inline void expect_equal(const std::vector<GuestRecord>& want, const driver::RunResult& r) {
  TraceDiff d = compare_guest_traces(want, driver::guest_records(r.records));
  EXPECT_TRUE(d.equal) << d.message;
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.status & ~(regs::status::kBusy.mask | regs::status::kDone.mask), 0u) << "error bits in STATUS";
}

}  // namespace xtu::test
