package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// migrations is the schema's history. The database's user_version is the
// number of entries already applied; Open applies the rest in order, all in
// one transaction. Append new entries at the end; never edit or reorder one
// that has been released.
//
// Times are integer milliseconds since the Unix epoch, booleans 0 or 1.
var migrations = []string{
	// 1: rooms and messages.
	`CREATE TABLE rooms (
		name       TEXT    NOT NULL PRIMARY KEY,
		topic      TEXT    NOT NULL DEFAULT '',
		private    INTEGER NOT NULL DEFAULT 0,
		owner      TEXT    NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		last_seq   INTEGER NOT NULL DEFAULT 0
	) STRICT;
	CREATE TABLE messages (
		room   TEXT    NOT NULL REFERENCES rooms (name),
		seq    INTEGER NOT NULL,
		author TEXT    NOT NULL,
		guest  INTEGER NOT NULL,
		body   TEXT    NOT NULL,
		cmid   TEXT    NOT NULL DEFAULT '',
		ts     INTEGER NOT NULL,
		PRIMARY KEY (room, seq)
	) STRICT;
	CREATE UNIQUE INDEX messages_cmid ON messages (room, author, cmid) WHERE cmid <> '';`,

	// 2: accounts, sessions, room roles and sanctions. Users are never
	// deleted today; the cascade is there for the day they are. A role or
	// sanction names a user without a foreign key, so a guest can be
	// sanctioned too. sanctions.until is NULL for "until lifted".
	`CREATE TABLE users (
		name          TEXT    NOT NULL PRIMARY KEY,
		password_hash TEXT    NOT NULL,
		admin         INTEGER NOT NULL DEFAULT 0,
		disabled      INTEGER NOT NULL DEFAULT 0,
		created_at    INTEGER NOT NULL
	) STRICT;
	CREATE TABLE sessions (
		token_hash TEXT    NOT NULL PRIMARY KEY,
		user       TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
		created_at INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) STRICT;
	CREATE INDEX sessions_user ON sessions (user);
	CREATE TABLE room_roles (
		room TEXT NOT NULL REFERENCES rooms (name),
		user TEXT NOT NULL,
		role TEXT NOT NULL,
		PRIMARY KEY (room, user)
	) STRICT;
	CREATE INDEX room_roles_user ON room_roles (user);
	CREATE TABLE sanctions (
		room    TEXT    NOT NULL REFERENCES rooms (name),
		user    TEXT    NOT NULL,
		kind    TEXT    NOT NULL,
		until   INTEGER,
		by_user TEXT    NOT NULL DEFAULT '',
		reason  TEXT    NOT NULL DEFAULT '',
		PRIMARY KEY (room, user, kind)
	) STRICT;`,

	// 3: room entries. A message is now an entry of its room's sequence:
	// kind '' is a plain message, and the other kinds (edit, delete,
	// react, unreact, and the moderation entries) say what changed.
	// target is the seq an edit, delete or reaction acts on; subject is a
	// moderation entry's user; until is NULL for "until lifted". The
	// state of a plain message lives in its own row: body (the latest
	// edit, '' when deleted), edited (ms of the latest edit, 0 never), deleted,
	// and v, the seq of the newest entry folded into that state.
	// reactions holds who reacted with what on which plain message; at_seq
	// orders them (see chat.ReactionRow).
	`ALTER TABLE messages ADD COLUMN kind     TEXT    NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN target   INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN subject  TEXT    NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN until    INTEGER;
	ALTER TABLE messages ADD COLUMN reply_to INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN edited   INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN deleted  INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN v        INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN file_id  TEXT    NOT NULL DEFAULT '';
	CREATE INDEX messages_target ON messages (room, target) WHERE target <> 0;
	CREATE TABLE reactions (
		room   TEXT    NOT NULL,
		seq    INTEGER NOT NULL,
		emoji  TEXT    NOT NULL,
		user   TEXT    NOT NULL,
		at_seq INTEGER NOT NULL,
		PRIMARY KEY (room, seq, emoji, user),
		FOREIGN KEY (room, seq) REFERENCES messages (room, seq)
	) STRICT;`,

	// 4: read positions, one row per account and room that
	// the account has read; a room's rows go with it. Like a role, a
	// position names a user without a foreign key.
	//
	// And full-text search: messages_fts is an FTS5 index over the body of
	// messages (external content: it stores no copy of the text), keyed
	// by the messages' rowid, which VACUUM keeps because messages has an
	// index (TestSearchAfterVacuum). It holds the plain messages that are
	// not deleted, kept in step by the triggers: an insert indexes, an
	// edit re-indexes, a delete (or a row that goes) un-indexes. A
	// reaction rewrites the same body, which the WHEN clause skips.
	`CREATE TABLE read_positions (
		user TEXT    NOT NULL,
		room TEXT    NOT NULL REFERENCES rooms (name) ON DELETE CASCADE,
		seq  INTEGER NOT NULL,
		PRIMARY KEY (user, room)
	) STRICT;
	CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages', content_rowid = 'rowid');
	INSERT INTO messages_fts (rowid, body)
		SELECT rowid, body FROM messages WHERE kind = '' AND deleted = 0;
	CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
		WHEN new.kind = '' AND new.deleted = 0
	BEGIN
		INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
	END;
	CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, kind, deleted ON messages
		WHEN new.body IS NOT old.body OR new.kind IS NOT old.kind OR new.deleted IS NOT old.deleted
	BEGIN
		INSERT INTO messages_fts (messages_fts, rowid, body)
			SELECT 'delete', old.rowid, old.body WHERE old.kind = '' AND old.deleted = 0;
		INSERT INTO messages_fts (rowid, body)
			SELECT new.rowid, new.body WHERE new.kind = '' AND new.deleted = 0;
	END;
	CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
		WHEN old.kind = '' AND old.deleted = 0
	BEGIN
		INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
	END;`,

	// 5: files: uploads and their bytes, one row per chunk received, so
	// that a file lives in the same database as the messages that carry it
	// (see docs/operations.md, "Files"). owner is an account name or a
	// guest's identity key; room and cmid name the message that carries
	// the file once a send claimed it. Times are milliseconds.
	filesMigration,

	// 6: archived rooms, and what the sweeper of idle guest-made
	// rooms needs: whether the owner is a guest, and when someone was last
	// in the room (rooms.active_at, milliseconds). Rooms made before this
	// version by a name that is not an account's were made by a guest.
	`ALTER TABLE rooms ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE rooms ADD COLUMN guest_owner INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE rooms ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
	UPDATE rooms SET active_at = created_at,
		guest_owner = (owner <> '' AND owner NOT IN (SELECT name FROM users));`,

	// 7: leases on guests' display names, shared by every node of
	// a store (chat.GuestNames). expires_at is in milliseconds.
	`CREATE TABLE guest_names (
		name_key   TEXT    NOT NULL PRIMARY KEY,
		holder     TEXT    NOT NULL,
		expires_at INTEGER NOT NULL
	) STRICT;`,

	// 8: the full-text index is brought up to date once per transaction,
	// not once per message. FTS5 writes what it holds in memory to disk
	// at every savepoint, and SQLite opens one for each statement that
	// fires a trigger: with the triggers of migration 4 writing to
	// messages_fts, every message of a batch left a segment of its own
	// and FTS5 spent most of the committer's time merging them (20,000
	// messages/s fell to 15,000, pprof of the durable workload). The
	// triggers now queue what changes in fts_queue, an ordinary table,
	// and syncFTS (search.go) hands the queue to FTS5 in one statement
	// at the end of each transaction that changes messages.
	`CREATE TABLE fts_queue (
		id   INTEGER PRIMARY KEY,
		op   TEXT    NOT NULL, -- 'add' or 'del'
		rid  INTEGER NOT NULL, -- the message's rowid
		body TEXT    NOT NULL  -- what to index, or what was indexed
	) STRICT;
	DROP TRIGGER messages_fts_insert;
	DROP TRIGGER messages_fts_update;
	DROP TRIGGER messages_fts_delete;
	CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
		WHEN new.kind = '' AND new.deleted = 0
	BEGIN
		INSERT INTO fts_queue (op, rid, body) VALUES ('add', new.rowid, new.body);
	END;
	CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, kind, deleted ON messages
		WHEN new.body IS NOT old.body OR new.kind IS NOT old.kind OR new.deleted IS NOT old.deleted
	BEGIN
		INSERT INTO fts_queue (op, rid, body)
			SELECT 'del', old.rowid, old.body WHERE old.kind = '' AND old.deleted = 0;
		INSERT INTO fts_queue (op, rid, body)
			SELECT 'add', new.rowid, new.body WHERE new.kind = '' AND new.deleted = 0;
	END;
	CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
		WHEN old.kind = '' AND old.deleted = 0
	BEGIN
		INSERT INTO fts_queue (op, rid, body) VALUES ('del', old.rowid, old.body);
	END;`,

	// 9: the full-text index without per-row sizes (columnsize=0). FTS5
	// kept each message's token count in messages_fts_docsize, one more
	// B-tree insert per message, for ranking (bm25), which Search does
	// not do: it orders by rowid. The index is rebuilt from the messages
	// it holds (fts_queue is empty between transactions).
	`DROP TABLE messages_fts;
	CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages', content_rowid = 'rowid', columnsize = 0);
	INSERT INTO messages_fts (rowid, body)
		SELECT rowid, body FROM messages WHERE kind = '' AND deleted = 0;`,

	// 10: Append indexes the plain messages of a batch itself, with one
	// INSERT ... SELECT of the rows it added (writeStmts.indexNew), so
	// an insert into messages fires no trigger. The trigger cost each
	// message a row in fts_queue, written, read back and deleted, and
	// made SQLite open a statement journal for every insert (durable
	// workload profile). Edits and deletions still queue through the
	// update and delete triggers of migration 8; Append is the only
	// writer of new messages.
	`DROP TRIGGER messages_fts_insert;`,

	// 11: the resend index leads with the cmid. Keyed (room, author,
	// cmid), a commit of messages from many rooms touched a leaf page of
	// it per room and author, each written whole to the WAL and again
	// at the checkpoint. Clients make cmids that sort in the order they
	// were made (client.NewCMID, the browser's newCMID), so keyed
	// (cmid, room, author) the messages of one commit land on a few
	// leaf pages. The uniqueness is the same: a cmid is unique per room
	// and author.
	`DROP INDEX messages_cmid;
	CREATE UNIQUE INDEX messages_cmid ON messages (cmid, room, author) WHERE cmid <> '';`,

	// 12: new messages are indexed for search a little after their
	// commit, many commits' worth at once (see indexLag in messages.go):
	// a commit of one or two messages wrote a full-text segment of its
	// own, about half of the pages it wrote. fts_mark.upto is the
	// largest rowid up to which the index is complete: every plain
	// message at or below it is indexed as it is now, none above it is.
	// Every transaction that changes or deletes messages indexes what is
	// pending first, so the triggers' queued changes (migration 8) only
	// ever concern indexed rows. The messages already stored are indexed.
	`CREATE TABLE fts_mark (
		id   INTEGER PRIMARY KEY CHECK (id = 1),
		upto INTEGER NOT NULL
	) STRICT;
	INSERT INTO fts_mark (id, upto) SELECT 1, coalesce(max(rowid), 0) FROM messages;`,

	// 13: a guest's identity beside the messages it writes
	// (chat.NewMessage.AuthorKey): a guest's display name is anyone's
	// once the guest has left, so edits and deletes of a guest's message
	// are checked against the identity. Messages stored before have
	// none, and no guest may edit or delete them as their author.
	`ALTER TABLE messages ADD COLUMN author_key TEXT NOT NULL DEFAULT '';`,

	// 14: complete uploads that no message carries expire too
	// (ExpireUploads): a file uploaded and never sent.
	`CREATE INDEX uploads_unsent ON uploads (updated_at) WHERE complete = 1 AND room = '';`,

	// 15: the file of a deleted message is purged (chat.Files, and
	// purgeFileSet in files.go): uploads.purged is 0 for a file that is
	// kept, 1 for a purged one whose chunks PurgeFiles has still to
	// delete, 2 once it has; updated_at is when it was purged. The record
	// stays, for the upload quota, until ExpireUploads. The files of
	// messages and rooms deleted before this version are purged here:
	// those claimed for a room that no longer exists, or for a message
	// (room and cmid) that is deleted, and that no message carries. Their
	// chunks go after the server starts, a bounded batch at a time.
	`ALTER TABLE uploads ADD COLUMN purged INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX uploads_purging ON uploads (updated_at) WHERE purged = 1;
	CREATE INDEX uploads_purged ON uploads (updated_at) WHERE purged = 2;
	UPDATE uploads SET purged = 1, name = '', sha256 = '', declared = '', type = '',
		width = 0, height = 0, thumb = NULL
	WHERE complete = 1 AND room <> ''
	  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = uploads.id AND m.file_id <> '')
	  AND (NOT EXISTS (SELECT 1 FROM rooms r WHERE r.name = uploads.room)
	       OR cmid <> '' AND EXISTS (SELECT 1 FROM messages m
	            WHERE m.cmid = uploads.cmid AND m.room = uploads.room AND m.cmid <> ''
	              AND m.kind = '' AND m.deleted = 1));`,

	// 16: deleted accounts (chat.UserDeletion). A deleted account's row
	// stays, with deleted = 1 and no password hash, so that its name is
	// never taken again: nobody may pose as the author of its messages.
	`ALTER TABLE users ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;`,

	// 17: a guest's identity beside the moderation entries about it
	// (chat.NewMessage.UserKey): subject is only the guest's display
	// name, which an account may share, so a node that removes a kicked
	// or banned user from the room finds the guest by its identity.
	// Entries stored before have none.
	`ALTER TABLE messages ADD COLUMN subject_key TEXT NOT NULL DEFAULT '';`,

	// 18: the timed bans, by when they end, for EndBans.
	`CREATE INDEX sanctions_until ON sanctions (until) WHERE until IS NOT NULL;`,

	// 19: blocks between accounts (chat.Blocks), one row per blocker and
	// blocked account. Like a role, a block names users without a
	// foreign key; DeleteUser removes the blocks by and of an account,
	// the second through blocks_blocked.
	`CREATE TABLE blocks (
		blocker    TEXT    NOT NULL,
		blocked    TEXT    NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (blocker, blocked)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX blocks_blocked ON blocks (blocked);`,

	// 20: a claimed file whose message is stored (uploads.sent), set by
	// Append in the transaction that stores the message, so that
	// ExpireUploads finds the files claimed for a message that was never
	// stored (a node that died between ClaimFile and the commit) through
	// uploads_claimed, which holds only the claims still waiting for
	// their message, instead of reading every file ever sent (and its
	// thumbnail) each hour. The files that messages carry already are
	// marked here: one pass over the uploads table.
	`ALTER TABLE uploads ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
	UPDATE uploads SET sent = 1
	WHERE EXISTS (SELECT 1 FROM messages m WHERE m.file_id = uploads.id AND m.file_id <> '');
	CREATE INDEX uploads_claimed ON uploads (updated_at)
		WHERE complete = 1 AND room <> '' AND sent = 0 AND purged = 0;`,

	// 21: FTS5's secure-delete: a message deleted (or edited, or its room
	// deleted) leaves the full-text index at once, its words taken out
	// of the segments that hold them, instead of a delete marker beside
	// them until a merge rewrites both: the words of a deleted message
	// stayed in the file, readable, for as long as no merge came. Costs
	// deletions and edits, not new messages. An option of SQLite 3.42
	// and later, kept in messages_fts_config.
	`INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);`,

	// 22: the display name a guest had when it was banned or muted
	// (chat.Sanction.Name), for the announcement of the sanction's end
	// on a node that does not know the guest. Sanctions stored before
	// have none; their end names the guest "a guest".
	`ALTER TABLE sanctions ADD COLUMN subject_name TEXT NOT NULL DEFAULT '';`,

	// 23: the server's administrators by name (Store.Admins), which a
	// node reads at most once per moderation check while public rooms
	// are joined, to show them as staff: a partial index of the few
	// rows, where the query read every account. Its WHERE is the
	// query's, term for term, so that SQLite uses it.
	`CREATE INDEX users_admins ON users (name) WHERE admin <> 0 AND disabled = 0 AND deleted = 0;`,
}

// filesMigration is one self-contained step; of the other tables it only
// indexes messages.file_id (migration 3), to find the message carrying a file.
const filesMigration = `CREATE TABLE uploads (
		id         TEXT    NOT NULL PRIMARY KEY,
		owner      TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		size       INTEGER NOT NULL,
		sha256     TEXT    NOT NULL,
		declared   TEXT    NOT NULL DEFAULT '',
		received   INTEGER NOT NULL DEFAULT 0,
		complete   INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		type       TEXT    NOT NULL DEFAULT '',
		width      INTEGER NOT NULL DEFAULT 0,
		height     INTEGER NOT NULL DEFAULT 0,
		thumb      BLOB,
		room       TEXT    NOT NULL DEFAULT '',
		cmid       TEXT    NOT NULL DEFAULT ''
	) STRICT;
	CREATE INDEX uploads_owner ON uploads (owner, created_at);
	CREATE INDEX uploads_stale ON uploads (updated_at) WHERE complete = 0;
	CREATE TABLE upload_chunks (
		upload TEXT    NOT NULL,
		pos    INTEGER NOT NULL,
		data   BLOB    NOT NULL,
		PRIMARY KEY (upload, pos)
	) STRICT;
	CREATE INDEX messages_file ON messages (file_id) WHERE file_id <> '';`

// migrate brings the schema of db up to date and makes sure the default
// room exists.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()

	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: schema version %d is newer than this program knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate: to version %d: %w", i+1, err)
		}
	}
	if version < len(migrations) {
		// PRAGMA takes no parameters; the value is a constant of ours.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("migrate: write schema version: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO rooms (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		chat.DefaultRoom, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("migrate: create default room: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
