package rpcbench

// ParseInjectForTest exposes the injection parser to the external tests.
func ParseInjectForTest(s string) { parseInject(s) }
