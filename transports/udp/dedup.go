package udp

import (
	"sync"

	"rpcbench/wire"
)

// callState is where a request stands in the duplicate-request cache.
type callState uint8

const (
	running   callState = iota // handed to the core, no reply yet
	answered                   // reply sent and kept for copies of the request
	cancelled                  // the caller gave up: copies are dropped
)

// dedupEntry remembers one request of one client address. Running entries
// are never evicted; answered and cancelled ones sit in their address's
// dedupCache queue, oldest first, until TTL or the caps push them out.
type dedupEntry struct {
	id    uint64
	state callState
	at    int64  // when it stopped running, unix ns
	reply []byte // the reply datagram, or the whole payload when fragmented
	hdr   wire.Frame
	count int // reply fragments; 0: one datagram
	// burstMax is the highest reply fragment before the last in the
	// latest burst.
	burstMax int
	next     *dedupEntry
	refs     int  // writers using reply outside the lock
	gone     bool // evicted
}

var entryPool = sync.Pool{New: func() any { return new(dedupEntry) }}

// entryOverhead approximates an entry's memory besides its reply: the
// struct and its map slot.
const entryOverhead = 160

// size is what a settled entry counts against DedupBytes.
func (e *dedupEntry) size() int64 { return int64(cap(e.reply)) + entryOverhead }

func newEntry(id uint64, s callState) *dedupEntry {
	e := entryPool.Get().(*dedupEntry)
	e.id, e.state, e.at, e.count, e.next, e.refs, e.gone = id, s, 0, 0, nil, 0, false
	e.reply = e.reply[:0]
	return e
}

// put recycles e once it is evicted and nobody writes from it.
func (e *dedupEntry) put() {
	if !e.gone || e.refs > 0 {
		return
	}
	if cap(e.reply) > 4096 {
		e.reply = nil
	}
	e.hdr = wire.Frame{}
	entryPool.Put(e)
}

// dedupCache is one client address's duplicate-request cache. Its owner's
// lock guards it.
type dedupCache struct {
	calls      map[uint64]*dedupEntry
	head, tail *dedupEntry // settled (answered, cancelled) entries, oldest first
	settled    int
	running    int
}

func (c *dedupCache) init() { c.calls = map[uint64]*dedupEntry{} }

func (c *dedupCache) get(id uint64) *dedupEntry { return c.calls[id] }

// start records a request handed to the core.
func (c *dedupCache) start(id uint64) {
	c.calls[id] = newEntry(id, running)
	c.running++
}

// settle moves e (running, or new) to the queue of settled entries in
// state s, then evicts what the limits ask for. bytes counts cached reply
// bytes across all caches.
func (c *dedupCache) settle(e *dedupEntry, s callState, now int64, l *cacheLimits) {
	if e.state == running && c.calls[e.id] == e {
		c.running--
	}
	e.state, e.at = s, now
	c.calls[e.id] = e
	if c.tail == nil {
		c.head = e
	} else {
		c.tail.next = e
	}
	c.tail = e
	c.settled++
	l.bytes.Add(e.size())
	for c.head != nil && (c.settled > l.entries || c.head.at <= now-l.ttl || l.bytes.Load() > l.maxBytes) {
		c.evictHead(l)
	}
}

// expire evicts settled entries older than the TTL.
func (c *dedupCache) expire(now int64, l *cacheLimits) {
	for c.head != nil && c.head.at <= now-l.ttl {
		c.evictHead(l)
	}
}

func (c *dedupCache) evictHead(l *cacheLimits) {
	e := c.head
	c.head = e.next
	if c.head == nil {
		c.tail = nil
	}
	e.next = nil
	c.settled--
	if c.calls[e.id] == e {
		delete(c.calls, e.id)
	}
	l.bytes.Add(-e.size())
	e.gone = true
	e.put()
}

// clear evicts everything, running entries included (the address's session
// is gone).
func (c *dedupCache) clear(l *cacheLimits) {
	for c.head != nil {
		c.evictHead(l)
	}
	for id, e := range c.calls {
		delete(c.calls, id)
		e.gone = true
		e.put()
	}
	c.running = 0
}
