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
	return UpdateDocBlock(path, fmt.Sprintf("N=%d", n), ResultsAnchor, block)
}

// ResultsAnchor ends the main benchmark's results: a new block goes before it.
const ResultsAnchor = "<!-- bench results end -->"

// UpdateDocBlock is UpdateDoc for any block: between the markers "<!-- bench KEY begin -->"
// and "<!-- bench KEY end -->", else before the anchor line, else at the end.
func UpdateDocBlock(path, key, anchor, block string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, []byte(replaceKeyedBlock(string(old), key, anchor, block)), 0o644)
}

func replaceBlock(doc string, n int, block string) string {
	return replaceKeyedBlock(doc, fmt.Sprintf("N=%d", n), "<!-- bench results end -->", block)
}

func replaceKeyedBlock(doc, key, anchor, block string) string {
	begin := fmt.Sprintf("<!-- bench %s begin -->", key)
	end := fmt.Sprintf("<!-- bench %s end -->", key)
	wrapped := begin + "\n" + strings.TrimRight(block, "\n") + "\n" + end
	if i := strings.Index(doc, begin); i >= 0 {
		if j := strings.Index(doc[i:], end); j >= 0 {
			return doc[:i] + wrapped + doc[i+j+len(end):]
		}
	}
	if i := strings.Index(doc, anchor); i >= 0 {
		return doc[:i] + wrapped + "\n\n" + doc[i:]
	}
	if doc != "" && !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	return doc + "\n" + wrapped + "\n"
}
