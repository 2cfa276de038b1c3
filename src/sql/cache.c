/* cache.c - the per-connection prepared-statement cache: SQL text ->
 * driver statement, least recently used evicted first. */
#include "sql_internal.h"

static uint64_t hash(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

void cio__sql_cache_init(cio__sql_cache *c, int cap, void (*evict)(void *, cio__sql_centry *),
                         void *ctx) {
  memset(c, 0, sizeof *c);
  c->cap = cap;
  c->evict = evict;
  c->ctx = ctx;
  cio__sql_list_init(&c->lru);
}

cio__sql_centry *cio__sql_cache_get(cio__sql_cache *c, const char *key, size_t len) {
  if (!c->buckets) return NULL;
  uint64_t h = hash(key, len);
  for (cio__sql_centry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->chain) {
    if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
      if (c->lru.next != &e->lru) {
        cio__sql_list_remove(&e->lru);
        cio__sql_list_push_front(&c->lru, &e->lru);
      }
      return e;
    }
  }
  return NULL;
}

static void unlink_entry(cio__sql_cache *c, cio__sql_centry *e) {
  cio__sql_centry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp != e) pp = &(*pp)->chain;
  *pp = e->chain;
  cio__sql_list_remove(&e->lru);
  c->count--;
}

void cio__sql_cache_remove(cio__sql_cache *c, cio__sql_centry *e) {
  unlink_entry(c, e);
  free(e);
}

cio__sql_centry *cio__sql_cache_put(cio__sql_cache *c, const char *key, size_t len, void *stmt) {
  if (c->cap <= 0) return NULL;
  if (!c->buckets) {
    size_t n = 16;
    while (n < (size_t)c->cap * 2) n *= 2;
    if (!(c->buckets = calloc(n, sizeof *c->buckets))) return NULL;
    c->nbuckets = n;
  }
  cio__sql_centry *e = malloc(sizeof *e + len + 1);
  if (!e) return NULL;
  if (c->count >= (size_t)c->cap) {
    cio__sql_centry *old = cio__sql_container(c->lru.prev, cio__sql_centry, lru);
    unlink_entry(c, old);
    if (c->evict) c->evict(c->ctx, old);
    free(old);
  }
  e->hash = hash(key, len);
  e->len = len;
  e->stmt = stmt;
  e->id = ++c->next_id;
  memcpy(e->key, key, len);
  e->key[len] = '\0';
  cio__sql_centry **b = &c->buckets[e->hash & (c->nbuckets - 1)];
  e->chain = *b;
  *b = e;
  cio__sql_list_push_front(&c->lru, &e->lru);
  c->count++;
  return e;
}

void cio__sql_cache_clear(cio__sql_cache *c) {
  while (!cio__sql_list_empty(&c->lru)) {
    cio__sql_centry *e = cio__sql_container(c->lru.next, cio__sql_centry, lru);
    unlink_entry(c, e);
    if (c->evict) c->evict(c->ctx, e);
    free(e);
  }
  free(c->buckets);
  c->buckets = NULL;
  c->nbuckets = 0;
}
