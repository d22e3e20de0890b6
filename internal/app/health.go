package app

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// healthKey is the item GET /health reads: it need not exist, the read
// must only be answered.
const healthKey = "gyre-health-check"

// serveHealth serves GET /health: 200 when the tables are ready, the
// region can make writes durable (Options.Writable) and its data plane
// answers a real read within HealthTimeout; 503, with the reason,
// otherwise.
func (a *App) serveHealth(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"region": a.opts.Region}
	fail := func(reason string) {
		body["status"], body["reason"] = "unhealthy", reason
		writeJSON(w, http.StatusServiceUnavailable, body)
	}
	switch {
	case a.draining.Load():
		fail("the region is shutting down")
		return
	case !a.ready.Load():
		fail(*a.waiting.Load())
		return
	}
	if a.opts.Writable != nil {
		if err := a.opts.Writable(); err != nil {
			fail("the region cannot make writes durable: " + err.Error())
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.HealthTimeout)
	defer cancel()
	start := time.Now()
	_, err := a.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(a.opts.Tables.Items), Key: map[string]types.AttributeValue{attrID: s(healthKey)},
	}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	took := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			fail("the data plane did not answer a read within " + a.opts.HealthTimeout.String())
			return
		}
		fail("the data plane failed a read: " + err.Error())
		return
	}
	body["status"] = "healthy"
	body["readMillis"] = float64(took.Microseconds()) / 1000
	writeJSON(w, http.StatusOK, body)
}
