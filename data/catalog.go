package data

import (
	"fmt"
	"strings"
)

// CatalogColumns finds the columns of a catalog's header: all of them by
// name (a UTF-8 byte-order mark and spaces trimmed), the file column
// (fileColumn, default "file") and the id column (idColumn, else the first of
// id, objid and galaxy_id; -1 when there is none). A missing file column, or
// a missing idColumn that was asked for, is an error naming path and the
// columns there are.
func CatalogColumns(path string, head []string, fileColumn, idColumn string) (cols map[string]int, file, id int, err error) {
	cols = map[string]int{}
	for i, h := range head {
		cols[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	if fileColumn == "" {
		fileColumn = "file"
	}
	file, ok := cols[fileColumn]
	if !ok {
		return nil, 0, 0, fmt.Errorf("%s: no column %q (columns: %s); name the column that holds the files", path, fileColumn, strings.Join(head, ", "))
	}
	if idColumn != "" {
		if id, ok = cols[idColumn]; !ok {
			return nil, 0, 0, fmt.Errorf("%s: no id column %q (columns: %s)", path, idColumn, strings.Join(head, ", "))
		}
		return cols, file, id, nil
	}
	for _, c := range []string{"id", "objid", "galaxy_id"} {
		if i, ok := cols[c]; ok {
			return cols, file, i, nil
		}
	}
	return cols, file, -1, nil
}
