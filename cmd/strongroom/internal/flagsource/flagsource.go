package flagsource

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Kind says where a flag's effective value came from.
type Kind string

// The sources of a value, from the strongest.
const (
	FromFlag    Kind = "flag"
	FromEnv     Kind = "env"
	FromFile    Kind = "file"
	FromDefault Kind = "default"
)

// Origin is where one flag's value came from: its kind and, for the
// environment and the file, the variable's name or the file's path.
type Origin struct {
	Kind Kind
	Name string
}

// String renders the origin as "env STRONGROOM_ISSUER", "file
// strongroom.yaml", "flag" or "default".
func (o Origin) String() string {
	if o.Name == "" {
		return string(o.Kind)
	}
	return string(o.Kind) + " " + o.Name
}

// Options configure Apply.
type Options struct {
	// EnvPrefix is put before the upper snake case flag name, e.g.
	// "STRONGROOM_".
	EnvPrefix string
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
	// Skip names flags read from neither source (e.g. help, config).
	Skip []string
}

// EnvName is the environment variable of the flag name under prefix:
// access-token-lifespan → STRONGROOM_ACCESS_TOKEN_LIFESPAN.
func EnvName(prefix, flag string) string {
	return prefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flag))
}

// Apply sets every flag of fs that was not changed on the command line
// from its environment variable or, failing that, from the YAML file at
// path (none when path is empty), and returns each flag's origin. Setting
// a value marks the flag changed. The file must be a mapping of flag names
// to scalars (or lists, for repeatable flags); an unknown key, a
// malformed file or a value the flag refuses is an error naming it.
func Apply(fs *pflag.FlagSet, path string, opts Options) (map[string]Origin, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	skip := map[string]bool{}
	for _, name := range opts.Skip {
		skip[name] = true
	}
	file, err := readFile(path)
	if err != nil {
		return nil, err
	}
	for _, key := range sortedKeys(file) {
		f := fs.Lookup(key)
		if f == nil || skip[f.Name] {
			return nil, fmt.Errorf("%s: unknown key %q (keys are the flag names, e.g. issuer, listen)", path, key)
		}
		if key != f.Name { // an old name (Alias)
			if _, both := file[f.Name]; both {
				return nil, fmt.Errorf("%s: both %q and its old name %q are given: keep %q", path, f.Name, key, f.Name)
			}
			file[f.Name] = file[key]
			delete(file, key)
		}
	}

	origins := map[string]Origin{}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		switch {
		case skip[f.Name]:
			return
		case f.Changed:
			origins[f.Name] = Origin{Kind: FromFlag}
			return
		}
		env := EnvName(opts.EnvPrefix, f.Name)
		v, ok := lookup(getenv, env)
		for _, old := range aliases(f) {
			if ok {
				break
			}
			env = EnvName(opts.EnvPrefix, old)
			v, ok = lookup(getenv, env)
		}
		if ok {
			var values []string
			if isSlice(f) {
				values = splitList(v)
			} else {
				values = []string{v}
			}
			if err := set(fs, f, values); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
				return
			}
			origins[f.Name] = Origin{Kind: FromEnv, Name: env}
			return
		}
		if node, ok := file[f.Name]; ok {
			values, err := nodeValues(node, isSlice(f))
			if err == nil {
				err = set(fs, f, values)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s (line %d): %w", path, f.Name, node.Line, err))
				return
			}
			origins[f.Name] = Origin{Kind: FromFile, Name: path}
			return
		}
		origins[f.Name] = Origin{Kind: FromDefault}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return origins, nil
}

// lookup reads a variable; set to the empty string counts as unset.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// isSlice reports whether the flag is repeatable (string array or slice).
func isSlice(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok
}

// set gives the flag values: a repeatable flag is replaced by the list,
// any other takes the single value.
func set(fs *pflag.FlagSet, f *pflag.Flag, values []string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		if err := sv.Replace(values); err != nil {
			return err
		}
		f.Changed = true
		return nil
	}
	if len(values) != 1 {
		return fmt.Errorf("takes one value, not %d", len(values))
	}
	return fs.Set(f.Name, values[0])
}

// splitList splits a comma-separated variable, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readFile parses the YAML file at path into its top-level keys.
func readFile(path string) (map[string]*yaml.Node, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's --config file
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty file: nothing configured
		}
		return nil, fmt.Errorf("%s: not valid YAML: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one YAML document", path)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: want a mapping of flag names to values", path, root.Line)
	}
	keys := make(map[string]*yaml.Node, len(root.Content)/2)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: line %d: a key must be a flag name", path, k.Line)
		}
		if _, dup := keys[k.Value]; dup {
			return nil, fmt.Errorf("%s: line %d: key %q given twice", path, k.Line, k.Value)
		}
		keys[k.Value] = v
	}
	return keys, nil
}

// nodeValues reads a scalar, or a list of scalars when list is allowed.
func nodeValues(n *yaml.Node, list bool) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, errors.New("has no value")
		}
		if list {
			return splitList(n.Value), nil
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		if !list {
			return nil, errors.New("takes one value, not a list")
		}
		values := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a list item must be a plain value", item.Line)
			}
			values = append(values, item.Value)
		}
		return values, nil
	}
	return nil, errors.New("must be a value, not a mapping")
}

func sortedKeys(m map[string]*yaml.Node) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// aliasAnnotation is the flag annotation that lists a flag's old names.
const aliasAnnotation = "flagsource.aliases"

// Alias makes old a hidden alias of the flag canonical of fs (which must be
// defined first): --old on the command line sets it (through fs's
// normalisation function, which Alias extends), and Apply reads the old
// name's environment variable (after the canonical one's) and config file
// key (in place of the canonical one). So scripts and config files written
// for the old name keep working, while help shows only the canonical name.
func Alias(fs *pflag.FlagSet, old, canonical string) {
	f := fs.Lookup(canonical)
	if f == nil {
		panic("flagsource: alias of undefined flag " + canonical)
	}
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[aliasAnnotation] = append(f.Annotations[aliasAnnotation], old)
	fs.SetNormalizeFunc(AliasNormalizer(fs.GetNormalizeFunc(), map[string]string{old: canonical}))
}

// AliasNormalizer extends next (a pflag normalisation function) with
// aliases, old name to canonical name. Give it to cobra's
// SetGlobalNormalizationFunc when subcommands inherit aliased persistent
// flags.
func AliasNormalizer(next func(*pflag.FlagSet, string) pflag.NormalizedName, aliases map[string]string) func(*pflag.FlagSet, string) pflag.NormalizedName {
	return func(fs *pflag.FlagSet, name string) pflag.NormalizedName {
		if c, ok := aliases[name]; ok {
			name = c
		}
		if next != nil {
			return next(fs, name)
		}
		return pflag.NormalizedName(name)
	}
}

// aliases are the old names of f.
func aliases(f *pflag.Flag) []string { return f.Annotations[aliasAnnotation] }
