/* query.h - the bug lookup: which SQL runs on which database, and the
 * answer it gives.
 *
 * The seed's query returns one row of seven columns: id, summary, version,
 * steps_to_reproduce, additional_information, notes (the bug's notes joined
 * by "\n---\n" in date order), revision_values (its revisions joined by ","
 * in id order); no row for a bug that does not exist. Two ways to get it:
 *
 *   BT_SQL_SEED     the seed's query (sql/seed_*.sql; on MariaDB its text,
 *                   verbatim but for the placeholder), which aggregates every
 *                   bug's notes and revisions before picking one;
 *   BT_SQL_DEFAULT  three statements on the requested bug's rows only (sql/
 *                   lookup_*.sql): the bug, then - only if the texts before
 *                   hold no cause - its notes, then its revisions, joined
 *                   here as GROUP_CONCAT joins them: NULLs skipped, the
 *                   separator between, cut at group_concat_max_len bytes on
 *                   a character boundary (MariaDB: the session's value;
 *                   PostgreSQL and SQLite: MariaDB's default,
 *                   BT_GROUP_CONCAT_MAX_LEN, as their aggregates have no
 *                   limit). On MariaDB a bug with two notes dated in the same
 *                   second gets the seed's query instead: the seed orders
 *                   those by an unstable sort of the whole table, which no
 *                   per-bug read can reproduce. PostgreSQL and SQLite order
 *                   them by id, descending (what MariaDB gives when it reads
 *                   them in id order).
 *
 * Either way the answer is the seed's to the byte (tests/test_queries).
 */
#ifndef BT_QUERY_H
#define BT_QUERY_H

#include "extract.h"

#include <cio/sql.h>
#include <stdint.h>

typedef enum bt_db { BT_DB_MYSQL, BT_DB_PG, BT_DB_SQLITE } bt_db;
typedef enum bt_sql_mode { BT_SQL_DEFAULT, BT_SQL_SEED } bt_sql_mode;

/* MariaDB's default group_concat_max_len (since 10.2.4). */
#define BT_GROUP_CONCAT_MAX_LEN 1048576

/* The database of a pool (cio_sql_pool_driver), or -EPROTONOSUPPORT. */
int bt_db_of(const cio_sql_pool *pool);
const char *bt_db_name(bt_db db);

/* SQL texts from the files of sql/ (one parameter: the id). Static strings. */
const char *bt_seed_sql(bt_db db);
const char *bt_schema_sql(bt_db db);

/* A text column: len bytes at p, or SQL NULL. */
typedef struct bt_text {
  const char *p;
  size_t len;
  int null;
} bt_text;

/* The seed's row. id is the cell itself (an integer, or the digits of an
 * unsigned value beyond int64_t); the texts point into results or buffers
 * of the answer. */
typedef struct bt_bug {
  const cio_sql_value *id;
  bt_text summary, version, steps, additional, notes, revisions;
} bt_bug;

/* The answer to a lookup: found or not, the bug's texts, and format_()'s
 * reply. With full = 0 the notes and revisions are read only when needed:
 * bug.notes / bug.revisions are then NULL texts when not read
 * (notes_read / revisions_read say). */
typedef struct bt_answer {
  int found;
  bt_bug bug;
  bt_span cause, fix;
  int notes_read, revisions_read;
  int statements; /* how many statements it took */
  int seed;       /* 1 if the seed's query answered (--sql seed, or ties) */
  /* private */
  cio_sql_result *res[3];
  char *joined[2];
} bt_answer;

/* Look up id (NULL: an id no row can have - the original passes ids beyond
 * 64 bits to MariaDB, which finds nothing; the statement still runs, with a
 * NULL that matches nothing) on c if it is not NULL, else on pool, and fill
 * *a (zeroed first; free it with bt_answer_clear). full = 1 reads every
 * text (for comparisons). Returns 0, -EPROTO when the rows are not the
 * lookup's (tables that are not MantisBT's), -ENOMEM, or the sql layer's
 * error (cio_sql_last_error()). May suspend. */
int bt_answer_fetch(cio_sql_pool *pool, cio_sql_conn *c, bt_db db, bt_sql_mode mode,
                    const int64_t *id, bt_matcher *m, int full, bt_answer *a);
void bt_answer_clear(bt_answer *a);

/* Cut t at max bytes as MariaDB's GROUP_CONCAT does: at the last character
 * boundary at or before max (so no UTF-8 sequence is split). */
void bt_text_cut(bt_text *t, size_t max);

#endif
