-- MantisBT's five tables the service reads, as MantisBT 2.x creates them on
-- PostgreSQL (ADOdb maps I to INTEGER, I2 to SMALLINT, L to SMALLINT, C(n)
-- to VARCHAR(n), XL to TEXT; PostgreSQL has no unsigned integers), without
-- NOT NULL on the text columns (see schema_mysql.sql).
DROP TABLE IF EXISTS mantis_bug_table, mantis_bug_text_table,
  mantis_bugnote_table, mantis_bugnote_text_table, mantis_bug_revision_table;
CREATE TABLE mantis_bug_table (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL DEFAULT 0,
  reporter_id INTEGER NOT NULL DEFAULT 0,
  handler_id INTEGER NOT NULL DEFAULT 0,
  duplicate_id INTEGER NOT NULL DEFAULT 0,
  priority SMALLINT NOT NULL DEFAULT 30,
  severity SMALLINT NOT NULL DEFAULT 50,
  reproducibility SMALLINT NOT NULL DEFAULT 10,
  status SMALLINT NOT NULL DEFAULT 10,
  resolution SMALLINT NOT NULL DEFAULT 10,
  projection SMALLINT NOT NULL DEFAULT 10,
  eta SMALLINT NOT NULL DEFAULT 10,
  bug_text_id INTEGER NOT NULL DEFAULT 0,
  os VARCHAR(32) NOT NULL DEFAULT '',
  os_build VARCHAR(32) NOT NULL DEFAULT '',
  platform VARCHAR(32) NOT NULL DEFAULT '',
  version VARCHAR(64) DEFAULT '',
  fixed_in_version VARCHAR(64) NOT NULL DEFAULT '',
  build VARCHAR(32) NOT NULL DEFAULT '',
  profile_id INTEGER NOT NULL DEFAULT 0,
  view_state SMALLINT NOT NULL DEFAULT 10,
  summary VARCHAR(128) DEFAULT '',
  sponsorship_total INTEGER NOT NULL DEFAULT 0,
  sticky SMALLINT NOT NULL DEFAULT 0,
  target_version VARCHAR(64) NOT NULL DEFAULT '',
  category_id INTEGER NOT NULL DEFAULT 1,
  date_submitted INTEGER NOT NULL DEFAULT 1,
  due_date INTEGER NOT NULL DEFAULT 1,
  last_updated INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE mantis_bug_text_table (
  id INTEGER PRIMARY KEY,
  description TEXT,
  steps_to_reproduce TEXT,
  additional_information TEXT
);
CREATE TABLE mantis_bugnote_table (
  id INTEGER PRIMARY KEY,
  bug_id INTEGER NOT NULL DEFAULT 0,
  reporter_id INTEGER NOT NULL DEFAULT 0,
  bugnote_text_id INTEGER NOT NULL DEFAULT 0,
  view_state SMALLINT NOT NULL DEFAULT 10,
  note_type INTEGER DEFAULT 0,
  note_attr VARCHAR(250) DEFAULT '',
  time_tracking INTEGER NOT NULL DEFAULT 0,
  last_modified INTEGER NOT NULL DEFAULT 1,
  date_submitted INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE mantis_bugnote_text_table (
  id INTEGER PRIMARY KEY,
  note TEXT
);
CREATE TABLE mantis_bug_revision_table (
  id INTEGER PRIMARY KEY,
  bug_id INTEGER NOT NULL,
  bugnote_id INTEGER NOT NULL DEFAULT 0,
  user_id INTEGER NOT NULL DEFAULT 0,
  type INTEGER NOT NULL DEFAULT 1,
  value TEXT,
  timestamp INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX idx_bug_sponsorship_total ON mantis_bug_table (sponsorship_total);
CREATE INDEX idx_bug_fixed_in_version ON mantis_bug_table (fixed_in_version);
CREATE INDEX idx_bug_status ON mantis_bug_table (status);
CREATE INDEX idx_project ON mantis_bug_table (project_id);
CREATE INDEX idx_bug ON mantis_bugnote_table (bug_id);
CREATE INDEX idx_last_mod ON mantis_bugnote_table (last_modified);
CREATE INDEX idx_bug_rev_type ON mantis_bug_revision_table (type);
CREATE INDEX idx_bug_rev_id_time ON mantis_bug_revision_table (bug_id, timestamp);
