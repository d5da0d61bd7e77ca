// Package pace holds the rate rails that keep one namespace from turning phoneop against the
// tenant it shares: forced re-reads (phoneop.dev/reconcile-requested-at) are spaced per object
// and metered per namespace (ForcedReads), so one namespace cannot spend the tenant's Graph
// quota, and number comparisons in ObserveOnly and CreateOnly are spaced per phone
// (Comparisons), so a namespace cannot test guesses of Graph's number through Ready.
//
// Everything is in memory: a restart starts every rail afresh, which costs at most one more
// forced read per object and one more comparison per phone. Times are arguments, so the
// decisions are table-tested without a clock.
package pace
