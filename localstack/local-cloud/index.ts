/**
 * The local cloud's public interface: `cj local start|stop|status|restart`, the integration tests' global
 * setup and the demo use these. See docs/local-cloud.md.
 */
export {
  CHAOS_LOG,
  type ChaosSettings,
  countFaults,
  FAULT_KINDS,
  type FaultKind,
  formatChaos,
  parseChaos,
} from './chaos.ts';
export type { FunctionDefinition, InvokeResult } from './function-host.ts';
export { type LocalCloud, type LocalCloudOptions, runLocalCloud } from './local-cloud.ts';
export {
  isLocalStackTarget,
  LOCALSTACK_DEFAULT_ENDPOINT,
  type LocalStackInfo,
  localStackInfo,
} from './localstack-target.ts';
export { LOCAL_CLOUD_SETTINGS } from './settings.ts';
export type { LocalCloudState, ReadyState } from './state.ts';
export {
  type LocalCloudInfo,
  type LocalCloudStatus,
  localCloudPaths,
  localCloudStatus,
  readState,
  restartFunctionHost,
  type StartOptions,
  type StopResult,
  startLocalCloud,
  stopLocalCloud,
  stopLocalCloudOnExit,
} from './supervisor.ts';
