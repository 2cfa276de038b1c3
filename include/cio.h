/* cio.h - everything in cio's core. */
#ifndef CIO_H
#define CIO_H

#include "cio/common.h"
#include "cio/loop.h"
#include "cio/task.h"
#include "cio/future.h"
#include "cio/wait.h"
#include "cio/timeout.h"
#include "cio/group.h"
#include "cio/lock.h"
#include "cio/event.h"
#include "cio/cond.h"
#include "cio/sem.h"
#include "cio/queue.h"
#include "cio/gen.h"
#include "cio/select.h"
#include "cio/debug.h"

#endif
