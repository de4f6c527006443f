#include "xtu/capture/qemu_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace xtu::capture {
namespace {

enum class Kind { Closed, File, Pipe, Socket, Tty, CharDev, Other };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Closed: return "closed";
    case Kind::File: return "file";
    case Kind::Pipe: return "pipe";
    case Kind::Socket: return "socket";
    case Kind::Tty: return "tty";
    case Kind::CharDev: return "chardev";
    case Kind::Other: return "other";
  }
  return "?";
}

std::string fd_path(int fd) {
  char link[64], buf[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  return buf;
}

[[noreturn]] void die_errno(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

// Read from `from` until EOF (or `stop` is readable), optionally forwarding and recording.
void pump(int from, int to, std::string* record, int stop) {
  char buf[65536];
  while (true) {
    pollfd p[2] = {{from, POLLIN, 0}, {stop, POLLIN, 0}};
    int r = poll(p, stop >= 0 ? 2 : 1, -1);
    if (r < 0) { if (errno == EINTR) continue; break; }
    if (stop >= 0 && (p[1].revents & (POLLIN | POLLHUP))) break;
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (record) record->append(buf, size_t(n));
    if (to >= 0) {
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, size_t(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { to = -1; break; }  // the reader went away: keep recording only
        off += w;
      }
    }
  }
}

}  // namespace

struct StdioPlan::Impl {
  Kind kinds[3];
  std::string paths[3];
  off_t stdin_offset = 0;
  bool stdin_recorded = false;  // pipe/socket input recorded by the primary run
  std::string stdin_data;
  struct sigaction saved_sigpipe {};
};

StdioPlan::StdioPlan() : impl_(std::make_unique<Impl>()) {
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st;
    Kind k;
    if (fstat(fd, &st) != 0) k = Kind::Closed;
    else if (S_ISREG(st.st_mode)) k = Kind::File;
    else if (S_ISFIFO(st.st_mode)) k = Kind::Pipe;
    else if (S_ISSOCK(st.st_mode)) k = Kind::Socket;
    else if (S_ISCHR(st.st_mode)) k = isatty(fd) ? Kind::Tty : Kind::CharDev;
    else k = Kind::Other;
    impl_->kinds[fd] = k;
    impl_->paths[fd] = fd_path(fd);
  }
  if (impl_->kinds[0] == Kind::File) impl_->stdin_offset = lseek(0, 0, SEEK_CUR);
  // Writes to a substitute pipe whose reader exited must not kill xtu; the guest gets the
  // disposition xtu was started with (restored in the child).
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &impl_->saved_sigpipe);
}

StdioPlan::~StdioPlan() { sigaction(SIGPIPE, &impl_->saved_sigpipe, nullptr); }

std::string StdioPlan::kind(int fd) const { return kind_name(impl_->kinds[fd]); }

QemuResult StdioPlan::run(const QemuInvocation& inv) {
  Impl& im = *impl_;
  int child_fd[3] = {-1, -1, -1};  // what the child gets as 0,1,2 (-1: closed)
  std::vector<int> to_close;        // parent-side fds to close after fork
  std::vector<std::thread> threads;
  std::vector<std::string> temp_files;
  int stop_pipe[2] = {-1, -1};
  if (pipe2(stop_pipe, O_CLOEXEC) != 0) die_errno("pipe");

  auto substitute_output = [&](int fd) {
    Kind k = im.kinds[fd];
    switch (k) {
      case Kind::Closed: return;
      case Kind::File: {
        std::string dir = im.paths[fd];
        size_t slash = dir.rfind('/');
        dir = (slash == std::string::npos || dir[0] != '/') ? std::string(".") : dir.substr(0, slash ? slash : 1);
        std::string tmpl = dir + "/.xtu-stdio-XXXXXX";
        std::vector<char> name(tmpl.begin(), tmpl.end());
        name.push_back(0);
        int f = mkstemp(name.data());
        if (f < 0) {
          tmpl = "/tmp/.xtu-stdio-XXXXXX";
          name.assign(tmpl.begin(), tmpl.end());
          name.push_back(0);
          f = mkstemp(name.data());
        }
        if (f < 0) die_errno("temporary file for a substitute stdout");
        temp_files.push_back(name.data());
        child_fd[fd] = f;
        to_close.push_back(f);
        return;
      }
      case Kind::Pipe:
      case Kind::Socket: {
        int p[2];
        if (k == Kind::Pipe ? pipe2(p, O_CLOEXEC) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p)) die_errno("pipe");
        child_fd[fd] = p[1];
        to_close.push_back(p[1]);
        int rd = p[0];
        threads.emplace_back([rd] { pump(rd, -1, nullptr, -1); close(rd); });
        return;
      }
      case Kind::Tty: {
        int master, slave;
        if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) die_errno("openpty");
        fcntl(master, F_SETFD, FD_CLOEXEC);
        fcntl(slave, F_SETFD, FD_CLOEXEC);
        child_fd[fd] = slave;
        to_close.push_back(slave);
        threads.emplace_back([master] { pump(master, -1, nullptr, -1); close(master); });
        return;
      }
      case Kind::CharDev:
      case Kind::Other: {
        int f = open(im.paths[fd].c_str(), O_WRONLY | O_CLOEXEC);
        if (f < 0) f = open("/dev/null", O_WRONLY | O_CLOEXEC);
        child_fd[fd] = f;
        to_close.push_back(f);
        return;
      }
    }
  };

  // stdin
  Kind k0 = im.kinds[0];
  if (k0 == Kind::Pipe || k0 == Kind::Socket) {
    int p[2];
    if (k0 == Kind::Pipe ? pipe2(p, O_CLOEXEC) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p)) die_errno("pipe");
    child_fd[0] = p[0];
    to_close.push_back(p[0]);
    int wr = p[1];
    if (inv.primary && !im.stdin_recorded) {
      im.stdin_recorded = true;
      std::string* rec = &im.stdin_data;
      int stop = stop_pipe[0];
      threads.emplace_back([wr, rec, stop] { pump(0, wr, rec, stop); close(wr); });
    } else {
      std::string data = im.stdin_data;  // empty until the primary run has recorded it
      threads.emplace_back([wr, data] {
        for (size_t off = 0; off < data.size();) {
          ssize_t w = write(wr, data.data() + off, data.size() - off);
          if (w < 0 && errno == EINTR) continue;
          if (w <= 0) break;
          off += size_t(w);
        }
        close(wr);
      });
    }
  } else if (inv.primary) {
    child_fd[0] = im.kinds[0] == Kind::Closed ? -1 : 0;
  } else if (k0 == Kind::File) {
    int f = open(im.paths[0].c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0) die_errno("reopen stdin " + im.paths[0]);
    lseek(f, im.stdin_offset, SEEK_SET);
    child_fd[0] = f;
    to_close.push_back(f);
  } else if (k0 == Kind::Tty) {
    int master, slave;
    if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) die_errno("openpty");
    close(master);  // reads see end of input: a program that reads its terminal diverges, never hangs
    fcntl(slave, F_SETFD, FD_CLOEXEC);
    child_fd[0] = slave;
    to_close.push_back(slave);
  } else if (k0 != Kind::Closed) {
    int f = open(im.paths[0].c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0) f = open("/dev/null", O_RDONLY | O_CLOEXEC);
    child_fd[0] = f;
    to_close.push_back(f);
  }
  for (int fd = 1; fd <= 2; ++fd) {
    if (inv.primary) child_fd[fd] = im.kinds[fd] == Kind::Closed ? -1 : fd;
    else substitute_output(fd);
  }

  std::vector<std::string> args;
  args.push_back(inv.qemu);
  args.insert(args.end(), inv.options.begin(), inv.options.end());
  args.insert(args.end(), inv.argv.begin(), inv.argv.end());
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);

  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) die_errno("fork");
  if (pid == 0) {
    // Child: install the streams at 0..2 (via high fds so that no assignment clobbers another).
    int tmp[3];
    for (int fd = 0; fd < 3; ++fd) tmp[fd] = child_fd[fd] >= 0 ? fcntl(child_fd[fd], F_DUPFD_CLOEXEC, 10) : -1;
    for (int fd = 0; fd < 3; ++fd) {
      if (tmp[fd] >= 0) dup2(tmp[fd], fd);
      else close(fd);
    }
    sigaction(SIGPIPE, &im.saved_sigpipe, nullptr);
    if (inv.disable_aslr) personality(ADDR_NO_RANDOMIZE);
    execvp(cargs[0], cargs.data());
    const char msg[] = "xtu: cannot execute qemu\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  for (int f : to_close) close(f);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  auto t1 = std::chrono::steady_clock::now();
  // Stop the stdin forwarder (it may wait on input nobody will read) and drain the others.
  char one = 1;
  ssize_t ignored = write(stop_pipe[1], &one, 1);
  (void)ignored;
  for (std::thread& t : threads) t.join();
  close(stop_pipe[0]);
  close(stop_pipe[1]);
  for (const std::string& f : temp_files) unlink(f.c_str());

  QemuResult r;
  r.pid = pid;
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

std::string qemu_version(const std::string& qemu) {
  std::string cmd = qemu + " --version 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + qemu);
  char buf[256] = {};
  bool ok = std::fgets(buf, sizeof buf, p) != nullptr;
  int st = pclose(p);
  if (!ok || st != 0) throw std::runtime_error("cannot run '" + qemu + " --version': is QEMU installed?");
  std::string s = buf;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace xtu::capture
