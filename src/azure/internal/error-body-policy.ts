/**
 * A pipeline policy that gives body-less error responses a Key Vault-shaped JSON body.
 *
 * Why: @azure/keyvault-keys 4.10.2 deserializes every non-2xx body with
 * `keyVaultErrorDeserializer(result.body)`, which reads `body["error"]`. An error response
 * with an empty (or `null`) body — a gateway's 503, a proxy's 429, a dropped-then-answered
 * request — makes it throw `TypeError: Cannot read properties of undefined (reading 'error')`
 * instead of a `RestError`, losing the status code, so throttling could not be told from a bug.
 * With this policy the SDK throws a proper `RestError` carrying `statusCode` and the response
 * headers (Retry-After), which our retry loop and error mapping read.
 *
 * @module
 * @internal
 */
import type { KeyClientOptions } from '@azure/keyvault-keys';

type AdditionalPolicy = NonNullable<KeyClientOptions['additionalPolicies']>[number];
type Policy = AdditionalPolicy['policy'];

/** Name of the policy in the pipeline. */
export const ERROR_BODY_POLICY_NAME = 'kvEnvelopeErrorBodyPolicy';

function needsBody(text: string | undefined | null): boolean {
  if (text === undefined || text === null || text.trim() === '') return true;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed === null || typeof parsed !== 'object';
  } catch {
    return false; // not JSON: the SDK keeps it as a string, which it handles
  }
}

const errorBodyPolicy: Policy = {
  name: ERROR_BODY_POLICY_NAME,
  async sendRequest(request, next) {
    const response = await next(request);
    if (response.status >= 400 && needsBody(response.bodyAsText)) {
      const code = response.status === 429 ? 'Throttled' : `Http${response.status}`;
      response.bodyAsText = JSON.stringify({ error: { code, message: `HTTP ${response.status} with no error body` } });
      response.headers.set('content-type', 'application/json');
    }
    return response;
  },
};

/** `options` with the policy appended to `additionalPolicies` (per retry: sees every response). */
export function withErrorBodyPolicy(options: KeyClientOptions): KeyClientOptions {
  return {
    ...options,
    additionalPolicies: [...(options.additionalPolicies ?? []), { policy: errorBodyPolicy, position: 'perRetry' }],
  };
}
