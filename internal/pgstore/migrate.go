package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// migrations is the schema's history. schema_version holds one row per
// entry applied, numbered from 1; Open applies the rest in order, all in one
// transaction. Append new entries at the end; never edit or reorder one that
// has been released.
//
// Names are text in the "C" collation (byte order); times are timestamptz
// at millisecond precision. The tables and their meaning are those of
// sqlitestore; "user" is a reserved word here, so user columns are called
// username.
var migrations = []string{
	// 1: rooms and messages.
	`CREATE TABLE rooms (
		name       text COLLATE "C" NOT NULL PRIMARY KEY,
		topic      text        NOT NULL DEFAULT '',
		private    boolean     NOT NULL DEFAULT false,
		owner      text COLLATE "C" NOT NULL DEFAULT '',
		created_at timestamptz NOT NULL,
		last_seq   bigint      NOT NULL DEFAULT 0
	);
	CREATE TABLE messages (
		room   text COLLATE "C" NOT NULL REFERENCES rooms (name),
		seq    bigint      NOT NULL,
		author text COLLATE "C" NOT NULL,
		guest  boolean     NOT NULL,
		body   text        NOT NULL,
		cmid   text COLLATE "C" NOT NULL DEFAULT '',
		ts     timestamptz NOT NULL,
		PRIMARY KEY (room, seq)
	);
	CREATE UNIQUE INDEX messages_cmid ON messages (room, author, cmid) WHERE cmid <> '';`,

	// 2: accounts, sessions, room roles and sanctions. A role or sanction
	// names a user without a foreign key, so a guest can be sanctioned too.
	// sanctions.until is NULL for "until lifted".
	`CREATE TABLE users (
		name          text COLLATE "C" NOT NULL PRIMARY KEY,
		password_hash text        NOT NULL,
		admin         boolean     NOT NULL DEFAULT false,
		disabled      boolean     NOT NULL DEFAULT false,
		created_at    timestamptz NOT NULL
	);
	CREATE TABLE sessions (
		token_hash text COLLATE "C" NOT NULL PRIMARY KEY,
		username   text COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
		created_at timestamptz NOT NULL,
		last_seen  timestamptz NOT NULL,
		expires_at timestamptz NOT NULL
	);
	CREATE INDEX sessions_username ON sessions (username);
	CREATE TABLE room_roles (
		room     text COLLATE "C" NOT NULL REFERENCES rooms (name),
		username text COLLATE "C" NOT NULL,
		role     text NOT NULL,
		PRIMARY KEY (room, username)
	);
	CREATE INDEX room_roles_username ON room_roles (username);
	CREATE TABLE sanctions (
		room     text COLLATE "C" NOT NULL REFERENCES rooms (name),
		username text COLLATE "C" NOT NULL,
		kind     text COLLATE "C" NOT NULL,
		until    timestamptz,
		by_user  text NOT NULL DEFAULT '',
		reason   text NOT NULL DEFAULT '',
		PRIMARY KEY (room, username, kind)
	);`,

	// 3: room entries; see sqlitestore's migration 3 for what the columns
	// mean. Here until and edited are timestamptz, NULL for none, deleted
	// is a boolean, and the reactions' user column is called username.
	`ALTER TABLE messages
		ADD COLUMN kind     text COLLATE "C" NOT NULL DEFAULT '',
		ADD COLUMN target   bigint      NOT NULL DEFAULT 0,
		ADD COLUMN subject  text COLLATE "C" NOT NULL DEFAULT '',
		ADD COLUMN until    timestamptz,
		ADD COLUMN reply_to bigint      NOT NULL DEFAULT 0,
		ADD COLUMN edited   timestamptz,
		ADD COLUMN deleted  boolean     NOT NULL DEFAULT false,
		ADD COLUMN v        bigint      NOT NULL DEFAULT 0,
		ADD COLUMN file_id  text COLLATE "C" NOT NULL DEFAULT '';
	CREATE INDEX messages_target ON messages (room, target) WHERE target <> 0;
	CREATE TABLE reactions (
		room     text COLLATE "C" NOT NULL,
		seq      bigint NOT NULL,
		emoji    text COLLATE "C" NOT NULL,
		username text COLLATE "C" NOT NULL,
		at_seq   bigint NOT NULL,
		PRIMARY KEY (room, seq, emoji, username),
		FOREIGN KEY (room, seq) REFERENCES messages (room, seq)
	);`,

	// 4: read positions, one row per account and room that
	// the account has read; a room's rows go with it. Like a role, a
	// position names a user without a foreign key. And full-text search:
	// messages.search holds the words of each plain message that is not
	// deleted (see searchVector), recomputed by PostgreSQL whenever the
	// row changes (an edit, a delete), with a GIN index of its own.
	`CREATE TABLE read_positions (
		username text COLLATE "C" NOT NULL,
		room     text COLLATE "C" NOT NULL REFERENCES rooms (name) ON DELETE CASCADE,
		seq      bigint NOT NULL,
		PRIMARY KEY (username, room)
	);
	ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (` + searchVector + `) STORED;
	CREATE INDEX messages_search ON messages USING gin (search) WHERE kind = '' AND NOT deleted;`,

	// 5: files: uploads and their bytes, one bytea row per chunk
	// received; see sqlitestore's migration of the same name.
	filesMigration,

	// 6: archived rooms, and what the sweeper of idle guest-made
	// rooms needs: whether the owner is a guest, and when someone was last
	// in the room. Rooms made before this version by a name that is not
	// an account's were made by a guest.
	`ALTER TABLE rooms ADD COLUMN archived boolean NOT NULL DEFAULT false;
	ALTER TABLE rooms ADD COLUMN guest_owner boolean NOT NULL DEFAULT false;
	ALTER TABLE rooms ADD COLUMN active_at timestamptz;
	UPDATE rooms SET active_at = created_at,
		guest_owner = (owner <> '' AND owner NOT IN (SELECT name FROM users));
	ALTER TABLE rooms ALTER COLUMN active_at SET NOT NULL;
	ALTER TABLE rooms ALTER COLUMN active_at SET DEFAULT now();
	CREATE INDEX rooms_guest_owner ON rooms (active_at) WHERE guest_owner;`,

	// 7: leases on guests' display names, shared by every node
	// (chat.GuestNames).
	`CREATE TABLE guest_names (
		name_key   text COLLATE "C" NOT NULL PRIMARY KEY,
		holder     text COLLATE "C" NOT NULL,
		expires_at timestamptz NOT NULL
	);`,

	// 8: no foreign key from messages to rooms. PostgreSQL checked it
	// with a query of its own for every message inserted (a quarter of
	// the database's CPU in the durable workload), while Append already
	// holds the lock of each room it writes to, taken before it reads
	// the room, and every deletion of rooms (deleteRooms) locks them
	// FOR UPDATE before it deletes their messages: a room's messages are
	// written only while it exists, and deleted with it. The keys that
	// point at messages (reactions) stay.
	`ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_room_fkey;`,

	// 9: the resend index leads with the cmid, as sqlitestore's migration
	// 11 says why: clients' cmids sort in the order they were made, so
	// the messages of one commit, from many rooms and authors, land on a
	// few leaf pages instead of one per room and author (and after each
	// checkpoint, a full page image of each in the WAL). Append's ON
	// CONFLICT names the columns, which match it in any order.
	`DROP INDEX messages_cmid;
	CREATE UNIQUE INDEX messages_cmid ON messages (cmid, room, author) WHERE cmid <> '';`,

	// 10: a guest's identity beside the messages it writes, as
	// sqlitestore's migration 13 says why.
	`ALTER TABLE messages ADD COLUMN author_key text COLLATE "C" NOT NULL DEFAULT '';`,

	// 11: complete uploads that no message carries expire too, as
	// sqlitestore's migration 14 says.
	`CREATE INDEX uploads_unsent ON uploads (updated_at) WHERE complete AND room = '';`,

	// 12: the file of a deleted message is purged, as sqlitestore's
	// migration 15 says (purged: 0 kept, 1 chunks still to delete, 2
	// chunks deleted), and so are the files of messages and rooms deleted
	// before this version. The new column's constant default makes the
	// ALTER instant; the UPDATE reads the uploads once.
	`ALTER TABLE uploads ADD COLUMN purged smallint NOT NULL DEFAULT 0;
	CREATE INDEX uploads_purging ON uploads (updated_at) WHERE purged = 1;
	CREATE INDEX uploads_purged ON uploads (updated_at) WHERE purged = 2;
	UPDATE uploads SET purged = 1, name = '', sha256 = '', declared = '', type = '',
		width = 0, height = 0, thumb = NULL
	WHERE complete AND room <> ''
	  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = uploads.id AND m.file_id <> '')
	  AND (NOT EXISTS (SELECT 1 FROM rooms r WHERE r.name = uploads.room)
	       OR cmid <> '' AND EXISTS (SELECT 1 FROM messages m
	            WHERE m.cmid = uploads.cmid AND m.room = uploads.room AND m.cmid <> ''
	              AND m.kind = '' AND m.deleted));`,

	// 13: deleted accounts, as sqlitestore's migration 16 says: the row
	// stays, deleted and without a password hash, so the name stays
	// taken. The constant default makes the ALTER instant.
	`ALTER TABLE users ADD COLUMN deleted boolean NOT NULL DEFAULT false;`,

	// 14: a guest's identity beside the moderation entries about it, as
	// sqlitestore's migration 17 says why.
	`ALTER TABLE messages ADD COLUMN subject_key text COLLATE "C" NOT NULL DEFAULT '';`,

	// 15: the timed bans, by when they end, for EndBans.
	`CREATE INDEX sanctions_until ON sanctions (until) WHERE until IS NOT NULL;`,

	// 16: blocks between accounts, as sqlitestore's migration 19 says.
	`CREATE TABLE blocks (
		blocker    text COLLATE "C" NOT NULL,
		blocked    text COLLATE "C" NOT NULL,
		created_at timestamptz NOT NULL,
		PRIMARY KEY (blocker, blocked)
	);
	CREATE INDEX blocks_blocked ON blocks (blocked);`,

	// 17: a claimed file whose message is stored, as sqlitestore's
	// migration 20 says why. The constant default makes the ALTER
	// instant; the UPDATE reads the uploads once.
	`ALTER TABLE uploads ADD COLUMN sent boolean NOT NULL DEFAULT false;
	UPDATE uploads SET sent = true
	WHERE EXISTS (SELECT 1 FROM messages m WHERE m.file_id = uploads.id AND m.file_id <> '');
	CREATE INDEX uploads_claimed ON uploads (updated_at)
		WHERE complete AND room <> '' AND NOT sent AND purged = 0;`,

	// 18: the display name a guest had when it was banned or muted, as
	// sqlitestore's migration 22 says why. The constant default makes
	// the ALTER instant.
	`ALTER TABLE sanctions ADD COLUMN subject_name text NOT NULL DEFAULT '';`,

	// 19: the administrators by name, as sqlitestore's migration 23
	// says why; in the order Store.Admins reads them.
	`CREATE INDEX users_admins ON users (name COLLATE "C") WHERE admin AND NOT disabled AND NOT deleted;`,
}

// searchVector is the SQL of messages.search (migration 4), the words of a
// plain message that is not deleted, NULL for other rows: the 'simple'
// configuration (lower case, no stemming, no stop words) over the body
// with ASCII punctuation turned into spaces, so that "example.com" or
// "snake_case" are two words, as SQLite's FTS5 and chat.SearchWords see
// them (PostgreSQL's parser would keep a host name whole). Every piece is
// immutable, as a generated column needs.
const searchVector = `CASE WHEN kind = '' AND NOT deleted THEN
		to_tsvector('simple'::regconfig, translate(body, ` + sqlPunct + `, ` + sqlSpaces + `))
	END`

// asciiPunct is ASCII's punctuation; sqlPunct is it as an SQL string, and
// sqlSpaces as many spaces.
const (
	asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	sqlPunct   = "'!\"#$%&''()*+,-./:;<=>?@[\\]^_`{|}~'"
	sqlSpaces  = "'                                '"
)

// filesMigration is one self-contained step; of the other tables it only
// indexes messages.file_id (migration 3), to find the message carrying a file.
const filesMigration = `CREATE TABLE uploads (
		id         text COLLATE "C" NOT NULL PRIMARY KEY,
		owner      text COLLATE "C" NOT NULL,
		name       text        NOT NULL,
		size       bigint      NOT NULL,
		sha256     text        NOT NULL,
		declared   text        NOT NULL DEFAULT '',
		received   bigint      NOT NULL DEFAULT 0,
		complete   boolean     NOT NULL DEFAULT false,
		created_at timestamptz NOT NULL,
		updated_at timestamptz NOT NULL,
		type       text        NOT NULL DEFAULT '',
		width      integer     NOT NULL DEFAULT 0,
		height     integer     NOT NULL DEFAULT 0,
		thumb      bytea,
		room       text COLLATE "C" NOT NULL DEFAULT '',
		cmid       text COLLATE "C" NOT NULL DEFAULT ''
	);
	CREATE INDEX uploads_owner ON uploads (owner, created_at);
	CREATE INDEX uploads_stale ON uploads (updated_at) WHERE NOT complete;
	CREATE TABLE upload_chunks (
		upload text COLLATE "C" NOT NULL,
		pos    bigint NOT NULL,
		data   bytea  NOT NULL,
		PRIMARY KEY (upload, pos)
	);
	CREATE INDEX messages_file ON messages (file_id) WHERE file_id <> '';`

// migrateLockKey is the first key of the advisory lock that migrations take;
// the second is a hash of the schema's name. ("hubb" in ASCII.)
const migrateLockKey = 0x68756262

// migrate brings the schema up to date and makes sure the default room
// exists, in one transaction that holds an advisory lock, so that several
// nodes may do it at once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)

	// Released when the transaction ends. A NULL schema (search_path
	// names none that exists) would take no lock; CREATE TABLE then
	// fails anyway.
	if _, err := tx.Exec(ctx,
		`SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`,
		int32(migrateLockKey)); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_version: %w", err)
	}
	var version int
	if err := tx.QueryRow(ctx,
		`SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: schema version %d is newer than this program knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		// Without arguments, Exec runs the several statements of a
		// migration in one simple query.
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate: to version %d: %w", i+1, err)
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO schema_version (version) VALUES ($1)`, i+1); err != nil {
			return fmt.Errorf("migrate: record version %d: %w", i+1, err)
		}
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO rooms (name, created_at) VALUES ($1, `+nowMS+`)
		 ON CONFLICT (name) DO NOTHING`, chat.DefaultRoom); err != nil {
		return fmt.Errorf("migrate: create default room: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// nowMS is the SQL for the database's clock at millisecond precision. It is
// clock_timestamp, not now: now is the start of the transaction, which may
// have waited for a lock.
const nowMS = `date_trunc('milliseconds', clock_timestamp())`

// isNoRows reports whether err says that a query returned no row.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
