/* A guest for the capture tests: reads stdin and branches on every byte, so its control flow
 * (and QEMU's block sequence) depends on the exact input it gets. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static char buf[4096];
  unsigned lines = 0, words = 0, digits = 0, sum = 0;
  int in_word = 0;
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      char c = buf[i];
      if (c == '\n') ++lines;
      if (c >= '0' && c <= '9') { ++digits; sum = sum * 31 + (unsigned)(c - '0'); }
      if (c == ' ' || c == '\n') in_word = 0;
      else if (!in_word) { in_word = 1; ++words; }
    }
  }
  printf("lines=%u words=%u digits=%u sum=%u\n", lines, words, digits, sum);
  return 0;
}
