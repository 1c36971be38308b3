export * from './server.js';
export * from './run.js';
export { CLIENT_ERROR_CODES, createFormatError } from './errors.js';
export { DateScalar, DateTimeScalar } from './scalars.js';
export { connectionOf, selectsField } from './connection.js';
export { readSubgraphSdl, subgraphSdlFiles } from './sdl.js';
export { mergeResolvers, type ResolverMap } from './resolvers.js';
export { downloadRoute, GATEWAY_SECRET_HEADER, sendDomainError, type Download, type DownloadRouteOptions } from './download.js';
