/* hashsort: a deterministic compute kernel for xtu.
 *
 * Generates data with a fixed-seed xorshift PRNG, hashes it (FNV-1a and a
 * table-driven CRC32), sorts it (quicksort with an insertion-sort cutoff,
 * and a bottom-up mergesort that must agree), then runs binary searches.
 * Everything lives in static arrays: no heap, no addresses in the data.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef HS_N
#define HS_N 3000 /* number of 32-bit elements */
#endif
#ifndef HS_SEARCHES
#define HS_SEARCHES 1500
#endif
#define HS_INSERTION_CUTOFF 12

static uint32_t data[HS_N];
static uint32_t sorted_q[HS_N];
static uint32_t sorted_m[HS_N];
static uint32_t scratch[HS_N];
static uint32_t crc_table[256];

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t xorshift64(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_bytes(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint64_t fnv1a_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Serialises words little-endian so the hashes do not depend on host layout. */
static uint32_t crc32_words(const uint32_t *w, size_t n)
{
    static unsigned char buf[4 * HS_N];
    for (size_t i = 0; i < n; i++) {
        buf[4 * i + 0] = (unsigned char)(w[i]);
        buf[4 * i + 1] = (unsigned char)(w[i] >> 8);
        buf[4 * i + 2] = (unsigned char)(w[i] >> 16);
        buf[4 * i + 3] = (unsigned char)(w[i] >> 24);
    }
    return crc32_bytes(buf, 4 * n);
}

static void insertion_sort(uint32_t *a, int lo, int hi)
{
    for (int i = lo + 1; i <= hi; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static uint32_t median3(uint32_t a, uint32_t b, uint32_t c)
{
    if (a < b) {
        if (b < c)
            return b;
        return a < c ? c : a;
    }
    if (a < c)
        return a;
    return b < c ? c : b;
}

static void quicksort(uint32_t *a, int lo, int hi)
{
    while (hi - lo > HS_INSERTION_CUTOFF) {
        uint32_t pivot = median3(a[lo], a[lo + (hi - lo) / 2], a[hi]);
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        /* Recurse into the smaller half, loop on the larger one. */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
    insertion_sort(a, lo, hi);
}

static void mergesort_bottom_up(uint32_t *a, uint32_t *tmp, int n)
{
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n;
            int hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, (size_t)n * sizeof a[0]);
    }
}

/* Index of the first element >= key, or n. */
static int lower_bound(const uint32_t *a, int n, uint32_t key)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A static, fully buffered stdout: glibc then never checks what kind of file
 * stdout is, so the control flow is the same for a terminal, file, pipe or
 * /dev/null. */
static char stdout_buf[1024];

int main(void)
{
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    crc32_init();
    for (int i = 0; i < HS_N; i++) {
        /* Narrow range so that duplicates occur and searches both hit and miss. */
        data[i] = (uint32_t)(xorshift64() >> 40) % (HS_N * 4u);
    }

    uint64_t fnv = fnv1a_bytes((const unsigned char *)"xtu-hashsort", 12);
    for (int i = 0; i < HS_N; i++) {
        unsigned char b[4] = {(unsigned char)data[i], (unsigned char)(data[i] >> 8),
                              (unsigned char)(data[i] >> 16), (unsigned char)(data[i] >> 24)};
        fnv ^= fnv1a_bytes(b, 4) + (uint64_t)i;
    }
    uint32_t crc_in = crc32_words(data, HS_N);

    memcpy(sorted_q, data, sizeof data);
    memcpy(sorted_m, data, sizeof data);
    quicksort(sorted_q, 0, HS_N - 1);
    mergesort_bottom_up(sorted_m, scratch, HS_N);

    int ordered = 1;
    for (int i = 1; i < HS_N; i++)
        if (sorted_q[i - 1] > sorted_q[i])
            ordered = 0;
    int agree = memcmp(sorted_q, sorted_m, sizeof sorted_q) == 0;
    uint32_t crc_sorted = crc32_words(sorted_q, HS_N);

    unsigned hits = 0;
    uint64_t pos_sum = 0;
    for (int s = 0; s < HS_SEARCHES; s++) {
        uint32_t key = (uint32_t)(xorshift64() >> 40) % (HS_N * 4u);
        int p = lower_bound(sorted_q, HS_N, key);
        if (p < HS_N && sorted_q[p] == key)
            hits++;
        pos_sum += (uint64_t)p;
    }

    printf("hashsort n=%d searches=%d\n", HS_N, HS_SEARCHES);
    printf("fnv1a=%016llx crc32_in=%08x crc32_sorted=%08x\n", (unsigned long long)fnv,
           (unsigned)crc_in, (unsigned)crc_sorted);
    printf("sorted=%s mergesort_agrees=%s min=%u max=%u median=%u\n", ordered ? "yes" : "no",
           agree ? "yes" : "no", (unsigned)sorted_q[0], (unsigned)sorted_q[HS_N - 1],
           (unsigned)sorted_q[HS_N / 2]);
    printf("search hits=%u pos_sum=%llu\n", hits, (unsigned long long)pos_sum);
    return (ordered && agree) ? 0 : 1;
}
