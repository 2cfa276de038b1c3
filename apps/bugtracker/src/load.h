/* load.h - creating the MantisBT tables and filling them (--init-db).
 *
 * A load runs on one borrowed connection: the schema script of the
 * database (sql/schema_*.sql: MantisBT's five tables, replaced), then rows
 * added one by one and sent as multi-row INSERTs with bound parameters, all
 * in one transaction, committed by bt_load_end (a connection released
 * with the transaction still open is rolled back by its pool). Rows come from the demo generator
 * (demo.h) or from JSON files (fixture.h).
 *
 * Every call that sends may suspend; loop thread of the connection's pool.
 */
#ifndef BT_LOAD_H
#define BT_LOAD_H

#include "query.h"

#include <cio/sql.h>

typedef struct bt_load bt_load;

/* The five tables, and their columns as the loader knows them (the ones the
 * service reads and the ones that tie rows together; the others keep their
 * defaults). */
enum {
  BT_T_BUG,      /* mantis_bug_table: id, summary, version */
  BT_T_TEXT,     /* mantis_bug_text_table: id, steps_to_reproduce,
                    additional_information */
  BT_T_NOTE,     /* mantis_bugnote_table: id, bug_id, bugnote_text_id,
                    date_submitted */
  BT_T_NOTETEXT, /* mantis_bugnote_text_table: id, note */
  BT_T_REVISION, /* mantis_bug_revision_table: id, bug_id, value */
  BT_T_COUNT
};
const char *bt_table_name(int table);

/* Replace the tables on c (the schema script) and begin a transaction.
 * Returns 0 and *out, or the sql layer's error. */
int bt_load_begin(cio_sql_conn *c, bt_db db, bt_load **out);

/* Add a row of `table` with ncols columns named cols (strings borrowed for
 * the call: copied if kept) and values vals (texts copied). Rows of one
 * table with the same columns are sent together, up to a few hundred at a
 * time. Returns 0 or the sql layer's error (then the load is over: free
 * it). */
int bt_load_row(bt_load *l, int table, const char *const *cols, size_t ncols,
                const cio_sql_value *vals);

/* Send what is left and commit. Returns 0 or the error. */
int bt_load_end(bt_load *l);

/* Rows sent so far, per table. */
size_t bt_load_count(const bt_load *l, int table);

/* Free the load (not the connection). NULL is a no-op. Never suspends. */
void bt_load_free(bt_load *l);

/* What --init-db loads: the JSON files (fixture.h) if nfiles > 0, else the
 * demo dataset of nbugs bugs (0: BT_DEMO_BUGS) from seed (0: BT_DEMO_SEED). */
typedef struct bt_init_opts {
  const char *const *files;
  size_t nfiles;
  int nbugs;
  unsigned long long seed;
} bt_init_opts;

/* Replace the tables of pool's database and load them, on one connection of
 * pool, in one transaction. Returns 0, or an error with a message in err
 * (cap bytes). May suspend. */
int bt_init_db(cio_sql_pool *pool, const bt_init_opts *o, char *err, size_t cap);

/* How many bugs mantis_bug_table holds: 0.. , or -ENOENT when the table does
 * not exist, or another error. May suspend. */
long long bt_count_bugs(cio_sql_pool *pool);

#endif
