// Package methodid holds the ids Microsoft Graph gives phone authentication
// methods. They are fixed per phone type, the same for every user of every
// tenant, so the planner can name the method a Create is about to make, and
// the emulator hands out the ids Graph would.
//
// It is a leaf (no imports) below internal/graph so that the client, the
// planner (which must stay free of HTTP) and the emulator (which must not
// depend on the client) all read the one declaration.
package methodid

// The fixed method ids, one per phoneType.
const (
	// Mobile is the id of the "mobile" method.
	Mobile = "3179e48a-750b-4051-897c-87b9720928f7"
	// AlternateMobile is the id of the "alternateMobile" method.
	AlternateMobile = "b6332ec1-7057-4abe-9331-3d72feddfe41"
	// Office is the id of the "office" method.
	Office = "e37fc753-ff3b-4958-9484-eaa9425c82bc"
)

// ForPhoneType returns the id of the method of Graph's phoneType t
// ("mobile", "alternateMobile", "office"), or "" for any other type.
func ForPhoneType(t string) string {
	switch t {
	case "mobile":
		return Mobile
	case "alternateMobile":
		return AlternateMobile
	case "office":
		return Office
	}
	return ""
}
