export { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export {
  PostbackDispatcher, type DispatcherObserver, type DispatcherOptions, type Send, type SendOutcome,
} from './dispatcher.js';
