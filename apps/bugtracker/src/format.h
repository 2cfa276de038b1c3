/* format.h - the JSON the service answers, as the original's format_() and
 * FastAPI's JSONResponse make it.
 *
 * A found bug:
 *
 *   {"bug_id":1,"bug_title":"...","version":"...","step":"...",
 *    "reply":{"cause_of_bug":"...","bug_solution":"..."}}
 *
 * in that key order, compact, non-ASCII characters as raw UTF-8, SQL NULL as
 * null (json.dumps(ensure_ascii=False, separators=(",", ":")) through
 * cio/json.h). The reply is format_()'s: extract() on the additional
 * information; if that found no cause (none, or an empty one), on the notes
 * (cause AND fix replaced); if still no cause, on the revisions. An empty or
 * NULL text gives two empty strings. A missing bug: {"error":"未找到该 bug"}.
 */
#ifndef BT_FORMAT_H
#define BT_FORMAT_H

#include "extract.h"
#include "query.h"

#include <cio/json.h>

/* format_()'s reply: cause and fix point into the bug's texts (or are
 * empty). Returns 0 or -ENOMEM. Never suspends. */
int bt_reply(bt_matcher *m, const bt_bug *bug, bt_span *cause, bt_span *fix);

/* Write a found bug's JSON. Returns 0 or the writer's error. */
int bt_write_bug(cio_json *j, bt_matcher *m, const bt_bug *bug);

/* Write {"error":"未找到该 bug"}. */
int bt_write_missing(cio_json *j);

#endif
