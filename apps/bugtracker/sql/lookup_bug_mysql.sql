-- The default lookup (--sql default) in three statements that read only the
-- rows of the requested bug: this one, its notes (lookup_notes_*.sql) and
-- its revisions (lookup_revisions_*.sql). The service joins the notes and
-- the revisions as GROUP_CONCAT does in the query of the seed
-- (seed_mysql.sql): in date order (by id for revisions), NULLs skipped,
-- "\n---\n" and "," between them, cut at group_concat_max_len bytes on a
-- character boundary - the session value, the sixth column here. On
-- MariaDB, GROUP_CONCAT of a LONGTEXT builds an on-disk temporary table at
-- each call, which costs more than the rest of a lookup together; three
-- plain statements do not. The notes and revisions are read only when the
-- texts before them hold no cause (the reply of format_ does not depend on
-- them otherwise).
SELECT
mbt.id,
mbt.summary,
mbt.version,
mbtt.steps_to_reproduce,
mbtt.additional_information,
@@SESSION.group_concat_max_len AS group_concat_max_len
FROM mantis_bug_table mbt
LEFT JOIN mantis_bug_text_table mbtt
ON mbt.id = mbtt.id
WHERE mbt.id = ?
