package control

import (
	"errors"
	"log/slog"
	"net"
	"sync"
)

// Socket is a control API served on a Unix socket; see ServeSocket.
type Socket struct {
	srv  *Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
	err  error
}

// ServeSocket listens on socketPath (see Listen) and serves b there until
// Close. The programs that want a socket (the lookout node command, the
// desktop app) call it after starting their node, and close it before
// closing the node.
func ServeSocket(socketPath string, b Backend, log *slog.Logger) (*Socket, error) {
	ln, err := Listen(socketPath)
	if err != nil {
		return nil, err
	}
	s := &Socket{srv: &Server{Backend: b, Logger: log}, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && log != nil {
			log.Error("control API stopped", "err", err)
		}
	}()
	return s, nil
}

// Done is closed once the socket stopped serving.
func (s *Socket) Done() <-chan struct{} { return s.done }

// Close stops serving (calls in flight finish first, see Server.Close),
// removes the socket file and waits for the server to return. It is safe
// to call more than once.
func (s *Socket) Close() error {
	s.once.Do(func() {
		err := s.srv.Close()
		if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
			err = lerr
		}
		<-s.done
		s.err = err
	})
	return s.err
}
