package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz/keys"
)

// maxKEKFileSize caps what is read from --new-kek-file: a KEK is 32 bytes,
// encoded in at most 64 characters plus white space.
const maxKEKFileSize = 1 << 10

func newKEKReadError(err error) error {
	return usageErrorf("--new-kek-file: %v", err)
}

func newKeysRewrapCmd(a *app, kf *keysFlags, rf *remoteFlags) *cobra.Command {
	var (
		newKEKFile string
		yes        bool
	)
	cmd := &cobra.Command{
		Use:   "rewrap --new-kek-file FILE",
		Short: "Re-encrypt every private signing key under a new key-encryption key",
		Long: `Re-encrypt every private signing key under a new key-encryption key (KEK), in
one transaction. The old KEK is STRONGROOM_KEK; the new one is read from
--new-kek-file (32 bytes, base64 or hex; "-" reads standard input). Every key is
decrypted under the old KEK and checked before anything is written: a wrong old
KEK changes nothing. Keys already under the new KEK (created meanwhile by a
server running with it) are left as they are.

It acts on the database only (no --endpoint): it needs both KEKs, which never
travel over the admin API.

To change the KEK without a restart in between, first run every server with
STRONGROOM_KEK=<new> and STRONGROOM_KEK_PREVIOUS=<old> (they decrypt keys under
either, and encrypt new keys under the new one), then run this with
STRONGROOM_KEK=<old>, then drop STRONGROOM_KEK_PREVIOUS from the servers at
their next restart. Servers that run with the old KEK only keep signing with
the keys they hold but cannot load key changes until restarted with the new
one.`,
		Example: `  openssl rand -base64 32 > new-kek
  strongroom keys rewrap --new-kek-file new-kek
  vault kv get -field=kek secret/strongroom | strongroom keys rewrap --new-kek-file - --yes`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&newKEKFile, "new-kek-file", "", `file holding the new key-encryption key ("-": standard input)`)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	_ = cmd.MarkFlagRequired("new-kek-file")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if rf.endpoint != "" || rf.tokenFile != "" {
			return usageErrorf("keys rewrap acts on the database only (DATABASE_URL), not on an admin API: it needs the old and the new KEK")
		}
		if newKEKFile == "-" && !yes {
			return usageErrorf("--new-kek-file - reads standard input: pass --yes, there is no terminal left to confirm on")
		}
		if err := a.checkConfirmable(yes); err != nil {
			return err
		}
		origin, err := a.keysOrigin(kf)
		if err != nil {
			return err
		}
		newKEK, err := a.readKEKFile(newKEKFile)
		if err != nil {
			return err
		}
		defer clear(newKEK)
		oldKEK, err := a.kek()
		if err != nil {
			return err
		}
		defer clear(oldKEK)
		m, store, closeStore, err := a.keyManager(ctx, kf)
		if err != nil {
			return err
		}
		defer closeStore()
		rows, err := store.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		if err := a.confirm(yes, fmt.Sprintf("Re-encrypt %d signing keys under the new key-encryption key? Restart every server with it afterwards.", len(rows))); err != nil {
			return err
		}
		n, err := m.Rewrap(ctx, oldKEK, newKEK, origin, func(done, total int) {
			fmt.Fprintf(a.errOut, "re-encrypting signing keys: %d/%d\n", done, total)
		})
		switch {
		case errors.Is(err, keys.ErrDecrypt):
			return explain(err, "Is "+envKEK+" the key-encryption key the keys are encrypted under?")
		case errors.Is(err, keys.ErrSameKEK):
			return usageErrorf("%v", err)
		case err != nil:
			return err
		}
		fmt.Fprintf(a.out, "Re-encrypted %d signing keys under the new key-encryption key.\n", n)
		fmt.Fprintf(a.out, "Servers need the new %s now (those running with it and %s keep going; drop the latter at their next restart).\n", envKEK, envKEKPrevious)
		return nil
	}
	return cmd
}

// readKEKFile reads and decodes a key-encryption key from path ("-": stdin).
// Errors never quote the file's content.
func (a *app) readKEKFile(path string) ([]byte, error) {
	var r io.Reader = a.in
	if path != "-" {
		f, err := os.Open(path) // #nosec G304 -- a file the operator names on the command line
		if err != nil {
			return nil, newKEKReadError(err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxKEKFileSize+1))
	if err != nil {
		return nil, newKEKReadError(err)
	}
	defer clear(b)
	if len(b) > maxKEKFileSize {
		return nil, newKEKReadError(fmt.Errorf("%w: longer than %d bytes", keys.ErrInvalidKEK, maxKEKFileSize))
	}
	kek, err := keys.ParseKEK(string(b))
	if err != nil {
		return nil, newKEKReadError(err)
	}
	return kek, nil
}
