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

/* The texts format_() reads, in its order: 0 the additional information,
 * 1 the notes, 2 the revisions. A provider sets *out to text `which` (it may
 * fetch it first, and suspend) and returns 0, or an error. */
typedef int (*bt_text_fn)(void *arg, int which, const bt_text **out);

/* format_()'s reply, asking fn for each text only when the ones before it
 * gave no cause. cause and fix point into the texts (or are empty).
 * Returns 0, -ENOMEM, or fn's error. */
int bt_reply_from(bt_matcher *m, bt_text_fn fn, void *arg, bt_span *cause, bt_span *fix);

/* The same on a bug whose texts are all there. Never suspends. */
int bt_reply(bt_matcher *m, const bt_bug *bug, bt_span *cause, bt_span *fix);

/* Write a found bug's JSON with its reply. Returns 0 or the writer's
 * error. */
int bt_write_answer(cio_json *j, const bt_bug *bug, bt_span cause, bt_span fix);

/* Write a found bug's JSON, the reply computed here. */
int bt_write_bug(cio_json *j, bt_matcher *m, const bt_bug *bug);

/* Write {"error":"未找到该 bug"}. */
int bt_write_missing(cio_json *j);

#endif
