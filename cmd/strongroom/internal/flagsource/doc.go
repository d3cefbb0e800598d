// Package flagsource fills the flags of a pflag.FlagSet that were not
// given on the command line from the environment and then from a YAML
// configuration file, and remembers where each value came from. The
// precedence is flag > environment > file > default, for every flag
// alike: it walks the FlagSet, so a new flag needs no extra code.
//
// A flag named access-token-lifespan is read from STRONGROOM_ACCESS_TOKEN_LIFESPAN
// (prefix, upper snake case) and from the file's access-token-lifespan key;
// repeatable flags take a comma-separated variable or a YAML list. Unknown
// keys in the file are errors naming the key.
//
// It knows nothing of Strongroom's flags, commands or secrets: what must
// be redacted and which variables exist outside the scheme (DATABASE_URL,
// STRONGROOM_SECRET) is the command's business.
package flagsource
