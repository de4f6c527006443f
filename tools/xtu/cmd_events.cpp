// xtu events DIR|FILE: one line per DBT event.
#include <filesystem>

#include "options.hpp"
#include "xtu/formats/event_stream.hpp"

namespace xtu::cli {

int cmd_events(const Args& args) {
  po::options_description desc("events options");
  std::string path;
  desc.add_options()("stream", po::value(&path)->required(), "events.xtev file, or a bundle directory");
  po::positional_options_description pos;
  pos.add("stream", 1);
  po::variables_map vm;
  if (!parse(args, "xtu events DIR|FILE", desc, vm, &pos)) return 0;
  if (std::filesystem::is_directory(path)) path += "/events.xtev";
  uint64_t skipped = 0;
  for (const ev::Event& e : ev::read(path, &skipped)) std::printf("%s\n", ev::describe(e).c_str());
  if (skipped) std::printf("# %llu records of unknown type skipped\n", static_cast<unsigned long long>(skipped));
  return 0;
}

}  // namespace xtu::cli
