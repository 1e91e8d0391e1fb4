package codecs_test

// Codecs registered from packages of their own take part in every test
// here: registry, round trip, garbage input.
import (
	_ "rpcbench/codecs/flatbuf"
	_ "rpcbench/codecs/thriftcodec"
)
