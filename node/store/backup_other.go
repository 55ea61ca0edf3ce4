//go:build !darwin

package store

// excludeFromPlatformBackup does nothing here: Linux and the BSDs have no
// system-wide backup flag (the cache tag serves the tools that honour
// it); on Windows, File History backs up only libraries and the desktop.
func excludeFromPlatformBackup(string) error { return nil }
