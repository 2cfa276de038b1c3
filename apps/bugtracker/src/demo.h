/* demo.h - the generated demo dataset: bugs in the MantisBT shape.
 *
 * nbugs bugs with ids 1..nbugs, Chinese and English, each with its text row
 * (but a few), zero or more notes and revisions, and the cause and the fix
 * written where MantisBT users write them, in the template the seed's
 * regular expressions look for ("问题原因分析：...。修改方案描述：...。"):
 *
 *   ~35%  in the additional information
 *   ~20%  in one of the notes (the additional information says something
 *         else, sometimes a fix alone, which the original then drops)
 *   ~15%  in one of the revisions
 *   ~25%  nowhere (some with a fix alone somewhere)
 *   ~5%   odd rows: no text row, empty texts, English "Root cause:" prose
 *
 * with full-width and ASCII colons, every terminator (。, newline, *),
 * notes dated out of id order (but no two of a bug in the same second: see
 * demo.c), and one
 * bug (id 77, when nbugs >= 77) whose notes exceed MariaDB's
 * group_concat_max_len. The same seed gives the same rows, on every
 * database and machine.
 */
#ifndef BT_DEMO_H
#define BT_DEMO_H

#include "load.h"

#include <stdint.h>

#define BT_DEMO_BUGS 5000
#define BT_DEMO_SEED 20240601

/* Add the dataset's rows to l. Returns 0 or the load's error. May
 * suspend. */
int bt_demo_load(bt_load *l, int nbugs, uint64_t seed);

#endif
