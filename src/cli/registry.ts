/**
 * The list of commands, in the order `pylon --help` shows them.
 *
 * @module
 */

import type { Command } from "./command.ts";
import {
  completeCommand,
  completionCommand,
  setCompletionCommands,
} from "./commands/completion.ts";
import { constructCommand } from "./commands/construct.ts";
import { cronCommand } from "./commands/cron.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { serviceCommand } from "./commands/service.ts";
import { setupCommand } from "./commands/setup.ts";
import { upgradeCommand } from "./commands/upgrade.ts";
import { destroyCommand } from "./commands/destroy.ts";
import { editCommand } from "./commands/edit.ts";
import { disableCommand, enableCommand } from "./commands/enable.ts";
import { costCommand } from "./commands/cost.ts";
import { dashboardCommand } from "./commands/dashboard.ts";
import { jobsCommand } from "./commands/jobs.ts";
import { listCommand } from "./commands/list.ts";
import {
  approveCommand,
  ignoreCommand,
  killCommand,
  retryCommand,
} from "./commands/job_actions.ts";
import { logsCommand } from "./commands/logs.ts";
import { allowCommand, denyCommand } from "./commands/tool_calls.ts";
import { nexusCommand } from "./commands/nexus.ts";
import { attachCommand } from "./commands/attach.ts";
import { askCommand } from "./commands/ask.ts";
import { rebuildImagesCommand } from "./commands/rebuild_images.ts";
import { startCommand } from "./commands/start.ts";
import { restartCommand, stopCommand } from "./commands/stop.ts";
import { testCommand } from "./commands/test.ts";
import { versionCommand } from "./commands/version.ts";

/** Every command, visible ones in help order. */
export const COMMANDS: readonly Command[] = [
  setupCommand,
  startCommand,
  stopCommand,
  restartCommand,
  constructCommand,
  listCommand,
  nexusCommand,
  editCommand,
  enableCommand,
  disableCommand,
  testCommand,
  jobsCommand,
  costCommand,
  logsCommand,
  attachCommand,
  dashboardCommand,
  approveCommand,
  ignoreCommand,
  killCommand,
  retryCommand,
  allowCommand,
  denyCommand,
  askCommand,
  destroyCommand,
  doctorCommand,
  serviceCommand,
  upgradeCommand,
  cronCommand,
  rebuildImagesCommand,
  completionCommand,
  versionCommand,
  completeCommand,
];

setCompletionCommands(() => COMMANDS);
