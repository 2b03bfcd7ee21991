// Package version holds the build's version string, set at link time:
//
//	go build -ldflags "-X github.com/runcomfy/runcomfy/internal/version.Version=v1.2.3"
package version

// Version is the released version, or "dev" for a local build.
var Version = "dev"
