package wan

import "time"

// chunk is a run of bytes in flight in one direction and the time it
// reaches the other end. A chunk with err set carries the end of the
// stream (io.EOF or the socket's error) instead of bytes.
type chunk struct {
	buf []byte
	due time.Time
	err error
}

// fifo is a queue of chunks. Popping reuses the backing array, so a steady
// stream does not allocate for the queue itself.
type fifo struct {
	items []chunk
	head  int
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) push(c chunk) { q.items = append(q.items, c) }

// peek returns the first chunk; the queue must not be empty.
func (q *fifo) peek() *chunk { return &q.items[q.head] }

// at returns the i-th chunk from the front.
func (q *fifo) at(i int) *chunk { return &q.items[q.head+i] }

// pop removes the first chunk; the queue must not be empty.
func (q *fifo) pop() {
	q.items[q.head] = chunk{}
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 32 && 2*q.head >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// reset empties the queue, letting the chunks be collected.
func (q *fifo) reset() {
	clear(q.items)
	q.items, q.head = q.items[:0], 0
}
