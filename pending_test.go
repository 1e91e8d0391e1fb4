package rpcbench

import "testing"

func TestPendingTable(t *testing.T) {
	var tab pendingTable
	a, b := new(pendingCall), new(pendingCall)
	ida, idb := tab.add(a), tab.add(b)
	if ida == 0 || idb == 0 || ida == idb {
		t.Fatalf("IDs %#x and %#x", ida, idb)
	}
	if got := tab.take(ida); got != a {
		t.Fatalf("take(a) = %p, want %p", got, a)
	}
	if got := tab.take(ida); got != nil {
		t.Fatal("a call was taken twice")
	}
	// a's slot is reused with a new generation: a late reply to a finds
	// nothing, and the new call keeps its own ID.
	c := new(pendingCall)
	idc := tab.add(c)
	if uint32(idc) != uint32(ida) || idc == ida {
		t.Fatalf("reused slot: ID %#x after %#x", idc, ida)
	}
	if got := tab.take(ida); got != nil {
		t.Fatal("a stale ID took the slot's new call")
	}
	if got := tab.take(1<<32 | 99); got != nil {
		t.Fatal("an ID beyond the table found a call")
	}
	seen := map[uint64]bool{}
	for i := 0; i < 1000; i++ { // IDs do not repeat on one connection
		id := tab.add(new(pendingCall))
		if seen[id] {
			t.Fatalf("ID %#x repeated", id)
		}
		seen[id] = true
		if i%2 == 0 {
			tab.take(id)
		}
	}
	calls := tab.drain()
	if len(calls) != 2+500 {
		t.Fatalf("drained %d calls, want %d", len(calls), 502)
	}
	if tab.take(idb) != nil || tab.take(idc) != nil || len(tab.drain()) != 0 {
		t.Fatal("calls left after drain")
	}
}
