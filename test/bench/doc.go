package bench

import (
	"fmt"
	"os"
	"strings"
)

// UpdateDoc puts block into the markdown file at path between the markers of this N,
// replacing an earlier run of the same N and leaving the rest of the file (the prose, other
// N) alone. Without markers the block goes before the line "<!-- bench results end -->",
// else at the end.
func UpdateDoc(path string, n int, block string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, []byte(replaceBlock(string(old), n, block)), 0o644)
}

func replaceBlock(doc string, n int, block string) string {
	begin := fmt.Sprintf("<!-- bench N=%d begin -->", n)
	end := fmt.Sprintf("<!-- bench N=%d end -->", n)
	wrapped := begin + "\n" + strings.TrimRight(block, "\n") + "\n" + end
	if i := strings.Index(doc, begin); i >= 0 {
		if j := strings.Index(doc[i:], end); j >= 0 {
			return doc[:i] + wrapped + doc[i+j+len(end):]
		}
	}
	const anchor = "<!-- bench results end -->"
	if i := strings.Index(doc, anchor); i >= 0 {
		return doc[:i] + wrapped + "\n\n" + doc[i:]
	}
	if doc != "" && !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	return doc + "\n" + wrapped + "\n"
}
