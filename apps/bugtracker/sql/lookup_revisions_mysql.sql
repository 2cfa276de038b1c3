-- The revisions of a bug in the order GROUP_CONCAT(value ORDER BY id) of the
-- seed puts them.
SELECT
value
FROM mantis_bug_revision_table
WHERE bug_id = ?
ORDER BY id
