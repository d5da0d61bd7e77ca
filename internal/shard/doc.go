// Package shard splits one cluster's PhoneAuthMethods among several managers, as Flux shards
// its controllers with sharding.fluxcd.io/key: each manager (--shard=<name>) caches, reconciles
// and writes only the objects labelled with its name, the default manager only the unlabelled
// ones, and each gets its own Lease and 1/N of every tenant's Graph caps, so the shards together
// never exceed what one manager would send. controllers.Setup wires it; main only parses flags.
package shard
