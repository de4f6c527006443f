// xtu compare EXPECTED ACTUAL: exit 0 when the two guest traces hold the same records.
#include "options.hpp"
#include "xtu/formats/guest_trace.hpp"

namespace xtu::cli {

int cmd_compare(const Args& args) {
  po::options_description desc("compare options");
  std::string a, b;
  desc.add_options()("expected", po::value(&a)->required(), "guest trace (text v1)")
                    ("actual", po::value(&b)->required(), "guest trace (text v1)");
  po::positional_options_description pos;
  pos.add("expected", 1).add("actual", 1);
  po::variables_map vm;
  if (!parse(args, "xtu compare EXPECTED ACTUAL", desc, vm, &pos)) return 0;
  std::vector<GuestRecord> ea = read_guest_trace(a), eb = read_guest_trace(b);
  TraceDiff d = compare_guest_traces(ea, eb);
  if (d.equal) {
    std::printf("equal: %zu records\n", ea.size());
    return 0;
  }
  std::printf("DIFFERENT: %s\n", d.message.c_str());
  return 1;
}

}  // namespace xtu::cli
