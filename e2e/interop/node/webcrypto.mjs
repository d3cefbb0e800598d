// oauth4webapi uses the global WebCrypto (globalThis.crypto, CryptoKey),
// which Node.js exposes from v19 on. Node 18 (Debian 12's nodejs package)
// has it only as node:crypto's webcrypto: lib.mjs imports this module before
// oauth4webapi so that the scripts run there too.
import { webcrypto } from 'node:crypto'

globalThis.crypto ??= webcrypto
globalThis.CryptoKey ??= webcrypto.CryptoKey
