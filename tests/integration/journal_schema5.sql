-- A SQLite journal of schema 5 as rsexec 82f5005 left it (sqlite3 .dump), after a batch run of
-- three lines with --retries 0: line 1 done, line 2 failed (no such source), line 3 done (its
-- "overwrite": "never" was not stored). @SRC@ and @DST@ stand for the two servers' host:port.
BEGIN TRANSACTION;
CREATE TABLE items (key TEXT PRIMARY KEY, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL DEFAULT (datetime('now')), seq INTEGER NOT NULL DEFAULT 0, line INTEGER NOT NULL DEFAULT 0, src TEXT NOT NULL DEFAULT '', dst TEXT NOT NULL DEFAULT '', append INTEGER NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '', claims INTEGER NOT NULL DEFAULT 0, started REAL, finished REAL, exit_code INTEGER NOT NULL DEFAULT 0, relayed INTEGER NOT NULL DEFAULT 0);
INSERT INTO "items" VALUES('ftp://tester@@SRC@/one.bin -> ftp://tester@@DST@/one.bin','done',1,1000,'','2026-11-30 16:07:38',0,1,'ftp://tester@@SRC@/one.bin','ftp://tester@@DST@/one.bin',0,'vm:27541',1,1.79605485872998690607e+09,1.79605485882401180262e+09,0,0);
INSERT INTO "items" VALUES('ftp://tester@@SRC@/two.bin -> ftp://tester@@DST@/two.bin','failed',1,0,'src: SIZE two.bin: 550 Could not get file size','2026-11-30 16:07:38',1,2,'ftp://tester@@SRC@/two.bin','ftp://tester@@DST@/two.bin',0,'vm:27541',1,1.79605485872998690607e+09,1.79605485881801700594e+09,5,0);
INSERT INTO "items" VALUES('ftp://tester@@SRC@/three.bin -> ftp://tester@@DST@/three.bin','done',1,3000,'','2026-11-30 16:07:38',2,3,'ftp://tester@@SRC@/three.bin','ftp://tester@@DST@/three.bin',0,'vm:27541',1,1.79605485872998690607e+09,1.79605485882300591467e+09,0,0);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema','5');
INSERT INTO "meta" VALUES('job','old.job');
INSERT INTO "meta" VALUES('max_per_host','0');
CREATE TABLE progress (state TEXT NOT NULL, worker TEXT NOT NULL, items INTEGER NOT NULL, bytes INTEGER NOT NULL, first_started REAL, last_finished REAL, PRIMARY KEY (state, worker));
INSERT INTO "progress" VALUES('pending','',0,0,NULL,NULL);
INSERT INTO "progress" VALUES('running','vm:27541',0,0,1.79605485872998690607e+09,NULL);
INSERT INTO "progress" VALUES('failed','vm:27541',1,0,1.79605485872998690607e+09,1.79605485881801700594e+09);
INSERT INTO "progress" VALUES('done','vm:27541',2,4000,1.79605485872998690607e+09,1.79605485882401180262e+09);
CREATE INDEX items_queue ON items (state, seq);
CREATE TRIGGER items_progress_insert AFTER INSERT ON items BEGIN INSERT INTO progress SELECT new.state, new.worker, 1, new.bytes, new.started, new.finished WHERE new.src <> '' ON CONFLICT (state, worker) DO UPDATE SET items = items + 1, bytes = bytes + excluded.bytes, first_started = CASE WHEN first_started IS NULL OR excluded.first_started < first_started   THEN excluded.first_started ELSE first_started END, last_finished = CASE WHEN last_finished IS NULL OR excluded.last_finished > last_finished   THEN excluded.last_finished ELSE last_finished END; END;
CREATE TRIGGER items_progress_update AFTER UPDATE OF state, worker, bytes, src, started, finished ON items BEGIN UPDATE progress SET items = items - 1, bytes = bytes - old.bytes WHERE old.src <> '' AND state = old.state AND worker = old.worker;INSERT INTO progress SELECT new.state, new.worker, 1, new.bytes, new.started, new.finished WHERE new.src <> '' ON CONFLICT (state, worker) DO UPDATE SET items = items + 1, bytes = bytes + excluded.bytes, first_started = CASE WHEN first_started IS NULL OR excluded.first_started < first_started   THEN excluded.first_started ELSE first_started END, last_finished = CASE WHEN last_finished IS NULL OR excluded.last_finished > last_finished   THEN excluded.last_finished ELSE last_finished END; END;
CREATE TRIGGER items_progress_delete AFTER DELETE ON items BEGIN UPDATE progress SET items = items - 1, bytes = bytes - old.bytes WHERE old.src <> '' AND state = old.state AND worker = old.worker; END;
CREATE INDEX items_relayed ON items (state) WHERE relayed <> 0;
COMMIT;
