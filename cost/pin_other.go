//go:build !linux

package cost

import "errors"

// Pin is not supported on this system.
func Pin(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	return errors.New("cost: CPU pinning is only supported on Linux")
}

// Affinity is not known on this system.
func Affinity() ([]int, error) { return nil, errors.New("cost: CPU affinity is only known on Linux") }
