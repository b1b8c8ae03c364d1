// The one way a request is authenticated: `Authorization: Bearer <credential>`. A credential that
// starts with `rg_live_` is an API key (src/auth/apikeys.ts); anything else is a staff JWT.
// Neither the credential nor why it was refused is ever logged.
import { isDatabaseUnavailable, serviceUnavailable } from "../common/errors.js";
import type { Db } from "../db/client.js";
import { isApiKey, loadApiClientViewer } from "./apikeys.js";
import type { TokenVerifier } from "./tokens.js";
import { loadViewer, type Viewer } from "./viewer.js";

export async function authenticate(db: Db, verifier: TokenVerifier, header: string | undefined): Promise<Viewer | null> {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return null;
  const credential = m[1];
  try {
    if (isApiKey(credential)) return await loadApiClientViewer(db, credential);
    const claims = await verifier.verify(credential);
    return await loadViewer(db, claims.sub);
  } catch (err) {
    // Not the caller's fault: SERVICE_UNAVAILABLE (503, retry) rather than UNAUTHENTICATED.
    if (isDatabaseUnavailable(err)) throw serviceUnavailable();
    return null;
  }
}
