package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseToken: any input parses or fails with ErrCorrupt, never panics,
// and what parses survives a Marshal round trip unchanged.
func FuzzParseToken(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "token", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"access_token":"a","access_token":"b"}`))
	f.Add([]byte(`{"access_token":"x","expires_at":1e400}`))
	f.Add([]byte("\xef\xbb\xbf{\"access_token\":\"bom\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseToken(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if len(data) > 8 && bytes.Contains([]byte(err.Error()), data) {
				t.Fatalf("error quotes the input")
			}
			return
		}
		out, err := tok.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseToken(out)
		if err != nil {
			t.Fatalf("re-parse of Marshal output: %v", err)
		}
		if !sameToken(tok, again) {
			t.Fatalf("round trip changed the token: %+v vs %+v", tok, again)
		}
	})
}
