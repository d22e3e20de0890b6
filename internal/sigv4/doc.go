// Package sigv4 verifies AWS Signature Version 4 on the server side, so that
// Gyre's DynamoDB-compatible endpoint accepts requests signed by unmodified
// AWS SDKs and the AWS CLI, and rejects everything else with the error
// DynamoDB would give. It verifies SigV4a too, for services that accept it.
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
// optionally X-Amz-Expires). S3's chunked payload signing is not.
//
// SigV4a (AWS4-ECDSA-P256-SHA256) is accepted, in the same two forms, only
// when Options.AllowSigV4a is set; DynamoDB's endpoint leaves it unset and
// refuses SigV4a as DynamoDB does. A SigV4a signature is an ECDSA P-256
// signature under a key pair derived from the access key pair, so one
// signature is valid in every region: its credential scope has no region
// (keyid/date/service/aws4_request), and it signs instead a region set, in
// the X-Amz-Region-Set header or query parameter, of region names and
// patterns such as "*", "us-*" or "us-east-1,us-west-2". Verify accepts it
// only when the set covers Options.Region, the region the verifier serves.
// The canonical request, the time window and every other check are SigV4's.
// Identity.Algorithm tells the two apart, and Identity.RegionSet carries the
// set.
//
// A verifier for an API in one region that accepts SigV4 scoped to that
// region and SigV4a whose region set covers it:
//
//	v, err := sigv4.New(sigv4.Options{
//		Credentials: lookup,
//		Service:     "execute-api",
//		Region:      "us-east-1",
//		AllowSigV4a: true,
//	})
//
// Canonicalization follows the SDKs for services other than S3: the path is
// percent-encoded a second time; the query string is decoded, re-encoded and
// sorted; header values are trimmed, inner runs of spaces collapsed and
// repeated headers joined with commas. The Go SDK signs the path as sent,
// while botocore and the JavaScript and Java SDKs first remove "." and ".."
// segments and repeated slashes; Verify accepts either. DynamoDB clients send
// "/" so the difference rarely matters.
//
// Signing keys derived from a secret are cached per day and region, and
// SigV4a public keys per access key pair, only after they have verified a
// signature, so the caches hold nothing a client without the secret could
// have put there.
package sigv4
