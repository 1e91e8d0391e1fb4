// Package layout holds no code: its test checks the module's import rules,
// so that they stay true under `go test ./...` and `make lint`:
//
//   - nothing under peers/, transports/, services/, discovery/, cluster/,
//     and not the root package, imports anything under harness/;
//   - target/ imports nothing of rpcbench;
//   - peers/ imports only target, codecs/benchmsg and transports/tlsconf
//     within rpcbench;
//   - the root package does not depend on codecs/benchmsg;
//   - cluster depends on none of quic-go, fasthttp and gnet;
//   - every package that chooses transports by name links transports/all;
//   - the k8s.io modules are imported by deploy/kubernetes's test only;
//   - no package has an import cycle or another load error.
package layout
