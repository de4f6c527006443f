/* fileio: system-call heavy workload for xtu.
 *
 * In the directory given as argv[1] (default ".") it creates xtu-fileio.tmp,
 * writes fixed-size binary records with write(2), patches some of them after
 * lseek(2), reads everything back with read(2) and checks it; then rewrites the
 * file as text with fprintf, reads it back with fgets and fread, checks sizes
 * with fstat/stat, and finally unlinks it.  Results go to stdout through
 * printf and a few direct write(1, ...) calls.
 *
 * stdout gets a static, fully buffered stdio buffer so glibc never has to ask
 * what kind of file stdout is; the control flow is then the same for a
 * terminal, a regular file, a pipe or /dev/null (only write(2) results differ,
 * and they all succeed).  All file streams get static buffers too, so
 * st_blksize of the file system plays no part.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FIO_RECORDS
#define FIO_RECORDS 640
#endif
#ifndef FIO_LINES
#define FIO_LINES 320
#endif
#define FIO_BATCH 4      /* records per write(2) */
#define FIO_READ_CHUNK 256
#define FIO_FILE_NAME "xtu-fileio.tmp"

struct record {
    uint32_t id;
    uint32_t value;
    uint32_t check;
    char tag[20];
};
_Static_assert(sizeof(struct record) == 32, "record layout");

static char stdout_buf[4096];
static char write_buf[1024];
static char read_buf[512];
static char path[4096];
static struct record records[FIO_RECORDS];
static struct record batch[FIO_BATCH];
static unsigned char chunk[FIO_READ_CHUNK];
static char line[256];
static unsigned char fread_chunk[100];

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

static uint32_t rng = 0x6d2b79f5u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint32_t record_check(const struct record *r)
{
    uint32_t h = 2166136261u;
    const unsigned char *p = (const unsigned char *)r;
    for (size_t i = 0; i < offsetof(struct record, check); i++)
        h = (h ^ p[i]) * 16777619u;
    for (size_t i = 0; i < sizeof r->tag; i++)
        h = (h ^ (unsigned char)r->tag[i]) * 16777619u;
    return h;
}

static void make_record(struct record *r, uint32_t id)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
    memset(r, 0, sizeof *r);
    r->id = id;
    r->value = next_rand();
    uint32_t v = r->value;
    for (int i = 0; i < 19; i++) {
        r->tag[i] = letters[v % 26u];
        v = v / 26u + id * 7u + (uint32_t)i;
    }
    r->check = record_check(r);
}

static void fail(const char *what)
{
    int e = errno;
    printf("fileio: %s failed (errno %d)\n", what, e);
    exit(1);
}

static void say(const char *s)
{
    /* Keep the order of stdio and raw output the same for every kind of stdout. */
    fflush(stdout);
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0)
            fail("write");
        p += w;
        n -= (size_t)w;
    }
}

static uint32_t binary_phase(void)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail("open");
    for (uint32_t i = 0; i < FIO_RECORDS; i++)
        make_record(&records[i], i);
    for (int i = 0; i < FIO_RECORDS; i += FIO_BATCH) {
        int n = FIO_RECORDS - i < FIO_BATCH ? FIO_RECORDS - i : FIO_BATCH;
        memcpy(batch, &records[i], (size_t)n * sizeof batch[0]);
        write_all(fd, batch, (size_t)n * sizeof batch[0]);
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        fail("fstat");
    long long size1 = (long long)st.st_size;

    /* Patch every 7th record in place. */
    int patched = 0;
    for (uint32_t i = 3; i < FIO_RECORDS; i += 7) {
        records[i].value ^= 0xa5a5a5a5u;
        records[i].check = record_check(&records[i]);
        if (lseek(fd, (off_t)i * (off_t)sizeof(struct record), SEEK_SET) < 0)
            fail("lseek");
        write_all(fd, &records[i], sizeof records[i]);
        patched++;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0)
        fail("lseek end");

    /* Read everything back in fixed chunks and verify. */
    if (lseek(fd, 0, SEEK_SET) != 0)
        fail("lseek start");
    crc_init();
    uint32_t crc = 0xffffffffu;
    size_t total = 0;
    int bad = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0)
            fail("read");
        if (got == 0)
            break;
        for (ssize_t i = 0; i < got; i++)
            crc = crc_table[(crc ^ chunk[i]) & 0xffu] ^ (crc >> 8);
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct record) <= got; off += (ssize_t)sizeof(struct record)) {
            struct record r;
            memcpy(&r, chunk + off, sizeof r);
            size_t idx = (total + (size_t)off) / sizeof(struct record);
            if (r.check != record_check(&r) || idx >= FIO_RECORDS || r.value != records[idx].value)
                bad++;
        }
        total += (size_t)got;
    }
    if (close(fd) != 0)
        fail("close");
    crc ^= 0xffffffffu;
    printf("binary: records=%d size=%lld patched=%d end=%lld read=%zu bad=%d crc32=%08x\n",
           FIO_RECORDS, size1, patched, (long long)end, total, bad, (unsigned)crc);
    return crc;
}

static void text_phase(void)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fail("fopen w");
    if (setvbuf(f, write_buf, _IOFBF, sizeof write_buf) != 0)
        fail("setvbuf w");
    uint64_t expect = 0;
    for (int i = 0; i < FIO_LINES; i++) {
        const struct record *r = &records[(i * 37) % FIO_RECORDS];
        fprintf(f, "%05d %08x %-19.19s %u\n", i, (unsigned)r->value, r->tag, (unsigned)(r->id * 3u));
        expect += (uint64_t)r->value + r->id * 3u + (uint64_t)i;
    }
    if (fclose(f) != 0)
        fail("fclose w");

    struct stat st;
    if (stat(path, &st) != 0)
        fail("stat");

    f = fopen(path, "r");
    if (!f)
        fail("fopen r");
    if (setvbuf(f, read_buf, _IOFBF, sizeof read_buf) != 0)
        fail("setvbuf r");
    struct stat st2;
    if (fstat(fileno(f), &st2) != 0)
        fail("fstat r");
    uint64_t sum = 0;
    int lines = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line, *q;
        unsigned long n = strtoul(p, &q, 10);
        unsigned long v = strtoul(q, &q, 16);
        while (*q == ' ')
            q++;
        while (*q && *q != ' ')
            q++;
        unsigned long id3 = strtoul(q, &q, 10);
        if (*q != '\n' || n != (unsigned long)lines)
            bad++;
        sum += v + id3 + n;
        lines++;
    }
    if (ferror(f))
        fail("fgets");

    /* Second pass over the same stream: raw bytes through fread. */
    rewind(f);
    uint64_t h = 0xcbf29ce484222325ull;
    size_t bytes = 0, newlines = 0, got;
    while ((got = fread(fread_chunk, 1, sizeof fread_chunk, f)) > 0) {
        for (size_t i = 0; i < got; i++) {
            h = (h ^ fread_chunk[i]) * 0x100000001b3ull;
            newlines += fread_chunk[i] == '\n';
        }
        bytes += got;
    }
    if (fclose(f) != 0)
        fail("fclose r");
    printf("text: lines=%d bad=%d sums_match=%s size=%lld fstat=%lld fread=%zu newlines=%zu fnv=%016llx\n",
           lines, bad, sum == expect ? "yes" : "no", (long long)st.st_size, (long long)st2.st_size,
           bytes, newlines, (unsigned long long)h);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    const char *dir = argc > 1 ? argv[1] : ".";
    int n = snprintf(path, sizeof path, "%s/%s", dir, FIO_FILE_NAME);
    if (n < 0 || (size_t)n >= sizeof path) {
        printf("fileio: directory name too long\n");
        return 1;
    }
    say("fileio: start\n");
    uint32_t crc = binary_phase();
    say("fileio: binary phase done\n");
    text_phase();
    if (unlink(path) != 0)
        fail("unlink");
    int gone = access(path, F_OK) != 0 && errno == ENOENT;
    printf("cleanup: unlinked=%s crc-low-byte=%02x\n", gone ? "yes" : "no", (unsigned)(crc & 0xffu));
    say("fileio: done\n");
    return gone ? 0 : 1;
}
