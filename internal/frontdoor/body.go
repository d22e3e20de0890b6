package frontdoor

import (
	"bytes"
	"io"
	"sync"
)

// replayBody lets a request body be sent again. It reads the client's body
// lazily, through whichever attempt first needs it, keeping up to limit
// bytes; an attempt that fails before writing has read nothing, and one
// that fails after may be replayed from the kept bytes while they cover
// everything read.
type replayBody struct {
	src   io.ReadCloser
	limit int64

	mu       sync.Mutex
	kept     bytes.Buffer
	read     int64 // bytes taken from src
	overflow bool  // more than limit read: no replay
	eof      bool
	cur      *replayReader
}

func newReplayBody(src io.ReadCloser, limit int64) *replayBody {
	return &replayBody{src: src, limit: limit}
}

// reader returns a fresh reader for an attempt, starting at the beginning.
func (b *replayBody) reader() io.ReadCloser {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &replayReader{b: b}
	b.cur = r
	return r
}

// touched reports whether any attempt has read from the client's body.
func (b *replayBody) touched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read > 0
}

// replayable reports whether the body can be sent again from the start.
func (b *replayBody) replayable() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.overflow
}

// rewind reports whether a new attempt can start from the beginning.
func (b *replayBody) rewind() bool { return b.replayable() }

func (b *replayBody) close() {
	if b.src != nil {
		b.src.Close()
	}
}

// replayReader is one attempt's view of the body. Closing it does not close
// the client's body: the transport closes request bodies even on errors.
type replayReader struct {
	b   *replayBody
	off int64
}

func (r *replayReader) Read(p []byte) (int, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur != r {
		return 0, io.ErrUnexpectedEOF // a newer attempt took over
	}
	if r.off < int64(b.kept.Len()) {
		n := copy(p, b.kept.Bytes()[r.off:])
		r.off += int64(n)
		return n, nil
	}
	if b.eof || b.src == nil {
		return 0, io.EOF
	}
	if b.overflow && r.off != b.read {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := b.src.Read(p)
	if n > 0 {
		b.read += int64(n)
		r.off += int64(n)
		if !b.overflow {
			if int64(b.kept.Len()+n) <= b.limit {
				b.kept.Write(p[:n])
			} else {
				b.overflow = true
				b.kept.Reset()
			}
		}
	}
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (r *replayReader) Close() error { return nil }
