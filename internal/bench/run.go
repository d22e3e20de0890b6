package bench

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrInterrupted is returned by Run when its context is cancelled before
// the measured window begins (during setup or warmup), so there is nothing
// to report.
var ErrInterrupted = errors.New("bench: interrupted before measuring began")

// cleanupTimeout bounds deleting the table at the end, which happens even
// after the run's context is cancelled.
const cleanupTimeout = time.Minute

// Run fills the options' defaults, validates them, prepares the table and
// drives the workload, as the package documentation describes. It blocks
// until the run ends: after Warmup plus Duration, or soon after ctx is
// cancelled. A run cancelled during the measured window returns a Report
// marked Interrupted and no error. When only the cleanup fails, Run returns
// both the Report and the error.
func Run(ctx context.Context, opts Options) (_ *Report, err error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	log := opts.Logger.With("component", "bench")

	c := newClient(&opts)
	defer c.close()

	created, err := ensureTable(ctx, c, &opts, log)
	// Cleanup may delete a table this run created or one it found with the
	// bench's key schema, never a table it failed to recognise.
	if opts.Cleanup && (created || err == nil) {
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			log.Info("deleting table", "table", opts.Table)
			err = errors.Join(err, deleteTable(dctx, c, opts.Table))
		}()
	}
	if err != nil {
		return nil, interrupted(ctx, err)
	}
	l := newLayout(&opts)
	mix := opts.mix()
	if !opts.SkipPreload && (mix.Get > 0 || mix.Query > 0) {
		if err := preload(ctx, c, &opts, l, log); err != nil {
			return nil, interrupted(ctx, err)
		}
	}
	return measure(ctx, c, &opts, l, log)
}

// interrupted returns ErrInterrupted, joined with err, if ctx was cancelled;
// err otherwise.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.Join(ErrInterrupted, err)
	}
	return err
}

// phase is one run's timeline: operations that start before measure are
// warmup; none start at or after stop.
type phase struct {
	measure, stop time.Time
}

// measure runs the workers through warmup and the measured window and
// merges what they recorded.
func measure(ctx context.Context, c *client, o *Options, l layout, log *slog.Logger) (*Report, error) {
	mix := o.mix()
	workers := make([]*worker, o.Concurrency)
	for i := range workers {
		workers[i] = newWorker(c.db, o, l, mix, i)
	}
	t0 := time.Now()
	p := phase{measure: t0.Add(o.warmup()), stop: t0.Add(o.warmup() + o.Duration)}
	for i, w := range workers {
		if o.Rate > 0 {
			w.sched = newSchedule(t0, o.Rate, o.Concurrency, i)
		}
	}
	log.Info("running", "workload", workloadString(o), "concurrency", o.Concurrency,
		"warmup", o.warmup(), "duration", o.Duration)

	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, p) })
	}
	wg.Wait()
	end := time.Now()

	if ctx.Err() != nil && !end.After(p.measure) {
		return nil, ErrInterrupted
	}
	var merged [numOps]*opStats
	for op := range numOps {
		if mix.weight(op) == 0 {
			continue
		}
		merged[op] = newOpStats()
		for _, w := range workers {
			merged[op].merge(w.stats[op])
		}
	}
	return newReport(*o, p.measure, end.Sub(p.measure), ctx.Err() != nil, merged), nil
}

// schedule is a paced worker's timetable: its k-th request is due at
// first + k*interval, whatever happened to the ones before.
type schedule struct {
	first    time.Time
	interval float64 // nanoseconds
}

// newSchedule paces one of concurrency workers so that together they issue
// rate requests per second, their first requests spread evenly over the
// first interval from start.
func newSchedule(start time.Time, rate float64, concurrency, worker int) *schedule {
	interval := float64(time.Second) * float64(concurrency) / rate
	return &schedule{
		first:    start.Add(time.Duration(interval * float64(worker) / float64(concurrency))),
		interval: interval,
	}
}

// at returns when the k-th request (from 0) is due.
func (s *schedule) at(k int) time.Time {
	return s.first.Add(time.Duration(float64(k) * s.interval))
}

// worker issues one request at a time and records what came back in its own
// stats, which nothing else touches until it stops.
type worker struct {
	db         *dynamodb.Client
	table      string
	layout     layout
	mix        Mix
	queryLimit int32
	consistent bool
	timeout    time.Duration
	rng        *rand.Rand
	payload    []byte
	sched      *schedule // nil: closed loop
	stats      [numOps]*opStats
}

func newWorker(db *dynamodb.Client, o *Options, l layout, mix Mix, id int) *worker {
	w := &worker{
		db:         db,
		table:      o.Table,
		layout:     l,
		mix:        mix,
		queryLimit: int32(o.QueryLimit),
		consistent: o.ConsistentRead,
		timeout:    o.Timeout,
		rng:        rand.New(rand.NewPCG(o.Seed, uint64(id))),
		payload:    make([]byte, o.ItemSize),
	}
	crand.Read(w.payload)
	for op := range numOps {
		if mix.weight(op) > 0 {
			w.stats[op] = newOpStats()
		}
	}
	return w
}

// run issues requests until p.stop or until ctx is cancelled. A request cut
// short by cancellation is not recorded: the endpoint did not fail it.
func (w *worker) run(ctx context.Context, p phase) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	total := w.mix.total()
	for k := 0; ; k++ {
		var start time.Time
		if w.sched != nil {
			start = w.sched.at(k)
			if !start.Before(p.stop) {
				return
			}
			if d := time.Until(start); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			}
		} else {
			start = time.Now()
			if !start.Before(p.stop) {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		op := w.mix.pick(w.rng.IntN(total))
		miss, err := w.do(ctx, op)
		end := time.Now()
		if err != nil && ctx.Err() != nil {
			return
		}
		if start.Before(p.measure) {
			continue
		}
		s := w.stats[op]
		if err != nil {
			s.errors[errorCode(err)]++
			continue
		}
		s.hist.record(end.Sub(start))
		if miss {
			s.misses++
		}
	}
}

// do issues one request of the given operation on a random key, giving it
// Options.Timeout. miss says a get found no item or a query returned none.
func (w *worker) do(ctx context.Context, op Op) (miss bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	switch op {
	case OpPut:
		i := w.rng.IntN(w.layout.items())
		_, err = w.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &w.table,
			Item:      w.layout.item(i, w.payload),
		})
		return false, err
	case OpGet:
		i := w.rng.IntN(w.layout.items())
		out, err := w.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      &w.table,
			Key:            w.layout.keyAttrs(i),
			ConsistentRead: aws.Bool(w.consistent),
		})
		if err != nil {
			return false, err
		}
		return len(out.Item) == 0, nil
	case OpQuery:
		p := w.rng.IntN(w.layout.partitions)
		out, err := w.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &w.table,
			KeyConditionExpression: aws.String(attrPK + " = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: partitionKey(p)},
			},
			Limit:          aws.Int32(w.queryLimit),
			ConsistentRead: aws.Bool(w.consistent),
		})
		if err != nil {
			return false, err
		}
		return len(out.Items) == 0, nil
	}
	panic(fmt.Sprintf("bench: worker picked unknown operation %v", op))
}
