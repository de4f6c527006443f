// Freestanding AArch64 program for xtu's hostcode unit tests: 66 load-acquires in one
// translation block. QEMU checks each access for 16-byte atomicity (a branch around a helper
// call; the first is decided at translation time), so the host code has 65 data-dependent
// branches in a row: 2^65 host paths to one exit.
#define LDAR "ldar w1, [x0]\n"
#define LDAR10 LDAR LDAR LDAR LDAR LDAR LDAR LDAR LDAR LDAR LDAR
static int word;
__attribute__((noreturn)) void _start(void) {
  register long x0 __asm__("x0") = (long)&word;
  register long x8 __asm__("x8") = 93;  // exit(0)
  __asm__ volatile(LDAR10 LDAR10 LDAR10 LDAR10 LDAR10 LDAR10 LDAR LDAR LDAR LDAR LDAR LDAR
                   "mov x0, #0\n"
                   "svc 0\n" ::"r"(x0), "r"(x8) : "x1", "memory");
  __builtin_unreachable();
}
