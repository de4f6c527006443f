/* bytecode: a branchy, switch-dispatched stack-machine interpreter for xtu.
 *
 * A tiny assembler (with label fix-ups) builds a byte-code program at start-up;
 * the interpreter then runs it.  The program computes a sieve of primes, the
 * longest Collatz chain below a bound (via a VM subroutine), a sum of gcds
 * (recursive VM calls) and a recursive Fibonacci number.  All state is in
 * static arrays.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef BC_SIEVE_N
#define BC_SIEVE_N 700
#endif
#ifndef BC_COLLATZ_N
#define BC_COLLATZ_N 60
#endif
#ifndef BC_GCD_N
#define BC_GCD_N 15
#endif
#ifndef BC_FIB_N
#define BC_FIB_N 11
#endif

enum opcode {
    OP_HALT,
    OP_PUSH,  /* imm32: push constant */
    OP_POP,
    OP_DUP,
    OP_SWAP,
    OP_OVER,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_AND,
    OP_OR,
    OP_XOR,
    OP_SHL,
    OP_SHR,
    OP_NEG,
    OP_NOT,   /* logical not */
    OP_LT,
    OP_LE,
    OP_EQ,
    OP_NE,
    OP_GT,
    OP_JMP,   /* abs16 */
    OP_JZ,    /* abs16: pop, jump if zero */
    OP_JNZ,   /* abs16: pop, jump if non-zero */
    OP_CALL,  /* abs16, u8 nargs */
    OP_RET,   /* pop result, drop frame, push result */
    OP_ENTER, /* u8 nlocals: push zeroed locals */
    OP_LDL,   /* u8 slot: push frame slot */
    OP_STL,   /* u8 slot: pop into frame slot */
    OP_LDG,   /* u16 index: push global */
    OP_STG,   /* u16 index: pop into global */
    OP_LDM,   /* pop address, push memory word */
    OP_STM,   /* pop value, pop address, store */
    OP_INC,
    OP_DEC,
    OP_ODD,   /* replace top with its low bit */
    OP_OUT,   /* pop value into the output record */
    OP_COUNT
};

#define CODE_MAX 2048
#define MAX_LABELS 64
#define MAX_FIXUPS 128
#define STACK_MAX 512
#define FRAMES_MAX 128
#define GLOBALS 16
#define MEMORY_WORDS 4096
#define OUT_MAX 16

static uint8_t code[CODE_MAX];
static int code_len;
static int label_pos[MAX_LABELS];
static struct { int at, label; } fixups[MAX_FIXUPS];
static int n_fixups;

static int64_t stack[STACK_MAX];
static struct { int ret_pc, fp; } frames[FRAMES_MAX];
static int64_t globals[GLOBALS];
static int64_t memory[MEMORY_WORDS];
static int64_t out_values[OUT_MAX];
static int n_out;
static uint64_t op_counts[OP_COUNT];

static void die(const char *msg)
{
    printf("bytecode: %s\n", msg);
    exit(2);
}

static void emit8(int v)
{
    if (code_len >= CODE_MAX)
        die("code overflow");
    code[code_len++] = (uint8_t)v;
}
static void emit16(int v)
{
    emit8(v & 0xff);
    emit8((v >> 8) & 0xff);
}
static void op(enum opcode o) { emit8(o); }
static void push(int32_t v)
{
    emit8(OP_PUSH);
    emit16((int)((uint32_t)v & 0xffff));
    emit16((int)((uint32_t)v >> 16));
}
static void label(int l) { label_pos[l] = code_len; }
static void jump(enum opcode o, int l)
{
    emit8(o);
    if (n_fixups >= MAX_FIXUPS)
        die("too many fixups");
    fixups[n_fixups].at = code_len;
    fixups[n_fixups].label = l;
    n_fixups++;
    emit16(0);
}
static void call(int l, int nargs)
{
    jump(OP_CALL, l);
    emit8(nargs);
}
static void op8(enum opcode o, int v)
{
    emit8(o);
    emit8(v);
}
static void op16(enum opcode o, int v)
{
    emit8(o);
    emit16(v);
}
static void resolve(void)
{
    for (int i = 0; i < n_fixups; i++) {
        int p = label_pos[fixups[i].label];
        if (p < 0)
            die("undefined label");
        code[fixups[i].at] = (uint8_t)(p & 0xff);
        code[fixups[i].at + 1] = (uint8_t)(p >> 8);
    }
}

enum {
    L_SIEVE_OUTER, L_SIEVE_INNER, L_SIEVE_NEXT, L_SIEVE_DONE, L_COUNT_LOOP, L_COUNT_SKIP,
    L_COUNT_DONE, L_COLLATZ_LOOP, L_COLLATZ_NOBEST, L_COLLATZ_DONE, L_GCD_OUTER, L_GCD_INNER,
    L_GCD_INNER_DONE, L_GCD_DONE, F_CLEN, F_CLEN_LOOP, F_CLEN_ODD, F_CLEN_STEP, F_CLEN_DONE,
    F_GCD, F_GCD_BASE, F_FIB, F_FIB_BASE, L_COUNT
};

/* Globals */
enum { G_I, G_J, G_COUNT, G_SUM, G_BEST, G_BESTN, G_TOTAL, G_A, G_B };

static void assemble(void)
{
    for (int i = 0; i < MAX_LABELS; i++)
        label_pos[i] = -1;

    /* ---- sieve: memory[i] = 1 marks composite ---- */
    push(2); op16(OP_STG, G_I);
    label(L_SIEVE_OUTER);
    op16(OP_LDG, G_I); op(OP_DUP); op(OP_MUL); push(BC_SIEVE_N); op(OP_GT); jump(OP_JNZ, L_SIEVE_DONE);
    op16(OP_LDG, G_I); op(OP_LDM); jump(OP_JNZ, L_SIEVE_NEXT);
    op16(OP_LDG, G_I); op(OP_DUP); op(OP_MUL); op16(OP_STG, G_J);
    label(L_SIEVE_INNER);
    op16(OP_LDG, G_J); push(BC_SIEVE_N); op(OP_GT); jump(OP_JNZ, L_SIEVE_NEXT);
    op16(OP_LDG, G_J); push(1); op(OP_STM);
    op16(OP_LDG, G_J); op16(OP_LDG, G_I); op(OP_ADD); op16(OP_STG, G_J);
    jump(OP_JMP, L_SIEVE_INNER);
    label(L_SIEVE_NEXT);
    op16(OP_LDG, G_I); op(OP_INC); op16(OP_STG, G_I);
    jump(OP_JMP, L_SIEVE_OUTER);
    label(L_SIEVE_DONE);
    /* count and sum primes */
    push(0); op16(OP_STG, G_COUNT); push(0); op16(OP_STG, G_SUM);
    push(2); op16(OP_STG, G_I);
    label(L_COUNT_LOOP);
    op16(OP_LDG, G_I); push(BC_SIEVE_N); op(OP_LE); jump(OP_JZ, L_COUNT_DONE);
    op16(OP_LDG, G_I); op(OP_LDM); push(0); op(OP_EQ); jump(OP_JZ, L_COUNT_SKIP);
    op16(OP_LDG, G_COUNT); op(OP_INC); op16(OP_STG, G_COUNT);
    op16(OP_LDG, G_SUM); op16(OP_LDG, G_I); op(OP_ADD); op16(OP_STG, G_SUM);
    label(L_COUNT_SKIP);
    op16(OP_LDG, G_I); op(OP_INC); op16(OP_STG, G_I);
    jump(OP_JMP, L_COUNT_LOOP);
    label(L_COUNT_DONE);
    op16(OP_LDG, G_COUNT); op(OP_OUT);
    op16(OP_LDG, G_SUM); op(OP_OUT);

    /* ---- longest Collatz chain for 1..BC_COLLATZ_N ---- */
    push(0); op16(OP_STG, G_BEST); push(0); op16(OP_STG, G_BESTN); push(0); op16(OP_STG, G_TOTAL);
    push(1); op16(OP_STG, G_I);
    label(L_COLLATZ_LOOP);
    op16(OP_LDG, G_I); push(BC_COLLATZ_N); op(OP_GT); jump(OP_JNZ, L_COLLATZ_DONE);
    op16(OP_LDG, G_I); call(F_CLEN, 1);
    op(OP_DUP); op16(OP_LDG, G_TOTAL); op(OP_ADD); op16(OP_STG, G_TOTAL);
    op(OP_DUP); op16(OP_LDG, G_BEST); op(OP_GT); jump(OP_JZ, L_COLLATZ_NOBEST);
    op(OP_DUP); op16(OP_STG, G_BEST); op16(OP_LDG, G_I); op16(OP_STG, G_BESTN);
    label(L_COLLATZ_NOBEST);
    op(OP_POP);
    op16(OP_LDG, G_I); op(OP_INC); op16(OP_STG, G_I);
    jump(OP_JMP, L_COLLATZ_LOOP);
    label(L_COLLATZ_DONE);
    op16(OP_LDG, G_BESTN); op(OP_OUT);
    op16(OP_LDG, G_BEST); op(OP_OUT);
    op16(OP_LDG, G_TOTAL); op(OP_OUT);

    /* ---- sum of gcd(a, b) * (a xor b) for 1 <= a, b <= BC_GCD_N ---- */
    push(0); op16(OP_STG, G_TOTAL);
    push(1); op16(OP_STG, G_A);
    label(L_GCD_OUTER);
    op16(OP_LDG, G_A); push(BC_GCD_N); op(OP_GT); jump(OP_JNZ, L_GCD_DONE);
    push(1); op16(OP_STG, G_B);
    label(L_GCD_INNER);
    op16(OP_LDG, G_B); push(BC_GCD_N); op(OP_GT); jump(OP_JNZ, L_GCD_INNER_DONE);
    op16(OP_LDG, G_A); op16(OP_LDG, G_B); call(F_GCD, 2);
    op16(OP_LDG, G_A); op16(OP_LDG, G_B); op(OP_XOR); op(OP_MUL);
    op16(OP_LDG, G_TOTAL); op(OP_ADD); op16(OP_STG, G_TOTAL);
    op16(OP_LDG, G_B); op(OP_INC); op16(OP_STG, G_B);
    jump(OP_JMP, L_GCD_INNER);
    label(L_GCD_INNER_DONE);
    op16(OP_LDG, G_A); op(OP_INC); op16(OP_STG, G_A);
    jump(OP_JMP, L_GCD_OUTER);
    label(L_GCD_DONE);
    op16(OP_LDG, G_TOTAL); op(OP_OUT);

    /* ---- fib(BC_FIB_N), recursive; mix in some bit ops ---- */
    push(BC_FIB_N); call(F_FIB, 1); op(OP_OUT);
    push(0x5a5a); push(3); op(OP_SHL); push(0xff0); op(OP_AND); push(0x0f); op(OP_OR);
    push(2); op(OP_SHR); op(OP_NEG); push(7); op(OP_DIV); push(1000); op(OP_MOD);
    push(3); op(OP_SUB); push(5); op(OP_SWAP); op(OP_OVER); op(OP_MUL); op(OP_ADD);
    op(OP_DUP); op(OP_NOT); op(OP_ADD); op(OP_DEC); op(OP_OUT);
    op(OP_HALT);

    /* ---- clen(n): number of Collatz steps from n to 1 ---- */
    label(F_CLEN);
    op8(OP_ENTER, 1); /* slot 0 = n, slot 1 = steps */
    label(F_CLEN_LOOP);
    op8(OP_LDL, 0); push(1); op(OP_NE); jump(OP_JZ, F_CLEN_DONE);
    op8(OP_LDL, 0); op(OP_ODD); jump(OP_JNZ, F_CLEN_ODD);
    op8(OP_LDL, 0); push(1); op(OP_SHR); op8(OP_STL, 0);
    jump(OP_JMP, F_CLEN_STEP);
    label(F_CLEN_ODD);
    op8(OP_LDL, 0); push(3); op(OP_MUL); op(OP_INC); op8(OP_STL, 0);
    label(F_CLEN_STEP);
    op8(OP_LDL, 1); op(OP_INC); op8(OP_STL, 1);
    jump(OP_JMP, F_CLEN_LOOP);
    label(F_CLEN_DONE);
    op8(OP_LDL, 1); op(OP_RET);

    /* ---- gcd(a, b) = b == 0 ? a : gcd(b, a % b) ---- */
    label(F_GCD);
    op8(OP_LDL, 1); op(OP_NOT); jump(OP_JNZ, F_GCD_BASE);
    op8(OP_LDL, 1); op8(OP_LDL, 0); op8(OP_LDL, 1); op(OP_MOD); call(F_GCD, 2); op(OP_RET);
    label(F_GCD_BASE);
    op8(OP_LDL, 0); op(OP_RET);

    /* ---- fib(n) = n < 2 ? n : fib(n-1) + fib(n-2) ---- */
    label(F_FIB);
    op8(OP_LDL, 0); push(2); op(OP_LT); jump(OP_JNZ, F_FIB_BASE);
    op8(OP_LDL, 0); op(OP_DEC); call(F_FIB, 1);
    op8(OP_LDL, 0); push(2); op(OP_SUB); call(F_FIB, 1);
    op(OP_ADD); op(OP_RET);
    label(F_FIB_BASE);
    op8(OP_LDL, 0); op(OP_RET);

    resolve();
}

static inline int rd16(int pc) { return code[pc] | (code[pc + 1] << 8); }

static uint64_t run(void)
{
    int pc = 0, sp = 0, fp = 0, nframes = 0;
    uint64_t steps = 0;
#define NEED(n) do { if (sp < (n)) die("stack underflow"); } while (0)
#define ROOM(n) do { if (sp + (n) > STACK_MAX) die("stack overflow"); } while (0)
#define BINOP(expr) do { NEED(2); int64_t b = stack[--sp]; int64_t a = stack[sp - 1]; \
                         stack[sp - 1] = (expr); } while (0)
    for (;;) {
        if (pc < 0 || pc >= code_len)
            die("pc out of range");
        uint8_t o = code[pc++];
        steps++;
        op_counts[o < OP_COUNT ? o : 0]++;
        switch (o) {
        case OP_HALT:
            return steps;
        case OP_PUSH:
            ROOM(1);
            stack[sp++] = (int32_t)((uint32_t)rd16(pc) | ((uint32_t)rd16(pc + 2) << 16));
            pc += 4;
            break;
        case OP_POP: NEED(1); sp--; break;
        case OP_DUP: NEED(1); ROOM(1); stack[sp] = stack[sp - 1]; sp++; break;
        case OP_SWAP: {
            NEED(2);
            int64_t t = stack[sp - 1];
            stack[sp - 1] = stack[sp - 2];
            stack[sp - 2] = t;
            break;
        }
        case OP_OVER: NEED(2); ROOM(1); stack[sp] = stack[sp - 2]; sp++; break;
        case OP_ADD: BINOP(a + b); break;
        case OP_SUB: BINOP(a - b); break;
        case OP_MUL: BINOP(a * b); break;
        case OP_DIV: BINOP(b ? a / b : 0); break;
        case OP_MOD: BINOP(b ? a % b : 0); break;
        case OP_AND: BINOP(a & b); break;
        case OP_OR: BINOP(a | b); break;
        case OP_XOR: BINOP(a ^ b); break;
        case OP_SHL: BINOP((int64_t)((uint64_t)a << (b & 63))); break;
        case OP_SHR: BINOP(a >> (b & 63)); break;
        case OP_NEG: NEED(1); stack[sp - 1] = -stack[sp - 1]; break;
        case OP_NOT: NEED(1); stack[sp - 1] = !stack[sp - 1]; break;
        case OP_LT: BINOP(a < b); break;
        case OP_LE: BINOP(a <= b); break;
        case OP_EQ: BINOP(a == b); break;
        case OP_NE: BINOP(a != b); break;
        case OP_GT: BINOP(a > b); break;
        case OP_JMP: pc = rd16(pc); break;
        case OP_JZ:
            NEED(1);
            pc = stack[--sp] == 0 ? rd16(pc) : pc + 2;
            break;
        case OP_JNZ:
            NEED(1);
            pc = stack[--sp] != 0 ? rd16(pc) : pc + 2;
            break;
        case OP_CALL: {
            int nargs = code[pc + 2];
            NEED(nargs);
            if (nframes >= FRAMES_MAX)
                die("call stack overflow");
            frames[nframes].ret_pc = pc + 3;
            frames[nframes].fp = fp;
            nframes++;
            fp = sp - nargs;
            pc = rd16(pc);
            break;
        }
        case OP_RET: {
            NEED(1);
            if (nframes == 0)
                die("return without call");
            int64_t r = stack[--sp];
            sp = fp;
            nframes--;
            pc = frames[nframes].ret_pc;
            fp = frames[nframes].fp;
            stack[sp++] = r;
            break;
        }
        case OP_ENTER: {
            int n = code[pc++];
            ROOM(n);
            while (n-- > 0)
                stack[sp++] = 0;
            break;
        }
        case OP_LDL: ROOM(1); stack[sp++] = stack[fp + code[pc++]]; break;
        case OP_STL: NEED(1); stack[fp + code[pc++]] = stack[--sp]; break;
        case OP_LDG: ROOM(1); stack[sp++] = globals[rd16(pc) % GLOBALS]; pc += 2; break;
        case OP_STG: NEED(1); globals[rd16(pc) % GLOBALS] = stack[--sp]; pc += 2; break;
        case OP_LDM:
            NEED(1);
            stack[sp - 1] = memory[(uint64_t)stack[sp - 1] % MEMORY_WORDS];
            break;
        case OP_STM: {
            NEED(2);
            int64_t v = stack[--sp];
            int64_t a = stack[--sp];
            memory[(uint64_t)a % MEMORY_WORDS] = v;
            break;
        }
        case OP_INC: NEED(1); stack[sp - 1]++; break;
        case OP_DEC: NEED(1); stack[sp - 1]--; break;
        case OP_ODD: NEED(1); stack[sp - 1] &= 1; break;
        case OP_OUT:
            NEED(1);
            if (n_out < OUT_MAX)
                out_values[n_out++] = stack[sp - 1];
            sp--;
            break;
        default:
            die("bad opcode");
        }
    }
#undef NEED
#undef ROOM
#undef BINOP
}

/* A static, fully buffered stdout: glibc then never checks what kind of file
 * stdout is, so the control flow is the same for a terminal, file, pipe or
 * /dev/null. */
static char stdout_buf[1024];

int main(void)
{
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    assemble();
    uint64_t steps = run();
    int used = 0;
    for (int i = 0; i < OP_COUNT; i++)
        used += op_counts[i] != 0;
    printf("bytecode: %d bytes of code, %llu instructions, %d/%d opcodes used\n", code_len,
           (unsigned long long)steps, used, (int)OP_COUNT);
    if (n_out < 8)
        die("missing outputs");
    printf("primes<=%d: count=%lld sum=%lld\n", BC_SIEVE_N, (long long)out_values[0],
           (long long)out_values[1]);
    printf("collatz<=%d: longest n=%lld steps=%lld total=%lld\n", BC_COLLATZ_N,
           (long long)out_values[2], (long long)out_values[3], (long long)out_values[4]);
    printf("gcd-xor sum<=%d: %lld fib(%d)=%lld mix=%lld\n", BC_GCD_N, (long long)out_values[5],
           BC_FIB_N, (long long)out_values[6], (long long)out_values[7]);
    return 0;
}
