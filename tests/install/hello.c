/* hello.c - the smallest cio program, built against an INSTALLED cio by
 * scripts/test (once through pkg-config, once through find_package) to show
 * the headers, libraries, .pc file and CMake package work outside the tree.
 * Prints a fixed transcript that scripts/test compares. */
#include <cio.h>
#include <stdio.h>

struct nap {
  double seconds;
  int woke;
};

static int napper(void *arg) {
  struct nap *n = arg;
  int rc = cio_sleep(n->seconds);
  if (rc < 0) return rc;
  n->woke = 1;
  printf("child: slept %.2f s\n", n->seconds);
  return 0;
}

static int main_task(void *arg) {
  struct nap n = {0.05, 0};
  cio_task *t;
  int status;

  (void)arg;
  t = cio_spawn(napper, &n);
  if (!t) {
    perror("cio_spawn");
    return -ENOMEM;
  }
  printf("main: spawned\n");
  status = cio_await(t);
  cio_task_release(t);
  printf("main: child status %d, woke %d\n", status, n.woke);
  return status;
}

int main(void) {
  int rc;

  printf("hello from cio %s\n", cio_version());
  rc = cio_run(main_task, NULL);
  printf("cio_run: %d\n", rc);
  return rc == 0 ? 0 : 1;
}
