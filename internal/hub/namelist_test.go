package hub

import (
	"fmt"
	"slices"
	"testing"
)

// checkList compares l with want, a sorted slice of the same names, and
// checks the chunks' invariants.
func checkList(t *testing.T, l *nameList, want []string) {
	t.Helper()
	if got := slices.Collect(l.All()); !slices.Equal(got, want) {
		t.Fatalf("All() = %d names %.5q…, want %d %.5q…", len(got), got, len(want), want)
	}
	if l.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", l.Len(), len(want))
	}
	for _, k := range []int{0, 1, 3, nameChunk, nameChunk + 1, len(want), len(want) + 5} {
		if got := l.AppendFirst(nil, k); !slices.Equal(got, want[:min(k, len(want))]) {
			t.Fatalf("AppendFirst(%d) = %d names, want %d", k, len(got), min(k, len(want)))
		}
	}
	for i, c := range l.chunks {
		if len(c) == 0 || len(c) > nameChunk {
			t.Fatalf("chunk %d holds %d names, want 1 to %d", i, len(c), nameChunk)
		}
	}
}

func TestNameList(t *testing.T) {
	tests := []struct {
		name string
		ops  func(add, del func(string))
	}{
		{"empty", func(add, del func(string)) {}},
		{"ascending", func(add, del func(string)) {
			for i := range 2000 {
				add(fmt.Sprintf("u%05d", i))
			}
		}},
		{"descending", func(add, del func(string)) {
			for i := 2000; i > 0; i-- {
				add(fmt.Sprintf("u%05d", i))
			}
		}},
		{"interleaved, then most removed", func(add, del func(string)) {
			for i := range 3000 {
				add(fmt.Sprintf("u%05d", (i*7919)%3000))
			}
			for i := range 2900 {
				del(fmt.Sprintf("u%05d", (i*104729)%3000))
			}
		}},
		{"duplicates and missing", func(add, del func(string)) {
			for range 3 {
				for i := range 600 {
					add(fmt.Sprint("x", i%300))
				}
			}
			del("absent")
			del("x1")
			del("x1")
		}},
		{"all removed, then again", func(add, del func(string)) {
			for i := range 1000 {
				add(fmt.Sprint("a", i))
			}
			for i := range 1000 {
				del(fmt.Sprint("a", i))
			}
			add("b")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l nameList
			var want []string
			add := func(s string) {
				i, found := slices.BinarySearch(want, s)
				if got := l.Insert(s); got == found {
					t.Fatalf("Insert(%q) = %v, want %v", s, got, !found)
				}
				if !found {
					want = slices.Insert(want, i, s)
				}
			}
			del := func(s string) {
				i, found := slices.BinarySearch(want, s)
				if got := l.Delete(s); got != found {
					t.Fatalf("Delete(%q) = %v, want %v", s, got, found)
				}
				if found {
					want = slices.Delete(want, i, i+1)
				}
			}
			tt.ops(add, del)
			checkList(t, &l, want)
		})
	}
}

// FuzzNameList applies inserts and deletes from data to a nameList and
// to a plain sorted slice, and compares them.
func FuzzNameList(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 0x81, 0x82})
	f.Fuzz(func(t *testing.T, data []byte) {
		var l nameList
		var want []string
		for k, b := range data {
			// Few distinct names, so deletes hit; many ops, so chunks split.
			s := fmt.Sprint("n", int(b&0x7f)*37%97, "-", k%5)
			i, found := slices.BinarySearch(want, s)
			if b&0x80 == 0 {
				if l.Insert(s) == found {
					t.Fatalf("Insert(%q) disagrees", s)
				}
				if !found {
					want = slices.Insert(want, i, s)
				}
			} else {
				if l.Delete(s) != found {
					t.Fatalf("Delete(%q) disagrees", s)
				}
				if found {
					want = slices.Delete(want, i, i+1)
				}
			}
		}
		checkList(t, &l, want)
	})
}
