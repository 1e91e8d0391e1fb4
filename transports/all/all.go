// Package all links every rpcbench transport, so that each registers its
// names with package transports: import it for its side effect where a
// transport is chosen by name from a flag or a spec (the rpcbench binary,
// the harness).
//
//	import _ "rpcbench/transports/all"
package all

import (
	_ "rpcbench/transports/amqp"
	_ "rpcbench/transports/http1"
	_ "rpcbench/transports/nats"
	_ "rpcbench/transports/quic"
	_ "rpcbench/transports/tcp"
	_ "rpcbench/transports/udp"
)
