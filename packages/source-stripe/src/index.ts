export { dativoConnector, stripeHead, stripeSource, stripeV1Source } from './connector.js';
export { stripeConfigSchema, type StripeConfig } from './config.js';
export { STRIPE_STREAMS, STREAM_NAMES, DELETED_COLUMN, DELETED_AT_COLUMN, type StripeStreamInfo } from './streams.js';
export { STRIPE_SCHEMAS } from './schemas.js';
export { VERSION } from './version.js';
