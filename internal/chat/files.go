package chat

import (
	"context"
	"errors"
	"time"
)

// Errors of the Files contract.
var (
	// ErrNoSuchFile: no upload with that id (or it expired, was
	// discarded, or was purged with its message), or, from FileMessage,
	// no message of a room carries it.
	ErrNoSuchFile = errors.New("no such file")
	// ErrBadOffset: a chunk that does not start where the upload stands,
	// or that runs past its size. Nothing of it was stored.
	ErrBadOffset = errors.New("chunk at the wrong offset")
	// ErrFileUsed: ClaimFile of a file already claimed for another message.
	ErrFileUsed = errors.New("file attached to another message")
	// ErrOverQuota: CreateUpload of an upload that would take its owner
	// past the Quota given. Nothing was stored.
	ErrOverQuota = errors.New("upload quota exceeded")
)

// Quota bounds what CreateUpload lets one owner start: the sizes of the
// owner's uploads created at or after Since, as UploadedSince adds them
// up, plus the new upload's, at most Bytes. Bytes <= 0 bounds nothing.
type Quota struct {
	Since time.Time
	Bytes int64
}

// Upload is a file on its way in, and once Complete, a file that messages
// may carry. ID is its identity (also the file's id on the wire).
type Upload struct {
	ID       string
	Owner    string // who uploads it: an account name or a guest's identity key
	Name     string // the name it was uploaded with
	Size     int64  // the size the client announced; the upload is complete at Size bytes
	SHA256   string // the checksum the client announced, hex
	Declared string // the media type the client announced (advisory, never served)

	Received int64     // bytes stored so far; set by the store
	Complete bool      // received, verified and described by CompleteUpload
	Created  time.Time // set by the store at CreateUpload
	Updated  time.Time // set by the store: the last chunk, CompleteUpload or ClaimFile

	// Set by CompleteUpload.
	Type   string // the media type found in the content
	Width  int    // images: pixels
	Height int
	Thumb  bool // a thumbnail is stored

	// Set by ClaimFile: the message that carries the file.
	Room string
	CMID string
}

// FileInfo is what the server found out about a complete upload.
type FileInfo struct {
	Type          string
	Width, Height int
	Thumb         []byte // the thumbnail, or nil
}

// Files stores uploads: their bytes in chunks, in a store that every node
// of a cluster shares, so that any node can serve a file another received.
// Implementations are safe for concurrent use; every method returns
// ErrClosed after Close of the store.
//
// A file goes with its message. When a store that is a Store as well
// deletes a plain message that carries a file (Append of a delete, by its
// author or a moderator; DeleteRoom and DeleteIdleGuestRooms, for every
// message of the room), it purges the file in the same transaction, unless
// a message that is not deleted still carries it. A purged file is gone
// for every method here: Upload, Thumb, ClaimFile and CompleteUpload find
// no such file, ReadFile reads nothing, and its name, checksum and
// thumbnail are erased at once. Its chunks are deleted by PurgeFiles, a
// bounded sweep, so that a deletion costs its transaction the same however
// large the file. What is left, the record of its owner, size and creation
// time, still counts in UploadedSince (deleting a message gives no upload
// quota back) until ExpireUploads removes it.
type Files interface {
	// CreateUpload records a new, empty upload if q lets u.Owner start it,
	// else returns ErrOverQuota. The check and the insert are atomic:
	// uploads of one owner created at once, by any number of callers on
	// any number of nodes, never pass q together. u.ID must be new.
	CreateUpload(ctx context.Context, u Upload, q Quota) error

	// Upload returns one upload, complete or not, or ErrNoSuchFile.
	Upload(ctx context.Context, id string) (Upload, error)

	// AppendChunk stores data as the bytes of upload id from offset on and
	// returns the bytes received since. offset must be the upload's
	// Received, and offset+len(data) at most its Size, else ErrBadOffset
	// and nothing is stored. Chunks of one upload may arrive from any node,
	// one at a time: a second chunk at the same offset gets ErrBadOffset.
	AppendChunk(ctx context.Context, id string, offset int64, data []byte) (int64, error)

	// ReadFile calls fn with the stored bytes of upload id, in order, a
	// chunk at a time, starting with the chunk that holds offset from (fn
	// gets the whole chunk; skip chunkStart..from yourself). It reads from
	// the store as it goes: a file is never all in memory. fn's slice is
	// valid only during the call. An error from fn stops the read and is
	// returned.
	ReadFile(ctx context.Context, id string, fn func(chunkStart int64, data []byte) error) error

	// CompleteUpload marks upload id complete with what the server found
	// in it, and stores its thumbnail. The upload must have all its bytes
	// (else ErrBadOffset).
	CompleteUpload(ctx context.Context, id string, info FileInfo) error

	// Thumb returns the thumbnail of file id, or ErrNoSuchFile.
	Thumb(ctx context.Context, id string) ([]byte, error)

	// DiscardUpload deletes upload id and its bytes. Deleting one that does
	// not exist is not an error.
	DiscardUpload(ctx context.Context, id string) error

	// ClaimFile attaches complete upload id of owner to the message with
	// room and cmid. Claiming again with the same room and cmid succeeds
	// (a resend); with others, ErrFileUsed. An upload that does not exist
	// or is not owner's is ErrNoSuchFile. Every claim that succeeds, a
	// resend's too, sets Updated, so that ExpireUploads leaves a claim
	// alone for the whole cut after it: the message of a send in flight
	// finds its file there when it is stored.
	ClaimFile(ctx context.Context, id, owner, room, cmid string) error

	// ReleaseFile undoes ClaimFile for a message that was not stored:
	// upload id of owner, claimed for room and cmid, is free again unless
	// a stored message carries it. Releasing a file that is not so
	// claimed, or that a message carries, changes nothing and is not an
	// error.
	ReleaseFile(ctx context.Context, id, owner, room, cmid string) error

	// FileMessage returns the room and seq of the plain message, not
	// deleted, that carries file id, or ErrNoSuchFile. (Deleting a message
	// takes its file off it, and purges the file.)
	FileMessage(ctx context.Context, id string) (room string, seq int64, err error)

	// UploadedSince returns how many bytes (announced sizes) owner's
	// uploads created at or after since add up to, discarded ones left
	// out: what a Quota counts. To enforce a quota, pass it to
	// CreateUpload; a check of UploadedSince before CreateUpload races
	// with the owner's other uploads.
	UploadedSince(ctx context.Context, owner string, since time.Time) (int64, error)

	// ExpireUploads discards every upload not updated since before that
	// no message carries: incomplete ones; complete ones never claimed
	// (or released, ReleaseFile); and complete ones claimed for a message
	// that was never stored (the send died between ClaimFile and Append,
	// or its ReleaseFile failed) — and returns how many. Append of a
	// message that carries a file, in the same transaction, keeps it from
	// ever expiring. It also removes the records of the files purged
	// before before whose chunks PurgeFiles has deleted, which it does not
	// count. A resend of the lost message finds no such file.
	ExpireUploads(ctx context.Context, before time.Time) (int, error)

	// PurgeFiles deletes up to max stored chunks of purged files (see
	// above) in one transaction and returns how many it deleted: fewer
	// than max once none is left. Several callers (nodes) may run it at
	// once; each chunk is deleted by one of them.
	PurgeFiles(ctx context.Context, max int) (int, error)
}
