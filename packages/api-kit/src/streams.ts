import { DativoError } from '@dativo/core';

/**
 * The API object a stream reads: the stream's own name when it is one of `known`, the only
 * configured object, or the configured object the name ends with (`<prefix>_<object>`, as v1's
 * asset names `stripe_customers` and `hubspot_contacts`).
 */
export function objectForStream<T extends string>(stream: string, configured: readonly T[], known: readonly string[], api: string, code: string): T {
  if (known.includes(stream)) return stream as T;
  if (configured.length === 1) return configured[0] as T;
  const match = configured.find((o) => stream.endsWith(`_${o}`));
  if (match) return match;
  throw new DativoError(`stream '${stream}' is not a ${api} object; name it after one of ${configured.join(', ')} (source.objects)`, { kind: 'config', code });
}
