#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
static volatile int hits;
static char buf[4096];
static void on_alarm(int s) { (void)s; hits++; }
int main(void) {
  memset(buf, 'a', sizeof buf - 1);
  buf[1000] = 'x';
  size_t s = 0;
  for (int i = 0; i < 4; i++) { s += strlen(buf); s += (size_t)(strrchr(buf, 'x') - buf); }
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, 0);
  volatile unsigned long x = 0;
  while (hits < 3) { for (int i = 0; i < 1000; i++) x += i; }
  printf("%zu %d\n", s, hits);
  return 0;
}
