export { dativoConnector, hubspotHead, hubspotSource, hubspotV1Source } from './connector.js';
export { hubspotConfigSchema, HUBSPOT_OBJECTS, type HubSpotConfig, type HubSpotObject } from './config.js';
export { VERSION } from './version.js';
