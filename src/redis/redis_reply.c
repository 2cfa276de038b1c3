/* redis_reply.c - reply memory: blocks, free, copy, lookups
 * (cio/redis_reply.h). */
#include "resp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One allocation per reply: this header, then the nodes (then, for a copy,
 * the strings). The root is node[0]; freeing finds the header from it. */
typedef struct reply_block {
  cio__resp_buf *pin; /* the connection buffer the strings point into */
  size_t nodes;
  cio_redis_reply node[];
} reply_block;

static reply_block *block_of(cio_redis_reply *root) {
  return (reply_block *)(void *)((char *)root - offsetof(reply_block, node));
}

static reply_block *block_alloc(size_t n, size_t extra) {
  if (n > (SIZE_MAX - sizeof(reply_block) - extra) / sizeof(cio_redis_reply)) return NULL;
  reply_block *b = cio__malloc(sizeof *b + n * sizeof(cio_redis_reply) + extra);
  if (!b) return NULL;
  b->pin = NULL;
  b->nodes = n;
  memset(&b->node[0], 0, sizeof b->node[0]);
  return b;
}

cio_redis_reply *cio__resp_reply_alloc(size_t n, cio__resp_buf *buf) {
  reply_block *b = block_alloc(n ? n : 1, 0);
  if (!b) {
    errno = ENOMEM;
    return NULL;
  }
  b->pin = buf;
  if (buf) buf->refs++;
  return &b->node[0];
}

void cio_redis_reply_free(cio_redis_reply *r) {
  if (!r) return;
  reply_block *b = block_of(r);
  cio__resp_buf_unref(b->pin);
  cio__free(b);
}

/* ---- copies ---- */

static void measure(const cio_redis_reply *r, size_t *nodes, size_t *bytes) {
  (*nodes)++;
  if (r->str) *bytes += r->len + 1;
  if (r->attribute) measure(r->attribute, nodes, bytes);
  for (size_t i = 0; i < r->elements; i++) measure(&r->element[i], nodes, bytes);
}

/* Copy src into dst; children take nodes from nodes[*used], strings go
 * to *sp. Children stay contiguous, as in a parsed reply. */
static void copy_node(cio_redis_reply *dst, const cio_redis_reply *src, cio_redis_reply *nodes,
                      size_t *used, char **sp) {
  *dst = *src;
  if (src->str) {
    memcpy(*sp, src->str, src->len);
    (*sp)[src->len] = '\0';
    dst->str = *sp;
    *sp += src->len + 1;
  }
  if (src->attribute) {
    dst->attribute = &nodes[(*used)++];
    copy_node(dst->attribute, src->attribute, nodes, used, sp);
  }
  if (src->elements) {
    dst->element = &nodes[*used];
    *used += src->elements;
    for (size_t i = 0; i < src->elements; i++)
      copy_node(&dst->element[i], &src->element[i], nodes, used, sp);
  }
}

cio_redis_reply *cio_redis_reply_copy(const cio_redis_reply *r) {
  if (!r) {
    errno = EINVAL;
    return NULL;
  }
  size_t nodes = 0, bytes = 0;
  measure(r, &nodes, &bytes);
  reply_block *b = block_alloc(nodes, bytes);
  if (!b) {
    errno = ENOMEM;
    return NULL;
  }
  char *sp = (char *)&b->node[nodes];
  size_t used = 1;
  copy_node(&b->node[0], r, b->node, &used, &sp);
  return &b->node[0];
}

/* ---- lookups ---- */

static int is_text(const cio_redis_reply *r) {
  return r->type == CIO_REDIS_STRING || r->type == CIO_REDIS_STATUS || r->type == CIO_REDIS_VERB;
}

const cio_redis_reply *cio_redis_reply_get(const cio_redis_reply *m, const char *key, size_t klen) {
  if (!m || !key) return NULL;
  if (m->type != CIO_REDIS_MAP && m->type != CIO_REDIS_ATTR &&
      !(m->type == CIO_REDIS_ARRAY && m->elements % 2 == 0))
    return NULL;
  for (size_t i = 0; i + 1 < m->elements; i += 2) {
    const cio_redis_reply *k = &m->element[i];
    if (is_text(k) && k->len == klen && memcmp(k->str, key, klen) == 0) return &m->element[i + 1];
  }
  return NULL;
}

const char *cio_redis_type_name(int type) {
  switch (type) {
  case CIO_REDIS_STRING: return "string";
  case CIO_REDIS_ARRAY: return "array";
  case CIO_REDIS_INTEGER: return "integer";
  case CIO_REDIS_NIL: return "nil";
  case CIO_REDIS_STATUS: return "status";
  case CIO_REDIS_ERROR: return "error";
  case CIO_REDIS_DOUBLE: return "double";
  case CIO_REDIS_BOOL: return "bool";
  case CIO_REDIS_MAP: return "map";
  case CIO_REDIS_SET: return "set";
  case CIO_REDIS_ATTR: return "attribute";
  case CIO_REDIS_PUSH: return "push";
  case CIO_REDIS_BIGNUM: return "bignum";
  case CIO_REDIS_VERB: return "verbatim";
  default: return "unknown";
  }
}
