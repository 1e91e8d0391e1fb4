package rpcbench

import (
	"fmt"
	"strings"
)

// CallID maps a "Service.Method" name to the 32-bit ID that frames carry
// (FNV-1a). It does not allocate.
func CallID(name string) uint32 {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= prime
	}
	return h
}

// checkMethodName rejects names that are not "Service.Method".
func checkMethodName(name string) error {
	svc, m, ok := strings.Cut(name, ".")
	if !ok || svc == "" || m == "" || strings.ContainsAny(name, " /\t\n") {
		return fmt.Errorf("rpcbench: method name %q is not of the form Service.Method", name)
	}
	return nil
}
