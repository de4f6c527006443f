// bundle.json: a full round trip of every field, defaults for absent optional fields, and the
// errors for missing or malformed manifests (each naming the manifest's path).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xtu/formats/bundle.hpp"
#include "xtu/formats/error.hpp"

namespace {

class BundleDir : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "xtu_bundle_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr);
    dir_ = buf.data();
    manifest_ = dir_ + "/bundle.json";
  }
  void TearDown() override {
    std::remove(manifest_.c_str());
    rmdir(dir_.c_str());
  }
  void write_manifest(const std::string& text) { std::ofstream(manifest_) << text; }

  // read_bundle_info() must throw a FormatError naming the manifest; returns its message.
  std::string format_error() {
    try {
      xtu::read_bundle_info(dir_);
    } catch (const xtu::FormatError& e) {
      EXPECT_EQ(e.file(), manifest_);
      EXPECT_NE(std::string(e.what()).find(manifest_), std::string::npos) << e.what();
      return e.message();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a FormatError: " << e.what();
      return "";
    }
    ADD_FAILURE() << "manifest accepted";
    return "";
  }

  std::string dir_, manifest_;
};

xtu::BundleInfo full_info() {
  xtu::BundleInfo b;
  b.workload = "hashsort";
  b.argv = {"/work/workloads/hashsort", "-n", "1000", "with space", ""};
  b.cwd = "/tmp/run \"quoted\"";
  b.mode = "nochain";
  b.tb_size_mib = 64;
  b.qemu_version = "10.0.2";
  b.cr3 = 0xfffffffffffff000ull;  // above INT64_MAX: must survive as unsigned
  b.vmcs = 0x8000000000001000ull;
  b.non_root = true;
  b.pt.psb_period = 1u << 20;
  b.pt.tsc = false;
  b.pt.mtc = true;
  b.pt.mtc_freq = 9;
  b.pt.cyc = true;
  b.pt.cyc_thresh = 5;
  b.pt.tnt64 = true;
  b.pt.cbr = 42;
  b.pt.cpuid_15_eax = 2;
  b.pt.cpuid_15_ebx = 168;
  b.pt.nom_freq = 24;
  b.pt.filter_base = 0x7f0000000000;
  b.pt.filter_limit = 0x7f0040000000;
  b.trace_file = "t.pt";
  b.events_file = "e.xtev";
  b.guest_file = "g.txt";
  b.others = {"other", "other2"};
  b.stats_json = R"({"blocks":12345,"nested":{"list":[1,2,3]},"ratio":0.5})";
  return b;
}

TEST_F(BundleDir, RoundTripsEveryField) {
  xtu::BundleInfo in = full_info();
  xtu::write_bundle_info(dir_, in);
  xtu::BundleInfo out = xtu::read_bundle_info(dir_);
  EXPECT_EQ(out.version, 1);
  EXPECT_EQ(out.workload, in.workload);
  EXPECT_EQ(out.argv, in.argv);
  EXPECT_EQ(out.cwd, in.cwd);
  EXPECT_EQ(out.mode, in.mode);
  EXPECT_EQ(out.tb_size_mib, in.tb_size_mib);
  EXPECT_EQ(out.qemu_version, in.qemu_version);
  EXPECT_EQ(out.cr3, in.cr3);
  EXPECT_EQ(out.vmcs, in.vmcs);
  EXPECT_EQ(out.non_root, in.non_root);
  EXPECT_EQ(out.pt.psb_period, in.pt.psb_period);
  EXPECT_EQ(out.pt.tsc, in.pt.tsc);
  EXPECT_EQ(out.pt.mtc, in.pt.mtc);
  EXPECT_EQ(out.pt.mtc_freq, in.pt.mtc_freq);
  EXPECT_EQ(out.pt.cyc, in.pt.cyc);
  EXPECT_EQ(out.pt.cyc_thresh, in.pt.cyc_thresh);
  EXPECT_EQ(out.pt.tnt64, in.pt.tnt64);
  EXPECT_EQ(out.pt.cbr, in.pt.cbr);
  EXPECT_EQ(out.pt.cpuid_15_eax, in.pt.cpuid_15_eax);
  EXPECT_EQ(out.pt.cpuid_15_ebx, in.pt.cpuid_15_ebx);
  EXPECT_EQ(out.pt.nom_freq, in.pt.nom_freq);
  EXPECT_EQ(out.pt.filter_base, in.pt.filter_base);
  EXPECT_EQ(out.pt.filter_limit, in.pt.filter_limit);
  EXPECT_EQ(out.trace_file, in.trace_file);
  EXPECT_EQ(out.events_file, in.events_file);
  EXPECT_EQ(out.guest_file, in.guest_file);
  EXPECT_EQ(out.others, in.others);
  EXPECT_EQ(nlohmann::json::parse(out.stats_json), nlohmann::json::parse(in.stats_json));
  EXPECT_EQ(out.stats_json, in.stats_json);  // already compact with sorted keys
}

TEST_F(BundleDir, WritesTheDocumentedLayout) {
  xtu::write_bundle_info(dir_, full_info());
  std::ifstream in(manifest_);
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j.at("format"), "xtu-bundle");
  EXPECT_EQ(j.at("version"), 1);
  EXPECT_EQ(j.at("files").at("trace"), "t.pt");
  EXPECT_EQ(j.at("files").at("events"), "e.xtev");
  EXPECT_EQ(j.at("files").at("guest"), "g.txt");
  EXPECT_EQ(j.at("pt").at("psb_period"), 1u << 20);
  EXPECT_EQ(j.at("stats").at("blocks"), 12345);
  EXPECT_TRUE(j.at("stats").is_object()) << "stats is embedded as JSON, not as a string";
}

TEST_F(BundleDir, DefaultsRoundTrip) {
  xtu::write_bundle_info(dir_, xtu::BundleInfo{});
  xtu::BundleInfo out = xtu::read_bundle_info(dir_);
  xtu::BundleInfo def;
  EXPECT_EQ(out.mode, "chained");
  EXPECT_EQ(out.pt.psb_period, def.pt.psb_period);
  EXPECT_EQ(out.pt.cbr, def.pt.cbr);
  EXPECT_EQ(out.stats_json, "{}");
  EXPECT_TRUE(out.argv.empty());
  EXPECT_TRUE(out.others.empty());
}

TEST_F(BundleDir, AbsentOptionalFieldsKeepTheirDefaults) {
  write_manifest(R"({"format": "xtu-bundle", "version": 1, "workload": "w", "pt": {"cbr": 30}})");
  xtu::BundleInfo out = xtu::read_bundle_info(dir_);
  xtu::BundleInfo def;
  EXPECT_EQ(out.workload, "w");
  EXPECT_EQ(out.pt.cbr, 30u);
  EXPECT_EQ(out.pt.psb_period, def.pt.psb_period);
  EXPECT_EQ(out.pt.cpuid_15_ebx, def.pt.cpuid_15_ebx);
  EXPECT_EQ(out.trace_file, "trace.pt");
  EXPECT_EQ(out.events_file, "events.xtev");
  EXPECT_EQ(out.guest_file, "guest.txt");
  EXPECT_EQ(out.mode, "chained");
  EXPECT_EQ(out.cr3, 0u);
  EXPECT_EQ(out.stats_json, "{}");
}

TEST_F(BundleDir, MissingManifestNamesThePath) {
  try {
    xtu::read_bundle_info(dir_);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(manifest_), std::string::npos) << e.what();
  }
}

TEST_F(BundleDir, WrongFormatIsRejected) {
  write_manifest(R"({"format": "something-else", "version": 1})");
  EXPECT_NE(format_error().find("not an xtu bundle manifest"), std::string::npos);
  write_manifest(R"({"version": 1})");
  EXPECT_NE(format_error().find("not an xtu bundle manifest"), std::string::npos);
}

TEST_F(BundleDir, WrongVersionIsRejected) {
  xtu::BundleInfo b = full_info();
  b.version = 2;
  xtu::write_bundle_info(dir_, b);
  EXPECT_NE(format_error().find("unsupported bundle version 2"), std::string::npos);
  write_manifest(R"({"format": "xtu-bundle"})");
  EXPECT_NE(format_error().find("malformed manifest"), std::string::npos);
}

TEST_F(BundleDir, MalformedJsonIsRejected) {
  for (const char* text : {"", "{", "{\"format\": \"xtu-bundle\", \"version\": 1,}", "[1, 2]", "null", "\"xtu-bundle\""}) {
    SCOPED_TRACE(text);
    write_manifest(text);
    EXPECT_NE(format_error().find("malformed manifest"), std::string::npos);
  }
}

TEST_F(BundleDir, FieldsOfTheWrongTypeAreRejected) {
  for (const char* text : {R"({"format": "xtu-bundle", "version": "1"})",
                           R"({"format": "xtu-bundle", "version": 1, "cr3": "0x1000"})",
                           R"({"format": "xtu-bundle", "version": 1, "argv": "a b"})",
                           R"({"format": "xtu-bundle", "version": 1, "pt": {"tsc": "yes"}})",
                           R"({"format": "xtu-bundle", "version": 1, "files": {"trace": 3}})",
                           R"({"format": 1, "version": 1})"}) {
    SCOPED_TRACE(text);
    write_manifest(text);
    EXPECT_NE(format_error().find("malformed manifest"), std::string::npos);
  }
}

TEST(Bundle, WritingIntoAMissingDirectoryThrows) {
  EXPECT_THROW(xtu::write_bundle_info("/nonexistent-dir/for/xtu", xtu::BundleInfo{}), std::runtime_error);
}

}  // namespace
