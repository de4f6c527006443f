// Freestanding AArch64 program for xtu's hostcode unit-test fixtures: every TB shape the
// analysis library knows, in a log small enough to keep whole.
#include <arm_neon.h>
#include <arm_sve.h>

typedef unsigned long u64;

static long sys3(long nr, long a, long b, long c) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}

// libgcc's outline-atomics init references it; its constructor never runs here (no crt), so
// __aarch64_have_lse_atomics stays 0 and the helpers take the ldaxr/stlxr path.
unsigned long __getauxval(unsigned long type) { (void)type; return 0; }

static unsigned char src[256], dst[256];
static int counter;
static unsigned tls_area[16];

__attribute__((noinline)) int leaf(int x) { return x * 3 + 1; }           // ret
__attribute__((noinline)) int other(int x) { return x ^ 0x55; }           // ret
int (*volatile fp)(int) = leaf;                                           // blr
__attribute__((noinline)) int tail(int x) { return leaf(x + 1); }         // b (tail call)
__attribute__((noinline)) int tail_ptr(int x) { return fp(x + 2); }       // br

__attribute__((noinline)) int loop(int n) {                               // b.cond
  int s = 0;
  for (int i = 0; i < n; i++) s += (i ^ n) + leaf(i);                     // bl
  return s;
}

__attribute__((noinline)) void sve_copy(unsigned char* d, const unsigned char* s, long n) {
  for (long i = 0; i < n; i += (long)svcntb()) {                          // SVE helpers
    svbool_t pg = svwhilelt_b8_s64(i, n);
    svst1_u8(pg, d + i, svld1_u8(pg, s + i));
  }
}

__attribute__((noinline)) uint8x16_t neon_mix(uint8x16_t a, uint8x16_t b) {
  uint8x16_t k = vdupq_n_u8(0x5a);                                        // constant pool
  uint8x16_t m = vreinterpretq_u8_u64(vdupq_n_u64(0x0123456789abcdefull));
  return vbslq_u8(m, veorq_u8(a, k), vaddq_u8(b, k));                     // vpternlogq (EVEX)
}

__attribute__((noinline)) void set_tls(void* p) {                         // msr tpidr_el0
  __asm__ volatile("msr tpidr_el0, %0" ::"r"(p) : "memory");
}

__attribute__((noreturn)) void _start(void) {
  for (int i = 0; i < 24; i++) src[i] = (unsigned char)(i * 7);           // b.cond, constant-folded once
  set_tls(tls_area);
  int s = loop(3);
  for (int i = 0; i < 4; i++) s += fp(i), fp = (i & 1) ? leaf : other;
  s += tail(s) + tail_ptr(s);
  __atomic_fetch_add(&counter, s, __ATOMIC_ACQ_REL);                      // atomic
  int expected = counter;
  __atomic_compare_exchange_n(&counter, &expected, 7, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
  sve_copy(dst, src, 200);
  uint8x16_t v = neon_mix(vld1q_u8(src), vld1q_u8(dst));
  vst1q_u8(dst, v);
  sys3(64, 1, (long)"ok\n", 3);                                           // svc: write
  sys3(93, (dst[3] + counter) & 1, 0, 0);                                 // svc: exit
  __builtin_unreachable();
}
