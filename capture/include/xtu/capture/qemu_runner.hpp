// Running qemu-aarch64 so that every run of one capture gives the guest the same world: the
// same argv, environment (xtu's own, unchanged), working directory, and the same *kind* of
// standard streams (glibc takes different paths for a regular file, a pipe, a terminal and
// /dev/null). The primary run gets xtu's real streams; other runs get substitutes of the same
// kind (a temporary file beside the original, a pipe, a pty, the same character device). Input
// from a pipe or socket is forwarded to the primary run and recorded, and the record is fed to
// the other runs, so a program that reads stdin sees the same bytes each time.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace xtu::capture {

class StdioPlan;

struct QemuInvocation {
  std::string qemu = "qemu-aarch64";
  std::vector<std::string> options;  // QEMU options before the program (-d, -D, -tb-size, ...)
  std::vector<std::string> argv;     // guest program and its arguments
  bool primary = false;              // give the guest xtu's real standard streams
  bool disable_aslr = true;          // personality(ADDR_NO_RANDOMIZE): reproducible host addresses
};

struct QemuResult {
  int pid = 0;
  int exit_code = -1;     // valid if !signaled
  int signal = 0;         // terminating signal, 0 if exited
  double seconds = 0;
};

// Classifies fds 0-2 once; keep it alive across the runs of one capture.
class StdioPlan {
public:
  StdioPlan();
  ~StdioPlan();
  StdioPlan(const StdioPlan&) = delete;
  StdioPlan& operator=(const StdioPlan&) = delete;

  // "file", "pipe", "socket", "tty", "chardev", "closed", ... per fd (for the manifest).
  std::string kind(int fd) const;

  QemuResult run(const QemuInvocation& inv);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "qemu-aarch64 version 10.0.2 (...)" first line, or throws if QEMU cannot be run.
std::string qemu_version(const std::string& qemu);

}  // namespace xtu::capture
