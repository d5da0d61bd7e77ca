package controllers

import "github.com/phoneop/phoneop/internal/tenantconn"

// The tenant connection lives in internal/tenantconn, shared with kubectl-phoneop. These
// aliases keep the controllers' names for it while other controllers/ files move into their
// own packages (issue 19); new code should name tenantconn's types directly.
type (
	// Connector turns EntraTenants into cached Connections.
	Connector = tenantconn.Connector
	// Connection is a usable connection to one tenant.
	Connection = tenantconn.Connection
	// ErrCredentials is a connection failure a person must fix.
	ErrCredentials = tenantconn.ErrCredentials
)
