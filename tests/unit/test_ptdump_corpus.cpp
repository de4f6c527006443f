// The ptdump listing (xtu::model::ptdump_listing) against libipt's own test corpus
// (shared/libipt-corpus: 173 PT streams and the listings libipt 2.0.5's ptdump prints for them).
//
// One test case per (stream, expectation file): NAME-ptdump.exp for a test without CPU list,
// NAME-ptdump-cpu_F_M.exp (run with --cpu F/M) for each CPU the MANIFEST lists. The options are
// the MANIFEST's, plus the tracing configuration it leaves out for the timing tests
// (tests/data/libipt_corpus_time_config.tsv, from libipt's .ptt sources).
//
// Comparison rule: line by line, whitespace-insensitive. Each line is split on runs of
// whitespace and the token lists must be equal; the number of lines must be equal too. The
// .exp files were written by hand in the .ptt sources, so their column spacing varies from
// test to test (libipt's own harness compares them the same way); everything else, the
// order of the lines, every offset, name, payload, time value and diagnostic, must match.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "xtu/model/ptdump_format.hpp"

namespace {

using xtu::model::PtdumpOptions;

const std::string kCorpus = std::string(XTU_SHARED_DIR) + "/libipt-corpus";

std::vector<std::string> split_ws(const std::string& s) {
  std::istringstream in(s);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

std::vector<std::string> split_tab(const std::string& s) {
  std::vector<std::string> f;
  size_t start = 0;
  for (;;) {
    const size_t tab = s.find('\t', start);
    f.push_back(s.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return f;
    start = tab + 1;
  }
}

struct CorpusCase {
  std::string test;     // the stream's name
  std::string exp;      // the expectation file's name
  std::vector<std::string> args;  // ptdump options
  std::string id;       // gtest-safe name
};

// name → options the MANIFEST leaves out.
std::map<std::string, std::vector<std::string>> time_config() {
  std::map<std::string, std::vector<std::string>> m;
  std::ifstream in(std::string(XTU_TEST_DATA_DIR) + "/libipt_corpus_time_config.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = split_tab(line);
    if (f.size() == 2) m[f[0]] = split_ws(f[1]);
  }
  return m;
}

std::string gtest_id(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

// Number of streams listed in the MANIFEST (set while reading it).
size_t g_manifest_streams = 0;

std::vector<CorpusCase> corpus_cases() {
  std::vector<CorpusCase> cases;
  std::ifstream in(kCorpus + "/MANIFEST.tsv");
  const auto extra = time_config();
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto f = split_tab(line);
    const std::string name = f[0];
    ++g_manifest_streams;
    std::vector<std::string> args = split_ws(f.size() > 1 ? f[1] : "");
    if (auto it = extra.find(name); it != extra.end()) args.insert(args.end(), it->second.begin(), it->second.end());
    const auto cpus = split_ws(f.size() > 2 ? f[2] : "");
    if (cpus.empty()) {
      cases.push_back({name, name + "-ptdump.exp", args, gtest_id(name)});
      continue;
    }
    for (const std::string& cpu : cpus) {
      std::string fm = cpu;
      std::replace(fm.begin(), fm.end(), '/', '_');
      std::vector<std::string> a = args;
      a.push_back("--cpu");
      a.push_back(cpu);
      cases.push_back({name, name + "-ptdump-cpu_" + fm + ".exp", a, gtest_id(name + "_cpu_" + fm)});
    }
  }
  return cases;
}

const std::vector<CorpusCase>& all_cases() {
  static const std::vector<CorpusCase> cases = corpus_cases();
  return cases;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

class PtdumpCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(PtdumpCorpus, ListingMatchesExpectation) {
  const CorpusCase& c = GetParam();
  const auto trace = read_bytes(kCorpus + "/" + c.test + ".pt");
  ASSERT_FALSE(trace.empty()) << c.test << ".pt";
  const auto expected = read_lines(kCorpus + "/" + c.exp);
  ASSERT_FALSE(expected.empty()) << c.exp;

  const PtdumpOptions opts = xtu::model::parse_ptdump_options(c.args);
  const auto actual = xtu::model::ptdump_listing(trace, opts);

  std::string all;
  for (const auto& l : actual) all += "  " + l + "\n";
  for (size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
    const std::string e = i < expected.size() ? expected[i] : "<none>";
    const std::string a = i < actual.size() ? actual[i] : "<none>";
    ASSERT_EQ(split_ws(e), split_ws(a)) << c.exp << " line " << i + 1 << "\n expected: " << e
                                        << "\n actual:   " << a << "\nwhole listing:\n" << all;
  }
}

INSTANTIATE_TEST_SUITE_P(Libipt, PtdumpCorpus, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<CorpusCase>& i) { return i.param.id; });

// Every stream and every expectation file of the corpus is covered, each exactly once.
TEST(PtdumpCorpusCoverage, EveryExpectationFileIsATestCase) {
  const auto& cases = all_cases();
  EXPECT_EQ(g_manifest_streams, 173u);
  std::set<std::string> streams, from_cases, on_disk;
  for (const auto& c : cases) {
    streams.insert(c.test);
    EXPECT_TRUE(from_cases.insert(c.exp).second) << c.exp << " twice";
  }
  EXPECT_EQ(streams.size(), 173u);
  for (const auto& e : std::filesystem::directory_iterator(kCorpus)) {
    const std::string f = e.path().filename().string();
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".exp") == 0) on_disk.insert(f);
  }
  EXPECT_EQ(from_cases, on_disk);
  EXPECT_EQ(cases.size(), 371u);
}

}  // namespace
