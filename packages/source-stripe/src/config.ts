import { z } from 'zod';
import { STREAM_NAMES } from './streams.js';

const positive = z.coerce.number().positive();

/** The job's `source:` for Stripe (v1's `objects` and `incremental` keys work as written). */
export const stripeConfigSchema = z.object({
  /** A secret or restricted key (`sk_…`, `rk_…`); from `${STRIPE_API_KEY}` or v1's `credentials.from_env`. Never logged. */
  api_key: z.string().min(1, 'expected a Stripe secret or restricted key (sk_… / rk_…): api_key: ${STRIPE_API_KEY}, or v1\'s credentials: { from_env: STRIPE_API_KEY }'),
  /** The API's base URL (a proxy, or a fake in tests); default Stripe's. */
  api_base: z.string().url().default('https://api.stripe.com'),
  /** The API version requests pin (the one this connector is tested with). */
  api_version: z.string().default('2023-08-16'),
  /** A connected account read through the platform's key (`Stripe-Account`). */
  account: z.string().min(1).optional(),
  /** The lists to read. */
  objects: z.array(z.enum(STREAM_NAMES)).min(1).default(['customers']),
  /** Fields to expand per stream (`{ charges: [customer] }`; `data.` is added for you). */
  expand: z.record(z.string(), z.array(z.string().min(1))).default({}),
  /** The oldest `created` read by a full sync (ISO date or epoch seconds); default Stripe's launch. */
  start_date: z.union([z.string().min(1), z.number()]).default('2011-01-01'),
  incremental: z
    .object({
      strategy: z.string().optional(),
      cursor_field: z.literal('created').default('created'),
      /** Days re-read before the last sync's end (late-visible objects). */
      lookback_days: z.coerce.number().min(0).default(0),
    })
    .optional(),
  /** Width of a `created` time window; long histories are read as many windows in parallel. */
  window_days: positive.default(30),
  /** Windows read at once (requests still obey the rate limit). */
  concurrency: z.coerce.number().int().min(1).max(32).default(4),
  page_size: z.coerce.number().int().min(1).max(100).default(100),
  timeout_seconds: positive.default(60),
  /** Updated and deleted objects from the Events API on incremental runs (Stripe keeps events 30 days). */
  events: z.boolean().default(true),
});

export type StripeConfig = z.output<typeof stripeConfigSchema>;
