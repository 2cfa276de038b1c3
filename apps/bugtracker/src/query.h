/* query.h - the bug lookup: which SQL runs on which database, and the row
 * it returns.
 *
 * Every database answers the lookup with one row of seven columns, in the
 * seed's order: id, summary, version, steps_to_reproduce,
 * additional_information, notes (the bug's notes joined by "\n---\n" in
 * date order), revision_values (its revisions joined by "," in id order);
 * no row for a bug that does not exist. Two queries per database:
 *
 *   BT_SQL_SEED     the seed's query (MariaDB: its text, verbatim but for
 *                   the placeholder), aggregating every bug's notes and
 *                   revisions before picking one (sql/seed_*.sql);
 *   BT_SQL_DEFAULT  the same result from the requested bug's rows only
 *                   (sql/default_*.sql). On MariaDB, notes dated in the
 *                   same second come out of the seed's query in an order
 *                   that depends on the whole table (an unstable sort of
 *                   every note): for a bug with such notes bt_query runs
 *                   the seed's query, so the answer is always the seed's.
 *                   PostgreSQL and SQLite order them by id, descending
 *                   (what MariaDB gives when it reads them in id order).
 *
 * MariaDB cuts GROUP_CONCAT results at group_concat_max_len bytes (at a
 * character boundary); PostgreSQL's string_agg and SQLite's group_concat do
 * not, so their notes and revisions are cut here at MariaDB's default,
 * BT_GROUP_CONCAT_MAX_LEN, and the JSON is the same whichever holds the rows.
 */
#ifndef BT_QUERY_H
#define BT_QUERY_H

#include <cio/sql.h>
#include <stdint.h>

typedef enum bt_db { BT_DB_MYSQL, BT_DB_PG, BT_DB_SQLITE } bt_db;
typedef enum bt_sql_mode { BT_SQL_DEFAULT, BT_SQL_SEED } bt_sql_mode;

/* MariaDB's default group_concat_max_len (since 10.2.4). */
#define BT_GROUP_CONCAT_MAX_LEN 1048576

/* The database of a pool (cio_sql_pool_driver), or -EPROTONOSUPPORT. */
int bt_db_of(const cio_sql_pool *pool);
const char *bt_db_name(bt_db db);

/* The lookup's SQL text (one parameter: the id), and the schema script
 * (sql/schema_*.sql). Static strings. */
const char *bt_query_sql(bt_db db, bt_sql_mode mode);
const char *bt_schema_sql(bt_db db);

/* A text column: len bytes at p, or SQL NULL. */
typedef struct bt_text {
  const char *p;
  size_t len;
  int null;
} bt_text;

/* The lookup's row. id is the cell itself (an integer, or the digits of an
 * unsigned value beyond int64_t); the texts point into the result. */
typedef struct bt_bug {
  const cio_sql_value *id;
  bt_text summary, version, steps, additional, notes, revisions;
} bt_bug;

/* Run the lookup for id on pool. id NULL asks for an id no row can have
 * (the original passes ids beyond 64 bits to MariaDB, which finds nothing;
 * this runs the same statement with a NULL that matches nothing, so the
 * database is still asked). Returns 0 and the result in *out (0 or 1 row
 * of at least seven columns; the caller frees it), or the sql layer's
 * error (cio_sql_last_error()). May suspend. */
int bt_query(cio_sql_pool *pool, bt_db db, bt_sql_mode mode, const int64_t *id,
             cio_sql_result **out);
/* The same on a borrowed connection (its session settings apply). */
int bt_query_conn(cio_sql_conn *c, bt_db db, bt_sql_mode mode, const int64_t *id,
                  cio_sql_result **out);

/* Read the lookup's row (its first seven columns). Returns 0, or -EPROTO
 * when it has fewer or their types are not the lookup's (a database whose
 * tables are not MantisBT's). */
int bt_bug_from_row(const cio_sql_row *row, bt_db db, bt_bug *out);

/* Cut t at max bytes as MariaDB's GROUP_CONCAT does: at the last character
 * boundary at or before max (so no UTF-8 sequence is split). */
void bt_text_cut(bt_text *t, size_t max);

#endif
