/**
 * The command registry: `cj <name>` dispatches here. A new command (e.g. a future `cj score` for
 * offline scoring of existing decisions) is one module in this folder and one entry below.
 */
import type { Command } from '../command.ts';
import { cancelCommand } from './cancel.ts';
import { dashboardCommand } from './dashboard.ts';
import { demoCommand } from './demo.ts';
import { listCommand } from './list.ts';
import { localCommand } from './local.ts';
import { reportCommand } from './report.ts';
import { resultsCommand } from './results.ts';
import { scoreCommand } from './score.ts';
import { statusCommand } from './status.ts';
import { submitCommand } from './submit.ts';
import { waitCommand } from './wait.ts';

export const COMMANDS: readonly Command[] = [
  localCommand,
  submitCommand,
  statusCommand,
  waitCommand,
  listCommand,
  cancelCommand,
  resultsCommand,
  reportCommand,
  dashboardCommand,
  demoCommand,
  scoreCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}
