// Package node is Gyre's composition root: it builds each service from its
// options, starts them in order and stops them in reverse. The gyre command
// parses flags and calls into it.
package node
