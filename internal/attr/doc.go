// Package attr is Gyre's model of DynamoDB attribute values: the ten
// AttributeValue types, their JSON form on the wire, the exact decimal numbers
// DynamoDB allows, item sizes as DynamoDB computes them, a compact binary
// encoding for storage and an order-preserving encoding for keys.
//
// A Value is a plain struct; callers may build one directly or with the
// constructors (S, N, ...). Values decoded from JSON are validated: numbers are
// in canonical form, sets are non-empty and free of duplicates, nesting is
// bounded. Values built by hand should be checked with Validate before they
// are stored.
//
// Errors that describe the caller's input (a malformed number, an empty set)
// are *ValidationError; their message is written for the client.
package attr
