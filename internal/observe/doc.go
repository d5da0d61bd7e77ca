// Package observe is phoneop's read of Graph: what a user's phone methods are now, as one
// answer shared by all the objects of that user.
//
// The Observer makes one GET per user however many of the user's objects reconcile together
// (single-flight, then a short cache), drops the cache on every write of phoneop's own, and
// corrects Graph's read lag: a write Graph accepted is trusted over a read, made within the
// settle window, that still shows the state before it (the settle overlay). That overlay is
// the one place a read is corrected; the planner sees its result and nothing else.
package observe
