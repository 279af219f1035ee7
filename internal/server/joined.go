package server

// joinedRooms is the set of rooms a session is in, each with its
// joinedRoom. Its zero value is empty and ready to use; it is guarded by
// session.mu.
//
// A connection is in one room or a few: a slice searched in order costs
// it far less than a map (whose first room alone takes 256 bytes), and
// past joinedMapAt rooms it becomes a map, so that a session in
// thousands of rooms still finds one at once.
type joinedRooms struct {
	list   []*joinedRoom          // while there are at most joinedMapAt
	byName map[string]*joinedRoom // instead of list beyond
}

// joinedMapAt is the most rooms joinedRooms keeps in its slice.
const joinedMapAt = 16

// get returns the room called name, if the session is in it.
func (j *joinedRooms) get(name string) (*joinedRoom, bool) {
	if j.byName != nil {
		jr, ok := j.byName[name]
		return jr, ok
	}
	for _, jr := range j.list {
		if jr.name == name {
			return jr, true
		}
	}
	return nil, false
}

// add enters jr, which must not be in j yet, under jr.name.
func (j *joinedRooms) add(jr *joinedRoom) {
	switch {
	case j.byName != nil:
		j.byName[jr.name] = jr
	case len(j.list) < joinedMapAt:
		if j.list == nil {
			j.list = make([]*joinedRoom, 0, 1) // exactly one: most sessions join one room
		}
		j.list = append(j.list, jr)
	default:
		j.byName = make(map[string]*joinedRoom, 2*joinedMapAt)
		for _, r := range j.list {
			j.byName[r.name] = r
		}
		j.byName[jr.name] = jr
		j.list = nil
	}
}

// remove takes the room called name out, and reports whether it was in.
func (j *joinedRooms) remove(name string) bool {
	if j.byName != nil {
		_, ok := j.byName[name]
		delete(j.byName, name)
		return ok
	}
	for i, jr := range j.list {
		if jr.name == name {
			last := len(j.list) - 1
			j.list[i] = j.list[last]
			j.list[last] = nil
			j.list = j.list[:last]
			return true
		}
	}
	return false
}

// each calls f for every room, in no order.
func (j *joinedRooms) each(f func(*joinedRoom)) {
	for _, jr := range j.byName {
		f(jr)
	}
	for _, jr := range j.list {
		f(jr)
	}
}

// names returns the names of the rooms, in no order; nil for none.
func (j *joinedRooms) names() []string {
	var out []string
	switch {
	case len(j.byName) == 0 && len(j.list) == 0:
		return nil
	case j.byName != nil:
		out = make([]string, 0, len(j.byName))
		for name := range j.byName {
			out = append(out, name)
		}
		return out
	}
	out = make([]string, 0, len(j.list))
	for _, jr := range j.list {
		out = append(out, jr.name)
	}
	return out
}
