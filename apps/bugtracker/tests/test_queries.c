/* test_queries - the lookup's SQL on SQLite, MariaDB and PostgreSQL:
 *
 *  - the seed's query and the default one return the same row, cell by cell
 *    and byte by byte, for every bug of the generated demo dataset and of
 *    the edge-case fixture (and for ids no bug has), on every database;
 *    on MariaDB also with group_concat_max_len set to 1024 (MySQL's
 *    default), where both cut the notes the same way;
 *  - the JSON of every bug is the same whichever database holds the rows;
 *  - the JSON of the fixture's bugs is what the Python original answered
 *    (golden.jsonl).
 *
 *   test_queries FIXTURE_DIR GOLDEN WORK_DIR [NBUGS]
 *
 * Servers: the ctest fixture's (see bt_test_db.h); a database whose server
 * is not available is skipped with a note.
 */
/* cio-test-labels: bugtracker */
#include "../../../tests/test.h"
#include "bt_test_db.h"
#include "format.h"

#include <cjson/cJSON.h>
#include <cio/json.h>
#include <inttypes.h>

#define NDB 3
static const char *const DBS[NDB] = {"sqlite", "mariadb", "pg"};

static const char *fixture_dir, *golden_path, *work_dir;
static int nbugs = 300;
static bt_extractor *X;
static bt_matcher *M;

/* The fixture's ids (make_fixture.py), ids no bug has, and which databases
 * hold each: 7 all, 3 MariaDB + SQLite, 1 SQLite. */
typedef struct fid {
  int64_t id;
  int dbs;
} fid;
static fid FIX[64];
static size_t nfix;

static void fixture_ids(void) {
  for (int64_t i = 1; i <= 36; i++) FIX[nfix++] = (fid){i, 7};
  FIX[nfix++] = (fid){2147483647, 7};
  FIX[nfix++] = (fid){50, 3};
  FIX[nfix++] = (fid){4294967295LL, 3};
  FIX[nfix++] = (fid){60, 1};
  FIX[nfix++] = (fid){61, 1};
  static const int64_t missing[] = {0, 37, 99, -1, 2147483646, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) FIX[nfix++] = (fid){missing[i], 7};
}

/* JSON answers per database: demo[db][id], fix[db][i]. */
static char **demo_json[NDB];
static char *fix_json[NDB][64];

static int same_value(const cio_sql_value *a, const cio_sql_value *b) {
  if (cio_sql_is_null(a) != cio_sql_is_null(b)) return 0;
  if (cio_sql_is_null(a) == 1) return 1;
  int64_t x, y;
  if (a->type == CIO_SQL_INT || b->type == CIO_SQL_INT)
    return cio_sql_get_int64(a, &x) == 0 && cio_sql_get_int64(b, &y) == 0 && x == y;
  const char *p, *q;
  size_t n, m;
  return cio_sql_get_text(a, &p, &n) == 0 && cio_sql_get_text(b, &q, &m) == 0 && n == m &&
         (n == 0 || memcmp(p, q, n) == 0);
}

/* Both lookups on conn c (or on the pool if c is NULL) agree for id. */
static int same_answer(cio_sql_pool *pool, cio_sql_conn *c, bt_db db, int64_t id) {
  cio_sql_result *res[2] = {NULL, NULL};
  int ok = 1;
  for (int m = 0; m < 2; m++) {
    bt_sql_mode mode = m ? BT_SQL_DEFAULT : BT_SQL_SEED;
    int r = c ? bt_query_conn(c, db, mode, &id, &res[m]) : bt_query(pool, db, mode, &id, &res[m]);
    if (r < 0) {
      fprintf(stderr, "%s %s id %" PRId64 ": %s\n", bt_db_name(db), m ? "default" : "seed", id,
              cio_sql_last_error()->message);
      ok = 0;
    }
  }
  if (ok) {
    /* The lookup's seven columns (the default query may add its own). */
    size_t rows = cio_sql_result_nrows(res[0]), cols = 7;
    ok = rows == cio_sql_result_nrows(res[1]) && rows <= 1 &&
         cio_sql_result_ncols(res[0]) >= cols && cio_sql_result_ncols(res[1]) >= cols;
    for (size_t i = 0; ok && i < rows * cols; i++)
      if (!same_value(cio_sql_cell(res[0], 0, i), cio_sql_cell(res[1], 0, i))) {
        fprintf(stderr, "%s id %" PRId64 ": column %s differs between the seed and default\n",
                bt_db_name(db), id, cio_sql_result_colname(res[0], i));
        ok = 0;
      }
  }
  cio_sql_result_free(res[0]);
  cio_sql_result_free(res[1]);
  return ok;
}

/* The service's JSON for id (the default query). */
static char *answer(cio_sql_pool *pool, bt_db db, int64_t id) {
  cio_sql_result *res;
  if (bt_query(pool, db, BT_SQL_DEFAULT, &id, &res) < 0) return NULL;
  cio_json *j = cio_json_new();
  const cio_sql_row *row = cio_sql_result_row(res, 0);
  bt_bug b;
  int r = row ? bt_bug_from_row(row, db, &b) : 0;
  if (r == 0) r = row ? bt_write_bug(j, M, &b) : bt_write_missing(j);
  char *s = r == 0 ? strdup(cio_json_data(j, NULL)) : NULL;
  cio_json_free(j);
  cio_sql_result_free(res);
  return s;
}

/* Every id with MariaDB's cut at 1024 bytes, on one connection. */
static int agree_at_1024(cio_sql_pool *pool, bt_db db, const int64_t *ids, size_t n) {
  cio_sql_conn *c;
  if (cio_sql_acquire(pool, &c) < 0) return 0;
  int ok = cio_sql_exec(c, "SET SESSION group_concat_max_len = 1024") == 0;
  size_t bad = 0;
  for (size_t i = 0; ok && i < n; i++) bad += !same_answer(pool, c, db, ids[i]);
  cio_sql_exec(c, "SET SESSION group_concat_max_len = DEFAULT");
  cio_sql_release(c);
  return ok && bad == 0;
}

static int load(cio_sql_pool *pool, const bt_init_opts *o) {
  char err[512];
  int r = bt_init_db(pool, o, err, sizeof err);
  if (r < 0) fprintf(stderr, "init_db: %s\n", err);
  return r;
}

static void run_db(int k) {
  char url[1024];
  int r = bt_test_url(DBS[k], "bt_test_queries", work_dir, url, sizeof url);
  if (r == 1) {
    printf("     %s: no server, skipped\n", DBS[k]);
    return;
  }
  CHECK_EQ(r, 0);
  cio_sql_pool *pool = r == 0 ? bt_open_pool(url, 4) : NULL;
  CHECK(pool != NULL);
  if (!pool) return;
  bt_db db = (bt_db)bt_db_of(pool);

  /* The demo dataset: every bug, and the ids either side. */
  bt_init_opts demo = {.nbugs = nbugs};
  CHECK_EQ(load(pool, &demo), 0);
  CHECK_EQ(bt_count_bugs(pool), nbugs);
  size_t bad = 0, nids = (size_t)nbugs + 2;
  int64_t *ids = malloc(nids * sizeof *ids);
  demo_json[k] = calloc(nids, sizeof(char *));
  for (size_t i = 0; i < nids; i++) {
    ids[i] = (int64_t)i;
    bad += !same_answer(pool, NULL, db, ids[i]);
    demo_json[k][i] = answer(pool, db, ids[i]);
    CHECK(demo_json[k][i] != NULL);
  }
  CHECK_EQ(bad, 0);
  if (db == BT_DB_MYSQL) CHECK(agree_at_1024(pool, db, ids, nids));
  printf("     %s: seed = default on %zu ids of the demo dataset\n", DBS[k], nids);
  free(ids);

  /* The fixture. */
  char files[3][1024];
  const char *fp[3];
  size_t nf = 0;
  snprintf(files[nf], sizeof files[nf], "%s/fixture_all.json", fixture_dir), fp[nf] = files[nf],
                                                                             nf++;
  if (db != BT_DB_PG)
    snprintf(files[nf], sizeof files[nf], "%s/fixture_nul.json", fixture_dir), fp[nf] = files[nf],
                                                                               nf++;
  if (db == BT_DB_SQLITE)
    snprintf(files[nf], sizeof files[nf], "%s/fixture_sqlite.json", fixture_dir),
        fp[nf] = files[nf], nf++;
  bt_init_opts fx = {.files = fp, .nfiles = nf};
  CHECK_EQ(load(pool, &fx), 0);
  int64_t fids[64];
  size_t n = 0;
  bad = 0;
  int bit = db == BT_DB_SQLITE ? 1 : db == BT_DB_MYSQL ? 2 : 4;
  for (size_t i = 0; i < nfix; i++) {
    if (!(FIX[i].dbs & bit)) continue;
    fids[n++] = FIX[i].id;
    bad += !same_answer(pool, NULL, db, FIX[i].id);
    fix_json[k][i] = answer(pool, db, FIX[i].id);
    CHECK(fix_json[k][i] != NULL);
  }
  CHECK_EQ(bad, 0);
  if (db == BT_DB_MYSQL) CHECK(agree_at_1024(pool, db, fids, n));
  printf("     %s: seed = default on the fixture's %zu ids\n", DBS[k], n);
  bt_close_pool(pool);
}

static int main_task(void *arg) {
  for (int k = 0; k < NDB; k++) run_db(k);
  return 0;
}

static void test_seed_equals_default(void) { CHECK_EQ(cio_run(main_task, NULL), 0); }

static void test_same_json_everywhere(void) {
  size_t compared = 0;
  for (int k = 1; k < NDB; k++) {
    if (!demo_json[0] || !demo_json[k]) continue;
    for (size_t i = 0; i < (size_t)nbugs + 2; i++) {
      compared++;
      if (!demo_json[0][i] || !demo_json[k][i] || strcmp(demo_json[0][i], demo_json[k][i]) != 0) {
        fprintf(stderr, "demo id %zu: %s and %s differ:\n  %.400s\n  %.400s\n", i, DBS[0], DBS[k],
                demo_json[0][i] ? demo_json[0][i] : "(none)",
                demo_json[k][i] ? demo_json[k][i] : "(none)");
        CHECK(0);
      }
    }
    for (size_t i = 0; i < nfix; i++) {
      int bit = k == 1 ? 2 : 4;
      if (!(FIX[i].dbs & bit) || !(FIX[i].dbs & 1)) continue;
      compared++;
      if (!fix_json[0][i] || !fix_json[k][i] || strcmp(fix_json[0][i], fix_json[k][i]) != 0) {
        fprintf(stderr, "fixture id %" PRId64 ": %s and %s differ:\n  %.400s\n  %.400s\n",
                FIX[i].id, DBS[0], DBS[k], fix_json[0][i] ? fix_json[0][i] : "(none)",
                fix_json[k][i] ? fix_json[k][i] : "(none)");
        CHECK(0);
      }
    }
  }
  printf("     %zu answers compared across databases\n", compared);
}

/* golden.jsonl's answers to GET /id/<n> (n as written in the fixture). */
static void test_golden(void) {
  FILE *f = fopen(golden_path, "r");
  CHECK(f != NULL);
  if (!f) return;
  char *line = NULL;
  size_t cap = 0, checked = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    cJSON *g = cJSON_ParseWithLength(line, (size_t)len);
    const char *name = cJSON_GetObjectItem(g, "name")->valuestring;
    const cJSON *resp = cJSON_GetObjectItem(g, "response");
    const cJSON *body = cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "body"), "text");
    int64_t id;
    char tail;
    if ((strncmp(name, "found-", 6) == 0 || strncmp(name, "missing-", 8) == 0) && body &&
        sscanf(strchr(name, '-') + 1, "%" SCNd64 "%c", &id, &tail) == 1) {
      for (size_t i = 0; i < nfix; i++) {
        if (FIX[i].id != id) continue;
        for (int k = 0; k < NDB; k++) {
          if (!fix_json[k][i]) continue;
          checked++;
          if (strcmp(fix_json[k][i], body->valuestring) != 0) {
            fprintf(stderr, "%s on %s:\n  got  %.400s\n  want %.400s\n", name, DBS[k],
                    fix_json[k][i], body->valuestring);
            CHECK(0);
          }
        }
      }
    }
    cJSON_Delete(g);
  }
  free(line);
  fclose(f);
  CHECK(checked > 40);
  printf("     %zu answers equal to the Python original's\n", checked);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: test_queries FIXTURE_DIR GOLDEN WORK_DIR [NBUGS]\n");
    return 2;
  }
  fixture_dir = argv[1];
  golden_path = argv[2];
  work_dir = argv[3];
  if (argc > 4) nbugs = atoi(argv[4]);
  char err[256];
  X = bt_extractor_new(err, sizeof err);
  M = X ? bt_matcher_new(X) : NULL;
  if (!M) return 1;
  fixture_ids();
  RUN(test_seed_equals_default);
  RUN(test_same_json_everywhere);
  RUN(test_golden);
  for (int k = 0; k < NDB; k++) {
    for (size_t i = 0; demo_json[k] && i < (size_t)nbugs + 2; i++) free(demo_json[k][i]);
    free(demo_json[k]);
    for (size_t i = 0; i < nfix; i++) free(fix_json[k][i]);
  }
  bt_matcher_free(M);
  bt_extractor_free(X);
  return test_report();
}
