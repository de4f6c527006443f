// The xtu subcommands. Each takes the arguments after its name and returns the exit status.
#pragma once

#include <string>
#include <vector>

namespace xtu::cli {

using Args = std::vector<std::string>;

int cmd_capture(const Args& args);
int cmd_golden(const Args& args);
int cmd_events(const Args& args);
int cmd_compare(const Args& args);
int cmd_demo(const Args& args);
int cmd_run(const Args& args);
int cmd_packets(const Args& args);

// Where the build put the guest workloads (compiled in; overridable with XTU_WORKLOAD_DIR).
std::string workload_dir();

}  // namespace xtu::cli
