package codecs

import (
	"fmt"

	"rpcbench/internal/bufpool"
)

// Decompress returns src decompressed by the compressor with wire ID id,
// in a pooled buffer (package internal/bufpool) that the caller puts back
// once it is done with the result. It fails on an unknown ID, on input
// that does not decompress, and once the output would exceed limit bytes;
// the client and the server report its errors as bad requests.
func Decompress(id uint8, src []byte, limit int) ([]byte, *[]byte, error) {
	comp := CompressorByID(id)
	if comp == nil {
		return nil, nil, fmt.Errorf("unknown compression ID %d", id)
	}
	b := bufpool.Get()
	out, err := comp.Decompress((*b)[:0], src, limit)
	if err != nil {
		bufpool.Put(b)
		return nil, nil, fmt.Errorf("decompressing %s payload: %v", comp.Name(), err)
	}
	*b = out
	return out, b, nil
}
