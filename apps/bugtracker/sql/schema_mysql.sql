-- MantisBT's five tables the service reads, as MantisBT 2.x creates them on
-- MySQL/MariaDB (column names, types, defaults, indexes), but for NOT NULL
-- on the text columns: left out, so that rows with missing texts load and
-- the service's null handling can be exercised (it reports SQL NULL as
-- JSON null, as the original does).
DROP TABLE IF EXISTS mantis_bug_table, mantis_bug_text_table,
  mantis_bugnote_table, mantis_bugnote_text_table, mantis_bug_revision_table;
CREATE TABLE mantis_bug_table (
  id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT,
  project_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  reporter_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  handler_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  duplicate_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  priority SMALLINT(6) NOT NULL DEFAULT 30,
  severity SMALLINT(6) NOT NULL DEFAULT 50,
  reproducibility SMALLINT(6) NOT NULL DEFAULT 10,
  status SMALLINT(6) NOT NULL DEFAULT 10,
  resolution SMALLINT(6) NOT NULL DEFAULT 10,
  projection SMALLINT(6) NOT NULL DEFAULT 10,
  eta SMALLINT(6) NOT NULL DEFAULT 10,
  bug_text_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  os VARCHAR(32) NOT NULL DEFAULT '',
  os_build VARCHAR(32) NOT NULL DEFAULT '',
  platform VARCHAR(32) NOT NULL DEFAULT '',
  version VARCHAR(64) DEFAULT '',
  fixed_in_version VARCHAR(64) NOT NULL DEFAULT '',
  build VARCHAR(32) NOT NULL DEFAULT '',
  profile_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  view_state SMALLINT(6) NOT NULL DEFAULT 10,
  summary VARCHAR(128) DEFAULT '',
  sponsorship_total INT(11) NOT NULL DEFAULT 0,
  sticky TINYINT(4) NOT NULL DEFAULT 0,
  target_version VARCHAR(64) NOT NULL DEFAULT '',
  category_id INT(10) UNSIGNED NOT NULL DEFAULT 1,
  date_submitted INT(10) UNSIGNED NOT NULL DEFAULT 1,
  due_date INT(10) UNSIGNED NOT NULL DEFAULT 1,
  last_updated INT(10) UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  KEY idx_bug_sponsorship_total (sponsorship_total),
  KEY idx_bug_fixed_in_version (fixed_in_version),
  KEY idx_bug_status (status),
  KEY idx_project (project_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE mantis_bug_text_table (
  id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT,
  description LONGTEXT,
  steps_to_reproduce LONGTEXT,
  additional_information LONGTEXT,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE mantis_bugnote_table (
  id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT,
  bug_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  reporter_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  bugnote_text_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  view_state SMALLINT(6) NOT NULL DEFAULT 10,
  note_type INT(11) DEFAULT 0,
  note_attr VARCHAR(250) DEFAULT '',
  time_tracking INT(10) UNSIGNED NOT NULL DEFAULT 0,
  last_modified INT(10) UNSIGNED NOT NULL DEFAULT 1,
  date_submitted INT(10) UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  KEY idx_bug (bug_id),
  KEY idx_last_mod (last_modified)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE mantis_bugnote_text_table (
  id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT,
  note LONGTEXT,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE mantis_bug_revision_table (
  id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT,
  bug_id INT(10) UNSIGNED NOT NULL,
  bugnote_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  user_id INT(10) UNSIGNED NOT NULL DEFAULT 0,
  type INT(10) UNSIGNED NOT NULL DEFAULT 1,
  value LONGTEXT,
  timestamp INT(10) UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  KEY idx_bug_rev_type (type),
  KEY idx_bug_rev_id_time (bug_id, timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
