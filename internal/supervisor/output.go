package supervisor

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"runtime/debug"
)

// MaxLineBytes is the longest line of an app's output logged as one
// record; a longer line is logged in pieces of MaxLineBytes.
const MaxLineBytes = 64 << 10

// logLines logs each line read from f, the read end of the app's stdout or
// stderr (stream), until f ends or is closed, then closes done. Lines lose
// their "\n" or "\r\n"; a last line without one is logged too.
func (s *Supervisor) logLines(f *os.File, stream string, done chan<- struct{}) {
	defer close(done)
	defer func() {
		if v := recover(); v != nil {
			s.logPanic("logging the app's "+stream, v)
			// Keep reading, so that the app never blocks on a full pipe.
			_, _ = io.Copy(io.Discard, f)
		}
	}()
	r := bufio.NewReaderSize(f, MaxLineBytes)
	split := false // the previous piece was cut at MaxLineBytes
	for {
		line, err := r.ReadSlice('\n')
		if n := len(line); n > 0 {
			whole := line[n-1] == '\n'
			if whole {
				line = bytes.TrimSuffix(line[:n-1], []byte("\r"))
			}
			// A line cut at MaxLineBytes may leave only its newline
			// for the next read: that is not a line of its own.
			if !split || !whole || len(line) > 0 {
				s.out.Info(string(line), "stream", stream)
			}
			split = !whole
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// logPanic logs a recovered panic. The Logger may be what panicked, so a
// panic while logging is dropped.
func (s *Supervisor) logPanic(what string, v any) {
	defer func() { _ = recover() }()
	s.log.Error("supervisor: panic "+what, "panic", v, "stack", string(debug.Stack()))
}
