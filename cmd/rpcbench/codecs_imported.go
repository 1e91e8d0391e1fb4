package main

// Codecs that live outside package codecs register themselves when
// imported; importing them here gives every subcommand (serve, call,
// bench, codecs) the same set.
import (
	_ "rpcbench/codecs/flatbuf"     // flatbuffers
	_ "rpcbench/codecs/thriftcodec" // thrift-binary, thrift-compact
)
