-- lookup_revisions_mysql.sql in the dialect of PostgreSQL.
SELECT
value
FROM mantis_bug_revision_table
WHERE bug_id = $1::bigint
ORDER BY id
