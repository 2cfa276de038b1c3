/* fixture.h - rows from a JSON file (cio-bugtracker --init-db --data FILE).
 *
 * The file maps table names to arrays of rows, each row an object of
 * column -> value:
 *
 *   {"mantis_bug_table": [{"id": 1, "summary": "...", "version": "1.0"}],
 *    "mantis_bug_text_table": [...], "mantis_bugnote_table": [...],
 *    "mantis_bugnote_text_table": [...], "mantis_bug_revision_table": [...]}
 *
 * A value is an integer, a string, null, {"hex": "e4b8ad"} (these bytes as
 * text: NUL bytes, or bytes that are not UTF-8, which only SQLite keeps), or
 * {"repeat": "文", "times": 1000} (a long text). Columns are MantisBT's;
 * those left out take their defaults. apps/bugtracker/tests/make_fixture.py
 * writes such files.
 */
#ifndef BT_FIXTURE_H
#define BT_FIXTURE_H

#include "load.h"

#include <stddef.h>

/* Add the rows of the JSON file at path to l. Returns 0, or -ENOENT and
 * other errno values for the file, -EBADMSG for content that is not as
 * above (a message in err, cap bytes), or the load's error. May suspend. */
int bt_fixture_load(bt_load *l, const char *path, char *err, size_t cap);

#endif
