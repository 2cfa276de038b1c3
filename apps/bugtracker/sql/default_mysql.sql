-- The query of the seed (seed_mysql.sql), reading only the rows of the
-- requested bug: the two derived tables of the seed aggregate every note and
-- every revision of every bug before the join picks one; here each aggregate
-- is a subquery on mbt.id, answered by the indexes on bug_id. The aggregates
-- are those of the seed, so the separators and the group_concat_max_len cut
-- are the same to the byte, and so is the order of notes with different
-- dates. Notes with the same date_submitted are another matter: GROUP_CONCAT
-- puts them in the reverse of the order they reach it, and in the seed they
-- reach it out of a filesort of every note of every bug by bug_id, which is
-- not stable - their order depends on the whole table. The eighth column
-- counts such ties; when there are any, the service runs the seed query for
-- that bug (query.c), so the answer is still the seed answer.
SELECT
mbt.id,
mbt.summary,
mbt.version,
mbtt.steps_to_reproduce,
mbtt.additional_information,
(SELECT
GROUP_CONCAT(
mbnt.note
ORDER BY mbn.date_submitted
SEPARATOR '
---
'
)
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WHERE mbn.bug_id = mbt.id
) AS notes,
(SELECT
GROUP_CONCAT(value ORDER BY id SEPARATOR ',')
FROM mantis_bug_revision_table mbr
WHERE mbr.bug_id = mbt.id
) AS revision_values,
(SELECT
COUNT(*) - COUNT(DISTINCT mbn.date_submitted)
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WHERE mbn.bug_id = mbt.id
) AS note_ties
FROM mantis_bug_table mbt
LEFT JOIN mantis_bug_text_table mbtt
ON mbt.id = mbtt.id
WHERE mbt.id = ?
