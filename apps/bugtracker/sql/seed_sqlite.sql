-- The query of the seed in the dialect of SQLite. group_concat has no ORDER
-- BY before SQLite 3.44: it concatenates in the order rows reach it. Here
-- each aggregate is a window over the rows of one bug, ordered, with the
-- whole partition as its frame, which makes the order part of what the query
-- means. The window form of group_concat gives NULL for a lone empty text
-- where GROUP_CONCAT gives an empty text: the CASE puts that right (rows
-- with a value are there, so the result is not NULL). NULL dates and equal
-- dates as in seed_pg.sql; the group_concat_max_len cut of MariaDB is made
-- by the service (query.c).
SELECT
mbt.id,
mbt.summary,
mbt.version,
mbtt.steps_to_reproduce,
mbtt.additional_information,
notes.notes,
revisions.revision_values
FROM mantis_bug_table mbt
LEFT JOIN mantis_bug_text_table mbtt
ON mbt.id = mbtt.id
LEFT JOIN (
SELECT DISTINCT
mbn.bug_id,
CASE WHEN count(mbnt.note) OVER w > 0
THEN coalesce(group_concat(mbnt.note, char(10) || '---' || char(10)) OVER w, '')
END AS notes
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WINDOW w AS (
PARTITION BY mbn.bug_id
ORDER BY mbn.date_submitted, mbn.id DESC
ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
)
) notes
ON notes.bug_id = mbt.id
LEFT JOIN (
SELECT DISTINCT
bug_id,
CASE WHEN count(value) OVER w > 0
THEN coalesce(group_concat(value, ',') OVER w, '')
END AS revision_values
FROM mantis_bug_revision_table
WINDOW w AS (
PARTITION BY bug_id
ORDER BY id
ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
)
) revisions
ON revisions.bug_id = mbt.id WHERE mbt.id = ?1
