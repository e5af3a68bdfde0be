import { z } from 'zod';

/** The `source:` section of a job using this connector (validated before anything runs). */
export const exampleConfigSchema = z.object({
  /** Where the API lives, e.g. `https://api.example.com/v1`. */
  base_url: z.string().url(),
  /** Sent as `Authorization: Bearer …`; never logged (keys named like secrets are redacted). */
  api_key: z.string().min(1),
  /** Items per request (1 – 1000). */
  page_size: z.number().int().min(1).max(1000).default(100),
});

export type ExampleConfig = z.output<typeof exampleConfigSchema>;
