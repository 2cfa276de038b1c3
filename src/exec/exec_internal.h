/* exec_internal.h - what the exec layer's modules share. */
#ifndef CIO_EXEC_INTERNAL_H
#define CIO_EXEC_INTERNAL_H

#include "cio/exec.h"

/* When the pool calls release(arg). */
enum {
  CIO__REL_ALWAYS = 0,   /* the public rule: exactly once, whatever happens */
  CIO__REL_ABANDONED     /* only if the caller will not see the job's status
                            (withdrawn, dropped, or the caller stopped
                            waiting); otherwise the caller owns arg again */
};

/* cio_run_in_executor_ex with a release mode. In CIO__REL_ABANDONED mode a
 * return of -ECANCELED/-ETIMEDOUT/-ESHUTDOWN/... means arg was (or will be)
 * released; any other return means the caller owns arg and fn has run. To
 * tell the two apart, *ran (may be NULL) is set to 1 when the caller got the
 * job's status. */
int cio__exec_call(cio_executor *ex, cio_job_fn fn, void *arg,
                   void (*release)(void *arg), int mode, int *ran);

#endif
