/* dispatch: indirect calls, returns and jump tables for xtu.
 *
 * - a table of function pointers indexed by PRNG output (blr through a table);
 * - recursion: Fibonacci, small Ackermann, mutual recursion, and a binary
 *   search tree built and walked recursively from a static node pool, with a
 *   visitor passed as a function pointer;
 * - a 32-way switch that gcc compiles into a jump table (br through a table);
 * - "virtual" method calls through structs of function pointers.
 * Nodes are referred to by index, never by address.
 */
#include <stdint.h>
#include <stdio.h>

#define NOINLINE __attribute__((noinline))

#ifndef DS_TABLE_CALLS
#define DS_TABLE_CALLS 16000
#endif
#ifndef DS_TREE_NODES
#define DS_TREE_NODES 700
#endif
#ifndef DS_SWITCH_CALLS
#define DS_SWITCH_CALLS 16000
#endif
#ifndef DS_SHAPES
#define DS_SHAPES 48
#endif
#ifndef DS_SHAPE_ROUNDS
#define DS_SHAPE_ROUNDS 40
#endif

static uint32_t rng = 0x2545F491u;

static uint32_t xorshift32(void)
{
    uint32_t x = rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng = x;
    return x;
}

/* ---------------- function-pointer table ---------------- */
typedef uint32_t (*binop_fn)(uint32_t, uint32_t);

static NOINLINE uint32_t f_add(uint32_t a, uint32_t b) { return a + b; }
static NOINLINE uint32_t f_sub(uint32_t a, uint32_t b) { return a - b; }
static NOINLINE uint32_t f_mul(uint32_t a, uint32_t b) { return a * (b | 1u); }
static NOINLINE uint32_t f_xor(uint32_t a, uint32_t b) { return a ^ b; }
static NOINLINE uint32_t f_rol(uint32_t a, uint32_t b) { unsigned s = b & 31u; return s ? (a << s) | (a >> (32 - s)) : a; }
static NOINLINE uint32_t f_ror(uint32_t a, uint32_t b) { unsigned s = b & 31u; return s ? (a >> s) | (a << (32 - s)) : a; }
static NOINLINE uint32_t f_min(uint32_t a, uint32_t b) { return a < b ? a : b; }
static NOINLINE uint32_t f_max(uint32_t a, uint32_t b) { return a > b ? a : b; }
static NOINLINE uint32_t f_avg(uint32_t a, uint32_t b) { return (a & b) + ((a ^ b) >> 1); }
static NOINLINE uint32_t f_div(uint32_t a, uint32_t b) { return a / ((b & 0xffu) + 1u); }
static NOINLINE uint32_t f_mod(uint32_t a, uint32_t b) { return a % ((b & 0xfffu) + 3u); }
static NOINLINE uint32_t f_popc(uint32_t a, uint32_t b)
{
    uint32_t x = a ^ b, n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return a + n;
}
static NOINLINE uint32_t f_andn(uint32_t a, uint32_t b) { return a & ~b; }
static NOINLINE uint32_t f_orr(uint32_t a, uint32_t b) { return a | (b >> 7); }
static NOINLINE uint32_t f_sq(uint32_t a, uint32_t b) { return a * a + b; }
static NOINLINE uint32_t f_mix(uint32_t a, uint32_t b) { return (a ^ (a >> 15)) * 0x2c1b3c6du + b; }

static binop_fn op_table[16] = {f_add, f_sub, f_mul, f_xor, f_rol,  f_ror,  f_min, f_max,
                                f_avg, f_div, f_mod, f_popc, f_andn, f_orr, f_sq,  f_mix};

static uint32_t run_table(void)
{
    uint32_t acc = 1;
    for (int i = 0; i < DS_TABLE_CALLS; i++) {
        uint32_t r = xorshift32();
        acc = op_table[r & 15u](acc, r >> 4);
    }
    return acc;
}

/* ---------------- recursion ---------------- */
static NOINLINE uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static NOINLINE uint32_t ackermann(uint32_t m, uint32_t n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static NOINLINE int is_odd(uint32_t n);
static NOINLINE int is_even(uint32_t n) { return n == 0 ? 1 : is_odd(n - 1); }
static NOINLINE int is_odd(uint32_t n) { return n == 0 ? 0 : is_even(n - 1); }

/* Binary search tree in a static pool; index 0 is "null". */
struct node {
    uint32_t key;
    uint32_t count;
    int left, right;
};
static struct node pool[DS_TREE_NODES + 1];
static int pool_used;

static NOINLINE int tree_insert(int t, uint32_t key)
{
    if (t == 0) {
        if (pool_used >= DS_TREE_NODES)
            return 0;
        int n = ++pool_used;
        pool[n].key = key;
        pool[n].count = 1;
        pool[n].left = pool[n].right = 0;
        return n;
    }
    if (key < pool[t].key)
        pool[t].left = tree_insert(pool[t].left, key);
    else if (key > pool[t].key)
        pool[t].right = tree_insert(pool[t].right, key);
    else
        pool[t].count++;
    return t;
}

typedef void (*visit_fn)(const struct node *, uint64_t *);
static NOINLINE void visit_sum(const struct node *n, uint64_t *acc) { *acc += (uint64_t)n->key * n->count; }
static NOINLINE void visit_hash(const struct node *n, uint64_t *acc) { *acc = (*acc ^ n->key) * 0x100000001b3ull; }
static NOINLINE void visit_count(const struct node *n, uint64_t *acc) { *acc += n->count; }

static NOINLINE void tree_walk(int t, visit_fn visit, uint64_t *acc)
{
    if (t == 0)
        return;
    tree_walk(pool[t].left, visit, acc);
    visit(&pool[t], acc);
    tree_walk(pool[t].right, visit, acc);
}

static NOINLINE int tree_height(int t)
{
    if (t == 0)
        return 0;
    int l = tree_height(pool[t].left), r = tree_height(pool[t].right);
    return 1 + (l > r ? l : r);
}

/* ---------------- jump-table switch ---------------- */
static NOINLINE uint32_t big_switch(uint32_t k, uint32_t x)
{
    switch (k & 31u) {
    case 0: return x + 0x11u;
    case 1: return x ^ 0x9e3779b9u;
    case 2: return x * 3u + 1u;
    case 3: return x >> 3;
    case 4: return x << 2;
    case 5: return ~x;
    case 6: return x - 0x1234u;
    case 7: return x * 0x01000193u;
    case 8: return (x << 7) | (x >> 25);
    case 9: return x & 0x0f0f0f0fu;
    case 10: return x | 0x80000001u;
    case 11: return x + (x >> 16);
    case 12: return x * x;
    case 13: return x / 7u;
    case 14: return x % 1000003u;
    case 15: return x ^ (x >> 11);
    case 16: return x + 0x5bd1e995u;
    case 17: return (x >> 13) | (x << 19);
    case 18: return x - (x >> 2);
    case 19: return x * 5u;
    case 20: return x ^ 0xdeadbeefu;
    case 21: return x + 77u;
    case 22: return x & 0xffff00ffu;
    case 23: return x * 0x85ebca6bu;
    case 24: return x ^ (x << 9);
    case 25: return x / 3u + 5u;
    case 26: return x - 999u;
    case 27: return x * 0xc2b2ae35u;
    case 28: return (x << 1) ^ 0x1021u;
    case 29: return x + (x << 4);
    case 30: return x | (x >> 1);
    default: return x ^ 0x31u;
    }
}

static uint32_t run_switch(void)
{
    uint32_t x = 7;
    for (int i = 0; i < DS_SWITCH_CALLS; i++)
        x = big_switch(xorshift32() >> 3, x);
    return x;
}

/* ---------------- "virtual" dispatch ---------------- */
struct shape;
struct shape_vtbl {
    int32_t (*area)(const struct shape *);
    int32_t (*perimeter)(const struct shape *);
    void (*scale)(struct shape *, int32_t);
    int kind;
};
struct shape {
    const struct shape_vtbl *vt;
    int32_t a, b;
};

static NOINLINE int32_t rect_area(const struct shape *s) { return s->a * s->b; }
static NOINLINE int32_t rect_perim(const struct shape *s) { return 2 * (s->a + s->b); }
static NOINLINE void rect_scale(struct shape *s, int32_t k) { s->a = s->a * k % 97 + 1; s->b = s->b * k % 89 + 1; }
static NOINLINE int32_t square_area(const struct shape *s) { return s->a * s->a; }
static NOINLINE int32_t square_perim(const struct shape *s) { return 4 * s->a; }
static NOINLINE void square_scale(struct shape *s, int32_t k) { s->a = s->a * k % 101 + 1; }
static NOINLINE int32_t tri_area(const struct shape *s) { return s->a * s->b / 2; }
static NOINLINE int32_t tri_perim(const struct shape *s)
{
    /* integer sqrt of a^2 + b^2 by Newton iteration */
    int32_t h2 = s->a * s->a + s->b * s->b, x = h2, y = (x + 1) / 2;
    while (y < x) {
        x = y;
        y = (x + h2 / x) / 2;
    }
    return s->a + s->b + x;
}
static NOINLINE void tri_scale(struct shape *s, int32_t k) { s->a = (s->a + k) % 83 + 1; s->b = (s->b * k) % 79 + 1; }
static NOINLINE int32_t circ_area(const struct shape *s) { return 355 * s->a * s->a / 113; }
static NOINLINE int32_t circ_perim(const struct shape *s) { return 710 * s->a / 113; }
static NOINLINE void circ_scale(struct shape *s, int32_t k) { s->a = (s->a * k + 3) % 61 + 1; }

static const struct shape_vtbl rect_vt = {rect_area, rect_perim, rect_scale, 0};
static const struct shape_vtbl square_vt = {square_area, square_perim, square_scale, 1};
static const struct shape_vtbl tri_vt = {tri_area, tri_perim, tri_scale, 2};
static const struct shape_vtbl circ_vt = {circ_area, circ_perim, circ_scale, 3};
static const struct shape_vtbl *const vtables[4] = {&rect_vt, &square_vt, &tri_vt, &circ_vt};

static struct shape shapes[DS_SHAPES];

static uint64_t run_shapes(int kind_counts[4])
{
    for (int i = 0; i < DS_SHAPES; i++) {
        uint32_t r = xorshift32();
        shapes[i].vt = vtables[r & 3u];
        shapes[i].a = (int32_t)((r >> 2) % 50u) + 1;
        shapes[i].b = (int32_t)((r >> 9) % 50u) + 1;
        kind_counts[shapes[i].vt->kind]++;
    }
    uint64_t total = 0;
    for (int round = 0; round < DS_SHAPE_ROUNDS; round++) {
        for (int i = 0; i < DS_SHAPES; i++) {
            struct shape *s = &shapes[i];
            total += (uint64_t)s->vt->area(s) + 3u * (uint64_t)s->vt->perimeter(s);
            s->vt->scale(s, round % 7 + 2);
        }
    }
    return total;
}

/* A static, fully buffered stdout: glibc then never checks what kind of file
 * stdout is, so the control flow is the same for a terminal, file, pipe or
 * /dev/null. */
static char stdout_buf[1024];

int main(void)
{
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    uint32_t table_acc = run_table();

    uint32_t fibs = 0;
    for (uint32_t n = 10; n <= 16; n++)
        fibs += fib(n);
    uint32_t ack = ackermann(2, 40) + ackermann(3, 3);
    int parity = is_even(300) * 2 + is_odd(301);

    int root = 0;
    for (int i = 0; i < DS_TREE_NODES; i++)
        root = tree_insert(root, xorshift32() % (DS_TREE_NODES * 2u));
    uint64_t sum = 0, hash = 0xcbf29ce484222325ull, count = 0;
    tree_walk(root, visit_sum, &sum);
    tree_walk(root, visit_hash, &hash);
    tree_walk(root, visit_count, &count);
    int height = tree_height(root);

    uint32_t sw = run_switch();
    int kinds[4] = {0, 0, 0, 0};
    uint64_t shape_total = run_shapes(kinds);

    printf("dispatch: table=%08x fibs=%u ack=%u parity=%d\n", (unsigned)table_acc, (unsigned)fibs,
           (unsigned)ack, parity);
    printf("tree: nodes=%d height=%d sum=%llu count=%llu hash=%016llx\n", pool_used, height,
           (unsigned long long)sum, (unsigned long long)count, (unsigned long long)hash);
    printf("switch=%08x shapes=%llu kinds=%d/%d/%d/%d\n", (unsigned)sw,
           (unsigned long long)shape_total, kinds[0], kinds[1], kinds[2], kinds[3]);
    return 0;
}
