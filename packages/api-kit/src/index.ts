export { apiMessage, HttpError, lowerHeaders, requestJson, shouldRetryHeader, withQuery, type JsonRequest } from './http.js';
export { requestForm } from './form.js';
export { apiKeyAuth, basicAuth, bearerAuth, OAuth2RefreshAuth, ServiceAccountAuth, type Auth, type OAuth2RefreshOptions, type ServiceAccountOptions } from './auth.js';
export { pageQuery, readPage, valueAt, type Page, type PageSpec, type Pagination } from './pagination.js';
export { planWindows, readWindows, windowBounds, windowCount, windowsDone, windowStateSchema, type ReadWindowsOptions, type TimeWindow, type WindowState } from './windows.js';
export { RecordShaper, type RecordShaperOptions } from './records.js';
export { cappedSearchDone, cappedSearchStateSchema, planCappedSearch, readCappedSearch, type CappedPage, type CappedQuery, type CappedSearchOptions, type CappedSearchState } from './capped-search.js';
export { objectForStream } from './streams.js';
export { StreamBatches } from './emitter.js';
