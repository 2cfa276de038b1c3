-- lookup_revisions_mysql.sql in the dialect of SQLite.
SELECT
value
FROM mantis_bug_revision_table
WHERE bug_id = ?1
ORDER BY id
