export { startServer, type RunningServer, type ServerOptions } from './server.js';
export { parseChatRequest, RequestError, DEFAULT_MAX_TOKENS, type ChatRequest } from './request.js';
