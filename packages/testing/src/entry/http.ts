export { startHttpServer, type FakeHttpServer, type HttpFault, type HttpHandler, type HttpReply, type RecordedRequest } from '../http.js';
export { fakeOAuth, type FakeOAuth, type FakeOAuthOptions } from '../oauth.js';
export { OpenApiContract, requestContractOf, type ContractViolation, type OpenApiDocument, type OpenApiOperation, type OpenApiParameter } from '../openapi.js';
export { DiscoveryContract, fakeGoogleAccount, googleDiscovery, googleErrorReply, type DiscoveryDocument, type FakeGoogleAccount } from '../google.js';
export { s3ErrorBody, startHttpFaultProxy, startTcpFaultProxy, type HttpFaultProxy, type HttpProxyFault, type ProxiedRequest, type TcpFault, type TcpFaultProxy } from '../fault-proxy.js';
export { recordPrivateKey, recordSecret } from '../audit.js';
