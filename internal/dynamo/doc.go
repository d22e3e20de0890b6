// Package dynamo serves DynamoDB's JSON 1.0 protocol for one region, so that
// code written for DynamoDB with any AWS SDK works against Gyre by changing
// only its endpoint and credentials.
//
// A Server is an http.Handler. For each request it reads the body (bounded
// by Options.MaxRequestBytes), verifies the SigV4 signature through
// Options.Auth, routes on X-Amz-Target (DynamoDB_20120810.<Operation>),
// decodes the request, validates it as DynamoDB does, and runs it against
// the region's store.DB. Expressions (condition, filter, key condition,
// projection, update) and the legacy parameters older code still sends are
// parsed and evaluated by package expr.
//
// This package is the only one that knows DynamoDB's wire shapes and error
// names: lower layers return Go errors and toAPIError maps them to a
// DynamoDB __type, message and HTTP status in one place. No input may crash
// the process: a handler that panics answers InternalServerError.
//
// Conditional writes and transactions are evaluated here, in the region that
// receives them, against the region's current items.
package dynamo
