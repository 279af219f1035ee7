package hub

import (
	"iter"
	"slices"
	"sort"
)

// nameList is a sorted set of user names kept in chunks of at most
// nameChunk, so that adding or removing a name moves at most a chunk's
// worth of strings: with one sorted slice, every join of a room of 10,000
// users moved up to 160 KB to make room for one name. Finding the chunk is
// a binary search over the chunks' first names. The zero value is empty.
type nameList struct {
	chunks [][]string // each sorted and non-empty; every name of one is below every name of the next
	n      int
}

// nameChunk is the most names a chunk holds; a fuller one splits in two.
const nameChunk = 256

// Len returns how many names l holds.
func (l *nameList) Len() int { return l.n }

// chunkFor returns the index of the chunk where name is or belongs: the
// last one whose first name is at most name, or the first. l is not empty.
func (l *nameList) chunkFor(name string) int {
	i := sort.Search(len(l.chunks), func(i int) bool { return l.chunks[i][0] > name })
	return max(i-1, 0)
}

// Insert adds name and reports whether it was not there yet.
func (l *nameList) Insert(name string) bool {
	if l.n == 0 {
		l.chunks = append(l.chunks[:0], []string{name})
		l.n = 1
		return true
	}
	ci := l.chunkFor(name)
	c := l.chunks[ci]
	j, found := slices.BinarySearch(c, name)
	if found {
		return false
	}
	c = slices.Insert(c, j, name)
	if len(c) > nameChunk {
		half := len(c) / 2
		right := slices.Clone(c[half:])
		clear(c[half:]) // the strings now belong to right
		l.chunks[ci] = c[:half]
		l.chunks = slices.Insert(l.chunks, ci+1, right)
	} else {
		l.chunks[ci] = c
	}
	l.n++
	return true
}

// Delete removes name and reports whether it was there. A chunk left
// small merges with a neighbour when the two fit in one.
func (l *nameList) Delete(name string) bool {
	if l.n == 0 {
		return false
	}
	ci := l.chunkFor(name)
	c := l.chunks[ci]
	j, found := slices.BinarySearch(c, name)
	if !found {
		return false
	}
	c = slices.Delete(c, j, j+1)
	l.n--
	switch {
	case len(c) == 0:
		l.chunks = slices.Delete(l.chunks, ci, ci+1)
	case ci+1 < len(l.chunks) && len(c)+len(l.chunks[ci+1]) <= nameChunk/2:
		l.chunks[ci] = append(c, l.chunks[ci+1]...)
		l.chunks = slices.Delete(l.chunks, ci+1, ci+2)
	case ci > 0 && len(c)+len(l.chunks[ci-1]) <= nameChunk/2:
		l.chunks[ci-1] = append(l.chunks[ci-1], c...)
		l.chunks = slices.Delete(l.chunks, ci, ci+1)
	default:
		l.chunks[ci] = c
	}
	return true
}

// AppendFirst appends the first k names, in order, to dst and returns it.
func (l *nameList) AppendFirst(dst []string, k int) []string {
	for _, c := range l.chunks {
		if k <= 0 {
			break
		}
		take := c[:min(k, len(c))]
		dst = append(dst, take...)
		k -= len(take)
	}
	return dst
}

// All yields every name, in order.
func (l *nameList) All() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, c := range l.chunks {
			for _, name := range c {
				if !yield(name) {
					return
				}
			}
		}
	}
}
