// Package faulttest holds the pieces of hubbub's fault suite: real
// processes it can break, and the bookkeeping that decides whether the
// cluster kept its promise while they were broken.
//
//   - [Service] runs a redis-server or nats-server of the test's own on a
//     free loopback port, so a test may stop it and start it again on the
//     same port without touching the shared servers other tests use.
//   - [Proxy] is a TCP proxy (in front of PostgreSQL) that can cut every
//     connection and refuse new ones, or stall them by holding their bytes.
//   - [Node] is a hubbubd process built once per test binary ([Build]).
//   - [Balancer] is a TCP load balancer that honours /readyz, the way
//     HAProxy or nginx with health checks would.
//   - [Cluster] puts them together: nodes on a fresh PostgreSQL schema
//     (behind a Proxy) and a broker of their own, behind a Balancer.
//   - [Crowd] runs thousands of clients in a process of their own (the
//     crowd command, built without -race) for the reconnect storm.
//   - [Ledger] classifies every send as acknowledged, refused or unknown;
//     [Member] records what one real Go client (package client) received;
//     [Verify] applies the suite's pass rule: no acknowledged message
//     missing from history or from any live member, no duplicate, and
//     strictly increasing sequences per room at every client.
//
// Everything here is for tests: helpers take a testing.TB, fail it on
// setup errors, and register their cleanup with it. The package starts
// processes and goroutines; each is stopped by the cleanup of the test
// that started it. It runs on Linux (it sends SIGKILL and SIGTERM, and
// relies on Pdeathsig so that no child outlives a killed test binary).
package faulttest
