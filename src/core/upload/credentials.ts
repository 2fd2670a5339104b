// The standard AWS credential chain (environment, shared config and credentials files with profiles, SSO,
// credential_process, container and instance metadata), as AWS's own SDK resolves it: never by hand.
import type { StorageCredentials } from './types';

/** A provider of credentials for `profile` (or the default chain); it asks the chain again once they expire. */
export function credentialChain(init: { profile?: string }): () => Promise<StorageCredentials> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromNodeProviderChain } = require('./vendor') as typeof import('./vendor');
  const provide = fromNodeProviderChain(init.profile ? { profile: init.profile } : {});
  return async () => {
    const found = await provide();
    return {
      accessKeyId: found.accessKeyId,
      secretAccessKey: found.secretAccessKey,
      ...(found.sessionToken ? { sessionToken: found.sessionToken } : {}),
      ...(found.expiration ? { expiration: found.expiration } : {}),
    };
  };
}
