export { startServer, MAX_BODY_BYTES, type RunningServer, type ServerOptions, type ServedRequest } from './server.js';
export { parseChatRequest, RequestError, DEFAULT_MAX_TOKENS, type ChatRequest } from './request.js';
export { StopMatcher } from './stop.js';
export { servedModelId } from './model-id.js';
