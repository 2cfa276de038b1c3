/* fault_walk.h - arming one fault at a time for the fault walks: the nth
 * allocation (site ALLOC) or the nth call at a system-call site
 * (src/base/fault.h), and reading back whether it was reached. */
#ifndef CIO_TEST_FAULT_WALK_H
#define CIO_TEST_FAULT_WALK_H

#include "../src/base/alloc.h"
#include "../src/base/fault.h"

#define ALLOC (-1) /* walk allocations instead of a system-call site */

static void arm(int site, long nth, int err) {
  if (site == ALLOC)
    cio__fault_alloc_fail(nth, false);
  else
    cio__fault_sys_fail((cio__fault_site)site, nth, err, false);
}

static long disarm(int site) {
  long failed;
  if (site == ALLOC) {
    failed = cio__fault_alloc_failed();
    cio__fault_alloc_clear();
  } else {
    failed = cio__fault_sys_failed((cio__fault_site)site);
    cio__fault_sys_clear();
  }
  return failed;
}

#endif
