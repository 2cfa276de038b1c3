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
SELECT
mbn.bug_id,
GROUP_CONCAT(
mbnt.note
ORDER BY mbn.date_submitted
SEPARATOR '
---
'
) AS notes
FROM mantis_bugnote_table mbn
JOIN mantis_bugnote_text_table mbnt
ON mbnt.id = mbn.bugnote_text_id
GROUP BY mbn.bug_id
) notes
ON notes.bug_id = mbt.id
LEFT JOIN (
SELECT
bug_id,
GROUP_CONCAT(value ORDER BY id SEPARATOR ',') AS revision_values
FROM mantis_bug_revision_table
GROUP BY bug_id
) revisions
ON revisions.bug_id = mbt.id WHERE mbt.id = ?;
