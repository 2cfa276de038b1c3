-- The notes of a bug in the order GROUP_CONCAT(... ORDER BY date_submitted)
-- of the seed puts them. Notes with the same date_submitted are the
-- exception: in the seed they reach GROUP_CONCAT out of an unstable filesort
-- of every note of every bug, so their order depends on the whole table;
-- the service detects them here and runs the query of the seed for that bug.
SELECT
mbnt.note,
mbn.date_submitted
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WHERE mbn.bug_id = ?
ORDER BY mbn.date_submitted, mbn.id DESC
