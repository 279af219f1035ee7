// Package wsframe is hubbub's WebSocket frame codec, written from RFC 6455
// (https://www.rfc-editor.org/rfc/rfc6455) with the standard library only.
// Comments cite the RFC's sections as §n.n.
//
// It is the codec that the live inspector reads real connections with and
// that the minimal server in internal/rfcws is built on. It is made for
// reading and for learning, and it is complete enough to pass the Autobahn
// conformance suite. hubbub's chat itself runs on gorilla/websocket, except
// for the frame headers of the events the server writes straight to an
// idle socket (AppendHeader; see internal/server's writeThroughLocked).
//
// The pieces:
//
//   - ParseHeader and ReadHeader decode one frame header (§5.2);
//     Header.Check applies the rules every frame must follow whatever the
//     connection negotiated (§5.2, §5.4, §5.5).
//   - Parser is an io.Writer fed arbitrary chunks of a live byte stream,
//     one direction of one connection, split anywhere. It reports every
//     complete frame with its header, its unmasked payload (kept up to a
//     bound; longer payloads are cut but their length is reported) and its
//     protocol errors.
//   - AppendFrame encodes a frame, AppendHeader only its header; Mask
//     applies the masking of §5.3.
//   - ParseClose and AppendClose read and write the body of a close frame
//     (§5.5.1, §7.4).
//   - AcceptKey and AcceptSteps derive Sec-WebSocket-Accept (§4.2.2).
//   - Assembler joins fragments into messages while control frames pass
//     between them (§5.4).
//   - UTF8 validates text incrementally, failing on the first byte that
//     no valid continuation could repair (§5.6, §8.1).
//
// Nothing in this package does I/O except ReadHeader, which reads from the
// io.Reader it is given, and nothing starts a goroutine. Values of the
// stateful types (Parser, Assembler, UTF8) are not safe for concurrent use.
package wsframe
