export { SshConnection, BecomeError, type ConnectOptions } from './connection.js';
export { closeJumpPool } from './route.js';
export { isEncryptedKey, noCredentials } from './auth.js';
export {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  knownHostName,
  lookupHostKey,
  parseKnownHosts,
  type HostKeyCheck,
  type HostKeyStatus,
  type KnownHostEntry,
} from './known-hosts.js';
export { wrapCommand, writeFileCommand } from './commands.js';
