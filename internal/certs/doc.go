// Package certs is Gyre's local certificate authority: a CA kept in a
// directory (normally <data_dir>/tls) that issues the server certificates
// with which each region's public endpoint and the router's front door
// serve HTTPS. Clients trust the CA certificate alone, as in
// `curl --cacert <dir>/ca.pem`, or an AWS SDK given the same file
// (AWS_CA_BUNDLE), and then verify the whole chain.
//
// # Using it
//
// A caller, in order:
//
//  1. opens the authority with Open(Options{Dir: ...}). The first Open of a
//     directory creates it (mode 0700) together with an ECDSA P-256 CA key
//     and a self-signed CA certificate valid for CAValidity; later opens
//     load them. Any number of goroutines and processes may open the same
//     directory at the same moment: exactly one CA results, and every one
//     of them uses it;
//  2. calls Issue once per endpoint, with a file stem for the endpoint
//     ("us-east-1", "front-door"), its DNS names and its IP addresses, and
//     puts the tls.Certificate it returns in the endpoint's tls.Config;
//  3. shows users CAPath, the file their clients must trust, and gives
//     Pool to Go clients (tests, probes) that talk to the endpoints.
//
// Issue keeps what it issued: a later Issue for the same stem returns the
// stored certificate as long as this CA signed it, it covers exactly the
// names and addresses asked for, and it has more than Options.RenewBefore
// left. Otherwise Issue signs a new one and replaces the stored files.
// Restarting a region therefore keeps its certificate, and changing its
// names (or letting it age) renews it.
//
// # Files
//
// The directory holds
//
//	ca.pem              the CA certificate (mode 0644): what clients trust
//	ca-key.pem          the CA private key, PKCS #8 (mode 0600)
//	<name>.pem          a server certificate followed by the CA certificate (0644)
//	<name>-key.pem      the server certificate's private key, PKCS #8 (0600)
//	.lock               the lock every Open and Issue takes (flock)
//
// Files are written to a temporary file in the directory and renamed into
// place, so a reader never sees half a file. The lock serializes every
// reader and writer of the directory, across goroutines and processes, and
// the kernel drops it when a process dies, so a crash never leaves the
// directory locked. ca.pem is written last when a CA is created: a
// directory with ca-key.pem but no ca.pem is an interrupted creation and
// gets a new CA. A ca.pem or ca-key.pem that cannot be read, or that do not
// belong together, is ErrCorrupt: the error names the file, and the fix is
// to delete the directory so that a new CA is created (every client must
// then trust the new ca.pem).
//
// # Certificates
//
// Every key is ECDSA P-256 and every serial number a random 128-bit
// integer. A server certificate is for TLS server authentication only, its
// subject alternative names are exactly the DNS names and IP addresses
// asked for (a wildcard such as *.gyre.test is allowed as the leftmost
// label), its common name is the first DNS name (else the first address),
// and it is valid from Backdate before it was issued, for clocks that lag,
// to Options.LeafValidity after (397 days by default, the longest browsers
// accept) but never beyond the CA certificate.
//
// An Authority is safe for concurrent use by multiple goroutines. It owns
// no goroutines and keeps no file open between calls, so it needs no Close.
package certs
