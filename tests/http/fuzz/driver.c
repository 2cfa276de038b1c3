/* driver.c - runs a libFuzzer target without libFuzzer, for CI and for
 * compilers without -fsanitize=fuzzer:
 *
 *   fuzz_X [-runs=N] [-seed=S] [-max_len=L] [-dict=FILE] FILE|DIR...
 *
 * Every file given (or found in a directory given) is run once, then N
 * (default 10000) inputs made by mutating them: byte flips, insertions,
 * deletions, duplications, splices of two inputs, dictionary tokens, cuts.
 * Deterministic for a given seed. A finding aborts (the target's choice),
 * so a non-zero exit or a sanitizer report is a failure. The replay of a
 * crash file found by libFuzzer is the same command with that file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
void fuzz_report(void) __attribute__((weak));

typedef struct input {
  uint8_t *d;
  size_t n;
} input;

static input *corpus;
static size_t ncorpus, capcorpus;
static input *dict;
static size_t ndict, capdict;
static uint64_t rng;

static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void add(input **v, size_t *n, size_t *cap, uint8_t *d, size_t len) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    *v = realloc(*v, *cap * sizeof **v);
    if (!*v) abort();
  }
  (*v)[(*n)++] = (input){d, len};
}

static int load(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  uint8_t *d = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      d = realloc(d, cap);
      if (!d) abort();
    }
    size_t r = fread(d + n, 1, cap - n, f);
    if (r == 0) break;
    n += r;
  }
  fclose(f);
  add(&corpus, &ncorpus, &capcorpus, d, n);
  return 0;
}

static void load_path(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    fprintf(stderr, "driver: %s: not found\n", path);
    exit(2);
  }
  if (!S_ISDIR(st.st_mode)) {
    load(path);
    return;
  }
  DIR *dir = opendir(path);
  struct dirent *e;
  while (dir && (e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    load(p);
  }
  if (dir) closedir(dir);
}

/* A libFuzzer dictionary: lines "name"="value" or "value", \xNN escapes. */
static void load_dict(const char *path) {
  FILE *f = fopen(path, "r");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    char *q = strchr(line, '"');
    if (!q || line[0] == '#') continue;
    uint8_t *d = malloc(strlen(q));
    size_t n = 0;
    for (q++; *q && *q != '"'; q++) {
      if (q[0] == '\\' && q[1] == 'x' && q[2] && q[3]) {
        char hex[3] = {q[2], q[3], 0};
        d[n++] = (uint8_t)strtol(hex, NULL, 16);
        q += 3;
      } else if (q[0] == '\\' && q[1]) {
        d[n++] = (uint8_t) * ++q;
      } else {
        d[n++] = (uint8_t)*q;
      }
    }
    add(&dict, &ndict, &capdict, d, n);
  }
  if (f) fclose(f);
}

static size_t mutate(uint8_t *out, size_t max, const input *a) {
  size_t n = a->n < max ? a->n : max;
  memcpy(out, a->d, n);
  int steps = 1 + (int)(next() % 4);
  for (int s = 0; s < steps; s++) {
    size_t pos = n ? next() % (n + 1) : 0;
    switch (next() % 8) {
    case 0: /* flip a byte */
      if (n) out[pos % n] = (uint8_t)next();
      break;
    case 1: /* flip a bit */
      if (n) out[pos % n] ^= (uint8_t)(1u << (next() % 8));
      break;
    case 2: { /* insert bytes */
      size_t k = 1 + next() % 4;
      if (n + k > max) break;
      memmove(out + pos + k, out + pos, n - pos);
      for (size_t i = 0; i < k; i++) out[pos + i] = (uint8_t) "\r\n :;,\t\"%/x0"[next() % 13];
      n += k;
      break;
    }
    case 3: { /* delete bytes */
      size_t k = 1 + next() % 8;
      if (pos + k > n) k = n - pos;
      memmove(out + pos, out + pos + k, n - pos - k);
      n -= k;
      break;
    }
    case 4: { /* dictionary token */
      if (!ndict) break;
      const input *t = &dict[next() % ndict];
      if (n + t->n > max) break;
      memmove(out + pos + t->n, out + pos, n - pos);
      memcpy(out + pos, t->d, t->n);
      n += t->n;
      break;
    }
    case 5: { /* splice another input's tail */
      const input *b = &corpus[next() % ncorpus];
      size_t from = b->n ? next() % b->n : 0;
      size_t k = b->n - from;
      if (pos + k > max) k = max - pos;
      memcpy(out + pos, b->d + from, k);
      n = pos + k;
      break;
    }
    case 6: { /* duplicate a slice */
      if (!n) break;
      size_t from = next() % n, k = 1 + next() % 16;
      if (from + k > n) k = n - from;
      if (n + k > max) break;
      memmove(out + pos + k, out + pos, n - pos);
      memmove(out + pos, out + (from >= pos ? from + k : from), k);
      n += k;
      break;
    }
    case 7: /* cut */ n = pos; break;
    }
  }
  return n;
}

int main(int argc, char **argv) {
  long runs = 10000;
  size_t max_len = 4096;
  rng = 0x9e3779b97f4a7c15ull;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "-runs=", 6) == 0)
      runs = atol(argv[i] + 6);
    else if (strncmp(argv[i], "-seed=", 6) == 0)
      rng = strtoull(argv[i] + 6, NULL, 0) | 1;
    else if (strncmp(argv[i], "-max_len=", 9) == 0)
      max_len = (size_t)atol(argv[i] + 9);
    else if (strncmp(argv[i], "-dict=", 6) == 0)
      load_dict(argv[i] + 6);
    else if (argv[i][0] == '-')
      ; /* other libFuzzer flags: ignored */
    else
      load_path(argv[i]);
  }
  if (!ncorpus) add(&corpus, &ncorpus, &capcorpus, calloc(1, 1), 0);
  clock_t t0 = clock();
  for (size_t i = 0; i < ncorpus; i++) LLVMFuzzerTestOneInput(corpus[i].d, corpus[i].n);
  uint8_t *buf = malloc(max_len);
  for (long r = 0; r < runs; r++) {
    size_t n = mutate(buf, max_len, &corpus[next() % ncorpus]);
    /* An exact-size heap copy lets ASan see reads past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
  }
  double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
  printf("driver: %zu corpus inputs, %ld mutated runs, %.2f s CPU\n", ncorpus, runs, cpu);
  if (fuzz_report) fuzz_report();
  free(buf);
  for (size_t i = 0; i < ncorpus; i++) free(corpus[i].d);
  for (size_t i = 0; i < ndict; i++) free(dict[i].d);
  free(corpus);
  free(dict);
  return 0;
}
