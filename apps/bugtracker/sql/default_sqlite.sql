-- default_mysql.sql in the dialect of SQLite (see seed_sqlite.sql): each
-- aggregate is a window over the rows of the requested bug only.
SELECT
mbt.id,
mbt.summary,
mbt.version,
mbtt.steps_to_reproduce,
mbtt.additional_information,
(SELECT
group_concat(mbnt.note, char(10) || '---' || char(10)) OVER (
ORDER BY mbn.date_submitted, mbn.id DESC
ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
)
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
WHERE mbn.bug_id = mbt.id
LIMIT 1
) AS notes,
(SELECT
group_concat(value, ',') OVER (
ORDER BY id
ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
)
FROM mantis_bug_revision_table mbr
WHERE mbr.bug_id = mbt.id
LIMIT 1
) AS revision_values
FROM mantis_bug_table mbt
LEFT JOIN mantis_bug_text_table mbtt
ON mbt.id = mbtt.id
WHERE mbt.id = ?1
