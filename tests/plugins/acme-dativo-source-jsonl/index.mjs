// A third-party connector package: the JSON Lines reader, published under an npm name.
import { defineConnector } from '@dativo/core';
import { JsonLinesReader } from './reader.mjs';

export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['jsonl'], source: () => new JsonLinesReader() });
