export { startHttpServer, type FakeHttpServer, type HttpHandler, type HttpReply, type RecordedRequest } from '../http.js';
