// Package expr is DynamoDB's expression language: one parser and one
// evaluator for the condition, filter, key condition, projection and update
// expressions of every operation, and converters that turn the legacy
// parameters older SDKs send (Expected, QueryFilter, ScanFilter,
// KeyConditions, AttributesToGet, AttributeUpdates) into the same trees.
//
// Everything here is pure, deterministic and synchronous: no goroutines, no
// I/O, no clock. Parsed expressions are immutable and may be shared between
// goroutines. Every error that describes the request is an
// *attr.ValidationError whose message is DynamoDB's own, ready to be sent as
// a ValidationException; the package does not know the wire protocol.
//
// A caller handling one request does, in order:
//
//  1. Params.Validate on the request's ExpressionAttributeNames and
//     ExpressionAttributeValues, and refuse requests mixing expressions with
//     legacy parameters (the protocol layer knows which were sent).
//  2. Parse each expression the request carries: ParseCondition,
//     ParseFilter, ParseKeyCondition, ParseProjection, ParseUpdate; or
//     convert the legacy parameters: ConvertExpected, ConvertFilter,
//     ConvertKeyConditions, ConvertAttributesToGet, ConvertAttributeUpdates.
//  3. CheckUnused with the Usage of every parsed expression, so that a
//     placeholder no expression refers to is refused, as DynamoDB does.
//  4. Check the parts that need the table's schema: KeyCondition.Resolve for
//     a Query, Update.Paths and Condition.Paths against the key attributes.
//  5. Read the item and evaluate: Condition.Eval, Update.Apply (which returns
//     a new item; the caller validates its size), Projection.Apply.
//
// Expressions are at most MaxExpressionSize bytes. Attribute names written
// in an expression must be identifiers ([A-Za-z][A-Za-z0-9_]*) that are not
// DynamoDB reserved words; any other name must be a #placeholder.
package expr
