import { oauthRefreshConfigSchema } from '@dativo/api-kit';
import { z } from 'zod';

/** HubSpot's standard CRM objects; custom object types are named by name, fully qualified name or type id. */
export const HUBSPOT_OBJECTS = ['contacts', 'companies', 'deals', 'tickets'] as const;
export type HubSpotObject = (typeof HUBSPOT_OBJECTS)[number];
/** Streams besides the objects: owners, pipelines and their stages (associations are `associations_<from>_<to>`). */
export const HUBSPOT_EXTRA_STREAMS = ['owners', 'pipelines', 'pipeline_stages'] as const;

const positive = z.coerce.number().positive();

/** The job's `source:` for HubSpot (v1's `objects`, `incremental` and `credentials` keys work as written). */
export const hubspotConfigSchema = z
  .object({
    /** A private-app access token (`pat-…`); from `${HUBSPOT_ACCESS_TOKEN}` or v1's `credentials`. Never logged. */
    access_token: z.string().min(1).optional(),
    /** OAuth2 instead of a private-app token: the refresh token is renewed and stored as it rotates. */
    oauth: oauthRefreshConfigSchema.optional(),
    /** The API's base URL (a proxy, or a fake in tests); default HubSpot's. */
    api_base: z.string().url().default('https://api.hubapi.com'),
    /** Object types read: the standard ones and custom types (by name, `p<portal>_<name>` or `2-<id>`). */
    objects: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'expected an object type name (contacts, companies, deals, tickets, or a custom object\'s name or type id)')).min(1).default(['contacts']),
    /** `discover` lists the account's custom object types too (needs the crm.schemas.custom.read scope). */
    custom_objects: z.boolean().default(true),
    /** Properties whose change history is read (`propertiesWithHistory`), into the `propertiesWithHistory` column. */
    properties_with_history: z.array(z.string().min(1)).default([]),
    /** Property names per request, as URL-encoded characters: longer lists are read in chunks and merged by id. */
    max_property_chars: z.coerce.number().int().min(200).max(8_000).default(6_000),
    /** List requests in flight at once (id ranges read in parallel, to hide latency; 1: one cursor). */
    list_concurrency: z.coerce.number().int().min(1).max(16).default(3),
    /** Oldest last-modified time an incremental search starts from when the run has no state (ISO date). */
    start_date: z.string().min(1).default('2006-01-01'),
    incremental: z
      .object({
        /** v1: `updated_after`. */
        strategy: z.string().optional(),
        /** v1: `updatedAt` (the object's last-modified time). */
        cursor_field: z.string().default('updatedAt'),
        lookback_days: z.coerce.number().min(0).default(0),
      })
      .optional(),
    /** Archived (deleted) records since the last run, marked `_deleted` (incremental runs). */
    archived: z.boolean().default(true),
    /** First width of a search window, days (halved past the cap, widened when sparse). */
    window_days: positive.default(7),
    page_size: z.coerce.number().int().min(1).max(100).default(100),
    search_page_size: z.coerce.number().int().min(1).max(200).default(200),
    /** Search requests in flight at once (time ranges searched in parallel, to hide latency). */
    search_concurrency: z.coerce.number().int().min(1).max(8).default(3),
    /** Search requests per second (HubSpot allows 5 per account). */
    search_rps: positive.default(4),
    /** Results one search query can page through (HubSpot: 10,000). */
    search_cap: z.coerce.number().int().min(10).default(10_000),
    timeout_seconds: positive.default(60),
  })
  .superRefine((c, issue) => {
    if (!c.access_token && !c.oauth) {
      issue.addIssue({ code: 'custom', path: ['access_token'], message: 'expected a private-app token (access_token: ${HUBSPOT_ACCESS_TOKEN}, or v1\'s credentials: { from_env: HUBSPOT_API_KEY }) or an oauth: section' });
    }
  });

export type HubSpotConfig = z.output<typeof hubspotConfigSchema>;
