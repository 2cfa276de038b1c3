/* list.h - the one intrusive doubly-linked list of every layer.
 *
 * A list head and its nodes are the same struct: an empty head points at
 * itself. Removing a node leaves it self-linked, so removing it twice is
 * harmless and cio__list_linked() tells whether it is on a list. */
#ifndef CIO_BASE_LIST_H
#define CIO_BASE_LIST_H

#include "assert.h"

#include <stdbool.h>

typedef struct cio__link {
  struct cio__link *next, *prev;
} cio__link;

static inline void cio__list_init(cio__link *h) { h->next = h->prev = h; }
static inline bool cio__list_empty(const cio__link *h) { return h->next == h; }
/* A node is linked when it is on a list (not self-linked). */
static inline bool cio__list_linked(const cio__link *n) { return n->next != n; }

static inline void cio__list_push_back(cio__link *h, cio__link *n) {
  n->prev = h->prev;
  n->next = h;
  h->prev->next = n;
  h->prev = n;
}
static inline void cio__list_push_front(cio__link *h, cio__link *n) {
  n->next = h->next;
  n->prev = h;
  h->next->prev = n;
  h->next = n;
}
static inline void cio__list_remove(cio__link *n) {
  cio__assert(n->next->prev == n && n->prev->next == n);
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}
static inline cio__link *cio__list_pop_front(cio__link *h) {
  cio__link *n = h->next;
  if (n == h) return NULL;
  cio__list_remove(n);
  return n;
}
/* Detach every node (each left self-linked): used when freeing an object
 * that interrupted waiters still point into. */
static inline void cio__list_detach_all(cio__link *h) {
  while (cio__list_pop_front(h)) {
  }
}

#define cio__list_entry(p, T, m) cio__container_of(p, T, m)
/* for (l in h), safe against removing l inside the body. */
#define cio__list_each_safe(l, tmp, h)                                                             \
  for ((l) = (h)->next, (tmp) = (l)->next; (l) != (h); (l) = (tmp), (tmp) = (l)->next)

#endif
