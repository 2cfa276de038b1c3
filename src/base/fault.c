/* fault.c - armed system-call faults. */
#include "fault.h"

#include <pthread.h>

atomic_int cio__fault_any;

typedef struct site_state {
  long countdown; /* > 0: calls left before the one that fails */
  int err;
  bool persist;
  long failed;
} site_state;

/* Arming is rare and tests only: a mutex keeps it simple. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static site_state sites[CIO__FAULT_NSITES];

int cio__fault_take(cio__fault_site site) {
  int err = 0;
  pthread_mutex_lock(&mu);
  site_state *s = &sites[site];
  if (s->countdown > 0 && --s->countdown == 0) {
    err = s->err;
    s->failed++;
    if (s->persist) s->countdown = 1;
  }
  pthread_mutex_unlock(&mu);
  return err;
}

void cio__fault_sys_fail(cio__fault_site site, long nth, int err, bool persist) {
  pthread_mutex_lock(&mu);
  sites[site] = (site_state){.countdown = nth > 0 ? nth : 0, .err = err, .persist = persist};
  atomic_store(&cio__fault_any, 1);
  pthread_mutex_unlock(&mu);
}

void cio__fault_sys_clear(void) {
  pthread_mutex_lock(&mu);
  for (int i = 0; i < CIO__FAULT_NSITES; i++) sites[i] = (site_state){0};
  atomic_store(&cio__fault_any, 0);
  pthread_mutex_unlock(&mu);
}

long cio__fault_sys_failed(cio__fault_site site) {
  pthread_mutex_lock(&mu);
  long n = sites[site].failed;
  pthread_mutex_unlock(&mu);
  return n;
}
