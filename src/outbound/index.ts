export { classifyAddress, refusalReason, type AddressClass, type AddressKind, type Embedding } from './address-policy.js';
export { systemResolver, type ResolvedAddress, type Resolver } from './resolve.js';
export { USER_AGENT } from './request-once.js';
export { SafeHttpClient, type GetResult, type SafeHttpClientOptions } from './safe-http-client.js';
