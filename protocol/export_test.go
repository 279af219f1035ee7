package protocol

// OpFields returns the fields op takes besides id and op, required and
// optional, for tests that compare them with docs/protocol.md.
func OpFields(op string) (required, optional []string, ok bool) {
	s, ok := ops[op]
	return s.required, s.optional, ok
}
