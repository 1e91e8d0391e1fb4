package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"rpcbench/transports/brokered"
)

// maxBody is RabbitMQ's default max_message_size (128 MiB); the frame
// payload limit (16 MiB by default) is the lower one.
const maxBody = 128 << 20

// dialTimeout bounds a connection attempt when the context has no
// deadline.
const dialTimeout = 5 * time.Second

var errNacked = errors.New("the broker did not confirm the message")

func connect(a brokered.Addr, timeout time.Duration, name string) (*amqp.Connection, *amqp.Channel, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(name)
	conn, err := amqp.DialConfig(a.Broker(), amqp.Config{Dial: amqp.DefaultDial(timeout), Properties: props})
	if err != nil {
		return nil, nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, ch, nil
}

// publish sends p to queue key, waiting for the broker's confirm if
// confirm is set (the channel is then in confirm mode).
func publish(ch *amqp.Channel, confirm bool, key string, mandatory bool, p amqp.Publishing) error {
	ctx := context.Background()
	if !confirm {
		return ch.PublishWithContext(ctx, "", key, mandatory, false, p)
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", key, mandatory, false, p)
	if err != nil {
		return err
	}
	if !dc.Wait() {
		return errNacked
	}
	return nil
}

func corrID(corr uint64) string { return strconv.FormatUint(corr, 16) }

// clientLink is a client's AMQP connection, one channel on it and its
// exclusive reply queue.
type clientLink struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	queue   string // the service's request queue
	replyTo string
	confirm bool
}

var _ brokered.Link = (*clientLink)(nil)

func dialClient(ctx context.Context, a brokered.Addr, confirm bool, r brokered.Replies) (*clientLink, error) {
	timeout := dialTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	conn, ch, err := connect(a, timeout, "rpcbench client")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*clientLink, error) { conn.Close(); return nil, err }
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return fail(err)
	}
	replies, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return fail(err)
	}
	if confirm {
		if err := ch.Confirm(false); err != nil {
			return fail(err)
		}
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 16))
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		for d := range replies {
			r.Reply(d.Body)
		}
	}()
	go func() {
		for ret := range returns {
			corr, _ := strconv.ParseUint(ret.CorrelationId, 16, 64)
			r.Undeliverable(corr, fmt.Sprintf("no server consumes queue %q on %s (%s)", a.Service, a.Host, ret.ReplyText))
		}
	}()
	go func() {
		if err := <-closed; err != nil {
			r.Lost(err)
		} else {
			r.Lost(amqp.ErrClosed)
		}
	}()
	return &clientLink{conn: conn, ch: ch, queue: a.Service, replyTo: q.Name, confirm: confirm}, nil
}

func (l *clientLink) Publish(r brokered.Request) error {
	p := amqp.Publishing{CorrelationId: corrID(r.Corr), ReplyTo: l.replyTo, Body: r.Body}
	if r.TTL > 0 {
		p.Expiration = strconv.FormatInt(int64((r.TTL+time.Millisecond-1)/time.Millisecond), 10)
	}
	return publish(l.ch, l.confirm, l.queue, true, p)
}

func (l *clientLink) MaxBody() int { return maxBody }

func (l *clientLink) Close() error {
	err := l.conn.Close()
	if errors.Is(err, amqp.ErrClosed) {
		err = nil
	}
	return err
}

// serverLink is a listener's AMQP connection. When the connection is lost
// it dials again until it is closed, and consumes again: nobody else
// would dial it.
type serverLink struct {
	addr    brokered.Addr
	confirm bool

	mu       sync.Mutex
	conn     *amqp.Connection
	ch       *amqp.Channel
	tag      string // the consumer's, while consuming
	stopped  bool   // StopConsuming was called
	closed   bool
	serving  bool          // Consume started the consuming goroutine
	consumer chan struct{} // closed when it ends
}

var _ brokered.ServerLink = (*serverLink)(nil)

func dialServer(a brokered.Addr, confirm bool) (*serverLink, error) {
	l := &serverLink{addr: a, confirm: confirm, consumer: make(chan struct{})}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// open connects and declares the request queue.
func (l *serverLink) open() error {
	conn, ch, err := connect(l.addr, dialTimeout, "rpcbench server")
	if err != nil {
		return err
	}
	if confirm := l.confirm; confirm {
		err = ch.Confirm(false)
	}
	if err == nil {
		_, err = ch.QueueDeclare(l.addr.Service, false, true, false, false, nil)
	}
	if err != nil {
		conn.Close()
		return err
	}
	l.mu.Lock()
	l.conn, l.ch = conn, ch
	l.mu.Unlock()
	return nil
}

func (l *serverLink) Consume(r brokered.Requests) error {
	deliveries, err := l.consume()
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.serving = true
	l.mu.Unlock()
	go l.serve(r, deliveries)
	return nil
}

func (l *serverLink) consume() (<-chan amqp.Delivery, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tag := fmt.Sprintf("rpcbench-%p", l)
	d, err := l.ch.Consume(l.addr.Service, tag, true, false, false, false, nil)
	if err == nil {
		l.tag = tag
	}
	return d, err
}

// serve hands deliveries to r, and reconnects when they end while the
// link is still open.
func (l *serverLink) serve(r brokered.Requests, deliveries <-chan amqp.Delivery) {
	defer close(l.consumer)
	for {
		for d := range deliveries {
			if d.ReplyTo != "" { // else nowhere to answer
				r.Request(d.ReplyTo, d.Body)
			}
		}
		l.mu.Lock()
		done := l.closed || l.stopped
		conn := l.conn
		l.mu.Unlock()
		if done {
			return
		}
		r.Lost(fmt.Errorf("connection to %s lost", l.addr.Host))
		conn.Close()
		for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
			time.Sleep(wait)
			if l.isClosed() {
				return
			}
			if l.open() != nil {
				continue
			}
			var err error
			if deliveries, err = l.consume(); err == nil {
				break
			}
			l.mu.Lock()
			l.conn.Close()
			l.mu.Unlock()
		}
	}
}

func (l *serverLink) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

func (l *serverLink) StopConsuming() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if l.tag == "" {
		return nil
	}
	tag := l.tag
	l.tag = ""
	// The queue is auto-delete: with its last consumer gone, it goes.
	if err := l.ch.Cancel(tag, false); err != nil && !errors.Is(err, amqp.ErrClosed) {
		return err
	}
	return nil
}

func (l *serverLink) Reply(to string, corr uint64, body []byte) error {
	l.mu.Lock()
	ch := l.ch
	l.mu.Unlock()
	return publish(ch, l.confirm, to, false, amqp.Publishing{CorrelationId: corrID(corr), Body: body})
}

func (l *serverLink) MaxBody() int { return maxBody }

func (l *serverLink) Addr() net.Addr { return l.addr }

func (l *serverLink) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	conn, serving := l.conn, l.serving
	l.mu.Unlock()
	conn.Close()
	if serving {
		<-l.consumer
	}
	return nil
}
