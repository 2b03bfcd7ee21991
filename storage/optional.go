package storage

import "sync"

// OptionalMirror is a mirror as the user configured it: on or off by
// RUNCOMFY_KEYRING, else config.json. It decides on first use, not when
// made, so a get answered by the env var or token.json never reads
// config.json nor touches the mirror. Off, it holds nothing and keeps
// nothing. It implements Mirror.
type OptionalMirror struct {
	env  Env
	open func() Mirror

	once sync.Once
	on   bool
	err  error // config.json is unreadable
	m    Mirror
}

var _ Mirror = (*OptionalMirror)(nil)

// NewOptionalMirror returns the mirror that open makes, when the user
// turned it on.
func NewOptionalMirror(env Env, open func() Mirror) *OptionalMirror {
	return &OptionalMirror{env: env, open: open}
}

// Enabled reports whether the mirror is on, and why it cannot tell when
// config.json is unreadable (then it is off).
func (o *OptionalMirror) Enabled() (bool, error) {
	o.once.Do(func() {
		var settings Settings
		if dir, err := o.env.ConfigDir(); err == nil {
			settings, o.err = LoadSettings(dir)
		}
		o.on = KeyringEnabled(o.env, settings)
		if o.on {
			o.m = o.open()
		}
	})
	return o.on, o.err
}

// mirror is the mirror when it is on, else nil.
func (o *OptionalMirror) mirror() Mirror {
	if on, _ := o.Enabled(); !on {
		return nil
	}
	return o.m
}

// Get returns the mirror's token; off, ErrMirrorNotFound, or why
// config.json could not say.
func (o *OptionalMirror) Get() (string, error) {
	if m := o.mirror(); m != nil {
		return m.Get()
	}
	if _, err := o.Enabled(); err != nil {
		return "", err
	}
	return "", ErrMirrorNotFound
}

// Set stores the token in the mirror when it is on.
func (o *OptionalMirror) Set(token string) error {
	if m := o.mirror(); m != nil {
		return m.Set(token)
	}
	return nil
}

// Delete removes the mirror's token when it is on.
func (o *OptionalMirror) Delete() error {
	if m := o.mirror(); m != nil {
		return m.Delete()
	}
	return nil
}
