package keyring

import (
	"sync"

	"github.com/runcomfy/runcomfy/storage"
)

// Optional is the keyring mirror as the user configured it: on or off by
// RUNCOMFY_KEYRING, else config.json. It decides on first use, not when
// made, so a get answered by the env var or token.json never reads
// config.json nor touches the keyring. Off, it holds nothing and keeps
// nothing. It implements storage.Mirror.
type Optional struct {
	env  storage.Env
	open func() *Keyring

	once sync.Once
	on   bool
	err  error // config.json is unreadable
	k    *Keyring
}

var _ storage.Mirror = (*Optional)(nil)

// ForStore returns the optional keyring mirror of the store's environment.
func ForStore(env storage.Env, goos string) *Optional {
	return &Optional{env: env, open: func() *Keyring { return ForEnv(env.Getenv, goos) }}
}

// Enabled reports whether the mirror is on, and why it cannot tell when
// config.json is corrupt (then it is off).
func (o *Optional) Enabled() (bool, error) {
	o.once.Do(func() {
		var settings storage.Settings
		if dir, err := o.env.ConfigDir(); err == nil {
			settings, o.err = storage.LoadSettings(dir)
		}
		o.on = storage.KeyringEnabled(o.env, settings)
		if o.on {
			o.k = o.open()
		}
	})
	return o.on, o.err
}

// Keyring is the keyring behind the mirror, or nil when it is off.
func (o *Optional) Keyring() *Keyring {
	if on, _ := o.Enabled(); !on {
		return nil
	}
	return o.k
}

// Get returns the keyring's token; off, storage.ErrMirrorNotFound.
func (o *Optional) Get() (string, error) {
	if k := o.Keyring(); k != nil {
		return k.Get()
	}
	if _, err := o.Enabled(); err != nil {
		return "", err
	}
	return "", storage.ErrMirrorNotFound
}

// Set stores the token in the keyring when the mirror is on.
func (o *Optional) Set(token string) error {
	if k := o.Keyring(); k != nil {
		return k.Set(token)
	}
	return nil
}

// Delete removes the keyring's token when the mirror is on.
func (o *Optional) Delete() error {
	if k := o.Keyring(); k != nil {
		return k.Delete()
	}
	return nil
}
