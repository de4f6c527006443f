/* A guest for the capture tests: dies of SIGSEGV (QEMU then kills itself with the signal). */
int main(void) { volatile int* p = (int*)16; return *p; }
