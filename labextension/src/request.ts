/**
 * One door to the server extension's REST API, with a typed error.
 *
 * The error keeps the HTTP status so the panel can tell "the extension is not installed" (a 404
 * from Jupyter's own router, no `error` field) from "the engine is down" (503) or "no such
 * container" (404 with `error: ServiceNotFoundError`).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export const NOT_INSTALLED =
  'The jupyter_deploy server extension does not answer: install jupyter_deploy in the ' +
  "environment Jupyter runs from (pip install jupyter_deploy), check 'jupyter server " +
  "extension list' shows it enabled, and restart Jupyter.";

/** A failed call: `status` 0 means the Jupyter server itself did not answer. */
export class DeployRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly kind: string | null = null
  ) {
    super(message);
    this.name = 'DeployRequestError';
  }

  /** Whether the server extension is missing (not: the thing asked for is missing). */
  get extensionMissing(): boolean {
    return this.status === 404 && this.kind === null;
  }
}

/** Call `/jupyter-deploy/<endPoint>` and return its JSON answer. */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'jupyter-deploy', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new DeployRequestError(
      0,
      `The Jupyter server did not answer (${String(error)}): is it still running?`
    );
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const kind = data && typeof data.error === 'string' ? data.error : null;
    if (response.status === 404 && kind === null) {
      throw new DeployRequestError(404, NOT_INSTALLED);
    }
    const message = data && data.message ? data.message : text || response.statusText;
    throw new DeployRequestError(response.status, message, kind);
  }
  return data as T;
}

/** Percent-encode one path segment (registry addresses hold ':', repositories '/'). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
