// Package sigv4 verifies AWS Signature Version 4 on the server side, so that
// Gyre's DynamoDB-compatible endpoint accepts requests signed by unmodified
// AWS SDKs and the AWS CLI, and rejects everything else with the error
// DynamoDB would give.
//
// A caller builds one Verifier with New and, for each request:
//
//  1. reads the whole body (bounded, as DynamoDB bounds it) before anything
//     else, since the signature covers the body's SHA-256;
//  2. calls Verify with the request as received and that body. Verify does
//     not read r.Body, and it needs Host, the path and the query string
//     exactly as the client sent them, so a proxy in front must not rewrite
//     them;
//  3. on error, answers with the DynamoDB error type named by the sentinel
//     the error wraps (see ErrMissingAuthenticationToken and the others) and
//     the message in the *Error; on success, authorizes the request as
//     Identity.AccessKeyID.
//
// Both forms of SigV4 are accepted: the Authorization header, which is what
// the SDKs send, and presigned query strings (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Signature and
// optionally X-Amz-Expires). Only AWS4-HMAC-SHA256 is supported; SigV4a and
// S3's chunked payload signing are not.
//
// Canonicalization follows the SDKs for services other than S3: the path is
// percent-encoded a second time; the query string is decoded, re-encoded and
// sorted; header values are trimmed, inner runs of spaces collapsed and
// repeated headers joined with commas. The Go SDK signs the path as sent,
// while botocore and the JavaScript and Java SDKs first remove "." and ".."
// segments and repeated slashes; Verify accepts either. DynamoDB clients send
// "/" so the difference rarely matters.
//
// Signing keys derived from a secret are cached per day and region, and only
// after they have verified a signature, so the cache holds nothing a client
// without the secret could have put there.
package sigv4
