// `@dativo/core/testing`: hooks production code calls so tests can break it on purpose.
export { crashPoint, failAt } from './crash-points.js';
