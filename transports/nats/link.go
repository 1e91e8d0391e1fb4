package nats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"rpcbench/transports/brokered"
)

var errNotReady = errors.New("embedded NATS server not ready after 10s")

// queueGroup is the group every server of a subject consumes in: each
// request goes to one of them.
const queueGroup = "rpcbench"

// connectTimeout bounds a dial when the context has no deadline.
const connectTimeout = 5 * time.Second

// clientLink is a client's NATS connection. Replies come to its inbox
// with the request ID as the last token ("_INBOX.x.1f"), so that the
// broker's own "no responders" answer, which has no body, still says
// which call it is for.
type clientLink struct {
	nc      *natsgo.Conn
	subject string
	inbox   string
}

var _ brokered.Link = (*clientLink)(nil)

func dialClient(ctx context.Context, a brokered.Addr, r brokered.Replies) (*clientLink, error) {
	timeout := connectTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	lost := func(_ *natsgo.Conn, err error) {
		if err == nil {
			err = natsgo.ErrConnectionClosed
		}
		r.Lost(err)
	}
	// No reconnecting: a lost broker fails the connection's calls at once
	// and the core dials again, as it does for TCP.
	nc, err := natsgo.Connect(a.Broker(), natsgo.NoReconnect(), natsgo.Timeout(timeout), natsgo.Name("rpcbench client"),
		natsgo.DisconnectErrHandler(lost), natsgo.ClosedHandler(func(c *natsgo.Conn) { lost(c, c.LastError()) }))
	if err != nil {
		return nil, err
	}
	l := &clientLink{nc: nc, subject: a.Service, inbox: nc.NewInbox()}
	sub, err := nc.Subscribe(l.inbox+".*", func(m *natsgo.Msg) {
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			corr, _ := strconv.ParseUint(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 16, 64)
			r.Undeliverable(corr, fmt.Sprintf("no server consumes subject %q on %s", l.subject, a.Host))
			return
		}
		r.Reply(m.Data)
	})
	if err == nil {
		err = unbounded(sub)
	}
	if err == nil {
		err = nc.Flush() // the subscription is in place before any request
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return l, nil
}

// unbounded lifts the client library's cap on messages waiting for the
// subscription's callback: a callback that waits is the back-pressure,
// and over the cap NATS would drop messages and leave their calls to
// time out.
func unbounded(sub *natsgo.Subscription) error { return sub.SetPendingLimits(-1, -1) }

func (l *clientLink) Publish(r brokered.Request) error {
	return l.nc.PublishRequest(l.subject, l.inbox+"."+strconv.FormatUint(r.Corr, 16), r.Body)
}

func (l *clientLink) MaxBody() int { return int(l.nc.MaxPayload()) }

func (l *clientLink) Close() error { l.nc.Close(); return nil }

// serverLink is a listener's NATS connection, and the embedded server it
// owns, if any. Unlike a client's, it reconnects by itself: nobody else
// would dial it again.
type serverLink struct {
	nc       *natsgo.Conn
	addr     brokered.Addr
	embedded *natsserver.Server

	mu   sync.Mutex
	sub  *natsgo.Subscription
	once sync.Once
}

var _ brokered.ServerLink = (*serverLink)(nil)

func dialServer(a brokered.Addr, embedded *natsserver.Server, r brokered.Requests) (*serverLink, error) {
	nc, err := natsgo.Connect(a.Broker(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(100*time.Millisecond),
		natsgo.Timeout(connectTimeout), natsgo.Name("rpcbench server"),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err == nil {
				err = natsgo.ErrConnectionClosed
			}
			r.Lost(err)
		}))
	if err != nil {
		return nil, err
	}
	return &serverLink{nc: nc, addr: a, embedded: embedded}, nil
}

func (l *serverLink) Consume(r brokered.Requests) error {
	sub, err := l.nc.QueueSubscribe(l.addr.Service, queueGroup, func(m *natsgo.Msg) {
		i := strings.LastIndexByte(m.Reply, '.')
		if i < 0 {
			return // not from an rpcbench client: nowhere to answer
		}
		r.Request(m.Reply[:i], m.Data)
	})
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.sub = sub
	l.mu.Unlock()
	if err := unbounded(sub); err != nil {
		return err
	}
	return l.nc.Flush()
}

func (l *serverLink) StopConsuming() error {
	l.mu.Lock()
	sub := l.sub
	l.mu.Unlock()
	if sub == nil || !sub.IsValid() {
		return nil
	}
	err := sub.Unsubscribe()
	if errors.Is(err, natsgo.ErrConnectionClosed) || errors.Is(err, natsgo.ErrBadSubscription) {
		err = nil
	}
	return err
}

func (l *serverLink) Reply(to string, corr uint64, body []byte) error {
	return l.nc.Publish(to+"."+strconv.FormatUint(corr, 16), body)
}

func (l *serverLink) MaxBody() int { return int(l.nc.MaxPayload()) }

func (l *serverLink) Addr() net.Addr { return l.addr }

func (l *serverLink) Close() error {
	l.once.Do(func() {
		l.nc.FlushTimeout(time.Second) // replies already published reach the broker
		l.nc.Close()
		if l.embedded != nil {
			stopEmbedded(l.embedded)
		}
	})
	return nil
}
